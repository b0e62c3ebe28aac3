/* pivot: make a directory the root of the current mount namespace (spec §6.2 step 4). */
#ifndef PIVOT_H
#define PIVOT_H

enum pivot_step {
	PIVOT_OK,
	PIVOT_STEP_OPEN_OLD, /* opening / */
	PIVOT_STEP_OPEN_NEW, /* opening ROOTFS */
	PIVOT_STEP_PIVOT,    /* pivot_root (ROOTFS must be a mount point: bind it onto itself) */
	PIVOT_STEP_SLAVE,    /* making the old root rslave */
	PIVOT_STEP_UMOUNT,   /* detaching the old root */
	PIVOT_STEP_CHROOT,
	PIVOT_STEP_CGROUP, /* unshare(CLONE_NEWCGROUP) */
};

/* Pivot into ROOTFS, detach the old root, chroot so that cwd and root are the new "/", then
 * create a cgroup namespace (EINVAL, no cgroup namespaces, is ignored). Returns PIVOT_OK or
 * the failing step with errno set. */
enum pivot_step pivot_switch(const char *rootfs);
const char *pivot_step_what(enum pivot_step step);

#endif
