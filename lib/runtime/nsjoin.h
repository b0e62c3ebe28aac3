/* nsjoin: enter the namespaces of a running container (spec §6.1 join mode, `enroot exec`). */
#ifndef NSJOIN_H
#define NSJOIN_H

#include <sys/types.h>

/* In the order they are joined. */
enum nsjoin_type {
	NSJOIN_USER,
	NSJOIN_PID,
	NSJOIN_MNT,
	NSJOIN_NET,
	NSJOIN_IPC,
	NSJOIN_UTS,
	NSJOIN_CGROUP,
	NSJOIN_N
};

struct nsjoin {
	int fd[NSJOIN_N]; /* -1 when not requested or (cgroup) missing */
	/* Ours, taken at open time: after a mount namespace join /proc may be another one. */
	dev_t dev[NSJOIN_N];
	ino_t ino[NSJOIN_N];
};

/* Open /proc/PID/ns/NAME for every type whose bit (1 << type) is in MASK, and cgroup always
 * (tolerating ENOENT), all up front. -1/errno with *failed set to the type that failed. */
int nsjoin_open(struct nsjoin *j, pid_t pid, unsigned mask, enum nsjoin_type *failed);
/* setns into TYPE when it was opened and is not already ours (same dev and inode as
 * /proc/self/ns/NAME had at open time). 1 joined, 0 skipped, -1/errno. The fd is closed either way.
 */
int nsjoin_enter(struct nsjoin *j, enum nsjoin_type type);
/* The name under /proc/PID/ns of TYPE. */
const char *nsjoin_name(enum nsjoin_type type);
void nsjoin_close(struct nsjoin *j);

#endif
