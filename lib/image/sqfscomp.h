/* sqfscomp: the block compressors of our squashfs writer (lib/image/sqfs.h): lzo (liblzo2, the fast
 * lzo1x_1 algorithm, declared in the compressor options so every reader knows), gzip (zlib's
 * format, as squashfs stores it) and zstd.  The libraries are loaded with dlopen on first use
 * (lib/base/dl.h): `enroot start` must not pay for them. */
#ifndef SQFSCOMP_H
#define SQFSCOMP_H

#include <stddef.h>

/* squashfs compression ids (superblock field). */
enum sqfscomp_id { SQFSCOMP_GZIP = 1, SQFSCOMP_LZO = 3, SQFSCOMP_ZSTD = 6 };

struct sqfscomp {
	enum sqfscomp_id id;
	int level;  /* gzip 1-9 (9), zstd 1-22 (15); unused for lzo1x_1 */
	void *work; /* lzo's work memory */
};

/* The id for a `-comp` NAME, or -1 when we do not write it. */
int sqfscomp_by_name(const char *name);

/* Load the library and set up C for ID at LEVEL (<= 0: mksquashfs's default).  Returns 0, or
 * -1 with errno (ELIBACC: the library is missing, reason in dl_error(); EINVAL: bad level). */
int sqfscomp_init(struct sqfscomp *c, enum sqfscomp_id id, int level);
void sqfscomp_free(struct sqfscomp *c);

/* Compress SRC (N bytes) into DST (CAP bytes).  Returns the compressed size when it is smaller
 * than N, 0 when the block should be stored as it is, -1 with errno on failure. */
long sqfscomp_compress(struct sqfscomp *c, const void *src, size_t n, void *dst, size_t cap);

/* The compressor options block (little-endian) for C into BUF (16 bytes); 0 when none. */
size_t sqfscomp_options(const struct sqfscomp *c, unsigned char *buf);

#endif
