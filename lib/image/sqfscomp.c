/* sqfscomp: squashfs block compressors over dlopen'ed libraries (see sqfscomp.h). */
#include <errno.h>
#include <lzo/lzo1x.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "base/dl.h"
#include "image/sqfscomp.h"

/* lzo's options: algorithm ids of squashfs-tools' lzo wrapper (lzo1x_1 is 0). */
#define LZO_ALGO_1X_1 0

static struct {
	int (*init)(unsigned, int, int, int, int, int, int, int, int, int);
	int (*compress)(const lzo_bytep, lzo_uint, lzo_bytep, lzo_uintp, lzo_voidp);
} lzo;
static struct {
	int (*compress2)(Bytef *, uLongf *, const Bytef *, uLong, int);
} zl;
static struct {
	size_t (*compress)(void *, size_t, const void *, size_t, int);
	unsigned (*is_error)(size_t);
} zs;

static const char *const lzo_syms[] = {"__lzo_init_v2", "lzo1x_1_compress"};
static const char *const zl_syms[] = {"compress2"};
static const char *const zs_syms[] = {"ZSTD_compress", "ZSTD_isError"};
static int loaded[7] = {0}; /* by id: 0 not tried, 1 loaded, -1 failed */
static pthread_mutex_t load_mu = PTHREAD_MUTEX_INITIALIZER;

static int load_id(enum sqfscomp_id id)
{
	static const char *const lzo_so[] = {"liblzo2.so.2", "liblzo2.so", NULL};
	static const char *const zl_so[] = {"libz.so.1", "libz.so", NULL};
	static const char *const zs_so[] = {"libzstd.so.1", "libzstd.so", NULL};

	if (id == SQFSCOMP_LZO) {
		if (dl_load(lzo_so, lzo_syms, (void **)&lzo, 2) < 0)
			return -1;
		/* lzo_init(): the library checks our view of its types. */
		return lzo.init(LZO_VERSION, (int)sizeof(short), (int)sizeof(int),
				(int)sizeof(long), (int)sizeof(lzo_uint32_t), (int)sizeof(lzo_uint),
				(int)lzo_sizeof_dict_t, (int)sizeof(char *), (int)sizeof(lzo_voidp),
				(int)sizeof(lzo_callback_t)) == LZO_E_OK
			   ? 0
			   : (errno = ELIBACC, -1);
	}
	if (id == SQFSCOMP_GZIP)
		return dl_load(zl_so, zl_syms, (void **)&zl, 1);
	return dl_load(zs_so, zs_syms, (void **)&zs, 2);
}

int sqfscomp_by_name(const char *name)
{
	if (!strcmp(name, "lzo"))
		return SQFSCOMP_LZO;
	if (!strcmp(name, "gzip"))
		return SQFSCOMP_GZIP;
	if (!strcmp(name, "zstd"))
		return SQFSCOMP_ZSTD;
	return -1;
}

int sqfscomp_init(struct sqfscomp *c, enum sqfscomp_id id, int level)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->id = id;
	if (id == SQFSCOMP_GZIP)
		c->level = level > 0 ? level : 9;
	else if (id == SQFSCOMP_ZSTD)
		c->level = level > 0 ? level : 15;
	if ((id == SQFSCOMP_GZIP && c->level > 9) || (id == SQFSCOMP_ZSTD && c->level > 22) ||
	    (id == SQFSCOMP_LZO && level > 0))
		return errno = EINVAL, -1;
	pthread_mutex_lock(&load_mu);
	if (!loaded[id])
		loaded[id] = load_id(id) < 0 ? -1 : 1;
	rc = loaded[id];
	pthread_mutex_unlock(&load_mu);
	if (rc < 0)
		return errno = ELIBACC, -1;
	if (id == SQFSCOMP_LZO && !(c->work = malloc(LZO1X_1_MEM_COMPRESS)))
		return -1;
	return 0;
}

void sqfscomp_free(struct sqfscomp *c)
{
	free(c->work);
	c->work = NULL;
}

long sqfscomp_compress(struct sqfscomp *c, const void *src, size_t n, void *dst, size_t cap)
{
	if (c->id == SQFSCOMP_LZO) {
		lzo_uint out = cap;

		/* lzo may expand incompressible input by n/16 + 67: callers give that room. */
		if (cap < n + n / 16 + 64 + 3 ||
		    lzo.compress(src, n, dst, &out, c->work) != LZO_E_OK)
			return errno = EIO, -1;
		return out < n ? (long)out : 0;
	}
	if (c->id == SQFSCOMP_GZIP) {
		uLongf out = cap;
		int r = zl.compress2(dst, &out, src, n, c->level);

		if (r == Z_BUF_ERROR)
			return 0;
		if (r != Z_OK)
			return errno = EIO, -1;
		return out < n ? (long)out : 0;
	}
	size_t out = zs.compress(dst, cap, src, n, c->level);

	if (zs.is_error(out))
		return 0; /* dstSize_tooSmall: store the block */
	return out < n ? (long)out : 0;
}

static void put32(unsigned char *p, unsigned v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

size_t sqfscomp_options(const struct sqfscomp *c, unsigned char *buf)
{
	if (c->id == SQFSCOMP_LZO) {
		put32(buf, LZO_ALGO_1X_1); /* algorithm */
		put32(buf + 4, 0);	   /* compression level: only for lzo1x_999 */
		return 8;
	}
	if (c->id == SQFSCOMP_GZIP && c->level != 9) {
		put32(buf, (unsigned)c->level);
		buf[4] = 15; /* window size */
		buf[5] = 0;
		buf[6] = buf[7] = 0; /* strategies: default */
		return 8;
	}
	if (c->id == SQFSCOMP_ZSTD && c->level != 15) {
		put32(buf, (unsigned)c->level);
		return 4;
	}
	return 0;
}
