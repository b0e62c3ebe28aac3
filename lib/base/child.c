/* child: fork+exec+wait for the tools and applets the driver runs (bash for config
 * expansion, unsquashfs, the import pipeline). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child.h"

/* In the child: wire the fds and exec (through EXEC when not NULL); never returns. */
static _Noreturn void child_exec(char *const argv[], int in_fd, int out_fd, int quiet,
				 child_exec_fn exec)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	/* The caller always waits: if it is killed, the tool has nobody to work for. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (in_fd >= 0 && dup2(in_fd, 0) < 0)
		_exit(126);
	if (out_fd >= 0 && dup2(out_fd, 1) < 0)
		_exit(126);
	if (quiet && null >= 0 && dup2(null, 2) < 0)
		_exit(126);
	if (exec)
		exec(argv);
	execvp(argv[0], argv);
	_exit(errno == ENOENT ? 127 : 126);
}

pid_t child_spawn(char *const argv[], int in_fd, int out_fd, child_exec_fn exec)
{
	pid_t pid = fork();

	if (pid == 0)
		child_exec(argv, in_fd, out_fd, 0, exec);
	return pid;
}

int child_wait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

int child_run(char *const argv[], int in_fd, struct buf *out, int quiet)
{
	int fds[2] = {-1, -1}, status = 0, err = 0;
	pid_t pid;

	if (out == CHILD_DEVNULL) {
		fds[1] = open("/dev/null", O_WRONLY | O_CLOEXEC);
	} else if (out && pipe2(fds, O_CLOEXEC) < 0) {
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		err = errno;
	} else if (pid == 0) {
		child_exec(argv, in_fd, fds[1], quiet, NULL);
	}
	if (fds[1] >= 0)
		close(fds[1]);
	if (pid > 0 && out && out != CHILD_DEVNULL && buf_read_fd(out, fds[0], 64 << 20) < 0)
		err = errno;
	if (fds[0] >= 0)
		close(fds[0]);
	while (pid > 0 && waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			err = errno;
			break;
		}
	if (err) {
		errno = err;
		return -1;
	}
	return status;
}

int child_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

char *child_which(const char *prog)
{
	const char *path = getenv("PATH");
	char *c;

	for (const char *p = path ? path : ""; *p;) {
		size_t n = strcspn(p, ":");
		if (n) {
			if (asprintf(&c, "%.*s/%s", (int)n, p, prog) < 0)
				return NULL;
			if (access(c, X_OK) == 0)
				return c;
			free(c);
		}
		p += n + (p[n] == ':');
	}
	errno = ENOENT;
	return NULL;
}
