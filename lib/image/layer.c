/* layer: apply an image layer onto a tree, unprivileged and confined (see layer.h). */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/dl.h"
#include "base/io.h"
#include "base/pathset.h"
#include "base/safepath.h"
#include "image/layer.h"

/* libarchive's functions, resolved on first use; same order as ar_names. */
static struct {
	struct archive *(*read_new)(void);
	int (*format_tar)(struct archive *);
	int (*format_empty)(struct archive *);
	int (*filter_gzip)(struct archive *);
	int (*filter_zstd)(struct archive *);
	int (*open_fd)(struct archive *, int, size_t);
	int (*next_header)(struct archive *, struct archive_entry **);
	int (*data_block)(struct archive *, const void **, size_t *, la_int64_t *);
	int (*read_free)(struct archive *);
	const char *(*error_string)(struct archive *);
	la_int64_t (*filter_bytes)(struct archive *, int);
	const char *(*pathname)(struct archive_entry *);
	const char *(*symlink)(struct archive_entry *);
	const char *(*hardlink)(struct archive_entry *);
	mode_t (*filetype)(struct archive_entry *);
	mode_t (*perm)(struct archive_entry *);
	la_int64_t (*size)(struct archive_entry *);
	time_t (*atime)(struct archive_entry *);
	long (*atime_nsec)(struct archive_entry *);
	int (*atime_is_set)(struct archive_entry *);
	time_t (*mtime)(struct archive_entry *);
	long (*mtime_nsec)(struct archive_entry *);
	int (*xattr_reset)(struct archive_entry *);
	int (*xattr_next)(struct archive_entry *, const char **, const void **, size_t *);
} ar;

static const char *const ar_names[] = {
    "archive_read_new",
    "archive_read_support_format_tar",
    "archive_read_support_format_empty",
    "archive_read_support_filter_gzip",
    "archive_read_support_filter_zstd",
    "archive_read_open_fd",
    "archive_read_next_header",
    "archive_read_data_block",
    "archive_read_free",
    "archive_error_string",
    "archive_filter_bytes",
    "archive_entry_pathname",
    "archive_entry_symlink",
    "archive_entry_hardlink",
    "archive_entry_filetype",
    "archive_entry_perm",
    "archive_entry_size",
    "archive_entry_atime",
    "archive_entry_atime_nsec",
    "archive_entry_atime_is_set",
    "archive_entry_mtime",
    "archive_entry_mtime_nsec",
    "archive_entry_xattr_reset",
    "archive_entry_xattr_next",
};

_Static_assert(sizeof(ar) == sizeof(ar_names) / sizeof(ar_names[0]) * sizeof(void *),
	       "ar and ar_names must list the same functions");

/* Everything one layer_apply call works with. */
struct ctx {
	int root;
	const struct layer_opts *o;
	struct layer_stats *st;
	struct layer_error *err;
	struct archive *a;
	struct archive_entry *e;
	const char *raw;     /* the entry's name as in the archive */
	char path[PATH_MAX]; /* normalized */
	char dir[PATH_MAX];  /* its parent, "" for the root */
	const char *base;    /* its last component, inside path */
	struct pathset set;  /* paths this layer touched, directories to fix up */
	char cdir[PATH_MAX]; /* the parent opened last, kept open in cfd */
	int cfd;
};

static int ar_loaded = -1;

static void load_once(void)
{
	static const char *const sonames[] = {"libarchive.so.13", "libarchive.so", NULL};

	ar_loaded =
	    dl_load(sonames, ar_names, (void **)&ar, sizeof(ar_names) / sizeof(ar_names[0]));
}

/* Resolve libarchive once, also when layers are applied from several threads. */
static int load_libarchive(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, load_once);
	if (ar_loaded < 0)
		errno = ELIBACC;
	return ar_loaded;
}

/* libarchive's reason for the last failure; it has none for some truncated streams. */
static const char *ar_error(struct archive *a)
{
	const char *e = ar.error_string(a);

	return e ? e : "unexpected end of data";
}

/* Fill in the error message ("failed to VERB: PATH[: strerror]"), keep errno, return -1. */
static int fail(struct ctx *c, const char *fmt, ...)
{
	int saved = errno;
	size_t len = sizeof(c->err->msg);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c->err->msg, len, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < len && fmt[strlen(fmt) - 1] == ':')
		snprintf(c->err->msg + n, len - (size_t)n, " %s", strerror(saved));
	errno = saved ? saved : EIO;
	return -1;
}

/* Report a skipped entry and count it; the layer goes on (returns 0). */
static int skip(struct ctx *c, const char *reason)
{
	c->st->skipped++;
	if (c->o->warn)
		c->o->warn(c->o->ctx, c->raw, reason);
	return 0;
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
			return fail(c, "failed to record: %s:", c->raw);
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

	if (c->cfd >= 0 && !strcmp(c->cdir, c->dir))
		return c->cfd;
	drop_cache(c);
	fd = find_dir(c, c->dir, 1);
	if (fd < 0)
		return fd;
	c->cfd = fd;
	snprintf(c->cdir, sizeof(c->cdir), "%s", c->dir);
	return fd;
}

/* Clear the way for a new entry at BASE in PFD.  Returns 1 when an existing directory stays
 * (a directory entry merges into it), 0 when the name is free, -1 on error. */
static int clear_target(struct ctx *c, int pfd, int is_dir)
{
	struct stat st;

	if (fstatat(pfd, c->base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : fail(c, "failed to stat: %s:", c->path);
	if (S_ISDIR(st.st_mode) && is_dir)
		return 1;
	if (safepath_remove(pfd, c->base) < 0)
		return fail(c, "failed to replace: %s:", c->path);
	return 0;
}

static void entry_times(struct ctx *c, struct timespec ts[2])
{
	ts[1].tv_sec = ar.mtime(c->e);
	ts[1].tv_nsec = ar.mtime_nsec(c->e);
	ts[0] = ts[1];
	if (ar.atime_is_set(c->e)) {
		ts[0].tv_sec = ar.atime(c->e);
		ts[0].tv_nsec = ar.atime_nsec(c->e);
	}
}

/* Keep the entry's user.* extended attributes on FD; others need privilege and are dropped. */
static void set_xattrs(struct ctx *c, int fd)
{
	const char *name;
	const void *value;
	size_t size;

	if (ar.xattr_reset(c->e) <= 0)
		return;
	while (ar.xattr_next(c->e, &name, &value, &size) == ARCHIVE_OK)
		if (!strncmp(name, "user.", 5))
			(void)fsetxattr(fd, name, value, size, 0); /* ENOTSUP: the fs has none */
}

/* Fail once the uncompressed stream passes --max-size.  Counting the stream rather than the
 * data written also stops bombs hidden in entries that are skipped (their data is still
 * decompressed), while sparse files, whose holes are not in the stream, do not count. */
static int over_limit(struct ctx *c)
{
	if (!c->o->max_size || (unsigned long long)ar.filter_bytes(c->a, 0) <= c->o->max_size)
		return 0;
	errno = EFBIG;
	return fail(c, "failed to extract: %s%slayer exceeds the maximum size of %llu bytes",
		    c->raw ? c->raw : "", c->raw ? ": " : "", c->o->max_size);
}

/* Write the entry's data into FD at the offsets libarchive gives, so holes stay holes; *END
 * gets the end of the last block written. */
static int copy_data(struct ctx *c, int fd, off_t *end)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	*end = 0;
	while ((r = ar.data_block(c->a, &buf, &len, &off)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		if (over_limit(c) < 0)
			return -1;
		if (io_pwrite_all(fd, buf, len, (off_t)off) < 0)
			return fail(c, "failed to write: %s:", c->path);
		c->st->bytes += len;
		if (len && (off_t)off + (off_t)len > *end)
			*end = (off_t)off + (off_t)len;
	}
	if (r != ARCHIVE_EOF)
		return errno = EIO, fail(c, "failed to read: %s: %s", c->path, ar_error(c->a));
	return 0;
}

/* Create the file BASE in PFD for writing, replacing whatever is there (tried second, since
 * in a fresh tree the name is almost always free). */
static int create_file(struct ctx *c, int pfd)
{
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd = openat(pfd, c->base, flags, 0600);

	if (fd < 0 && errno == EEXIST) {
		if (clear_target(c, pfd, 0) < 0)
			return -1;
		fd = openat(pfd, c->base, flags, 0600);
	}
	if (fd < 0)
		return fail(c, "failed to create: %s:", c->path);
	return fd;
}

static int do_file(struct ctx *c, int pfd)
{
	struct timespec ts[2];
	int fd = create_file(c, pfd), ret = -1;
	off_t end;

	if (fd < 0)
		return -1;
	entry_times(c, ts);
	if (copy_data(c, fd, &end) < 0)
		goto out;
	if (end < (off_t)ar.size(c->e) && ftruncate(fd, (off_t)ar.size(c->e)) < 0)
		fail(c, "failed to write: %s:", c->path); /* a trailing hole */
	else if (set_xattrs(c, fd), fchmod(fd, ar.perm(c->e)) < 0)
		fail(c, "failed to change mode: %s:", c->path);
	else if (futimens(fd, ts) < 0)
		fail(c, "failed to set times: %s:", c->path);
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
		return fail(c, "failed to record: %s:", c->path);
	pe->flags |= PATHSET_MODE | PATHSET_TIMES;
	pe->mode = ar.perm(c->e);
	entry_times(c, pe->ts);
	return 0;
}

static int do_dir(struct ctx *c, int pfd)
{
	int r = clear_target(c, pfd, 1), fd;

	if (r < 0)
		return -1;
	if (!r && mkdirat(pfd, c->base, 0700) < 0)
		return fail(c, "failed to create directory: %s:", c->path);
	fd = openat(pfd, c->base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fail(c, "failed to open directory: %s:", c->path);
	r = make_writable(c, fd, c->path);
	close(fd);
	if (r < 0 || defer_dir(c, c->path) < 0)
		return -1;
	if (ar.xattr_reset(c->e) > 0) {
		fd = openat(pfd, c->base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			set_xattrs(c, fd);
			close(fd);
		}
	}
	return 0;
}

static int do_symlink(struct ctx *c, int pfd)
{
	const char *target = ar.symlink(c->e);
	struct timespec ts[2];

	if (!target)
		return skip(c, "symbolic link without a target");
	if (clear_target(c, pfd, 0) < 0)
		return -1;
	if (symlinkat(target, pfd, c->base) < 0)
		return fail(c, "failed to create symbolic link: %s:", c->path);
	entry_times(c, ts);
	if (utimensat(pfd, c->base, ts, AT_SYMLINK_NOFOLLOW) < 0 && errno != EOPNOTSUPP)
		return fail(c, "failed to set times: %s:", c->path);
	return 0;
}

static int do_fifo(struct ctx *c, int pfd)
{
	struct timespec ts[2];
	int fd, r;

	if (clear_target(c, pfd, 0) < 0)
		return -1;
	if (mkfifoat(pfd, c->base, 0600) < 0)
		return fail(c, "failed to create fifo: %s:", c->path);
	fd = openat(pfd, c->base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fail(c, "failed to open: %s:", c->path);
	r = safepath_fchmod(fd, ar.perm(c->e));
	close(fd);
	if (r < 0)
		return fail(c, "failed to change mode: %s:", c->path);
	entry_times(c, ts);
	if (utimensat(pfd, c->base, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(c, "failed to set times: %s:", c->path);
	return 0;
}

/* Link to the current inode at the target, resolved inside the root; never to a host file. */
static int do_hardlink(struct ctx *c, int pfd, const char *raw_target)
{
	char target[PATH_MAX], tdir[PATH_MAX];
	const char *tbase;
	struct stat st;
	int tfd, r = safepath_norm(raw_target, target, sizeof(target));

	if (r < 0 && errno == ENAMETOOLONG)
		return skip(c, "hard link target name too long");
	if (r < 0 || !*target)
		return skip(c, "hard link target outside the root");
	if (!strcmp(target, c->path))
		return skip(c, "hard link to itself");
	safepath_split(target, tdir, &tbase);
	tfd = safepath_open(c->root, tdir, O_PATH | O_DIRECTORY);
	if (tfd < 0 || fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode)) {
		if (tfd >= 0)
			close(tfd);
		return skip(c, "hard link target missing or a directory");
	}
	r = clear_target(c, pfd, 0);
	if (!r && linkat(tfd, tbase, pfd, c->base, 0) < 0)
		r = errno == ENOENT ? skip(c, "hard link target removed by its own entry")
				    : fail(c, "failed to link: %s:", c->path);
	close(tfd);
	return r;
}

/* Create the current entry (not a whiteout) in its parent directory. */
static int create_entry(struct ctx *c)
{
	const char *link = ar.hardlink(c->e);
	mode_t type = ar.filetype(c->e);
	int pfd;

	if (type == AE_IFCHR || type == AE_IFBLK) {
		c->st->devices++;
		return skip(c, "device node not created");
	}
	if (type == AE_IFSOCK)
		return skip(c, "socket not created");
	if (!link && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK && type != AE_IFIFO)
		return skip(c, "unknown file type");
	pfd = parent_fd(c);
	if (pfd == -2)
		return skip(c, "parent is not a directory inside the root");
	if (pfd < 0 || mark(c, c->path) < 0)
		return -1;
	if (link)
		return do_hardlink(c, pfd, link);
	if (type == AE_IFDIR)
		return do_dir(c, pfd);
	if (type == AE_IFLNK)
		return do_symlink(c, pfd);
	if (type == AE_IFIFO)
		return do_fifo(c, pfd);
	return do_file(c, pfd);
}

static char *join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	char *p = malloc(dl + nl + 2);

	if (p)
		snprintf(p, dl + nl + 2, "%s%s%s", dir, dl ? "/" : "", name);
	return p;
}

static int prune(struct ctx *c, int dfd, const char *dpath, const char *name);

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
			ret = prune(c, dirfd(d), path, de->d_name);
	closedir(d);
	return ret;
}

/* Remove what lower layers left at DPATH/NAME (in DFD), keeping what this layer created. */
static int prune(struct ctx *c, int dfd, const char *dpath, const char *name)
{
	char *path = join(dpath, name);
	struct pathent *pe;
	struct stat st;
	int ret = 0;

	if (!path)
		return fail(c, "failed to remove: %s:", c->raw);
	pe = pathset_get(&c->set, path);
	if (!pe || !(pe->flags & PATHSET_LAYER)) {
		if (safepath_remove(dfd, name) < 0)
			ret = fail(c, "failed to remove: %s:", path);
	} else if (!fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) && S_ISDIR(st.st_mode)) {
		ret = prune_children(c, dfd, name, path);
	}
	free(path);
	return ret;
}

/* Apply `.wh.NAME` or `.wh..wh..opq` (the current entry) inside the root. */
static int whiteout(struct ctx *c)
{
	const char *name = c->base + 4;
	int opaque = !strcmp(c->base, ".wh..wh..opq"), dfd, ret;

	if (!*name || !strcmp(name, ".") || !strcmp(name, "..") ||
	    (!strncmp(name, ".wh.", 4) && !opaque)) {
		c->st->wh_ignored++;
		return skip(c, "unsupported whiteout ignored");
	}
	drop_cache(c);
	dfd = find_dir(c, c->dir, 0);
	if (dfd == -1)
		return -1;
	if (opaque)
		c->st->opaques++;
	else
		c->st->whiteouts++;
	if (dfd < 0)
		return 0; /* nothing there to hide */
	if (opaque)
		ret = prune_children(c, dfd, ".", c->dir);
	else
		ret = prune(c, dfd, c->dir, name);
	close(dfd);
	return ret;
}

/* The current entry names the root itself ("/" or "./"): only its metadata counts. */
static int root_entry(struct ctx *c)
{
	int fd;

	if (ar.filetype(c->e) != AE_IFDIR)
		return skip(c, "root entry is not a directory");
	fd = open_dir(c, "");
	if (fd < 0)
		return c->err->msg[0] ? -1 : fail(c, "failed to open: root directory:");
	close(fd);
	return defer_dir(c, "");
}

static int apply_entry(struct ctx *c)
{
	c->raw = ar.pathname(c->e);
	if (!c->raw)
		return c->raw = "?", skip(c, "name not readable");
	if (safepath_norm(c->raw, c->path, sizeof(c->path)) < 0)
		return skip(c, errno == EXDEV ? "path leaves the root" : "path too long");
	if (!c->path[0])
		return root_entry(c);
	safepath_split(c->path, c->dir, &c->base);
	if (!strncmp(c->base, ".wh.", 4))
		return whiteout(c);
	return create_entry(c);
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

/* A reader for the tar stream on FD with the decompressors the options allow. */
static struct archive *open_reader(struct ctx *c, int fd)
{
	struct archive *a = ar.read_new();
	enum layer_compression z = c->o->compression;

	if (!a)
		return errno = ENOMEM, fail(c, "failed to read layer:"), NULL;
	ar.format_tar(a);
	ar.format_empty(a);
	if (z == LAYER_AUTO || z == LAYER_GZIP)
		ar.filter_gzip(a);
	if (z == LAYER_AUTO || z == LAYER_ZSTD)
		ar.filter_zstd(a);
	if (ar.open_fd(a, fd, 1 << 16) != ARCHIVE_OK) {
		errno = EINVAL;
		fail(c, "failed to read layer: %s", ar_error(a));
		ar.read_free(a);
		return NULL;
	}
	return a;
}

/* Read every entry and apply it; then restore directory metadata. */
static int apply_all(struct ctx *c)
{
	int r;

	while ((r = ar.next_header(c->a, &c->e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		c->st->entries++;
		c->raw = ar.pathname(c->e);
		if (over_limit(c) < 0 || apply_entry(c) < 0)
			return -1;
	}
	c->raw = NULL; /* the entry is gone; data skipped at the end still counts */
	if (over_limit(c) < 0)
		return -1;
	if (r != ARCHIVE_EOF) {
		errno = EINVAL;
		return fail(c, "failed to read layer: %s", ar_error(c->a));
	}
	drop_cache(c);
	return fix_dirs(c);
}

int layer_apply(int in_fd, int root_fd, const struct layer_opts *o, struct layer_stats *st,
		struct layer_error *err)
{
	struct ctx c = {.root = root_fd, .o = o, .st = st, .err = err, .cfd = -1};
	locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0), old = (locale_t)0;
	int ret = -1;

	memset(st, 0, sizeof(*st));
	err->msg[0] = '\0';
	if (load_libarchive() < 0) {
		snprintf(err->msg, sizeof(err->msg), "failed to load libarchive: %s", dl_error());
		goto out;
	}
	/* Names are bytes: read them in a UTF-8 locale so pax UTF-8 names pass unchanged. */
	if (utf8)
		old = uselocale(utf8);
	c.a = open_reader(&c, in_fd);
	if (c.a) {
		ret = apply_all(&c);
		ar.read_free(c.a);
	}
	if (utf8)
		uselocale(old);
out:
	if (utf8)
		freelocale(utf8);
	drop_cache(&c);
	pathset_free(&c.set);
	return ret;
}
