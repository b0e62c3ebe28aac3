/* cmd_create: `enroot create [-n NAME] [-f] [--] IMAGE` (spec §11.1). unsquashfs into a
 * fresh temporary directory under DATA, restore the modes an unprivileged unsquashfs drops
 * (setuid, setgid, group/other write), make everything readable and deletable by the owner,
 * then rename into place, so a failed create leaves nothing behind. */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child.h"
#include "base/errcap.h"
#include "base/guard.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/rmtree.h"
#include "base/stale.h"
#include "cmd.h"

const char cmd_create_usage[] = "Usage: enroot create [options] [--] IMAGE\n"
				"\n"
				"Create a container root filesystem from a container image.\n"
				"\n"
				" Options:\n"
				"   -n, --name   Name of the container (defaults to \"IMAGE\")\n"
				"   -f, --force  Overwrite an existing root filesystem\n";

/* Parse "drwsr-xr-x" into permission bits; -1 when it is not a mode string. */
static int parse_mode(const char *s)
{
	static const char rwx[] = "rwxrwxrwx";
	int mode = 0;

	if (strlen(s) < 10)
		return -1;
	for (int i = 0; i < 9; i++) {
		char c = s[1 + i];
		if (c == rwx[i] || c == 's' || c == 't')
			mode |= 1 << (8 - i);
		else if (c != '-' && c != 'S' && c != 'T')
			return -1;
	}
	if (s[3] == 's' || s[3] == 'S')
		mode |= S_ISUID;
	if (s[6] == 's' || s[6] == 'S')
		mode |= S_ISGID;
	if (s[9] == 't' || s[9] == 'T')
		mode |= S_ISVTX;
	return mode;
}

/* Skip n blank-separated fields of s. */
static const char *skip_fields(const char *s, int n)
{
	while (n-- > 0 && s) {
		s += strspn(s, " ");
		s = strchr(s, ' ');
	}
	return s;
}

/* chmod one listed entry (relative to root) if its mode differs; never follows symlinks. */
static int fix_entry(int root, const char *rel, int mode, int isdir)
{
	struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
			       .resolve =
				   RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	char proc[64];
	struct stat st;
	int fd, rc = 0;

	mode |= isdir ? S_IRWXU : S_IRUSR;
	fd = (int)syscall(SYS_openat2, root, *rel ? rel : ".", &how, sizeof(how));
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) == 0 && !S_ISLNK(st.st_mode) && (int)(st.st_mode & 07777) != mode) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		rc = chmod(proc, (mode_t)mode);
	}
	close(fd);
	return rc;
}

/* One line of `unsquashfs -lls -d ""`: "MODE OWNER SIZE DATE TIME /PATH". */
static int fix_line(int root, char *line)
{
	int mode = parse_mode(line);
	const char *path;

	if (mode < 0 || line[0] == 'l')
		return 0;
	/* Devices show "MAJ, MIN" in the size column: one field more. */
	path = skip_fields(line, line[0] == 'c' || line[0] == 'b' ? 6 : 5);
	if (!path || *path != ' ')
		return 0;
	path++;
	line[strcspn(line, "\n")] = '\0';
	return fix_entry(root, path + (*path == '/'), mode, line[0] == 'd');
}

/* Start `unsquashfs -lls` on image in the background, its listing into a file at path
 * (so it runs while the extraction does). Returns its pid and the file's fd. */
static pid_t start_listing(const char *image, const char *path, int *fd)
{
	char *argv[] = {"unsquashfs", "-lls", "-d", "", (char *)image, NULL};
	pid_t pid;

	*fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (*fd < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (dup2(*fd, 1) < 0 || null < 0 || dup2(null, 2) < 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Wait for the listing (*pid, then reaped: -1), then restore every mode it shows into the
 * tree at dir. Without a listing (run as root) there is nothing to do. */
static int fix_modes(pid_t *pid, int fd, const char *dir)
{
	int root, rc = 0, status, w;
	char *line = NULL;
	size_t cap = 0;
	FILE *f;

	if (fd < 0)
		return geteuid() == 0 ? 0 : -1;
	w = *pid < 0 ? -1 : waitpid(*pid, &status, 0);
	*pid = -1;
	if (w < 0 || status != 0)
		return -1;
	root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	f = root >= 0 && lseek(fd, 0, SEEK_SET) == 0 ? fdopen(dup(fd), "re") : NULL;
	while (f && getline(&line, &cap, f) >= 0)
		if (fix_line(root, line) < 0 && rc == 0)
			rc = -1;
	free(line);
	if (f)
		fclose(f);
	if (root >= 0)
		close(root);
	return f ? rc : -1;
}

/* Cap RLIMIT_NOFILE at 2^26: squashfs-tools misbehaves with huge limits. */
static void cap_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > (1 << 26)) {
		rl.rlim_cur = 1 << 26;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* unsquashfs IMAGE into dest (which must not exist). Returns the wait status. */
static int unsquash(const char *image, const char *dest, int cap)
{
	const char *p = getenv("ENROOT_MAX_PROCESSORS");
	char *argv[10];
	int k = 0;

	argv[k++] = "unsquashfs";
	if (!isatty(STDERR_FILENO))
		argv[k++] = "-no-progress";
	argv[k++] = "-processors";
	argv[k++] = (char *)(p && *p ? p : "1");
	argv[k++] = "-user-xattrs";
	argv[k++] = "-d";
	argv[k++] = (char *)dest;
	argv[k++] = (char *)image;
	argv[k] = NULL;
	cap_nofile();
	/* unsquashfs lists every file on stdout: keep our stdout clean.  Its stderr is held
	 * (errcap) so that a full disk is told in one line by the caller. */
	int saved = dup(STDERR_FILENO), status;
	if (cap >= 0 && saved >= 0)
		dup2(cap, STDERR_FILENO);
	status = child_run(argv, -1, CHILD_DEVNULL, 0);
	if (saved >= 0) {
		dup2(saved, STDERR_FILENO);
		close(saved);
	}
	return status;
}

struct extract_ctx {
	const char *image, *target;
	char *dest, *list;
};

/* The guarded worker: unsquashfs into DEST, fix modes, rename to TARGET. */
static int extract_worker(void *arg)
{
	struct extract_ctx *c = arg;
	int status, rc = 1, lfd = -1, cap, full;
	pid_t lpid = -1;

	/* Run as root, unsquashfs keeps every mode itself and root can delete anything. */
	if (geteuid() != 0)
		lpid = start_listing(c->image, c->list, &lfd);
	cap = errcap_open();
	status = unsquash(c->image, c->dest, cap);
	if (!(full = status != 0 ? errcap_errno(cap) : 0))
		errcap_replay(cap, STDERR_FILENO);
	if (full) {
		msg_error("failed to create container: %s: %s", c->target, strerror(full));
	} else if (status != 0) {
		msg_error("failed to extract image: %s", c->image);
		rc = status > 0 && child_code(status) ? child_code(status) : 1;
	} else if (fix_modes(&lpid, lfd, c->dest) < 0) {
		msg_error("failed to fix permissions: %s:", c->dest);
	} else if ((guard_commit(), rename(c->dest, c->target)) < 0) {
		msg_error("failed to rename: %s:", c->target);
	} else {
		rc = 0;
	}
	if (lpid > 0) {
		kill(lpid, SIGKILL);
		waitpid(lpid, NULL, 0);
	}
	return rc;
}

/* Extract into DATA/.NAME.creating.XXXXXX/rootfs (a locked temporary, lib/base/stale.h), fix
 * modes, rename to target; the scratch directory goes whatever happens (lib/base/guard.h). */
int cmd_extract(const char *image, const char *data, const char *name, const char *target)
{
	struct extract_ctx c = {image, target, NULL, NULL};
	char *tmp = NULL, *paths[2];
	int rc = 1, lock = -1;

	if (asprintf(&tmp, "%s/.%s.creating.XXXXXX", data, name) < 0 ||
	    (lock = stale_mktemp(tmp, 1)) < 0 || asprintf(&c.dest, "%s/rootfs", tmp) < 0 ||
	    asprintf(&c.list, "%s/list", tmp) < 0) {
		msg_error("failed to create directory: %s/.%s:", data, name);
		goto out;
	}
	paths[0] = tmp;
	paths[1] = NULL;
	if ((rc = guard_run(extract_worker, &c, paths, NULL)) < 0) {
		msg_error("failed to fork:");
		rc = 1;
	}
out:
	if (lock >= 0)
		close(lock);
	free(tmp);
	free(c.dest);
	free(c.list);
	return rc;
}

/* NAME defaults to the basename of IMAGE minus one ".sqsh". */
static char *default_name(const char *image)
{
	char *copy = strdup(image), *base, *name;
	size_t n;

	if (!copy)
		return NULL;
	base = basename(copy);
	n = strlen(base);
	if (n > 5 && !strcmp(base + n - 5, ".sqsh"))
		base[n - 5] = '\0';
	name = strdup(base);
	free(copy);
	return name;
}

/* Make room for target: error if it exists, or remove it when forced. */
static int clear_target(const char *target, int force)
{
	struct stat st;
	char *bad = NULL;

	if (lstat(target, &st) < 0)
		return 0;
	if (!force) {
		msg_error("File already exists: %s", target);
		return -1;
	}
	if (rmtree(target, &bad) < 0) {
		msg_error("failed to remove: %s:", bad ? bad : target);
		free(bad);
		return -1;
	}
	return 0;
}

int cmd_create(int argc, char **argv)
{
	static const struct opt opts[] = {{"name", 'n', 1, 'n'}, {"force", 'f', 0, 'f'}, {0}};
	const char *data = getenv("ENROOT_DATA_PATH"), *name_opt = NULL;
	char *image, *name, *target = NULL;
	struct optparse p;
	int force = 0, o, rc;

	opt_init(&p, argc, argv);
	while ((o = opt_next(&p, opts)) != OPT_DONE) {
		if (o == OPT_HELP)
			usage_exit(cmd_create_usage, 0);
		if (o == OPT_BAD)
			opt_fail(&p, cmd_create_usage);
		if (o == 'n')
			name_opt = p.arg;
		else
			force = 1;
	}
	if (argc - p.ind != 1)
		usage_exit(cmd_create_usage, 1);
	image = realpath(argv[p.ind], NULL);
	if (!image || !cmd_is_squashfs(image)) {
		if (image && access(image, R_OK) == 0)
			errno = EINVAL;
		if (errno == EINVAL)
			die("Invalid image format: %s", argv[p.ind]);
		die("failed to open: %s:", argv[p.ind]);
	}
	name = name_opt ? strdup(name_opt) : default_name(image);
	if (!name || !*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		die("Invalid argument: %s", name ? name : "");
	if (asprintf(&target, "%s/%s", data, name) < 0)
		die("failed to allocate memory:");
	if (!access(target, F_OK))
		cmd_refuse_protected(name); /* -f would replace it */
	rc = clear_target(target, cmd_forced(force)) < 0 ? 1
							 : cmd_extract(image, data, name, target);
	free(image);
	free(name);
	free(target);
	return rc;
}
