/* squash: mksquashfs driven safely (see squash.h). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/errcap.h"
#include "base/guard.h"
#include "image/squash.h"

extern char **environ;

/* squashfs-tools allocates tables sized by RLIMIT_NOFILE: cap it (enroot 8a8d279). */
#define SQUASH_MAX_NOFILE (1UL << 26)

static size_t count(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

/* The argument vector; the option words point into OPTS, a modifiable copy. */
static char **build_argv(const char *dir, const char *tmp, const struct squash_opts *o, char *opts,
			 char *procs)
{
	size_t n = 0, max = 16 + strlen(opts) / 2 + 1 + count(o->excludes);
	char **argv = calloc(max, sizeof(char *)), *save = NULL;
	long p = o->processors > 0 ? o->processors : sysconf(_SC_NPROCESSORS_ONLN);

	if (!argv)
		return NULL;
	snprintf(procs, 24, "%ld", p > 0 ? p : 1);
	argv[n++] = "mksquashfs";
	argv[n++] = (char *)dir;
	argv[n++] = (char *)tmp;
	argv[n++] = "-noappend";
	if (o->epoch && *o->epoch) {
		argv[n++] = "-mkfs-time";
		argv[n++] = (char *)o->epoch;
		argv[n++] = "-all-time";
		argv[n++] = (char *)o->epoch;
	}
	argv[n++] = "-all-root";
	if (!o->progress)
		argv[n++] = "-no-progress";
	argv[n++] = "-processors";
	argv[n++] = procs;
	for (char *w = strtok_r(opts, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save))
		argv[n++] = w;
	/* -e and its list must come last. */
	if (o->excludes && o->excludes[0]) {
		argv[n++] = "-e";
		for (size_t i = 0; o->excludes[i]; i++)
			argv[n++] = o->excludes[i];
	}
	argv[n] = NULL;
	return argv;
}

/* The environment without SOURCE_DATE_EPOCH: mksquashfs 4.5 refuses it together with the
 * -mkfs-time/-all-time options we pass for it. */
static char **child_env(void)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 1, sizeof(char *));
	for (size_t i = 0; env && i < n; i++)
		if (strncmp(environ[i], "SOURCE_DATE_EPOCH=", 18))
			env[k++] = environ[i];
	return env;
}

static int write_proc(const char *file, const char *text)
{
	int fd = open(file, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Become root of a new user namespace mapping only our own uid and gid (user_namespaces(7)):
 * 1. unshare(CLONE_NEWUSER) gives a full capability set inside the new namespace;
 * 2. "deny" goes to /proc/self/setgroups, required before an unprivileged gid_map write;
 * 3. "0 UID 1" to uid_map and "0 GID 1" to gid_map: our files are then owned by root in
 *    there, so CAP_DAC_READ_SEARCH applies to them (capabilities(7), the inode's owner must
 *    be mapped) and mode-0000 files can be read.  Nothing else changes.
 * A failure just leaves us as we were (no user namespaces on this system). */
void squash_userns(uid_t uid, gid_t gid)
{
	char map[64];

	if (unshare(CLONE_NEWUSER) < 0)
		return;
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
	write_proc("/proc/self/uid_map", map);
	write_proc("/proc/self/setgroups", "deny");
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
	write_proc("/proc/self/gid_map", map);
}

/* In the child: limits, namespace, output, exec.  Never returns. */
static _Noreturn void run_child(char **argv, char **env, int progress, uid_t uid, gid_t gid,
				int cap)
{
	struct rlimit rl;
	int null;

	/* Killed with the import or export that waits for it (lib/base/guard.h, lib/base/stale.h).
	 */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur > SQUASH_MAX_NOFILE) {
		rl.rlim_cur = SQUASH_MAX_NOFILE;
		rl.rlim_max = rl.rlim_max > SQUASH_MAX_NOFILE ? SQUASH_MAX_NOFILE : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	squash_userns(uid, gid);
	/* Its summary goes where progress goes; errors stay on stderr. */
	if (progress) {
		dup2(STDERR_FILENO, STDOUT_FILENO);
	} else if ((null = open("/dev/null", O_WRONLY)) >= 0) {
		dup2(null, STDOUT_FILENO);
	}
	if (cap >= 0)
		dup2(cap, STDERR_FILENO);
	execvpe(argv[0], argv, env);
	_exit(errno == ENOENT ? 127 : 126);
}

/* Run mksquashfs with its stderr captured: a full disk becomes errno ENOSPC (or EDQUOT) and
 * one line of the caller's; any other text of the tool is passed on to our stderr. */
static int run_mksquashfs(char **argv, int progress, int *status)
{
	char **env = child_env();
	int cap = errcap_open(), full = 0;
	pid_t pid;

	if (!env)
		return -1;
	pid = fork();
	if (pid == 0)
		run_child(argv, env, progress, getuid(), getgid(), cap);
	free(env);
	while (pid > 0 && waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			pid = -1;
	if (pid > 0 && (!WIFEXITED(*status) || WEXITSTATUS(*status)))
		full = errcap_errno(cap);
	if (!full)
		errcap_replay(cap, STDERR_FILENO);
	if (cap >= 0)
		close(cap);
	if (pid < 0)
		return -1;
	if (full)
		return errno = full, -1;
	if (!WIFEXITED(*status) || WEXITSTATUS(*status))
		return errno = ECHILD, -1;
	return 0;
}

static int fsync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Move TMP to OUT, failing with EEXIST rather than replacing OUT; then make it durable. */
static int publish(const char *tmp, const char *out)
{
	char *copy;
	int rc;

	guard_commit();
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_NOREPLACE) < 0) {
		if (errno != EINVAL && errno != ENOSYS)
			return -1;
		/* A filesystem without RENAME_NOREPLACE: link() never replaces either. */
		if (link(tmp, out) < 0)
			return -1;
		unlink(tmp);
	}
	copy = strdup(out);
	rc = copy ? fsync_path(dirname(copy), O_RDONLY | O_DIRECTORY) : -1;
	free(copy);
	return rc;
}

int squash_publish(const char *tmp, const char *out)
{
	int rc = fsync_path(tmp, O_RDONLY) == 0 ? publish(tmp, out) : -1, saved = errno;

	if (rc < 0)
		unlink(tmp);
	errno = saved;
	return rc;
}

int squash_create(const char *dir, const char *tmp, const char *out, const struct squash_opts *o,
		  int *status)
{
	char *opts = strdup(o->options ? o->options : SQUASH_DEFAULT_OPTIONS), procs[24];
	char **argv = opts ? build_argv(dir, tmp, o, opts, procs) : NULL;
	int rc = -1, saved;

	*status = 0;
	if (argv && run_mksquashfs(argv, o->progress, status) == 0 &&
	    fsync_path(tmp, O_RDONLY) == 0)
		rc = publish(tmp, out);
	saved = errno;
	if (rc < 0)
		unlink(tmp);
	free(argv);
	free(opts);
	errno = saved;
	return rc;
}

void squash_describe(int err, int status, const char *out, char *buf, size_t len)
{
	if (err == EEXIST)
		snprintf(buf, len, "File already exists: %s", out);
	else if (err == ECHILD)
		snprintf(buf, len, "failed to create squashfs: mksquashfs exited with status %d",
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	else
		snprintf(buf, len, "failed to create squashfs: %s: %s", out, strerror(err));
}
