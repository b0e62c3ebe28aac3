/* nswait: keep the original PID as a waiter in front of a PID namespace's init.
 *
 * The sequence (pid_namespaces(7), pidfd_open(2), prctl(2) PR_SET_PDEATHSIG):
 *  1. Before fork: a pipe, a pidfd on ourselves, and handlers (SA_RESTART) that forward SIGTERM
 *     and SIGINT to the child. Every signal is blocked across fork so no handler runs while the
 *     child's PID is unknown.
 *  2. Child: default handlers, the old mask back, PDEATHSIG=SIGKILL; then poll the parent's
 *     pidfd with a zero timeout, because the parent may have died before PDEATHSIG was armed.
 *     Read its host PID from the pipe (getpid() says 1 in a new namespace) into
 *     ENROOT_NSENTER_PID.
 *  3. Parent: write the child's PID to the pipe, then wait (nswait_wait).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/nswait.h"

static volatile pid_t child_pid;

static void forward(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

static int install(void (*handler)(int))
{
	struct sigaction sa = {.sa_handler = handler, .sa_flags = SA_RESTART};

	sigemptyset(&sa.sa_mask);
	return sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL) ? -1 : 0;
}

/* Step 2: the child's side. */
static int child_setup(int rfd, int pidfd, const sigset_t *old)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	char buf[32];
	ssize_t n;

	install(SIG_DFL);
	sigprocmask(SIG_SETMASK, old, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0))
		return -1;
	if (pidfd >= 0 && poll(&p, 1, 0) != 0)
		_exit(1); /* the parent is gone already */
	while ((n = read(rfd, buf, sizeof(buf) - 1)) < 0 && errno == EINTR)
		;
	if (n <= 0)
		_exit(1);
	buf[n] = '\0';
	return setenv("ENROOT_NSENTER_PID", buf, 1);
}

/* Step 3: the parent's side, once fork succeeded. */
static void parent_setup(pid_t pid, int wfd, const sigset_t *old)
{
	char buf[32];

	child_pid = pid;
	sigprocmask(SIG_SETMASK, old, NULL);
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	if (write(wfd, buf, strlen(buf)) < 0)
		kill(pid, SIGKILL);
}

static void close_all(int a, int b, int c)
{
	int saved = errno;

	close(a);
	close(b);
	if (c >= 0)
		close(c);
	errno = saved;
}

pid_t nswait_fork(void)
{
	int fds[2], pidfd;
	sigset_t all, old;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		return -1;
	/* pidfd_open (Linux 5.3) sets close-on-exec; without it the check is skipped. */
	pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	sigfillset(&all);
	if (install(forward) || sigprocmask(SIG_BLOCK, &all, &old)) {
		close_all(fds[0], fds[1], pidfd);
		return -1;
	}
	if ((pid = fork()) < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		close_all(fds[0], fds[1], pidfd);
		return -1;
	}
	if (pid == 0) {
		close(fds[1]);
		if (child_setup(fds[0], pidfd, &old))
			_exit(1);
	} else {
		parent_setup(pid, fds[1], &old);
	}
	close_all(fds[0], pid ? fds[1] : -1, pidfd);
	return pid;
}

/* Die by SIG as the child did; return 128 + SIG when that does not kill us. */
static int die_by(int sig)
{
	sigset_t set;

	if (sig != SIGKILL)
		signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	kill(getpid(), sig);
	return 128 + sig;
}

int nswait_wait(pid_t child)
{
	int st;

	for (;;) {
		if (waitpid(child, &st, WUNTRACED) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (WIFSTOPPED(st)) {
			kill(getpid(), SIGSTOP);
			kill(child, SIGCONT);
		} else if (WIFEXITED(st)) {
			return WEXITSTATUS(st);
		} else if (WIFSIGNALED(st)) {
			return die_by(WTERMSIG(st));
		}
	}
}
