/* tarwalk: read and classify the entries of an image layer (see tarwalk.h). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/dl.h"
#include "base/safepath.h"
#include "image/inflate.h"
#include "image/tarwalk.h"

/* Bytes read at a time from a layer that libarchive decompresses itself (zstd) or that needs
 * no decompression, and the first read that decides by magic bytes. */
#define RAW_SIZE (128 << 10)

/* libarchive's functions, resolved on first use; same order as ar_names. */
static struct {
	struct archive *(*read_new)(void);
	int (*format_tar)(struct archive *);
	int (*format_empty)(struct archive *);
	int (*filter_zstd)(struct archive *);
	int (*open2)(struct archive *, void *, archive_open_callback *, archive_read_callback *,
		     archive_skip_callback *, archive_close_callback *);
	void (*set_error)(struct archive *, int, const char *, ...);
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
    "archive_read_support_filter_zstd",
    "archive_read_open2",
    "archive_set_error",
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

struct tarwalk {
	const struct layer_opts *o;
	struct layer_stats *st;
	struct layer_error *err;
	struct archive *a;
	struct archive_entry *ae;
	int fd;
	struct inflate *z;  /* a gzip layer: our decoder feeds libarchive plain tar */
	unsigned char *raw; /* otherwise: RAW_SIZE bytes read for libarchive */
	size_t pending;	    /* bytes of raw read ahead for the magic, not handed out yet */
	int seekable;	    /* raw from a regular file: libarchive may skip by lseek */
	locale_t utf8, old;
	long index;
	struct tar_entry e;
};

static int ar_loaded = -1;

static void load_once(void)
{
	static const char *const sonames[] = {"libarchive.so.13", "libarchive.so", NULL};

	ar_loaded =
	    dl_load(sonames, ar_names, (void **)&ar, sizeof(ar_names) / sizeof(ar_names[0]));
}

/* Resolve libarchive once, also when layers are read from several threads. */
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

int tarwalk_fail(struct layer_error *err, int rc, const char *fmt, ...)
{
	int saved = errno;
	size_t len = sizeof(err->msg);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(err->msg, len, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < len && fmt[strlen(fmt) - 1] == ':')
		snprintf(err->msg + n, len - (size_t)n, " %s", strerror(saved));
	errno = saved ? saved : EIO;
	return rc;
}

int tarwalk_skip(struct tarwalk *t, const char *reason)
{
	t->st->skipped++;
	if (t->o->warn)
		t->o->warn(t->o->ctx, t->e.raw ? t->e.raw : "?", reason);
	return 0;
}

/* Fail once the uncompressed stream passes max_size (BYTES of it read). */
static int over(struct tarwalk *t, unsigned long long bytes)
{
	const char *raw = t->e.raw;

	if (!t->o->max_size || bytes <= t->o->max_size)
		return 0;
	errno = EFBIG;
	return tarwalk_fail(t->err, -1,
			    "failed to extract: %s%slayer exceeds the maximum size of %llu bytes",
			    raw ? raw : "", raw ? ": " : "", t->o->max_size);
}

static int over_limit(struct tarwalk *t)
{
	return over(t, (unsigned long long)ar.filter_bytes(t->a, 0));
}

/* At the end of the tar stream, decode the rest of a gzip layer: every member's CRC32 and
 * size are checked, and a stream damaged or cut short after the tar's end is not missed. */
static int drain(struct tarwalk *t)
{
	const void *buf;
	size_t len;
	int r;

	if (!t->z)
		return 0;
	while ((r = inflate_read(t->z, &buf, &len)) > 0)
		if (over(t, inflate_total(t->z)) < 0)
			return -1;
	if (r < 0)
		return tarwalk_fail(t->err, -1, "failed to read layer: %s", inflate_error(t->z));
	return 0;
}

/* Split e->path into e->dir and e->base. */
static void split(struct tar_entry *e)
{
	if (*e->path)
		safepath_split(e->path, e->dir, &e->base);
	else
		e->dir[0] = '\0', e->base = e->path;
}

/* `.wh.*` (the current entry's base name): a whiteout, an opaque marker, or ignored (0). */
static int whiteout(struct tarwalk *t)
{
	struct tar_entry *e = &t->e;
	const char *name = e->base + 4;
	int opaque = !strcmp(e->base, ".wh..wh..opq");

	if (!*name || !strcmp(name, ".") || !strcmp(name, "..") ||
	    (!strncmp(name, ".wh.", 4) && !opaque)) {
		t->st->wh_ignored++;
		return tarwalk_skip(t, "unsupported whiteout ignored");
	}
	if (opaque) {
		t->st->opaques++;
		e->kind = TAR_OPAQUE;
		memmove(e->path, e->dir, strlen(e->dir) + 1); /* the directory it empties */
		split(e);
		return 1;
	}
	t->st->whiteouts++;
	e->kind = TAR_WHITEOUT;
	memmove((char *)e->base, name, strlen(name) + 1); /* the name it hides */
	return 1;
}

/* A hard link: its target normalized inside the root (0: skipped). */
static int hardlink(struct tarwalk *t, const char *link)
{
	struct tar_entry *e = &t->e;
	int r = safepath_norm(link, e->target, sizeof(e->target));

	if (r < 0 && errno == ENAMETOOLONG)
		return tarwalk_skip(t, "hard link target name too long");
	if (r < 0 || !*e->target)
		return tarwalk_skip(t, "hard link target outside the root");
	if (!strcmp(e->target, e->path))
		return tarwalk_skip(t, "hard link to itself");
	if (!strncmp(e->target, e->path, strlen(e->path)) && e->target[strlen(e->path)] == '/')
		return tarwalk_skip(t, "hard link target removed by its own entry");
	e->kind = TAR_HARDLINK;
	return 1;
}

/* The kind of an entry that is not a whiteout (0: skipped). */
static int classify(struct tarwalk *t)
{
	mode_t type = ar.filetype(t->ae);
	const char *link = ar.hardlink(t->ae);

	if (!t->e.path[0]) {
		if (type != AE_IFDIR)
			return tarwalk_skip(t, "root entry is not a directory");
		t->e.kind = TAR_ROOT;
		return 1;
	}
	if (!strncmp(t->e.base, ".wh.", 4))
		return whiteout(t);
	if (type == AE_IFCHR || type == AE_IFBLK) {
		t->st->devices++;
		return tarwalk_skip(t, "device node not created");
	}
	if (type == AE_IFSOCK)
		return tarwalk_skip(t, "socket not created");
	if (link)
		return hardlink(t, link);
	if (type == AE_IFDIR)
		t->e.kind = TAR_DIR;
	else if (type == AE_IFREG)
		t->e.kind = TAR_FILE;
	else if (type == AE_IFIFO)
		t->e.kind = TAR_FIFO;
	else if (type != AE_IFLNK)
		return tarwalk_skip(t, "unknown file type");
	else if (!(t->e.symlink = ar.symlink(t->ae)))
		return tarwalk_skip(t, "symbolic link without a target");
	else
		t->e.kind = TAR_SYMLINK;
	return 1;
}

/* Fill in the current entry from its header: 1 for the sink, 0 skipped. */
static int entry(struct tarwalk *t)
{
	struct tar_entry *e = &t->e;
	la_int64_t size = ar.size(t->ae);

	e->index = t->index++;
	e->symlink = NULL;
	if (!e->raw)
		return tarwalk_skip(t, "name not readable");
	if (safepath_norm(e->raw, e->path, sizeof(e->path)) < 0)
		return tarwalk_skip(t, errno == EXDEV ? "path leaves the root" : "path too long");
	split(e);
	e->mode = ar.perm(t->ae) & 07777;
	e->size = size > 0 ? (uint64_t)size : 0;
	e->mtime.tv_sec = ar.mtime(t->ae);
	e->mtime.tv_nsec = ar.mtime_nsec(t->ae);
	e->atime = e->mtime;
	if (ar.atime_is_set(t->ae)) {
		e->atime.tv_sec = ar.atime(t->ae);
		e->atime.tv_nsec = ar.atime_nsec(t->ae);
	}
	e->nxattrs = (size_t)ar.xattr_reset(t->ae);
	return classify(t);
}

int tarwalk_next(struct tarwalk *t, const struct tar_entry **e)
{
	int r;

	while ((r = ar.next_header(t->a, &t->ae)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		t->st->entries++;
		t->e.raw = ar.pathname(t->ae);
		if (over_limit(t) < 0)
			return -1;
		if (entry(t)) {
			*e = &t->e;
			return 1;
		}
	}
	t->e.raw = NULL; /* the entry is gone; data skipped at the end still counts */
	if (over_limit(t) < 0)
		return -1;
	if (r != ARCHIVE_EOF) {
		errno = EINVAL;
		return tarwalk_fail(t->err, -1, "failed to read layer: %s", ar_error(t->a));
	}
	return drain(t);
}

int tarwalk_block(struct tarwalk *t, const void **buf, size_t *len, uint64_t *off)
{
	la_int64_t o;
	int r = ar.data_block(t->a, buf, len, &o);

	if (r == ARCHIVE_EOF)
		return 0;
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
		errno = EIO;
		return tarwalk_fail(t->err, -1, "failed to read: %s: %s", t->e.path,
				    ar_error(t->a));
	}
	if (over_limit(t) < 0)
		return -1;
	*off = o > 0 ? (uint64_t)o : 0;
	t->st->bytes += *len;
	return 1;
}

int tarwalk_xattrs(struct tarwalk *t,
		   int (*fn)(void *ctx, const char *name, const void *value, size_t len), void *ctx)
{
	const char *name;
	const void *value;
	size_t len;

	if (!t->e.nxattrs || ar.xattr_reset(t->ae) <= 0)
		return 0;
	while (ar.xattr_next(t->ae, &name, &value, &len) == ARCHIVE_OK)
		if (!strncmp(name, "user.", 5) && name[5] && fn(ctx, name, value, len) < 0)
			return -1;
	return 0;
}

/* libarchive's read callback for a gzip layer: our decoder's output buffer, read in place. */
static la_ssize_t read_gzip(struct archive *a, void *ctx, const void **buf)
{
	struct tarwalk *t = ctx;
	size_t len;

	if (inflate_read(t->z, buf, &len) < 0) {
		ar.set_error(a, errno, "%s", inflate_error(t->z));
		return -1;
	}
	return (la_ssize_t)len;
}

/* The read callback of the other layers: the bytes read for the magic, then RAW_SIZE at a
 * time. */
static la_ssize_t read_raw(struct archive *a, void *ctx, const void **buf)
{
	struct tarwalk *t = ctx;
	ssize_t n;

	*buf = t->raw;
	if (t->pending) {
		n = (ssize_t)t->pending;
		t->pending = 0;
		return n;
	}
	do
		n = read(t->fd, t->raw, RAW_SIZE);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		ar.set_error(a, errno, "read error: %s", strerror(errno));
	return n;
}

/* Skip forward in a regular file by lseek, never past its end: a layer cut short inside an
 * entry nobody reads is still found truncated when the next header is read. */
static la_int64_t skip_raw(struct archive *a, void *ctx, la_int64_t req)
{
	struct tarwalk *t = ctx;
	struct stat st;
	off_t cur;

	(void)a;
	if (!t->seekable || t->pending || req <= 0)
		return 0;
	if ((cur = lseek(t->fd, 0, SEEK_CUR)) < 0 || fstat(t->fd, &st) < 0)
		return 0;
	if (req > st.st_size - cur)
		req = st.st_size - cur;
	if (req <= 0 || lseek(t->fd, (off_t)req, SEEK_CUR) < 0)
		return 0;
	return req;
}

/* Read the first bytes of the layer: at least 4 (the longest magic) unless it is shorter. */
static ssize_t peek(struct tarwalk *t)
{
	size_t have = 0;
	ssize_t n;

	while (have < 4) {
		n = read(t->fd, t->raw + have, RAW_SIZE - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (!n)
			break;
		have += (size_t)n;
	}
	return (ssize_t)have;
}

/* Decide by the magic bytes, within what the options allow, who decompresses: our gzip
 * decoder (1) or libarchive, for zstd and plain tar (0). */
static int start_input(struct tarwalk *t, enum layer_compression z)
{
	char why[256];
	struct stat st;
	ssize_t n = peek(t);

	if (n < 0)
		return tarwalk_fail(t->err, -1, "failed to read layer:");
	if ((z == LAYER_AUTO || z == LAYER_GZIP) && n >= 2 && t->raw[0] == 0x1f &&
	    t->raw[1] == 0x8b) {
		if (!(t->z = inflate_open(t->fd, t->raw, (size_t)n, why, sizeof(why))))
			return tarwalk_fail(t->err, -1, "failed to read layer: %s", why);
		free(t->raw);
		t->raw = NULL;
		return 1;
	}
	t->pending = (size_t)n;
	t->seekable = fstat(t->fd, &st) == 0 && S_ISREG(st.st_mode);
	return 0;
}

/* A reader for the tar stream on T's fd with the decompressors the options allow. */
static struct archive *open_reader(struct tarwalk *t)
{
	enum layer_compression z = t->o->compression;
	struct archive *a;
	int gz;

	if (!(t->raw = malloc(RAW_SIZE)))
		return errno = ENOMEM, tarwalk_fail(t->err, 0, "failed to read layer:"), NULL;
	if ((gz = start_input(t, z)) < 0)
		return NULL;
	if (!(a = ar.read_new()))
		return errno = ENOMEM, tarwalk_fail(t->err, 0, "failed to read layer:"), NULL;
	ar.format_tar(a);
	ar.format_empty(a);
	if (!gz && (z == LAYER_AUTO || z == LAYER_ZSTD))
		ar.filter_zstd(a);
	if (ar.open2(a, t, NULL, gz ? read_gzip : read_raw, gz ? NULL : skip_raw, NULL) !=
	    ARCHIVE_OK) {
		errno = EINVAL;
		tarwalk_fail(t->err, 0, "failed to read layer: %s", ar_error(a));
		ar.read_free(a);
		return NULL;
	}
	return a;
}

struct tarwalk *tarwalk_open(int fd, const struct layer_opts *o, struct layer_stats *st,
			     struct layer_error *err)
{
	struct tarwalk *t;

	memset(st, 0, sizeof(*st));
	err->msg[0] = '\0';
	if (load_libarchive() < 0) {
		snprintf(err->msg, sizeof(err->msg), "failed to load libarchive: %s", dl_error());
		return NULL;
	}
	if (!(t = calloc(1, sizeof(*t)))) {
		tarwalk_fail(err, 0, "failed to read layer:");
		return NULL;
	}
	t->o = o, t->st = st, t->err = err, t->fd = fd;
	t->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	if (t->utf8)
		t->old = uselocale(t->utf8);
	if (!(t->a = open_reader(t))) {
		int saved = errno;
		tarwalk_close(t);
		errno = saved;
		return NULL;
	}
	return t;
}

void tarwalk_close(struct tarwalk *t)
{
	if (!t)
		return;
	if (t->a)
		ar.read_free(t->a);
	inflate_close(t->z);
	free(t->raw);
	if (t->utf8) {
		uselocale(t->old);
		freelocale(t->utf8);
	}
	free(t);
}
