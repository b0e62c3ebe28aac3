/* nsjoin: setns(2) into another process's namespaces, skipping those we already share.
 * Joining one's own user namespace fails with EINVAL (setns(2)), hence the inode check.
 * After setns(CLONE_NEWNS) root and cwd are the namespace's root (setns(2) NOTES): the
 * container pivoted, so that is its rootfs and no chroot is needed. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/nsjoin.h"

static const char *const names[NSJOIN_N] = {"user", "pid", "mnt", "net", "ipc", "uts", "cgroup"};
static const int types[NSJOIN_N] = {CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNS,	 CLONE_NEWNET,
				    CLONE_NEWIPC,  CLONE_NEWUTS, CLONE_NEWCGROUP};

const char *nsjoin_name(enum nsjoin_type type)
{
	return type < NSJOIN_N ? names[type] : "?";
}

void nsjoin_close(struct nsjoin *j)
{
	for (int t = 0; t < NSJOIN_N; t++) {
		if (j->fd[t] >= 0)
			close(j->fd[t]);
		j->fd[t] = -1;
	}
}

/* Record our own namespace of type T (0/0, never equal to a real one, when unknown). */
static void own(struct nsjoin *j, int t)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/self/ns/%s", names[t]);
	if (stat(path, &st))
		st.st_dev = st.st_ino = 0;
	j->dev[t] = st.st_dev;
	j->ino[t] = st.st_ino;
}

int nsjoin_open(struct nsjoin *j, pid_t pid, unsigned mask, enum nsjoin_type *failed)
{
	char path[64];

	for (int t = 0; t < NSJOIN_N; t++)
		j->fd[t] = -1;
	mask |= 1u << NSJOIN_CGROUP;
	for (int t = 0; t < NSJOIN_N; t++) {
		if (!(mask & (1u << t)))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, names[t]);
		j->fd[t] = open(path, O_RDONLY | O_CLOEXEC);
		if (j->fd[t] >= 0) {
			own(j, t);
		} else if (!(t == NSJOIN_CGROUP && errno == ENOENT)) {
			*failed = (enum nsjoin_type)t;
			nsjoin_close(j);
			return -1;
		}
	}
	return 0;
}

int nsjoin_enter(struct nsjoin *j, enum nsjoin_type type)
{
	struct stat theirs;
	int fd = j->fd[type], rc = 0, saved;

	if (fd < 0)
		return 0;
	j->fd[type] = -1;
	if (fstat(fd, &theirs))
		rc = -1;
	else if (theirs.st_dev != j->dev[type] || theirs.st_ino != j->ino[type])
		rc = setns(fd, types[type]) ? -1 : 1;
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}
