/* pivot: switch the root of the mount namespace to a rootfs and forget the old one.
 *
 * The sequence (pivot_root(2) "NOTES": pivot_root(".", "."); mount_namespaces(7)):
 *  1. Open the old root "/" and ROOTFS as O_PATH directory fds, then fchdir(ROOTFS). Working
 *     from fds means no path is looked up again after the root moves.
 *  2. pivot_root(".", "."): ROOTFS becomes the root and the old root is stacked on top of it,
 *     at the same place, so no put_old directory is needed inside the rootfs.
 *  3. fchdir(oldroot) and make "." recursively slave: unmounting must not propagate back to the
 *     host's mounts when they are shared with us.
 *  4. umount2(".", MNT_DETACH): the old root and everything under it disappear from our view.
 *  5. fchdir(newroot) and chroot("."): root and cwd are now the new "/".
 *  6. unshare(CLONE_NEWCGROUP): the container sees its own cgroup as the root of
 *     /sys/fs/cgroup (cgroup_namespaces(7)). EINVAL means the kernel has no cgroup namespaces.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/pivot.h"

static enum pivot_step fail(enum pivot_step step, int oldfd, int newfd)
{
	int saved = errno;

	if (oldfd >= 0)
		close(oldfd);
	if (newfd >= 0)
		close(newfd);
	errno = saved;
	return step;
}

enum pivot_step pivot_switch(const char *rootfs)
{
	int oldfd, newfd = -1;

	if ((oldfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) /* 1 */
		return fail(PIVOT_STEP_OPEN_OLD, -1, -1);
	if ((newfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 || fchdir(newfd))
		return fail(PIVOT_STEP_OPEN_NEW, oldfd, newfd);
	if (syscall(SYS_pivot_root, ".", ".")) /* 2 */
		return fail(PIVOT_STEP_PIVOT, oldfd, newfd);
	if (fchdir(oldfd) || mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL)) /* 3 */
		return fail(PIVOT_STEP_SLAVE, oldfd, newfd);
	if (umount2(".", MNT_DETACH)) /* 4 */
		return fail(PIVOT_STEP_UMOUNT, oldfd, newfd);
	if (fchdir(newfd) || chroot(".")) /* 5 */
		return fail(PIVOT_STEP_CHROOT, oldfd, newfd);
	close(oldfd);
	close(newfd);
	if (unshare(CLONE_NEWCGROUP) && errno != EINVAL) /* 6 */
		return PIVOT_STEP_CGROUP;
	return PIVOT_OK;
}

const char *pivot_step_what(enum pivot_step step)
{
	static const char *const what[] = {
	    [PIVOT_OK] = "nothing",
	    [PIVOT_STEP_OPEN_OLD] = "open /",
	    [PIVOT_STEP_OPEN_NEW] = "open rootfs",
	    [PIVOT_STEP_PIVOT] = "pivot_root into rootfs",
	    [PIVOT_STEP_SLAVE] = "make old root slave",
	    [PIVOT_STEP_UMOUNT] = "unmount old root",
	    [PIVOT_STEP_CHROOT] = "change root",
	    [PIVOT_STEP_CGROUP] = "create cgroup namespace",
	};

	return step <= PIVOT_STEP_CGROUP ? what[step] : "switch root";
}
