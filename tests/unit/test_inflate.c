/* test_inflate: the gzip decoder (lib/image/inflate.c) through ISA-L and, in a child with
 * ENROOT_NO_ISAL=1, through zlib: members made here from stored deflate blocks (so every
 * byte of header, data and trailer is known), one or several back to back, header fields,
 * trailing bytes, and damage: a wrong CRC32 or ISIZE, a cut at every part, reserved flags.
 * tests/layer-unpack.test does the same with gzip, pigz and real layers. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image/inflate.h"
#include "unit.h"

struct bytes {
	unsigned char *p;
	size_t len;
};

static void put(struct bytes *b, const void *p, size_t n)
{
	b->p = realloc(b->p, b->len + n + 1);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put32(struct bytes *b, uint32_t v)
{
	unsigned char le[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 24)};
	put(b, le, 4);
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffff;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320 : c >> 1;
	}
	return ~c;
}

/* One gzip member of DATA in stored blocks; FLG 0x1c adds FEXTRA, FNAME and FCOMMENT. */
static void member(struct bytes *b, const unsigned char *data, size_t n, unsigned char flg)
{
	unsigned char hdr[10] = {0x1f, 0x8b, 8, flg, 0, 0, 0, 0, 0, 3};
	size_t off = 0;

	put(b, hdr, sizeof(hdr));
	if (flg & 4)
		put(b,
		    "\x05\x00"
		    "ab\x02\x00x",
		    7); /* XLEN 5: one subfield "ab", 2 bytes */
	if (flg & 8)
		put(b, "name.tar", 9);
	if (flg & 16)
		put(b, "a comment", 10);
	do {
		size_t k = n - off > 65535 ? 65535 : n - off;
		unsigned char blk[5] = {off + k == n, (unsigned char)k, (unsigned char)(k >> 8),
					(unsigned char)~k, (unsigned char)(~k >> 8)};
		put(b, blk, 5);
		put(b, data + off, k);
		off += k;
	} while (off < n);
	put32(b, crc32_of(data, n));
	put32(b, (uint32_t)n);
}

/* Decode B (its first PRE bytes handed over as read ahead) into OUT; the last return code. */
static int decode(const struct bytes *b, size_t pre, struct bytes *out, char *why,
		  unsigned long *members)
{
	int fd = memfd_create("gz", MFD_CLOEXEC), r;
	struct inflate *z;
	const void *buf;
	size_t len;

	out->len = 0;
	if (fd < 0 || write(fd, b->p, b->len) != (ssize_t)b->len || lseek(fd, (off_t)pre, 0) < 0)
		return -2;
	if (!(z = inflate_open(fd, b->p, pre, why, 256)))
		return -3;
	while ((r = inflate_read(z, &buf, &len)) > 0)
		put(out, buf, len);
	snprintf(why, 256, "%s", r < 0 ? inflate_error(z) : "");
	if (members)
		*members = inflate_members(z);
	if (r == 0 && inflate_total(z) != out->len)
		r = -4;
	inflate_close(z);
	close(fd);
	return r;
}

/* B decodes to exactly WANT (WANTLEN bytes) in NMEMBERS members. */
static int decodes_to(const struct bytes *b, const unsigned char *want, size_t wantlen,
		      unsigned long nmembers)
{
	struct bytes out = {0};
	unsigned long m = 0;
	char why[256];
	int ok = 1;

	/* read ahead: the magic, into the data, all of a small stream (as tarwalk's first read) */
	size_t pres[] = {4, 40, b->len < 65536 ? b->len : 65536};

	for (size_t i = 0; i < 3; i++) {
		size_t pre = pres[i] < b->len ? pres[i] : b->len;
		int r = decode(b, pre, &out, why, &m);

		if (r || out.len != wantlen || memcmp(out.p ? out.p : (void *)"", want, wantlen) ||
		    m != nmembers) {
			printf("#   pre %zu: r %d, %zu bytes of %zu, %lu members, %s\n", pre, r,
			       out.len, wantlen, m, why);
			ok = 0;
		}
	}
	free(out.p);
	return ok;
}

/* B fails with a reason containing WANT, after handing out the good bytes (at least GOOD). */
static int fails_with(const struct bytes *b, const char *want, size_t good)
{
	struct bytes out = {0};
	char why[256];
	int r = decode(b, 4, &out, why, NULL), ok = r == -1 && strstr(why, want) && out.len >= good;

	if (!ok)
		printf("#   r %d, %zu bytes (want %zu), \"%s\" (want \"%s\")\n", r, out.len, good,
		       why, want);
	free(out.p);
	return ok;
}

static void cases(const char *impl)
{
	size_t big = 700 << 10; /* past the decoder's input and output buffers */
	unsigned char *data = malloc(big);
	struct bytes one = {0}, many = {0}, bad = {0}, all = {0};
	unsigned x = 1;

	for (size_t i = 0; i < big; i++)
		data[i] = (unsigned char)((x = x * 1103515245 + 12345) >> 16);
	CHECK_STR(inflate_impl(), impl);

	member(&one, data, 1, 0);
	CHECK(decodes_to(&one, data, 1, 1));
	free(one.p), one = (struct bytes){0};
	member(&one, data, big, 0x1c);
	CHECK(decodes_to(&one, data, big, 1));

	/* members back to back, as pigz and cat write them, an empty one among them */
	member(&many, data, 1000, 0);
	member(&many, data + 1000, 0, 8);
	member(&many, data + 1000, big - 1000, 0);
	CHECK(decodes_to(&many, data, big, 3));
	memcpy(&all, &many, sizeof(all));
	all.p = malloc(many.len + 1024), memcpy(all.p, many.p, many.len);
	memset(all.p + many.len, 0, 1000), all.len = many.len + 1000; /* trailing zeros */
	CHECK(decodes_to(&all, data, big, 3));
	all.p[many.len] = 0x1f, all.len = many.len + 1; /* a lone magic byte at the end */
	CHECK(decodes_to(&all, data, big, 3));

	/* a wrong CRC32, a wrong ISIZE: in the only member and in the last of several */
	put(&bad, one.p, one.len);
	bad.p[bad.len - 8] ^= 1;
	CHECK(fails_with(&bad, "corrupt gzip stream: CRC32 or size check failed", big));
	bad.p[bad.len - 8] ^= 1, bad.p[bad.len - 1] ^= 0x40;
	CHECK(fails_with(&bad, "corrupt gzip stream: CRC32 or size check failed", big));
	bad.len = 0;
	put(&bad, many.p, many.len);
	bad.p[bad.len - 5] ^= 0x80;
	CHECK(fails_with(&bad, "corrupt gzip stream: CRC32 or size check failed", big));

	/* cut in the header, in the data, in the trailer, and between a member's magic and the rest
	 */
	for (size_t cut = 1; cut <= 8; cut *= 2) {
		bad.len = 0;
		put(&bad, one.p, one.len - cut);
		CHECK(fails_with(&bad, "truncated gzip stream", 0));
	}
	bad.len = 0;
	put(&bad, one.p, 6);
	CHECK(fails_with(&bad, "truncated gzip stream", 0));
	bad.len = 0;
	put(&bad, one.p, one.len / 2);
	CHECK(fails_with(&bad, "truncated gzip stream", 0));
	bad.len = 0;
	put(&bad, many.p, many.len);
	put(&bad, "\x1f\x8b\x08\x00", 4);
	CHECK(fails_with(&bad, "truncated gzip stream", big));

	/* a reserved flag, a stored block whose length check is wrong, no gzip at all */
	bad.len = 0;
	put(&bad, one.p, one.len);
	bad.p[3] |= 0x20;
	CHECK(fails_with(&bad, "corrupt gzip stream: reserved header flags set", 0));
	bad.p[3] &= ~0x20;
	bad.p[10 + 7 + 9 + 10 + 3] ^= 1;
	CHECK(fails_with(&bad, "corrupt gzip stream", 0));
	bad.len = 0;
	put(&bad, "\x1f\x8c not gzip", 11);
	CHECK(fails_with(&bad, "not a gzip stream", 0));
	free(data), free(one.p), free(many.p), free(bad.p), free(all.p);
}

int main(void)
{
	int status = -1;
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) < 0)
		return 2;
	if (pid == 0) {
		setenv("ENROOT_NO_ISAL", "1", 1);
		printf("# zlib (ENROOT_NO_ISAL=1)\n");
		cases("zlib");
		exit(unit_done());
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	printf("# isa-l\n");
#if __has_include(<isa-l/igzip_lib.h>)
	cases("isa-l");
#else
	cases("zlib");
#endif
	return unit_done();
}
