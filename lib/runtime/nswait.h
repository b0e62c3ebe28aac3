/* nswait: the fork into a PID namespace and the waiter left outside it (spec §6.1.1). */
#ifndef NSWAIT_H
#define NSWAIT_H

#include <sys/types.h>

/* Fork after unshare(CLONE_NEWPID) or setns into another PID namespace. In the child (PID 1 of
 * a new namespace) it returns 0 with ENROOT_NSENTER_PID set to the child's host PID and a
 * SIGKILL armed for when the parent dies. In the parent it returns the child's PID, with SIGTERM
 * and SIGINT forwarded to the child from then on. -1/errno (nothing forked). */
pid_t nswait_fork(void);

/* The parent's loop: wait for CHILD, pass stops through (stop ourselves, then SIGCONT the child),
 * and when it ends, return its exit status; when a signal killed it, kill ourselves with the
 * same signal, and if we survive that, return 128 + the signal. */
int nswait_wait(pid_t child);

#endif
