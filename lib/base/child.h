/* child: run a program to completion (fork+exec+wait), optionally capturing its stdout. */
#ifndef CHILD_H
#define CHILD_H

#include <sys/types.h>

#include "base/buf.h"

/* How a child execs its argv (applet_exec for our applets); NULL: execvp. */
typedef void (*child_exec_fn)(char *const argv[]);

/* Run argv (PATH lookup) with stdin from in_fd (-1: inherit), stdout into out (NULL: inherit;
 * CHILD_DEVNULL: discard) and stderr discarded when quiet. Returns the wait status (as from
 * waitpid), or -1 with errno when the fork or the wait failed. A program that cannot be
 * executed gives exit status 127 (not found) or 126. */
int child_run(char *const argv[], int in_fd, struct buf *out, int quiet);

/* Start argv with stdin from in_fd and stdout to out_fd (-1: inherit; both may be pipe ends
 * opened O_CLOEXEC), executed through EXEC (NULL: execvp); it gets SIGKILL when the caller
 * dies.  The pid, or -1 with errno. */
pid_t child_spawn(char *const argv[], int in_fd, int out_fd, child_exec_fn exec);

/* Wait for PID: its wait status, or -1 with errno. */
int child_wait(pid_t pid);

/* The exit code a shell would report for a wait status: the code, or 128+signal. */
int child_code(int status);

/* The path of PROG in a $PATH directory where it is executable (malloc'd), or NULL (errno
 * ENOENT, or ENOMEM). */
char *child_which(const char *prog);

#define CHILD_DEVNULL ((struct buf *)1)

#endif
