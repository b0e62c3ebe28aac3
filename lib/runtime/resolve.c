/* resolve: confined path resolution for mount targets (spec §7.4 step 1; PITFALLS §3.5,
 * runc CVE-2021-30465). The walk is done by hand because openat2's RESOLVE_IN_ROOT clamps
 * ".." at the root where enroot fails with EXDEV, and fails on missing components where
 * enroot keeps them. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/resolve.h"

#define RESOLVE_MAX_LINKS 40

struct walk {
	char *out; /* resolved so far, root-relative, no leading slash */
	size_t len, size;
	size_t missing; /* 1 + the length before the first missing component, or 0 */
	int links;
};

/* Drop the last component of the resolved path; fail with EXDEV at the root. */
static int walk_up(struct walk *w)
{
	char *slash;

	if (w->len == 0) {
		errno = EXDEV;
		return -1;
	}
	slash = memrchr(w->out, '/', w->len);
	w->len = slash ? (size_t)(slash - w->out) : 0;
	w->out[w->len] = '\0';
	/* Climbing out of a missing subtree brings back components worth checking. */
	if (w->missing && w->len < w->missing)
		w->missing = 0;
	return 0;
}

static int walk_append(struct walk *w, const char *name, size_t n)
{
	if (w->len + n + 2 > w->size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (w->len)
		w->out[w->len++] = '/';
	memcpy(w->out + w->len, name, n);
	w->len += n;
	w->out[w->len] = '\0';
	return 0;
}

/* Replace the pending path "rest" with "link/rest" (or restart at the root for an absolute
 * link). rest is a buffer of PATH_MAX * 2 bytes. */
static int splice_link(struct walk *w, char *rest, const char *link, size_t llen)
{
	size_t rlen = strlen(rest);

	if (++w->links > RESOLVE_MAX_LINKS) {
		errno = ELOOP;
		return -1;
	}
	if (llen + 1 + rlen + 1 > PATH_MAX * 2) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memmove(rest + llen + 1, rest, rlen + 1);
	memcpy(rest, link, llen);
	rest[llen] = '/';
	if (link[0] == '/') {
		w->len = 0;
		w->out[0] = '\0';
	}
	return 0;
}

/* Look at one real component: components under a missing one are appended unchecked;
 * otherwise follow it when it is a symlink, else append it. */
static int walk_component(struct walk *w, int rootfd, char *rest, const char *name, size_t n)
{
	char link[PATH_MAX];
	ssize_t llen;
	size_t keep = w->len;

	if (walk_append(w, name, n) < 0)
		return -1;
	if (w->missing)
		return 0;
	llen = readlinkat(rootfd, w->out, link, sizeof(link));
	if (llen < 0 && errno == ENOENT) {
		w->missing = keep + 1;
		return 0;
	}
	if (llen < 0)
		return errno == EINVAL ? 0 : -1;
	if ((size_t)llen >= sizeof(link)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	w->len = keep;
	w->out[w->len] = '\0';
	return splice_link(w, rest, link, (size_t)llen);
}

int resolve_in_root(int rootfd, const char *path, char *out, size_t size)
{
	char rest[PATH_MAX * 2];
	struct walk w = {out, 0, size, 0, 0};

	if (size == 0 || strlen(path) >= sizeof(rest)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	out[0] = '\0';
	strcpy(rest, path);
	while (rest[0]) {
		char name[NAME_MAX + 1];
		size_t n = strcspn(rest, "/");
		size_t skip = n + (rest[n] == '/');

		if (n > NAME_MAX) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(name, rest, n);
		name[n] = '\0';
		memmove(rest, rest + skip, strlen(rest + skip) + 1);
		if (n == 0 || !strcmp(name, "."))
			continue;
		if (!strcmp(name, "..") ? walk_up(&w) < 0
					: walk_component(&w, rootfd, rest, name, n) < 0)
			return -1;
	}
	return 0;
}

int resolve_open(int rootfd, const char *rel, int flags)
{
	struct open_how how = {
	    .flags = (unsigned long long)(O_PATH | O_CLOEXEC | flags),
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	if (!*rel)
		rel = ".";
	fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
	if (fd < 0 && (errno == ENOSYS || errno == EPERM))
		fd = openat(rootfd, rel, O_PATH | O_CLOEXEC | O_NOFOLLOW | flags);
	return (int)fd;
}
