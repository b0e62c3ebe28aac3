/* running: which of the caller's processes run in which container (spec §11.3, what enroot
 * gets from lsns and mountinfo). A container runs when a process has its root in
 * ENROOT_DATA_PATH/NAME: one process per mount namespace whose root holds /.lock is looked
 * at, and named by the root field of its "/" mount (the path inside the file system) minus
 * DATA's own path inside that file system. Reads /proc only; never prints. */
#ifndef RUNNING_H
#define RUNNING_H

#include <stddef.h>
#include <sys/types.h>

struct running {
	pid_t pid;    /* the lowest PID of its mount namespace */
	char *name;   /* the container under DATA, or NULL (a direct .sqsh start, elsewhere) */
	int writable; /* its root is mounted read-write */
};

/* Every such process, PIDs ascending, into *v (free with running_free). -1/errno (ENOMEM);
 * processes that vanish or cannot be read (another user's) are left out. */
int running_list(const char *data, struct running **v, size_t *n);
void running_free(struct running *v, size_t n);

/* How many processes run container NAME (0 when none; -1/errno); *writable (when not NULL)
 * is set when any of them has a writable root, *pid to the first one's PID. */
int running_count(const char *data, const char *name, pid_t *pid, int *writable);

#endif
