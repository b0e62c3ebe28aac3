/* guard: run a piece of work in a child process and remove its temporaries whatever happens
 * (DESIGN.md decision 5: nothing half-done is visible).
 *
 * The parent only waits: when the child ends (success, failure, crash) or a SIGINT, SIGTERM,
 * SIGHUP or SIGQUIT arrives (it is forwarded to the child's process group, so tools the child
 * runs stop too), the parent kills and waits for what is left of the worker's process group
 * (it is their subreaper: an applet of a pipeline still dropping its download), removes
 * every registered path, then reports the child's status.
 * Signal handlers that clean up are not async-signal-safe; a waiting parent is.  When the
 * parent is SIGKILLed, the child gets SIGKILL too (PR_SET_PDEATHSIG), so nothing is
 * published after the fact; lib/base/stale.h lets the next run remove the temporaries. */
#ifndef GUARD_H
#define GUARD_H

/* Run fn(ctx) in a child (its return value is the exit status); when it has ended, call
 * after(ctx) in the parent (unless NULL) and remove each path of the NULL-terminated PATHS
 * (trees too; missing paths are fine).  Returns the child's
 * exit status; when the child died of a signal the parent dies of the same signal after the
 * cleanup.  -1 with errno when the fork failed. */
int guard_run(int (*fn)(void *ctx), void *ctx, char *const paths[], void (*after)(void *ctx));

/* In a guard_run worker, call just before the step that publishes the result (a rename):
 * from then on the signals the guard forwards stay pending until the worker exits, and the
 * guard forgets them when the worker succeeded, so a published result always means exit 0
 * and a signal always means nothing published.  Does nothing outside a worker. */
void guard_commit(void);

#endif
