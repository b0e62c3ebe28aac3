/* child: run a program to completion (fork+exec+wait), optionally capturing its stdout. */
#ifndef CHILD_H
#define CHILD_H

#include "base/buf.h"

/* Run argv (PATH lookup) with stdin from in_fd (-1: inherit), stdout into out (NULL: inherit;
 * CHILD_DEVNULL: discard) and stderr discarded when quiet. Returns the wait status (as from
 * waitpid), or -1 with errno when the fork or the wait failed. A program that cannot be
 * executed gives exit status 127 (not found) or 126. */
int child_run(char *const argv[], int in_fd, struct buf *out, int quiet);

/* The exit code a shell would report for a wait status: the code, or 128+signal. */
int child_code(int status);

#define CHILD_DEVNULL ((struct buf *)1)

#endif
