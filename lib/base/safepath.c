/* safepath: confined path handling (see safepath.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/safepath.h"

/* Both normalizers: a ".." at the root fails (EXDEV) unless CLAMP keeps it there. */
static int norm(const char *in, char *out, size_t outlen, int clamp)
{
	size_t len = 0;

	if (!outlen)
		return errno = ENAMETOOLONG, -1;
	while (*in) {
		size_t n = strcspn(in, "/");

		if (n == 2 && in[0] == '.' && in[1] == '.') {
			if (!len && !clamp)
				return errno = EXDEV, -1;
			while (len && out[len - 1] != '/')
				len--;
			len -= len ? 1 : 0;
		} else if (n && !(n == 1 && in[0] == '.')) {
			if (n > NAME_MAX || len + !!len + n + 1 > outlen)
				return errno = ENAMETOOLONG, -1;
			if (len)
				out[len++] = '/';
			memcpy(out + len, in, n);
			len += n;
		}
		in += n;
		in += *in == '/';
	}
	out[len] = '\0';
	return 0;
}

int safepath_norm(const char *in, char *out, size_t outlen)
{
	return norm(in, out, outlen, 0);
}

int safepath_norm_clamped(const char *in, char *out, size_t outlen)
{
	return norm(in, out, outlen, 1);
}

void safepath_split(const char *path, char *dir, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		dir[0] = '\0';
		*base = path;
		return;
	}
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	*base = slash + 1;
}

int safepath_open(int root_fd, const char *path, int flags)
{
	struct open_how how = {
	    .flags = (unsigned)(flags | O_CLOEXEC),
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	if (!*path)
		path = ".";
	do
		fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN); /* a concurrent rename elsewhere; retry */
	return (int)fd;
}

int safepath_fchmod(int fd, mode_t mode)
{
	char proc[32];

	if (!fchmod(fd, mode))
		return 0;
	if (errno != EBADF)
		return -1;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return chmod(proc, mode);
}

/* Open directory PATH below DIRFD without following any symlink on the way. */
static int open_beneath(int dirfd, const char *path, int flags)
{
	struct open_how how = {
	    .flags = (unsigned)(flags | O_DIRECTORY | O_CLOEXEC),
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	do
		fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	return (int)fd;
}

/* Open directory PATH below DIRFD for reading; add u+rwx to it when that is what stands in
 * the way. */
static int open_dir_rw(int dirfd, const char *path)
{
	struct stat st;
	int fd = open_beneath(dirfd, path, O_RDONLY);

	if (fd >= 0 && !fstat(fd, &st) && (st.st_mode & 0700) == 0700)
		return fd;
	if (fd < 0 && errno != EACCES)
		return -1;
	if (fd < 0)
		fd = open_beneath(dirfd, path, O_PATH);
	if (fd < 0 || safepath_fchmod(fd, 0700) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return open_beneath(dirfd, path, O_RDONLY);
}

/* Unlink every non-directory in the directory FD (closed here) until a subdirectory turns up:
 * *SUB gets its name (to free), or NULL when none is left. */
static int strip_files(int fd, char **sub)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int ret = 0;

	*sub = NULL;
	if (!d) {
		close(fd);
		return -1;
	}
	while (!*sub && !ret && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!unlinkat(dirfd(d), de->d_name, 0) || errno == ENOENT)
			continue;
		if (errno != EISDIR && errno != EPERM)
			ret = -1;
		else if (!(*sub = strdup(de->d_name)))
			ret = -1;
	}
	closedir(d);
	return ret;
}

/* Remove the tree NAME in DIRFD holding two fds at most, however deep it is: go down to a
 * directory without subdirectories, empty it, remove it, go back up one level, repeat. */
static int remove_deep(int dirfd, const char *name)
{
	size_t top = strlen(name), len = top;
	char *path = strdup(name), *sub, *p;
	int fd, ret = -1;

	while (path) {
		fd = open_dir_rw(dirfd, path);
		if (fd < 0 || strip_files(fd, &sub) < 0)
			break;
		if (sub) {
			p = realloc(path, len + strlen(sub) + 2);
			if (p)
				len += (size_t)sprintf((path = p) + len, "/%s", sub);
			free(sub);
			if (!p)
				break;
			continue;
		}
		if (unlinkat(dirfd, path, AT_REMOVEDIR) < 0)
			break;
		if (len == top) {
			ret = 0;
			break;
		}
		while (path[--len] != '/')
			;
		path[len] = '\0';
	}
	free(path);
	return ret;
}

static int remove_at(int dirfd, const char *name, int depth);

/* Empty the directory FD (which this function closes), DEPTH levels below the start. */
static int remove_contents(int fd, int depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int ret = 0;

	if (!d) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (remove_at(dirfd(d), de->d_name, depth + 1) < 0)
			ret = -1;
	}
	closedir(d);
	return ret;
}

/* Recursion holds one fd per level: fast, but deep trees switch to remove_deep. */
static int remove_at(int dirfd, const char *name, int depth)
{
	int fd;

	if (!unlinkat(dirfd, name, 0) || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	if (depth >= 32)
		return remove_deep(dirfd, name);
	fd = open_dir_rw(dirfd, name);
	if (fd < 0)
		return -1;
	if (remove_contents(fd, depth) < 0)
		return -1;
	return unlinkat(dirfd, name, AT_REMOVEDIR);
}

int safepath_remove(int dirfd, const char *name)
{
	return remove_at(dirfd, name, 0);
}
