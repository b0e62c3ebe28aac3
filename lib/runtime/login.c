/* login: what login(1) would set up, read from the container's own files after the pivot.
 * /etc/passwd and /etc/group are parsed here rather than through getpwuid(3): glibc's NSS could
 * consult the host's nscd socket or modules loaded before the pivot, while enroot (built with
 * musl) reads the container's files directly, which is what hook 10-shadow prepares.
 * Left out: lastlog (LASTLOG_ENAB) and utmp/wtmp records, which enroot's musl build also skips. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/io.h"
#include "runtime/login.h"

/* A record of a colon-separated database: the line and up to 7 fields pointing into it. */
struct dbent {
	char *line;
	char *f[7];
};

static void split(struct dbent *e)
{
	char *s = e->line;

	for (int i = 0; i < 7; i++) {
		e->f[i] = s ? s : (char *)"";
		if (s && (s = strchr(s, ':')))
			*s++ = '\0';
	}
}

/* Find in FILE the first line whose field IDX is the number ID. 0 found, -1 not found. */
static int db_find(const char *file, int idx, unsigned long id, struct dbent *e)
{
	FILE *f = fopen(file, "re");
	size_t cap = 0;
	ssize_t n;

	e->line = NULL;
	if (!f)
		return -1;
	while ((n = getline(&e->line, &cap, f)) > 0) {
		char *end;

		if (e->line[n - 1] == '\n')
			e->line[n - 1] = '\0';
		split(e);
		errno = 0;
		if (*e->f[idx] && strtoul(e->f[idx], &end, 10) == id && !*end && !errno) {
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	free(e->line);
	e->line = NULL;
	return -1;
}

void login_ids(struct login *l)
{
	FILE *f = fopen("/proc/self/uid_map", "re");
	unsigned in, out;

	l->inner_uid = l->outer_uid = geteuid();
	l->have_ids = 1;
	if (!f)
		return;
	if (fscanf(f, "%u %u", &in, &out) == 2) {
		l->inner_uid = in;
		l->outer_uid = out;
	}
	fclose(f);
}

static int setdefault(const char *name, const char *value)
{
	return value ? setenv(name, value, 0) : 0;
}

/* The first line of a file, without its newline, or NULL. */
static char *first_line(const char *path)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return NULL;
	n = getline(&line, &cap, f);
	fclose(f);
	if (n <= 0) {
		free(line);
		return NULL;
	}
	line[strcspn(line, "\n")] = '\0';
	return line;
}

static const char *strip_prefix(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) ? s : s + n;
}

/* Step 5: TERM, HOME, SHELL, USER, LOGNAME and PATH, each only when unset. */
static int set_basic(const struct login *l, const struct dbent *pw, const char *logname)
{
	const char *path = logindefs_get(&l->defs, l->inner_uid ? "ENV_PATH" : "ENV_SUPATH");

	if (!path)
		path =
		    l->inner_uid ? "/usr/local/bin:/bin:/usr/bin" : "/bin:/usr/bin:/sbin:/usr/sbin";
	if (setenv("TERM", "dumb", 0) || setdefault("LOGNAME", logname) ||
	    setenv("PATH", strip_prefix(path, "PATH="), 0))
		return -1;
	if (!pw->line)
		return 0;
	return setdefault("HOME", *pw->f[5] ? pw->f[5] : NULL) ||
	       setdefault("SHELL", *pw->f[6] ? pw->f[6] : NULL) || setdefault("USER", pw->f[0]);
}

/* Step 6: MAIL (MAIL_DIR/USER) when MAIL_CHECK_ENAB is yes. */
static int set_mail(const struct login *l)
{
	const char *dir = logindefs_get(&l->defs, "MAIL_DIR"), *user = getenv("USER");
	char *s = NULL;
	int rc;

	if (!logindefs_yes(&l->defs, "MAIL_CHECK_ENAB") || !user || getenv("MAIL"))
		return 0;
	if (asprintf(&s, "%s/%s", dir ? dir : "/var/mail", user) < 0)
		return -1;
	rc = setenv("MAIL", s, 0);
	free(s);
	return rc;
}

/* Step 6: TZ from ENV_TZ, a value or (starting with '/') a file whose first line is read. */
static int set_tz(const struct login *l)
{
	const char *tz = logindefs_get(&l->defs, "ENV_TZ");
	char *line;
	int rc;

	if (!tz)
		return 0;
	if (*tz != '/')
		return setenv("TZ", strip_prefix(tz, "TZ="), 0);
	if (!(line = first_line(tz)))
		return 0;
	rc = setenv("TZ", strip_prefix(line, "TZ="), 0);
	free(line);
	return rc;
}

/* Step 6: LANG, LANGUAGE and LC_* from /etc/locale.conf, surrounding quotes removed. */
static int set_locale(void)
{
	FILE *f = fopen("/etc/locale.conf", "re");
	char *line = NULL, *eq, *v;
	size_t cap = 0, n;
	int rc = 0;

	if (!f)
		return 0;
	while (!rc && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!(eq = strchr(line, '=')))
			continue;
		*eq = '\0';
		if (strcmp(line, "LANG") && strcmp(line, "LANGUAGE") && strncmp(line, "LC_", 3))
			continue;
		v = eq + 1;
		n = strlen(v);
		if (n >= 2 && (*v == '"' || *v == '\'') && v[n - 1] == *v) {
			v[n - 1] = '\0';
			v++;
		}
		rc = setenv(line, v, 0);
	}
	free(line);
	fclose(f);
	return rc;
}

/* Step 6: umask from UMASK (with USERGROUPS_ENAB's group bits) and RLIMIT_FSIZE from ULIMIT. */
static void set_limits(const struct login *l, const struct dbent *pw)
{
	const char *um = logindefs_get(&l->defs, "UMASK"), *ul = logindefs_get(&l->defs, "ULIMIT");
	struct dbent gr;
	char *end;

	if (um && *um) {
		unsigned long mask = strtoul(um, &end, 8) & 0777;

		if (!*end && pw->line && logindefs_yes(&l->defs, "USERGROUPS_ENAB") &&
		    !strcmp(pw->f[2], pw->f[3]) &&
		    !db_find("/etc/group", 2, strtoul(pw->f[3], NULL, 10), &gr)) {
			if (!strcmp(gr.f[0], pw->f[0]))
				mask = (mask & ~070ul) | ((mask >> 3) & 070);
			free(gr.line);
		}
		if (!*end)
			umask((mode_t)mask);
	}
	if (ul && *ul) {
		long blocks = strtol(ul, &end, 10);
		struct rlimit rl;

		rl.rlim_cur = rl.rlim_max = blocks < 0 ? RLIM_INFINITY : (rlim_t)blocks * 512;
		if (!*end)
			(void)setrlimit(RLIMIT_FSIZE, &rl);
	}
}

/* Steps 4-7, with the nologin check (3) done by the caller. */
static enum login_result login_env(struct login *l)
{
	struct dbent pw, host;
	const char *home;
	int rc;

	db_find("/etc/passwd", 2, l->inner_uid, &pw);
	db_find("/etc/passwd", 2, l->outer_uid, &host);
	rc = set_basic(l, &pw, host.line ? host.f[0] : NULL);
	if (!rc)
		rc = set_mail(l) || set_tz(l);
	if (!rc)
		rc = set_locale();
	if (!rc)
		set_limits(l, &pw);
	free(pw.line);
	free(host.line);
	if (rc)
		return LOGIN_FAIL_ENV;
	if ((home = getenv("HOME")) && chdir(home)) {
		if (!logindefs_yes(&l->defs, "DEFAULT_HOME"))
			return LOGIN_FAIL_HOME;
		l->home_failed = 1;
		l->home_errno = errno;
	}
	return LOGIN_OK;
}

const char *login_nologin_file(const struct login *l)
{
	const char *f = logindefs_get(&l->defs, "NOLOGINS_FILE");

	return f ? f : "/etc/nologin";
}

enum login_result login_prepare(struct login *l)
{
	enum login_result r;

	if (l->login) {
		if (!l->have_ids)
			login_ids(l);
		if (logindefs_load(&l->defs, "/etc/login.defs"))
			return LOGIN_FAIL_DEFS;
		if (l->inner_uid != 0 && !access(login_nologin_file(l), F_OK))
			return LOGIN_NOLOGIN;
		if ((r = login_env(l)) != LOGIN_OK)
			return r;
	}
	if (l->workdir && chdir(l->workdir))
		return LOGIN_FAIL_WORKDIR;
	return LOGIN_OK;
}

static int runnable(const char *path)
{
	return path && *path && !access(path, R_OK | X_OK);
}

void login_init_shell(struct login *l)
{
	const char *v = getenv("ENROOT_INIT_SHELL");

	free(l->init_shell);
	l->init_shell = v && *v ? strdup(v) : NULL;
}

/* ENROOT_INIT_SHELL, else FAKE_SHELL, else $SHELL, else /bin/sh: the first that is readable
 * and executable. */
static const char *pick_shell(const struct login *l)
{
	const char *fake = logindefs_get(&l->defs, "FAKE_SHELL"), *sh = getenv("SHELL");

	if (runnable(l->init_shell))
		return l->init_shell;
	if (runnable(fake))
		return fake;
	return runnable(sh) ? sh : "/bin/sh";
}

/* Is login quiet? HUSHLOGIN_FILE (default .hushlogin) relative to $HOME exists, or, when it is
 * an absolute path, lists the user's name or shell on a line of its own. */
static int hushed(const struct login *l, const char *shell)
{
	const char *hush = logindefs_get(&l->defs, "HUSHLOGIN_FILE"), *home = getenv("HOME");
	const char *user = getenv("USER");
	char *path = NULL, *line = NULL;
	size_t cap = 0;
	int found = 0;
	FILE *f;

	hush = hush ? hush : ".hushlogin";
	if (*hush != '/') {
		if (!home || asprintf(&path, "%s/%s", home, hush) < 0)
			return 0;
		found = !access(path, F_OK);
		free(path);
		return found;
	}
	if (!(f = fopen(hush, "re")))
		return 0;
	while (!found && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		found = (user && !strcmp(line, user)) || !strcmp(line, shell);
	}
	free(line);
	fclose(f);
	return found;
}

static char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return (char *)(s ? s + 1 : path);
}

/* The words before CMD: [argv0] plus the rc file or the -c forms of spec §8.8. */
static int lead_words(const struct login *l, char *const *cmd, char *argv0, char **w)
{
	const char *rc = l->rcpath ? l->rcpath : "/etc/rc";
	int n = 0;

	w[n++] = argv0;
	if (!l->norc && !access(rc, F_OK)) {
		w[n++] = (char *)rc;
	} else if (cmd[0] && strchr(cmd[0], ' ')) {
		w[n++] = (char *)"-c";
	} else if (cmd[0] && (access(cmd[0], F_OK) || !access(cmd[0], X_OK))) {
		w[n++] = (char *)"-c";
		w[n++] = (char *)"exec \"$@\"";
		w[n++] = argv0;
	}
	return n;
}

char **login_argv(const struct login *l, char *const *cmd, char **shell, int *motd)
{
	const char *sh = pick_shell(l);
	size_t ncmd = 0, n;
	char *argv0 = NULL, **v;
	char *w[4];

	while (cmd[ncmd])
		ncmd++;
	if (asprintf(&argv0, "%s%s", l->login ? "-" : "", base_name(sh)) < 0)
		return NULL;
	n = (size_t)lead_words(l, cmd, argv0, w);
	*shell = strdup(sh);
	v = calloc(n + ncmd + 2, sizeof(*v));
	if (!v || !*shell) {
		free(v);
		free(*shell);
		free(argv0);
		return NULL;
	}
	memcpy(v, w, n * sizeof(*v));
	/* "shell -c CMD argv0 ARGS": the command string comes before $0. */
	if (n == 2 && !strcmp(w[1], "-c") && ncmd) {
		v[n++] = cmd[0];
		v[n++] = argv0;
		memcpy(v + n, cmd + 1, (ncmd - 1) * sizeof(*v));
	} else {
		memcpy(v + n, cmd, ncmd * sizeof(*v));
	}
	*motd = n == 1 && !ncmd && !hushed(l, sh);
	return v;
}

int login_cat(const char *path, int fd)
{
	char buf[8192];
	int in = open(path, O_RDONLY | O_CLOEXEC), saved;
	ssize_t n = 0;

	if (in < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	saved = errno;
	close(in);
	errno = saved;
	return n < 0 ? -1 : 0;
}

void login_motd(const struct login *l, int fd)
{
	const char *list = logindefs_get(&l->defs, "MOTD_FILE");
	char *copy = strdup(list ? list : "/etc/motd"), *save = NULL;

	for (char *p = copy ? strtok_r(copy, ":", &save) : NULL; p; p = strtok_r(NULL, ":", &save))
		(void)login_cat(p, fd);
	free(copy);
}

int login_rc_memfd(const void *data, size_t len)
{
	int fd = memfd_create("rc", 0), saved;

	if (fd < 0)
		return -1;
	if (io_write_all(fd, data, len) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

void login_free(struct login *l)
{
	logindefs_free(&l->defs);
	free(l->init_shell);
	l->init_shell = NULL;
}
