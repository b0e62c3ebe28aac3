/* tarwalk: the one reader of image layers (tar, tar+gzip, tar+zstd), for both sinks of the
 * layer engine: lib/image/layer.h (onto a directory tree) and lib/image/merge.h (into a squashfs
 * image).  What it decides is decided here once (spec §4.6; PITFALLS.md §3.1, §3.2):
 *
 *  - names: leading "/" and "./" stripped, empty and "." components dropped, ".." resolved
 *    lexically; a name that climbs above the root, or is longer than PATH_MAX or has a
 *    component over NAME_MAX, is skipped; "/" or "./" names the root (TAR_ROOT);
 *  - kinds: regular files, directories, symbolic links, FIFOs and hard links (the target
 *    normalized the same way; outside the root, the link itself or below it, which the link
 *    replaces: skipped) are passed on;
 *    `.wh.NAME` is a whiteout of NAME (TAR_WHITEOUT, path: the name it hides) and
 *    `.wh..wh..opq` an opaque marker (TAR_OPAQUE, path: the directory it empties); a bare
 *    `.wh.`, `.wh..`, `.wh...` and every other `.wh..wh.*` are ignored with a warning; device
 *    nodes (counted), sockets and unknown types are skipped;
 *  - metadata: the permission bits (setuid, setgid and sticky included), times, size, and only
 *    the `user.*` extended attributes (the others need privilege in the reader);
 *  - the size limit (struct layer_opts.max_size): the uncompressed stream is counted, so a
 *    decompression bomb is stopped also inside entries a sink skips, and sparse holes, not in
 *    the stream, do not count.
 * A skipped entry is reported through layer_opts.warn (with its name as in the archive) and
 * counted in layer_stats, and never reaches a sink.
 *
 * Who decompresses is decided by the layer's first bytes, within what layer_opts.compression
 * allows: gzip (1f 8b) is decoded by lib/image/inflate.h (ISA-L, or zlib) and libarchive reads
 * plain tar from its output buffer in place; zstd and uncompressed layers go to libarchive
 * as they are.  After the tar's end, the rest of a gzip stream is decoded too, so every
 * member's CRC32 and size are checked.  libarchive is loaded with dlopen on first use
 * (lib/base/dl.h): `enroot start` must not pay for it. */
#ifndef TARWALK_H
#define TARWALK_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

enum layer_compression { LAYER_AUTO, LAYER_TAR, LAYER_GZIP, LAYER_ZSTD };

struct layer_opts {
	enum layer_compression compression; /* LAYER_AUTO: by magic bytes */
	unsigned long long max_size;	    /* limit of the uncompressed tar stream; 0: none */
	/* Told about every skipped or ignored entry (PATH as in the archive); may be NULL. */
	void (*warn)(void *ctx, const char *path, const char *reason);
	void *ctx;
};

struct layer_stats {
	unsigned long long entries;    /* archive entries read */
	unsigned long long bytes;      /* file data written */
	unsigned long long whiteouts;  /* .wh.NAME applied (including ones matching nothing) */
	unsigned long long opaques;    /* .wh..wh..opq applied */
	unsigned long long devices;    /* character and block devices skipped */
	unsigned long long wh_ignored; /* bare .wh. and other .wh..wh.* names ignored */
	unsigned long long skipped;    /* all skipped entries (devices, sockets, escapes, ...) */
};

struct layer_error {
	char msg[PATH_MAX + 256]; /* "failed to VERB: PATH: reason", ready to print */
};

enum tar_kind {
	TAR_FILE,
	TAR_DIR,
	TAR_SYMLINK,
	TAR_FIFO,
	TAR_HARDLINK,
	TAR_WHITEOUT, /* .wh.NAME: path is the name it hides */
	TAR_OPAQUE,   /* .wh..wh..opq: path is the directory holding it ("" for the root) */
	TAR_ROOT,     /* "/" or "./", a directory: the root's own metadata */
};

/* One entry as the sinks see it.  dir and base split path ("" and "" for the root). */
struct tar_entry {
	enum tar_kind kind;
	const char *raw;	      /* the name as in the archive */
	char path[PATH_MAX];	      /* normalized, relative to the root */
	char dir[PATH_MAX];	      /* path's parent, "" for the root */
	const char *base;	      /* path's last component, inside path */
	char target[PATH_MAX];	      /* TAR_HARDLINK: the target, normalized, never "" nor path */
	const char *symlink;	      /* TAR_SYMLINK: the target as written, never NULL */
	mode_t mode;		      /* permission bits, 07777 */
	uint64_t size;		      /* TAR_FILE: the size, holes included */
	struct timespec atime, mtime; /* atime is mtime when the archive has none */
	size_t nxattrs;		      /* how many extended attributes the entry has (any kind) */
	long index;		      /* position in the archive, from 0, skipped entries too */
};

struct tarwalk;

/* Start reading the layer on FD with O's compression and limit; ST (zeroed here) gets the
 * counts, ERR the reason of a failure.  Names are read in a UTF-8 locale, so pax UTF-8 names
 * pass unchanged: the calling thread has it until tarwalk_close, which must come from the same
 * thread.  NULL with errno and ERR->msg set. */
struct tarwalk *tarwalk_open(int fd, const struct layer_opts *o, struct layer_stats *st,
			     struct layer_error *err);
void tarwalk_close(struct tarwalk *t);

/* The next entry a sink has to handle (*E stays valid until the next call), skipping and
 * reporting the others.  1, 0 at the end of the layer, -1 with errno and the message (EINVAL:
 * not a layer or a damaged one; EFBIG: over the size limit). */
int tarwalk_next(struct tarwalk *t, const struct tar_entry **e);

/* The current entry's data, block by block, in order: 1 with *BUF (LEN bytes) to go at
 * offset *OFF (a jump ahead is a hole), 0 after the last block, -1 with errno and the message
 * (EIO: the stream is damaged; EFBIG).  A sink that does not read an entry's data skips it. */
int tarwalk_block(struct tarwalk *t, const void **buf, size_t *len, uint64_t *off);

/* Call FN for each user.* extended attribute of the current entry, in archive order; stops
 * and returns -1 when FN does, else 0. */
int tarwalk_xattrs(struct tarwalk *t,
		   int (*fn)(void *ctx, const char *name, const void *value, size_t len),
		   void *ctx);

/* Skip the current entry for REASON (a sink's decision, e.g. "parent is not a directory inside
 * the root"): warned and counted like the walker's own skips.  Returns 0. */
int tarwalk_skip(struct tarwalk *t, const char *reason);

/* Fill ERR->msg from FMT; a format ending in ':' gets ": strerror(errno)".  Keeps errno (EIO
 * when it was 0) and returns RC. */
int tarwalk_fail(struct layer_error *err, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
