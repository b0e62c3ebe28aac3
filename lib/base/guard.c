/* guard: a waiting parent that cleans up after its child (see guard.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/guard.h"
#include "base/safepath.h"

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
static int in_worker; /* set in the child of guard_run */

static void guard_sigset(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(set, forwarded[i]);
}

void guard_commit(void)
{
	sigset_t set;

	if (!in_worker)
		return;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&set, forwarded[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

/* Forget the signals that arrived once the worker had published its result. */
static void drop_pending(const sigset_t *set)
{
	struct timespec zero = {0, 0};

	while (sigtimedwait(set, NULL, &zero) > 0)
		;
}

/* Wait for PID, forwarding the signals of SET to its process group meanwhile.  Once it has
 * ended (a zombie still: its pid and process group cannot be reused yet), what is left of
 * the group is killed; then PID is reaped and its status returned. */
static int wait_forwarding(pid_t pid, const sigset_t *set)
{
	siginfo_t si;
	int status;

	for (;;) {
		si.si_pid = 0;
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 && errno != EINTR)
			return -1;
		if (si.si_pid == pid)
			break;
		int sig = sigwaitinfo(set, NULL);

		if (sig > 0 && sig != SIGCHLD)
			kill(-pid, sig);
	}
	kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

/* Nothing of the worker outlives it: what was left of its process group (a tool it ran, now
 * reparented here, the guard being their subreaper; stopped ones too) got SIGKILL from
 * wait_forwarding; wait for them, so that the cleanup runs once their locks are gone. */
static void reap_group(pid_t pgid)
{
	while (waitpid(-pgid, NULL, 0) > 0 || errno == EINTR)
		;
}

/* Remove PATH recursively: safepath_remove works on a name below a directory fd. */
static void remove_path(const char *path)
{
	char *copy = strdup(path);
	char *slash = copy ? strrchr(copy, '/') : NULL;
	int dirfd;

	if (!copy)
		return;
	if (!slash) {
		(void)safepath_remove(AT_FDCWD, copy);
	} else {
		*slash = '\0';
		dirfd = open(slash == copy ? "/" : copy, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dirfd >= 0) {
			if (slash[1])
				(void)safepath_remove(dirfd, slash + 1);
			close(dirfd);
		}
	}
	free(copy);
}

static void remove_paths(char *const paths[])
{
	for (size_t i = 0; paths && paths[i]; i++)
		if (*paths[i])
			remove_path(paths[i]);
}

int guard_run(int (*fn)(void *ctx), void *ctx, char *const paths[], void (*after)(void *ctx))
{
	sigset_t set, old;
	pid_t pid, parent = getpid();
	int status;

	guard_sigset(&set);
	sigprocmask(SIG_BLOCK, &set, &old);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	pid = fork();
	if (pid < 0) {
		prctl(PR_SET_CHILD_SUBREAPER, 0);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return -1;
	}
	if (pid == 0) {
		/* A SIGKILLed parent cannot clean up; the worker must not go on to publish a
		 * result nobody waits for.  Its temporaries are the next run's (lib/base/stale.h).
		 */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(128 + SIGKILL);
		setpgid(0, 0);
		in_worker = 1;
		sigprocmask(SIG_SETMASK, &old, NULL);
		exit(fn(ctx));
	}
	setpgid(pid, pid); /* also here, so that no signal can race the child's own call */
	status = wait_forwarding(pid, &set);
	reap_group(pid);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	if (after)
		after(ctx);
	remove_paths(paths);
	if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		drop_pending(&set);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (status < 0)
		return 1;
	if (WIFSIGNALED(status) && sigismember(&set, WTERMSIG(status)) == 1) {
		/* Die of the same signal, so that a calling shell loop stops too. */
		signal(WTERMSIG(status), SIG_DFL);
		raise(WTERMSIG(status));
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
