/* inflate: multi-member gzip over ISA-L, or zlib where ISA-L is missing (see inflate.h). */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#if __has_include(<isa-l/igzip_lib.h>)
#include <isa-l/igzip_lib.h>
#define HAVE_ISAL 1
#endif

#include "base/dl.h"
#include "base/why.h"
#include "image/inflate.h"

/* Input is read in large chunks; the output buffer is what the tar parser reads in place, so
 * it is kept small enough to stay in the L2 cache until the parser has read it. */
#define IN_SIZE	 (256 << 10)
#define OUT_SIZE (256 << 10)

#ifdef HAVE_ISAL
static struct {
	void (*init)(struct inflate_state *);
	void (*reset)(struct inflate_state *);
	int (*run)(struct inflate_state *);
} isal;

static const char *const isal_names[] = {"isal_inflate_init", "isal_inflate_reset", "isal_inflate"};
_Static_assert(sizeof(isal) == sizeof(isal_names) / sizeof(isal_names[0]) * sizeof(void *),
	       "isal and isal_names must list the same functions");
#endif

static struct {
	int (*init2)(z_stream *, int, const char *, int);
	int (*run)(z_stream *, int);
	int (*reset)(z_stream *);
	int (*end)(z_stream *);
} zl;

static const char *const zl_names[] = {"inflateInit2_", "inflate", "inflateReset", "inflateEnd"};
_Static_assert(sizeof(zl) == sizeof(zl_names) / sizeof(zl_names[0]) * sizeof(void *),
	       "zl and zl_names must list the same functions");

enum impl { IMPL_NONE, IMPL_ISAL, IMPL_ZLIB };

static enum impl impl;
static char impl_why[256];

struct inflate {
	int fd;
	enum impl impl;
	int eof;		 /* read(2) returned 0 */
	int between;		 /* a member ended: another begins, or the stream ends */
	int done;		 /* the stream ended */
	int failed;		 /* an error was reported: it stays */
	unsigned char *in, *out; /* IN_SIZE and OUT_SIZE bytes */
	unsigned char *next;	 /* pending input: NEXT, AVAIL bytes */
	size_t avail;
	uint64_t total;
	unsigned long members;
#ifdef HAVE_ISAL
	struct inflate_state *is;
#endif
	z_stream zs;
	char why[256];
};

static void load_once(void)
{
	static const char *const zl_so[] = {"libz.so.1", NULL};
#ifdef HAVE_ISAL
	static const char *const isal_so[] = {"libisal.so.2", NULL};
	const char *no = getenv("ENROOT_NO_ISAL"); /* anything but "" or "0": zlib only */

	if (!(no && *no && strcmp(no, "0")) &&
	    dl_load(isal_so, isal_names, (void **)&isal,
		    sizeof(isal_names) / sizeof(isal_names[0])) == 0) {
		impl = IMPL_ISAL;
		return;
	}
#endif
	if (dl_load(zl_so, zl_names, (void **)&zl, sizeof(zl_names) / sizeof(zl_names[0])) == 0)
		impl = IMPL_ZLIB;
	else
		snprintf(impl_why, sizeof(impl_why), "%s", dl_error());
}

/* Choose and resolve the decoder once, also when layers are read from several threads. */
static enum impl load(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, load_once);
	return impl;
}

const char *inflate_impl(void)
{
	enum impl i = load();

	return i == IMPL_ISAL ? "isa-l" : i == IMPL_ZLIB ? "zlib" : NULL;
}

/* Record the reason of a failure (it stays: later calls fail the same way); -1 with ERR. */
static int fail(struct inflate *z, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct inflate *z, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(z->why, sizeof(z->why), fmt, ap);
	va_end(ap);
	z->failed = err;
	errno = err;
	return -1;
}

const char *inflate_error(const struct inflate *z)
{
	return z->why;
}

uint64_t inflate_total(const struct inflate *z)
{
	return z->total;
}

unsigned long inflate_members(const struct inflate *z)
{
	return z->members;
}

/* Read more input behind the AVAIL bytes still pending; sets EOF at the end of the file. */
static int refill(struct inflate *z)
{
	ssize_t n;

	memmove(z->in, z->next, z->avail);
	z->next = z->in;
	do
		n = read(z->fd, z->in + z->avail, IN_SIZE - z->avail);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return fail(z, errno, "read error: %s", strerror(errno));
	if (n == 0)
		z->eof = 1;
	z->avail += (size_t)n;
	return 0;
}

/* Start (again) on a member whose header is at NEXT. */
static int begin(struct inflate *z)
{
#ifdef HAVE_ISAL
	if (z->impl == IMPL_ISAL) {
		isal.reset(z->is);
		z->is->crc_flag = ISAL_GZIP; /* parse the header, check CRC32 and ISIZE */
		return 0;
	}
#endif
	if (zl.reset(&z->zs) != Z_OK)
		return fail(z, EIO, "gzip decoder reset failed");
	return 0;
}

#ifdef HAVE_ISAL
static const char *isal_reason(int r)
{
	switch (r) {
	case ISAL_INCORRECT_CHECKSUM:
		return "CRC32 or size check failed";
	case ISAL_INVALID_WRAPPER:
		return "invalid gzip header";
	case ISAL_UNSUPPORTED_METHOD:
		return "unsupported compression method";
	case ISAL_NEED_DICT:
		return "preset dictionary required";
	default:
		return "invalid deflate data";
	}
}

/* One call of isal_inflate into OUT (ROOM bytes): *MADE bytes written, *END at a member's end. */
static int step_isal(struct inflate *z, unsigned char *out, size_t room, size_t *made, int *end)
{
	struct inflate_state *s = z->is;
	int r;

	s->next_in = z->next;
	s->avail_in = (uint32_t)z->avail;
	s->next_out = out;
	s->avail_out = (uint32_t)room;
	r = isal.run(s);
	*made = room - s->avail_out;
	z->next = s->next_in;
	z->avail = s->avail_in;
	if (r < 0 || r == ISAL_NEED_DICT)
		return fail(z, EIO, "corrupt gzip stream: %s", isal_reason(r));
	*end = s->block_state == ISAL_BLOCK_FINISH;
	return 0;
}
#endif

/* The same with zlib's inflate. */
static int step_zlib(struct inflate *z, unsigned char *out, size_t room, size_t *made, int *end)
{
	z_stream *s = &z->zs;
	const char *m;
	int r;

	s->next_in = z->next;
	s->avail_in = (uInt)z->avail;
	s->next_out = out;
	s->avail_out = (uInt)room;
	r = zl.run(s, Z_NO_FLUSH);
	*made = room - s->avail_out;
	z->next = s->next_in;
	z->avail = s->avail_in;
	*end = r == Z_STREAM_END;
	if (r == Z_OK || r == Z_STREAM_END || r == Z_BUF_ERROR)
		return 0;
	m = s->msg ? s->msg : r == Z_MEM_ERROR ? "out of memory" : "invalid deflate data";
	if (!strcmp(m, "incorrect data check") || !strcmp(m, "incorrect length check"))
		m = "CRC32 or size check failed";
	return fail(z, r == Z_MEM_ERROR ? ENOMEM : EIO, "corrupt gzip stream: %s", m);
}

/* Before a member: 1 when one begins at NEXT (the decoder is reset for it), 0 at the end of
 * the stream.  The reserved header flags are checked here, as zlib does and ISA-L does not,
 * so both decoders refuse the same streams (RFC 1952, 2.3.1.2). */
static int next_member(struct inflate *z)
{
	while (z->avail < 4 && !z->eof)
		if (refill(z) < 0)
			return -1;
	if (z->avail < 2 || z->next[0] != 0x1f || z->next[1] != 0x8b) {
		if (!z->members)
			return fail(z, EIO, "not a gzip stream");
		return 0; /* the end; trailing bytes that begin no member are ignored */
	}
	if (z->avail >= 4 && (z->next[3] & 0xe0))
		return fail(z, EIO, "corrupt gzip stream: reserved header flags set");
	return begin(z) < 0 ? -1 : 1;
}

/* Decode into OUT from *HAVE on, until it is full or the stream ends. */
static int fill(struct inflate *z, size_t *have)
{
	size_t made, left;
	int end = 0, r;

	while (*have < OUT_SIZE && !z->done) {
		if (z->between) {
			if ((r = next_member(z)) < 0)
				return -1;
			z->done = !r;
			z->between = 0;
			continue;
		}
		if (!z->avail && !z->eof && refill(z) < 0)
			return -1;
		left = z->avail;
#ifdef HAVE_ISAL
		r = z->impl == IMPL_ISAL
			? step_isal(z, z->out + *have, OUT_SIZE - *have, &made, &end)
			: step_zlib(z, z->out + *have, OUT_SIZE - *have, &made, &end);
#else
		r = step_zlib(z, z->out + *have, OUT_SIZE - *have, &made, &end);
#endif
		*have += made; /* what came before a failure is good data */
		if (r < 0)
			return -1;
		if (end) {
			z->members++;
			z->between = 1;
		} else if (!made && z->avail == left && (z->eof || z->avail)) {
			/* no progress: the input ends inside a member, or more is needed */
			if (z->eof)
				return fail(z, EIO, "truncated gzip stream");
			if (z->avail == IN_SIZE)
				return fail(z, EIO, "corrupt gzip stream");
			if (refill(z) < 0)
				return -1;
		}
	}
	return 0;
}

int inflate_read(struct inflate *z, const void **buf, size_t *len)
{
	size_t have = 0;

	if (z->failed) {
		errno = z->failed;
		return -1;
	}
	/* A failure after some good data is reported at the next call, so that the data before
	 * the damage reaches the reader first. */
	if (fill(z, &have) < 0 && !have)
		return -1;
	z->total += have;
	*buf = z->out;
	*len = have;
	return have > 0;
}

/* The decoder's own state for the first member. */
static int start(struct inflate *z, char *why, size_t whylen)
{
#ifdef HAVE_ISAL
	if (z->impl == IMPL_ISAL) {
		if (!(z->is = malloc(sizeof(*z->is))))
			return why_set(why, whylen, ENOMEM, "out of memory");
		isal.init(z->is);
		z->is->crc_flag = ISAL_GZIP;
		return 0;
	}
#endif
	/* 16 + MAX_WBITS: a gzip wrapper, its CRC32 and ISIZE checked by zlib */
	if (zl.init2(&z->zs, 16 + MAX_WBITS, ZLIB_VERSION, (int)sizeof(z_stream)) != Z_OK)
		return why_set(why, whylen, ENOMEM, "failed to start the gzip decoder");
	return 0;
}

struct inflate *inflate_open(int fd, const void *pre, size_t prelen, char *why, size_t whylen)
{
	struct inflate *z;

	if (load() == IMPL_NONE) {
		why_set(why, whylen, ELIBACC, "failed to load a gzip decoder: %s", impl_why);
		return NULL;
	}
	if (prelen > IN_SIZE) {
		why_set(why, whylen, EINVAL, "gzip decoder: %zu bytes read ahead", prelen);
		return NULL;
	}
	if (!(z = calloc(1, sizeof(*z)))) {
		why_set(why, whylen, ENOMEM, "out of memory");
		return NULL;
	}
	z->fd = fd;
	z->impl = impl;
	z->in = malloc(IN_SIZE);
	z->out = malloc(OUT_SIZE);
	if (!z->in || !z->out) {
		why_set(why, whylen, ENOMEM, "out of memory");
		inflate_close(z);
		return NULL;
	}
	if (start(z, why, whylen) < 0) {
		z->impl = IMPL_NONE; /* nothing to end */
		inflate_close(z);
		return NULL;
	}
	memcpy(z->in, pre, prelen);
	z->next = z->in;
	z->avail = prelen;
	z->between = 1; /* the first member is checked like the others */
	return z;
}

void inflate_close(struct inflate *z)
{
	int saved = errno;

	if (!z)
		return;
	if (z->impl == IMPL_ZLIB)
		zl.end(&z->zs);
#ifdef HAVE_ISAL
	free(z->is);
#endif
	free(z->in);
	free(z->out);
	free(z);
	errno = saved;
}
