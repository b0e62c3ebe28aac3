/* layer: apply an image layer onto a tree, unprivileged and confined (see layer.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/io.h"
#include "base/pathset.h"
#include "base/safepath.h"
#include "base/size.h"
#include "image/layer.h"
#include "image/shadow.h"
#include "image/tarwalk.h"

/* Everything one layer_apply call works with. */
struct ctx {
	int root;
	struct tarwalk *t;
	const struct tar_entry *e; /* the entry being applied */
	struct layer_error *err;
	struct pathset set;  /* paths this layer touched, directories to fix up */
	char cdir[PATH_MAX]; /* the parent opened last, kept open in cfd */
	int cfd;
};

/* Fill in the error message ("failed to VERB: PATH[: strerror]"), keep errno, return -1. */
#define fail(c, ...) tarwalk_fail((c)->err, -1, __VA_ARGS__)

/* Report a skipped entry and count it; the layer goes on (returns 0). */
static int skip(struct ctx *c, const char *reason)
{
	return tarwalk_skip(c->t, reason);
}

static void drop_cache(struct ctx *c)
{
	if (c->cfd >= 0)
		close(c->cfd);
	c->cfd = -1;
	c->cdir[0] = '\0';
}

/* Mark PATH and its ancestors as touched by this layer (an opaque marker keeps them). */
static int mark(struct ctx *c, const char *path)
{
	char buf[PATH_MAX];
	struct pathent *pe;
	char *slash;

	snprintf(buf, sizeof(buf), "%s", path);
	for (;;) {
		pe = pathset_add(&c->set, buf);
		if (!pe)
			return fail(c, "failed to record: %s:", c->e->path);
		if (pe->flags & PATHSET_LAYER)
			return 0;
		pe->flags |= PATHSET_LAYER;
		slash = strrchr(buf, '/');
		if (!slash)
			return 0;
		*slash = '\0';
	}
}

/* Give the directory FD (at PATH) u+rwx while we work in it; remember its mode for the end. */
static int make_writable(struct ctx *c, int fd, const char *path)
{
	struct pathent *pe;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return fail(c, "failed to stat: %s:", path);
	if ((st.st_mode & 0700) == 0700)
		return 0;
	pe = pathset_add(&c->set, path);
	if (!pe)
		return fail(c, "failed to record: %s:", path);
	if (!(pe->flags & PATHSET_MODE)) {
		pe->flags |= PATHSET_MODE;
		pe->mode = st.st_mode & 07777;
	}
	if (safepath_fchmod(fd, (st.st_mode & 07777) | 0700) < 0)
		return fail(c, "failed to change mode: %s:", path);
	return 0;
}

/* Open directory PATH inside the root as an O_PATH fd, made writable. */
static int open_dir(struct ctx *c, const char *path)
{
	int fd = safepath_open(c->root, path, O_PATH | O_DIRECTORY);

	if (fd >= 0 && make_writable(c, fd, path) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Open every directory of PATH from the root down, making each writable and, when CREATE,
 * creating missing ones (mode 0755).  Returns an fd for PATH, -1 with an error, or -2 when PATH
 * is not a directory inside the root. */
static int walk(struct ctx *c, const char *path, int create)
{
	char buf[PATH_MAX];
	size_t i = 0, n = strlen(path);
	int fd = open_dir(c, ""), next;

	while (fd >= 0 && i < n) {
		i += strcspn(path + i, "/");
		memcpy(buf, path, i);
		buf[i] = '\0';
		next = open_dir(c, buf);
		if (next < 0 && errno == ENOENT && create && !c->err->msg[0]) {
			const char *name = strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf;
			if (mkdirat(fd, name, 0755) < 0 && errno != EEXIST)
				next = fail(c, "failed to create directory: %s:", buf);
			else if (mark(c, buf) == 0)
				next = open_dir(c, buf);
		}
		close(fd);
		fd = next;
		i += path[i] == '/';
	}
	if (fd < 0 && c->err->msg[0])
		return -1;
	if (fd < 0 && (errno == ENOTDIR || errno == ENOENT || errno == ELOOP || errno == EXDEV))
		return -2;
	if (fd < 0)
		fail(c, "failed to open directory: %s:", path);
	return fd;
}

/* Open directory PATH inside the root, made writable, created when CREATE and missing.
 * Returns an fd, -1 with an error, or -2 when PATH is not a directory inside the root. */
static int find_dir(struct ctx *c, const char *path, int create)
{
	int fd = open_dir(c, path);

	if (fd >= 0 || c->err->msg[0])
		return fd;
	if (errno == EACCES || (errno == ENOENT && create))
		return walk(c, path, create); /* a lower layer's mode-000 directory, or missing */
	if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP || errno == EXDEV)
		return -2;
	return fail(c, "failed to open directory: %s:", path);
}

/* The parent directory of the current entry, created if missing; -2: skip the entry. */
static int parent_fd(struct ctx *c)
{
	int fd;

	if (c->cfd >= 0 && !strcmp(c->cdir, c->e->dir))
		return c->cfd;
	drop_cache(c);
	fd = find_dir(c, c->e->dir, 1);
	if (fd < 0)
		return fd;
	c->cfd = fd;
	snprintf(c->cdir, sizeof(c->cdir), "%s", c->e->dir);
	return fd;
}

/* The class of what is at ST for the rules (lib/image/shadow.h). */
static enum shadow_class class_of(const struct stat *st)
{
	return S_ISDIR(st->st_mode) ? SHADOW_DIR : SHADOW_LEAF;
}

/* Clear the way for a new entry at BASE in PFD.  Returns 1 when an existing directory stays
 * (a directory entry merges into it), 0 when the name is free, -1 on error. */
static int clear_target(struct ctx *c, int pfd)
{
	struct stat st;

	if (fstatat(pfd, c->e->base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : fail(c, "failed to stat: %s:", c->e->path);
	if (shadow_at(shadow_class(c->e->kind), class_of(&st)) == SHADOW_MERGE)
		return 1;
	if (safepath_remove(pfd, c->e->base) < 0)
		return fail(c, "failed to replace: %s:", c->e->path);
	return 0;
}

static void entry_times(const struct tar_entry *e, struct timespec ts[2])
{
	ts[0] = e->atime;
	ts[1] = e->mtime;
}

static int set_xattr(void *ctx, const char *name, const void *value, size_t len)
{
	(void)fsetxattr(*(int *)ctx, name, value, len, 0); /* ENOTSUP: the fs has none */
	return 0;
}

/* Keep the entry's user.* extended attributes on FD. */
static void set_xattrs(struct ctx *c, int fd)
{
	(void)tarwalk_xattrs(c->t, set_xattr, &fd);
}

/* Write the entry's data into FD at the offsets the walker gives, so holes stay holes; *END
 * gets the end of the last block written. */
static int copy_data(struct ctx *c, int fd, off_t *end)
{
	const void *buf;
	size_t len;
	uint64_t off;
	int r;

	*end = 0;
	while ((r = tarwalk_block(c->t, &buf, &len, &off)) > 0) {
		if (io_pwrite_all(fd, buf, len, (off_t)off) < 0)
			return fail(c, "failed to write: %s:", c->e->path);
		if (len && (off_t)(off + len) > *end)
			*end = (off_t)(off + len);
	}
	return r;
}

/* Create the file BASE in PFD for writing, replacing whatever is there (tried second, since
 * in a fresh tree the name is almost always free). */
static int create_file(struct ctx *c, int pfd)
{
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd = openat(pfd, c->e->base, flags, 0600);

	if (fd < 0 && errno == EEXIST) {
		if (clear_target(c, pfd) < 0)
			return -1;
		fd = openat(pfd, c->e->base, flags, 0600);
	}
	if (fd < 0)
		return fail(c, "failed to create: %s:", c->e->path);
	return fd;
}

static int do_file(struct ctx *c, int pfd)
{
	const struct tar_entry *e = c->e;
	struct timespec ts[2];
	int fd = create_file(c, pfd), ret = -1;
	off_t end;

	if (fd < 0)
		return -1;
	entry_times(e, ts);
	if (copy_data(c, fd, &end) < 0)
		goto out;
	if (end < (off_t)e->size && ftruncate(fd, (off_t)e->size) < 0)
		fail(c, "failed to write: %s:", e->path); /* a trailing hole */
	else if (set_xattrs(c, fd), fchmod(fd, e->mode) < 0)
		fail(c, "failed to change mode: %s:", e->path);
	else if (futimens(fd, ts) < 0)
		fail(c, "failed to set times: %s:", e->path);
	else
		ret = 0;
out:
	close(fd);
	return ret;
}

/* Record the mode and times a directory gets when the layer is done. */
static int defer_dir(struct ctx *c, const char *path)
{
	struct pathent *pe = pathset_add(&c->set, path);

	if (!pe)
		return fail(c, "failed to record: %s:", c->e->path);
	pe->flags |= PATHSET_MODE | PATHSET_TIMES;
	pe->mode = c->e->mode;
	entry_times(c->e, pe->ts);
	return 0;
}

static int do_dir(struct ctx *c, int pfd)
{
	const struct tar_entry *e = c->e;
	int r = clear_target(c, pfd), fd;

	if (r < 0)
		return -1;
	if (!r && mkdirat(pfd, e->base, 0700) < 0)
		return fail(c, "failed to create directory: %s:", e->path);
	fd = openat(pfd, e->base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fail(c, "failed to open directory: %s:", e->path);
	r = make_writable(c, fd, e->path);
	close(fd);
	if (r < 0 || defer_dir(c, e->path) < 0)
		return -1;
	if (e->nxattrs) {
		fd = openat(pfd, e->base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			set_xattrs(c, fd);
			close(fd);
		}
	}
	return 0;
}

static int do_symlink(struct ctx *c, int pfd)
{
	const struct tar_entry *e = c->e;
	struct timespec ts[2];

	if (clear_target(c, pfd) < 0)
		return -1;
	if (symlinkat(e->symlink, pfd, e->base) < 0)
		return fail(c, "failed to create symbolic link: %s:", e->path);
	entry_times(e, ts);
	if (utimensat(pfd, e->base, ts, AT_SYMLINK_NOFOLLOW) < 0 && errno != EOPNOTSUPP)
		return fail(c, "failed to set times: %s:", e->path);
	return 0;
}

static int do_fifo(struct ctx *c, int pfd)
{
	const struct tar_entry *e = c->e;
	struct timespec ts[2];
	int fd, r;

	if (clear_target(c, pfd) < 0)
		return -1;
	if (mkfifoat(pfd, e->base, 0600) < 0)
		return fail(c, "failed to create fifo: %s:", e->path);
	fd = openat(pfd, e->base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fail(c, "failed to open: %s:", e->path);
	r = safepath_fchmod(fd, e->mode);
	close(fd);
	if (r < 0)
		return fail(c, "failed to change mode: %s:", e->path);
	entry_times(e, ts);
	if (utimensat(pfd, e->base, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(c, "failed to set times: %s:", e->path);
	return 0;
}

/* The directory holding a hard link's target, resolved inside the root, and its name in it:
 * an fd, or -1 (skip the link) when the target is missing or a directory. */
static int link_target(struct ctx *c, const char **tbase)
{
	char tdir[PATH_MAX];
	struct stat st;
	int tfd;

	safepath_split(c->e->target, tdir, tbase);
	tfd = safepath_open(c->root, tdir, O_PATH | O_DIRECTORY);
	if (tfd >= 0 &&
	    (fstatat(tfd, *tbase, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode))) {
		close(tfd);
		tfd = -1;
	}
	return tfd;
}

/* Link to the current inode at the target (TFD, TBASE), resolved inside the root; never to a
 * host file. */
static int do_hardlink(struct ctx *c, int pfd, int tfd, const char *tbase)
{
	int r = clear_target(c, pfd);

	if (!r && linkat(tfd, tbase, pfd, c->e->base, 0) < 0)
		r = errno == ENOENT ? skip(c, "hard link target removed by its own entry")
				    : fail(c, "failed to link: %s:", c->e->path);
	return r;
}

/* Create the current entry (not a whiteout) in its parent directory. */
static int create_entry(struct ctx *c)
{
	const char *tbase = NULL;
	int pfd, tfd = -1, r = -1;

	if (c->e->kind == TAR_HARDLINK && (tfd = link_target(c, &tbase)) < 0)
		return skip(c, "hard link target missing or a directory");
	pfd = parent_fd(c);
	if (pfd == -2)
		r = skip(c, "parent is not a directory inside the root");
	else if (pfd >= 0 && mark(c, c->e->path) == 0) {
		switch (c->e->kind) {
		case TAR_HARDLINK:
			r = do_hardlink(c, pfd, tfd, tbase);
			break;
		case TAR_DIR:
			r = do_dir(c, pfd);
			break;
		case TAR_SYMLINK:
			r = do_symlink(c, pfd);
			break;
		case TAR_FIFO:
			r = do_fifo(c, pfd);
			break;
		default:
			r = do_file(c, pfd);
		}
	}
	if (tfd >= 0)
		close(tfd);
	return r;
}

static char *join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	char *p = malloc(dl + nl + 2);

	if (p)
		snprintf(p, dl + nl + 2, "%s%s%s", dir, dl ? "/" : "", name);
	return p;
}

static int prune(struct ctx *c, int dfd, const char *dpath, const char *name, int at);

/* Prune every child of the directory NAME in DFD (at PATH). */
static int prune_children(struct ctx *c, int dfd, const char *name, const char *path)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), ret = 0;
	struct dirent *de;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return fail(c, "failed to open directory: %s:", path);
	}
	while (!ret && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			ret = prune(c, dirfd(d), path, de->d_name, 0);
	closedir(d);
	return ret;
}

/* Remove what the current whiteout or opaque marker hides at DPATH/NAME (in DFD), the path
 * it names (AT) or one below it: what lower layers left goes, what this layer made stays
 * (shadow.h), and below a directory of this layer the same again. */
static int prune(struct ctx *c, int dfd, const char *dpath, const char *name, int at)
{
	enum shadow_class cls = shadow_class(c->e->kind);
	char *path = join(dpath, name);
	struct pathent *pe;
	struct stat st;
	int ret = 0, mine;

	if (!path)
		return fail(c, "failed to remove: %s:", c->e->raw);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		free(path);
		return 0;
	}
	pe = pathset_get(&c->set, path);
	mine = pe && (pe->flags & PATHSET_LAYER) && !shadow_own_layer(cls);
	if (!mine && (at ? shadow_at(cls, class_of(&st)) == SHADOW_HIDE : shadow_below(cls))) {
		if (safepath_remove(dfd, name) < 0)
			ret = fail(c, "failed to remove: %s:", path);
	} else if (S_ISDIR(st.st_mode) && shadow_below(cls)) {
		ret = prune_children(c, dfd, name, path);
	}
	free(path);
	return ret;
}

/* Apply `.wh.NAME` or `.wh..wh..opq` (the current entry) inside the root: a whiteout prunes
 * its path, an opaque marker what is below its directory. */
static int whiteout(struct ctx *c)
{
	const struct tar_entry *e = c->e;
	int opaque = e->kind == TAR_OPAQUE, dfd, ret;

	drop_cache(c);
	dfd = find_dir(c, opaque ? e->path : e->dir, 0);
	if (dfd == -1)
		return -1;
	if (dfd < 0)
		return 0; /* nothing there to hide */
	if (opaque)
		ret = prune_children(c, dfd, ".", e->path);
	else
		ret = prune(c, dfd, e->dir, e->base, 1);
	close(dfd);
	return ret;
}

/* The current entry names the root itself ("/" or "./"): only its metadata counts. */
static int root_entry(struct ctx *c)
{
	int fd = open_dir(c, "");

	if (fd < 0)
		return c->err->msg[0] ? -1 : fail(c, "failed to open: root directory:");
	close(fd);
	return defer_dir(c, "");
}

static int apply_entry(struct ctx *c)
{
	switch (c->e->kind) {
	case TAR_ROOT:
		return root_entry(c);
	case TAR_WHITEOUT:
	case TAR_OPAQUE:
		return whiteout(c);
	default:
		return create_entry(c);
	}
}

static size_t depth(const char *path)
{
	size_t d = *path ? 1 : 0;

	for (; *path; path++)
		d += *path == '/';
	return d;
}

static int by_depth_desc(const void *a, const void *b)
{
	size_t da = depth((*(struct pathent *const *)a)->path);
	size_t db = depth((*(struct pathent *const *)b)->path);

	return da < db ? 1 : da > db ? -1 : 0;
}

/* Give one directory its real mode and times (it may be gone or replaced by now). */
static int fix_dir(struct ctx *c, const struct pathent *pe)
{
	char proc[32];
	struct stat st;
	int fd = safepath_open(c->root, pe->path, O_PATH | O_NOFOLLOW), ret = 0;

	if (fd < 0)
		return 0;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))
		ret = 0;
	else if ((pe->flags & PATHSET_MODE) && safepath_fchmod(fd, pe->mode) < 0)
		ret = fail(c, "failed to change mode: %s:", *pe->path ? pe->path : ".");
	else if ((pe->flags & PATHSET_TIMES) && utimensat(AT_FDCWD, proc, pe->ts, 0) < 0)
		ret = fail(c, "failed to set times: %s:", *pe->path ? pe->path : ".");
	close(fd);
	return ret;
}

/* Restore directory modes and times, deepest first, now that their contents are in place. */
static int fix_dirs(struct ctx *c)
{
	struct pathent **list = malloc((c->set.len + 1) * sizeof(*list));
	size_t n = 0;
	int ret = 0;

	if (!list)
		return fail(c, "failed to restore directory modes:");
	for (size_t i = 0; i < c->set.cap; i++)
		if (c->set.tab[i].path && (c->set.tab[i].flags & (PATHSET_MODE | PATHSET_TIMES)))
			list[n++] = &c->set.tab[i];
	qsort(list, n, sizeof(*list), by_depth_desc);
	for (size_t i = 0; i < n && !ret; i++)
		ret = fix_dir(c, list[i]);
	free(list);
	return ret;
}

int layer_max_size(unsigned long long *max)
{
	const char *v = getenv("ENROOT_MAX_LAYER_SIZE");

	*max = LAYER_MAX_SIZE;
	if (!v || !*v || size_parse(v, max) == 0)
		return 0;
	errno = EINVAL;
	return -1;
}

int layer_media_type(const char *t)
{
	static const char *const prefixes[] = {
	    "application/vnd.oci.image.layer.v1.tar",
	    "application/vnd.oci.image.layer.nondistributable.v1.tar",
	    "application/vnd.docker.image.rootfs.diff.tar",
	    "application/vnd.docker.image.rootfs.foreign.diff.tar",
	};
	const char *rest = NULL;

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]) && !rest; i++)
		if (!strncmp(t, prefixes[i], strlen(prefixes[i])))
			rest = t + strlen(prefixes[i]);
	if (!rest)
		return -1;
	if (!*rest)
		return LAYER_TAR;
	if (!strcmp(rest, "+gzip") || !strcmp(rest, ".gzip"))
		return LAYER_GZIP;
	if (!strcmp(rest, "+zstd") || !strcmp(rest, ".zstd"))
		return LAYER_ZSTD;
	return -1;
}

/* Read every entry and apply it; then restore directory metadata. */
static int apply_all(struct ctx *c)
{
	int r;

	while ((r = tarwalk_next(c->t, &c->e)) > 0)
		if (apply_entry(c) < 0)
			return -1;
	if (r < 0)
		return -1;
	drop_cache(c);
	return fix_dirs(c);
}

int layer_apply(int in_fd, int root_fd, const struct layer_opts *o, struct layer_stats *st,
		struct layer_error *err)
{
	struct ctx c = {.root = root_fd, .err = err, .cfd = -1};
	int ret = -1;

	c.t = tarwalk_open(in_fd, o, st, err);
	if (c.t) {
		ret = apply_all(&c);
		tarwalk_close(c.t);
	}
	drop_cache(&c);
	pathset_free(&c.set);
	return ret;
}
