/* safepath: confined path handling under a root directory fd (DESIGN.md decision 4).
 *
 * Every path of a layer is relative to the root and is opened with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), so neither "..", nor an absolute symlink,
 * nor a symlink planted by an earlier layer can lead outside the root.  Final components are
 * never followed: callers open the parent and work on the name with *at() calls. */
#ifndef SAFEPATH_H
#define SAFEPATH_H

#include <stddef.h>
#include <sys/types.h>

/* Normalize a member name: strip leading "/" and "./", drop empty and "." components, resolve
 * ".." lexically.  OUT gets "" for the root itself.  Returns 0, or -1 with errno EXDEV when the
 * path climbs above the root, ENAMETOOLONG when it does not fit in OUTLEN or a component is
 * longer than NAME_MAX (no filesystem could hold it). */
int safepath_norm(const char *in, char *out, size_t outlen);

/* The same, with ".." at the root staying there, as the container resolves a path it is
 * given (a WorkingDir or a volume of the image configuration). */
int safepath_norm_clamped(const char *in, char *out, size_t outlen);

/* Split a normalized non-empty PATH at its last '/': *base points into PATH, and the parent is
 * written to DIR ("" for the root).  DIR must hold strlen(PATH) + 1 bytes. */
void safepath_split(const char *path, char *dir, const char **base);

/* Open PATH (normalized, "" = the root) inside ROOT_FD with FLAGS (O_CLOEXEC is added),
 * resolving intermediate symlinks inside the root.  Returns an fd or -1 with errno set. */
int safepath_open(int root_fd, const char *path, int flags);

/* chmod the object FD refers to, also when FD is an O_PATH descriptor. */
int safepath_fchmod(int fd, mode_t mode);

/* Remove NAME in directory DIRFD, recursively, never following a symlink; directories without
 * u+rwx get it first so that mode-000 trees can go.  Returns 0 or -1 with errno set. */
int safepath_remove(int dirfd, const char *name);

#endif
