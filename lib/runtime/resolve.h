/* resolve: resolve a path confined to a root directory, like a chroot-confined realpath
 * (spec §7.4 step 1), and open the result without following symlinks again. */
#ifndef RESOLVE_H
#define RESOLVE_H

#include <stddef.h>

/* Resolve path inside the directory open as rootfd: walk it one component at a time from
 * the root, follow symlinks (at most 40; an absolute target restarts at the root) inside the
 * root, keep components that do not exist as they are. Writes the root-relative result
 * without a leading slash ("" for the root itself) into out. Returns -1 with errno EXDEV when
 * a ".." climbs above the root, ELOOP after too many symlinks, ENAMETOOLONG when out is too
 * small, or the errno of a failed lookup (ENOTDIR, EACCES, ...). */
int resolve_in_root(int rootfd, const char *path, char *out, size_t size);

/* Open a root-relative path produced by resolve_in_root with O_PATH|O_CLOEXEC (plus extra
 * flags), refusing any symlink and any escape from the root (openat2 with
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS), so that a symlink swapped in after the resolution
 * cannot redirect the caller. Falls back to openat with O_NOFOLLOW on kernels without
 * openat2. */
int resolve_open(int rootfd, const char *rel, int flags);

#endif
