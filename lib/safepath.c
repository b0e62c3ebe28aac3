/* safepath: confined path handling (see safepath.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "safepath.h"

int safepath_norm(const char *in, char *out, size_t outlen)
{
	size_t len = 0;

	if (!outlen)
		return errno = ENAMETOOLONG, -1;
	while (*in) {
		size_t n = strcspn(in, "/");

		if (n == 2 && in[0] == '.' && in[1] == '.') {
			if (!len)
				return errno = EXDEV, -1;
			while (len && out[len - 1] != '/')
				len--;
			len -= len ? 1 : 0;
		} else if (n && !(n == 1 && in[0] == '.')) {
			if (len + !!len + n + 1 > outlen)
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

/* Open directory NAME in DIRFD for reading without following a symlink; add u+rwx to it when
 * that is what stands in the way. */
static int open_dir_rw(int dirfd, const char *name)
{
	struct stat st;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0 && !fstat(fd, &st) && (st.st_mode & 0700) == 0700)
		return fd;
	if (fd < 0 && errno != EACCES)
		return -1;
	if (fd < 0)
		fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || safepath_fchmod(fd, 0700) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Empty the directory FD (which this function closes). */
static int remove_contents(int fd)
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
		if (safepath_remove(dirfd(d), de->d_name) < 0)
			ret = -1;
	}
	closedir(d);
	return ret;
}

int safepath_remove(int dirfd, const char *name)
{
	int fd;

	if (!unlinkat(dirfd, name, 0) || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	fd = open_dir_rw(dirfd, name);
	if (fd < 0)
		return -1;
	if (remove_contents(fd) < 0)
		return -1;
	return unlinkat(dirfd, name, AT_REMOVEDIR);
}
