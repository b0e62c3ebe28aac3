/* stale: locked temporaries and the sweep of dead runs' ones (see stale.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/safepath.h"
#include "base/stale.h"

#define STALE_TRIES 16

/* Split TEMPLATE into its directory (opened, O_PATH) and the base name's head before the X
 * run; *xs is the number of trailing X.  Returns the directory fd or -1. */
static int split(const char *template, char **head, size_t *xs)
{
	const char *slash = strrchr(template, '/'), *base = slash ? slash + 1 : template;
	size_t n = strlen(base), x = 0;
	char *dir;
	int fd;

	while (x < n && base[n - 1 - x] == 'X')
		x++;
	if (x < 6)
		return errno = EINVAL, -1;
	dir = slash ? strndup(template, (size_t)(slash - template)) : strdup(".");
	*head = strndup(base, n - x);
	if (!dir || !*head) {
		free(dir);
		free(*head);
		return errno = ENOMEM, -1;
	}
	*xs = x;
	fd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		free(*head);
	return fd;
}

/* 1 when NAME is HEAD followed by exactly XS letters or digits (a mkstemp suffix). */
static int matches(const char *name, const char *head, size_t xs)
{
	size_t h = strlen(head);

	if (strncmp(name, head, h) || strlen(name) != h + xs)
		return 0;
	for (const char *p = name + h; *p; p++)
		if (!isalnum((unsigned char)*p))
			return 0;
	return 1;
}

/* 1 when fd is what NAME in dirfd names now. */
static int same(int dirfd, const char *name, int fd)
{
	struct stat a, b;

	return !fstatat(dirfd, name, &a, AT_SYMLINK_NOFOLLOW) && !fstat(fd, &b) &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Remove NAME when no live run holds its lock. */
static void sweep_one(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 && same(dirfd, name, fd))
		(void)safepath_remove(dirfd, name);
	close(fd);
}

void stale_sweep(const char *template)
{
	char *head;
	size_t xs;
	int dirfd = split(template, &head, &xs), fd;
	DIR *d;
	struct dirent *e;

	if (dirfd < 0)
		return;
	fd = dup(dirfd);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d && fd >= 0)
		close(fd);
	while (d && (e = readdir(d)))
		if (matches(e->d_name, head, xs))
			sweep_one(dirfd, e->d_name);
	if (d)
		closedir(d);
	close(dirfd);
	free(head);
}

/* One attempt: create, lock, check the name is still ours.  fd, or -1 (errno EAGAIN: a
 * sweep got it first; try another name). */
static int attempt(char *path, int dir)
{
	char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	int fd, dirfd, ok;

	if (dir ? !mkdtemp(path) : (fd = mkostemp(path, O_CLOEXEC)) < 0)
		return -1;
	if (dir)
		fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) /* ENOENT: a sweep removed it before we could hold it */
		return errno == ENOENT ? (errno = EAGAIN, -1) : -1;
	if (slash)
		*slash = '\0';
	dirfd = open(slash ? (*path ? path : "/") : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (slash)
		*slash = '/';
	ok = dirfd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 && same(dirfd, name, fd);
	if (dirfd >= 0)
		close(dirfd);
	if (!ok) {
		close(fd);
		return errno = EAGAIN, -1;
	}
	return fd;
}

int stale_mktemp(char *template, int dir)
{
	size_t n = strlen(template);
	char *orig = strdup(template);
	int fd = -1;

	if (!orig)
		return errno = ENOMEM, -1;
	stale_sweep(orig);
	for (int t = 0; t < STALE_TRIES; t++) {
		memcpy(template, orig, n + 1);
		fd = attempt(template, dir);
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	free(orig);
	return fd;
}
