/* rmtree: recursive delete through openat/unlinkat, one filesystem, no symlink following. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/rmtree.h"

static int remove_at(int dirfd, const char *name, dev_t dev, const char *path, char **bad);

static void set_bad(char **bad, const char *path, const char *name)
{
	if (bad && !*bad && asprintf(bad, "%s/%s", path, name) < 0)
		*bad = NULL;
}

/* Open the directory name under dirfd for reading, fixing its mode to u+rwx if needed. */
static int open_dir(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == EACCES) {
		struct stat st;
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			if (fchmodat(dirfd, name, (st.st_mode & 07777) | S_IRWXU, 0) < 0)
				return -1;
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd >= 0)
		if (fchmod(fd, S_IRWXU) < 0) /* so the entries inside can be unlinked */
			(void)0;
	return fd;
}

/* Empty the directory open as fd (which it closes). */
static int empty_dir(int fd, dev_t dev, const char *path, char **bad)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		close(fd);
		return -1;
	}
	while (rc == 0 && (errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		rc = remove_at(dirfd(d), de->d_name, dev, path, bad);
	}
	if (rc == 0 && errno)
		rc = -1;
	int saved = errno;
	closedir(d);
	errno = saved;
	return rc;
}

static int remove_at(int dirfd, const char *name, dev_t dev, const char *path, char **bad)
{
	struct stat st;
	char *sub = NULL;
	int fd, rc;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : (set_bad(bad, path, name), -1);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
			return 0;
		set_bad(bad, path, name);
		return -1;
	}
	if (st.st_dev != dev) {
		errno = EXDEV;
		set_bad(bad, path, name);
		return -1;
	}
	fd = open_dir(dirfd, name);
	if (fd < 0 || asprintf(&sub, "%s/%s", path, name) < 0) {
		if (fd >= 0)
			close(fd);
		set_bad(bad, path, name);
		return -1;
	}
	rc = empty_dir(fd, dev, sub, bad);
	if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
		set_bad(bad, path, name);
		rc = -1;
	}
	free(sub);
	return rc;
}

int rmtree(const char *path, char **bad)
{
	char parent[PATH_MAX], *slash;
	struct stat st;
	int pfd, rc, saved;

	if (bad)
		*bad = NULL;
	if (!realpath(path, parent))
		return -1;
	if (!strcmp(parent, "/")) {
		errno = EPERM;
		return -1;
	}
	if (lstat(parent, &st) < 0)
		return -1;
	slash = strrchr(parent, '/');
	*slash = '\0';
	pfd = open(slash == parent ? "/" : parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return -1;
	rc = remove_at(pfd, slash + 1, st.st_dev, slash == parent ? "" : parent, bad);
	saved = errno;
	close(pfd);
	errno = saved;
	return rc;
}
