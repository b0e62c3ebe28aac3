/* cmd_list: `enroot list [-f]` (spec §11.3). The fancy form finds running containers from
 * /proc directly (what enroot gets from lsns, ps and column; lib/runtime/running.h). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/msg.h"
#include "base/opt.h"
#include "cmd.h"
#include "runtime/running.h"

const char cmd_list_usage[] =
    "Usage: enroot list [options]\n"
    "\n"
    "List all the container root filesystems on the system.\n"
    "\n"
    " Options:\n"
    "   -f, --fancy  Display more information in tabular format (on a terminal,\n"
    "                with a PROTECTED column)\n";

/* C_PROT is shown only on a terminal: pyxis and scripts split the rows on blanks and take
 * the second word of a row as a PID, so piped output keeps enroot's columns exactly. */
enum { C_NAME, C_PID, C_COMM, C_STATE, C_STARTED, C_TIME, C_MNTNS, C_USERNS, C_CMD, C_PROT, NCOL };

struct table {
	char **cells; /* rows * NCOL */
	size_t rows, cap;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names in DATA, dot-files hidden. */
static char **list_names(const char *data, size_t *n)
{
	DIR *d = opendir(data);
	struct dirent *de;
	char **v = NULL;
	size_t cap = 0;

	*n = 0;
	if (!d)
		die("failed to open directory: %s:", data);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				die("failed to allocate memory:");
		}
		v[(*n)++] = strdup(de->d_name);
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static char *read_small(const char *what, pid_t pid, size_t *len)
{
	char path[64];
	struct buf b = BUF_INIT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	f = fopen(path, "re");
	buf_adds(&b, "");
	if (f) {
		char chunk[4096];
		size_t r;
		while ((r = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf_add(&b, chunk, r);
		fclose(f);
	}
	if (len)
		*len = b.len;
	return b.data;
}

static char *ns_inode(pid_t pid, const char *ns)
{
	char path[64];
	struct stat st;
	char *s = NULL;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
	if (stat(path, &st) < 0 || asprintf(&s, "%lu", (unsigned long)st.st_ino) < 0)
		return strdup("-");
	return s;
}

/* ps's STAT: state letter plus < N L s l + flags. */
static char *ps_stat(pid_t pid, const char *stat, const char *status)
{
	char st = '?', flags[8] = "";
	int ppid, pgrp, sid, tty, tpgid;
	long nice = 0, threads = 1;
	const char *rp = strrchr(stat, ')');

	if (rp &&
	    sscanf(rp + 2, "%c %d %d %d %d %d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %ld %ld", &st,
		   &ppid, &pgrp, &sid, &tty, &tpgid, &nice, &threads) == 8) {
		const char *lck = strstr(status, "VmLck:");
		if (nice < 0)
			strcat(flags, "<");
		if (nice > 0)
			strcat(flags, "N");
		if (lck && strtol(lck + 6, NULL, 10) > 0)
			strcat(flags, "L");
		if (sid == pid)
			strcat(flags, "s");
		if (threads > 1)
			strcat(flags, "l");
		if (tpgid == pgrp)
			strcat(flags, "+");
	}
	char *s = NULL;
	return asprintf(&s, "%c%s", st, flags) < 0 ? NULL : s;
}

/* Seconds since the process started, from its start time in clock ticks. */
static double age(const char *stat)
{
	const char *rp = strrchr(stat, ')');
	unsigned long long start = 0;
	double up = 0;
	FILE *f = fopen("/proc/uptime", "re");

	if (f) {
		if (fscanf(f, "%lf", &up) != 1)
			up = 0;
		fclose(f);
	}
	if (rp)
		sscanf(rp + 2,
		       "%*c"
		       "%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
		       "%*s %*s %*s %llu",
		       &start);
	return up - (double)start / (double)sysconf(_SC_CLK_TCK);
}

/* ps's STIME: "HH:MM" within a day, "MmmDD" within the year, else the year. */
static char *ps_stime(double secs)
{
	time_t now = time(NULL), t = now - (time_t)secs;
	struct tm tm, tnow;
	char s[32];

	localtime_r(&t, &tm);
	localtime_r(&now, &tnow);
	if (secs < 86400)
		strftime(s, sizeof(s), "%H:%M", &tm);
	else if (tm.tm_year == tnow.tm_year)
		strftime(s, sizeof(s), "%b%d", &tm);
	else
		strftime(s, sizeof(s), "%Y", &tm);
	return strdup(s);
}

/* ps's ETIME: [[DD-]hh:]mm:ss. */
static char *ps_etime(double secs)
{
	long t = secs > 0 ? (long)secs : 0, d = t / 86400, h = t / 3600 % 24, m = t / 60 % 60;
	char *s = NULL;
	int rc;

	if (d)
		rc = asprintf(&s, "%ld-%02ld:%02ld:%02ld", d, h, m, t % 60);
	else if (h)
		rc = asprintf(&s, "%02ld:%02ld:%02ld", h, m, t % 60);
	else
		rc = asprintf(&s, "%02ld:%02ld", m, t % 60);
	return rc < 0 ? NULL : s;
}

/* The command line with NULs as spaces, or "[comm]" for kernel threads. */
static char *command_of(pid_t pid, const char *comm)
{
	size_t len;
	char *s = read_small("cmdline", pid, &len);

	while (len && s[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\0' || s[i] == '\n' || s[i] == '\t')
			s[i] = ' ';
	if (!len) {
		free(s);
		if (asprintf(&s, "[%s]", comm) < 0)
			s = NULL;
	}
	return s;
}

static char **table_row(struct table *t)
{
	if (t->rows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = realloc(t->cells, t->cap * NCOL * sizeof(char *));
		if (!t->cells)
			die("failed to allocate memory:");
	}
	memset(t->cells + t->rows * NCOL, 0, NCOL * sizeof(char *));
	return t->cells + t->rows++ * NCOL;
}

/* Add a row for pid, whose container is name (taken over). */
static void add_process(struct table *t, pid_t pid, char *name)
{
	char **row = table_row(t), *stat = read_small("stat", pid, NULL);
	char *status = read_small("status", pid, NULL);
	char *comm = read_small("comm", pid, NULL);
	double secs = age(stat);

	comm[strcspn(comm, "\n")] = '\0';
	row[C_NAME] = name;
	if (asprintf(&row[C_PID], "%d", (int)pid) < 0)
		row[C_PID] = NULL;
	row[C_COMM] = comm;
	row[C_STATE] = ps_stat(pid, stat, status);
	row[C_STARTED] = ps_stime(secs);
	row[C_TIME] = ps_etime(secs);
	row[C_MNTNS] = ns_inode(pid, "mnt");
	row[C_USERNS] = ns_inode(pid, "user");
	row[C_CMD] = command_of(pid, comm);
	free(stat);
	free(status);
}

static int cmp_row(const void *a, const void *b)
{
	char *const *ra = a, *const *rb = b;
	int c = strcmp(ra[C_NAME], rb[C_NAME]);

	if (c || !ra[C_PID] || !rb[C_PID])
		return c ? c : (ra[C_PID] ? 1 : -1);
	return atoi(ra[C_PID]) - atoi(rb[C_PID]);
}

/* Print the first ncol columns like `column -t`: cells padded to the column width, two spaces
 * apart. */
static void print_table(struct table *t, int ncol)
{
	static const char *const head[NCOL] = {"NAME", "PID",	"COMM",	  "STATE",   "STARTED",
					       "TIME", "MNTNS", "USERNS", "COMMAND", "PROTECTED"};
	size_t w[NCOL];

	for (int c = 0; c < ncol; c++) {
		w[c] = strlen(head[c]);
		for (size_t r = 0; r < t->rows; r++) {
			const char *s = t->cells[r * NCOL + c];
			if (s && strlen(s) > w[c])
				w[c] = strlen(s);
		}
	}
	for (size_t r = 0; r <= t->rows; r++) {
		char *const *row = r ? t->cells + (r - 1) * NCOL : (char *const *)head;
		int last = ncol - 1;
		while (last > 0 && !row[last])
			last--;
		for (int c = 0; c <= last; c++)
			printf("%-*s%s", c == last ? 0 : (int)w[c], row[c] ? row[c] : "",
			       c == last ? "\n" : "  ");
	}
}

/* One row per running container process (lib/runtime/running.h). */
static void find_processes(struct table *t, const char *data)
{
	struct running *v;
	size_t n;

	if (running_list(data, &v, &n) < 0)
		die("failed to allocate memory:");
	for (size_t i = 0; i < n; i++) {
		add_process(t, v[i].pid, v[i].name ? v[i].name : strdup("<unknown>"));
		v[i].name = NULL;
	}
	running_free(v, n);
}

static void list_fancy(const char *data, int show_protected)
{
	struct table t = {0};
	size_t n;
	char **names = list_names(data, &n);

	find_processes(&t, data);
	for (size_t i = 0; i < n; i++) {
		size_t r;
		for (r = 0; r < t.rows && strcmp(t.cells[r * NCOL + C_NAME], names[i]); r++)
			;
		if (r == t.rows)
			table_row(&t)[C_NAME] = strdup(names[i]);
	}
	if (t.rows)
		qsort(t.cells, t.rows, NCOL * sizeof(char *), cmp_row);
	/* Continuation rows of the same name leave the NAME cell blank. */
	for (size_t r = t.rows; r-- > 1;)
		if (!strcmp(t.cells[r * NCOL], t.cells[(r - 1) * NCOL]))
			t.cells[r * NCOL][0] = '\0';
	for (size_t r = 0; show_protected && r < t.rows; r++)
		if (*t.cells[r * NCOL] && cmd_is_protected(t.cells[r * NCOL]))
			t.cells[r * NCOL + C_PROT] = strdup("yes");
	print_table(&t, show_protected ? NCOL : C_PROT);
	for (size_t i = 0; i < t.rows * NCOL; i++)
		free(t.cells[i]);
	free(t.cells);
	free_names(names, n);
}

int cmd_list(int argc, char **argv)
{
	static const struct opt opts[] = {{"fancy", 'f', 0, 'f'}, {0}};
	const char *data = getenv("ENROOT_DATA_PATH");
	struct optparse p;
	int fancy = 0, o;

	opt_init(&p, argc, argv);
	while ((o = opt_next(&p, opts)) != OPT_DONE) {
		if (o == OPT_HELP)
			usage_exit(cmd_list_usage, 0);
		if (o == OPT_BAD)
			opt_fail(&p, cmd_list_usage);
		fancy = 1;
	}
	if (p.ind != argc)
		usage_exit(cmd_list_usage, 1);
	if (fancy) {
		list_fancy(data, isatty(STDOUT_FILENO));
	} else {
		size_t n;
		char **names = list_names(data, &n);
		for (size_t i = 0; i < n; i++)
			printf("%s\n", names[i]);
		free_names(names, n);
	}
	return fflush(stdout) ? 1 : 0;
}
