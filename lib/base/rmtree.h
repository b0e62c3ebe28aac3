/* rmtree: delete a directory tree the way `enroot remove` does (spec §11.4). */
#ifndef RMTREE_H
#define RMTREE_H

/* Remove path and everything below it without crossing into other filesystems (mounts
 * below are left alone and make the removal fail with EBUSY). Directories the owner cannot
 * write or search are made u+rwx and retried. Refuses "/" (EPERM). Returns 0 or -1 with
 * errno; on failure *bad (if not NULL) gets a malloc'd copy of the failing path. */
int rmtree(const char *path, char **bad);

#endif
