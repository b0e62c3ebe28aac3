/* sha256: SHA-256 through libcrypto, or a plain implementation of FIPS 180-4 (see sha256.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if __has_include(<openssl/sha.h>)
/* SHA256_Init/Update/Final, not EVP: the same SHA-NI code (measured equal throughput), no heap
 * context to free (sha256.h), and 5x cheaper for a small hash.  Deprecated in OpenSSL 3 but
 * part of libcrypto.so.3; where a build lacks them the C code is used. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#define HAVE_LIBCRYPTO 1
#endif

#include "base/dl.h"
#include "base/sha256.h"

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

/* Compress one 64-byte block into the state. */
static void compress(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, k, t1, t2;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
	for (int i = 0; i < 64; i++) {
		t1 = k + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
		t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		k = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

typedef struct sha256_c C;

static void c_init(C *c)
{
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

	memcpy(c->h, iv, sizeof(iv));
	c->total = 0;
	c->used = 0;
}

static void c_update(C *c, const void *data, size_t len)
{
	const unsigned char *p = data;

	c->total += len;
	if (c->used) {
		size_t n = 64 - c->used < len ? 64 - c->used : len;
		memcpy(c->block + c->used, p, n);
		c->used += n, p += n, len -= n;
		if (c->used < 64)
			return;
		compress(c->h, c->block);
		c->used = 0;
	}
	for (; len >= 64; p += 64, len -= 64)
		compress(c->h, p);
	memcpy(c->block, p, len);
	c->used = len;
}

static void c_final(C *c, unsigned char out[SHA256_LEN])
{
	uint64_t bits = c->total * 8;

	c->block[c->used++] = 0x80;
	if (c->used > 56) {
		memset(c->block + c->used, 0, 64 - c->used);
		compress(c->h, c->block);
		c->used = 0;
	}
	memset(c->block + c->used, 0, 56 - c->used);
	for (int i = 0; i < 8; i++)
		c->block[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
	compress(c->h, c->block);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(c->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)c->h[i];
	}
}

#ifdef HAVE_LIBCRYPTO
_Static_assert(sizeof(SHA256_CTX) <= sizeof(((struct sha256 *)0)->u.ossl),
	       "struct sha256 must hold a SHA256_CTX");

static struct {
	int (*init)(SHA256_CTX *);
	int (*update)(SHA256_CTX *, const void *, size_t);
	int (*final)(unsigned char *, SHA256_CTX *);
} ossl;

static const char *const ossl_names[] = {"SHA256_Init", "SHA256_Update", "SHA256_Final"};
_Static_assert(sizeof(ossl) == sizeof(ossl_names) / sizeof(ossl_names[0]) * sizeof(void *),
	       "ossl and ossl_names must list the same functions");
#endif

static int use_ossl;

static void load_once(void)
{
#ifdef HAVE_LIBCRYPTO
	static const char *const sonames[] = {"libcrypto.so.3", NULL};
	const char *no = getenv("ENROOT_NO_LIBCRYPTO");

	if (no && *no && strcmp(no, "0"))
		return;
	use_ossl = dl_load(sonames, ossl_names, (void **)&ossl,
			   sizeof(ossl_names) / sizeof(ossl_names[0])) == 0;
#endif
}

/* Decide once per process (on the first hash, also from several threads) which code hashes. */
static void load(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, load_once);
}

const char *sha256_impl(void)
{
	load();
	return use_ossl ? "libcrypto" : "c";
}

void sha256_init(struct sha256 *c)
{
	load();
#ifdef HAVE_LIBCRYPTO
	if (use_ossl) {
		ossl.init((SHA256_CTX *)c->u.ossl);
		return;
	}
#endif
	c_init(&c->u.c);
}

void sha256_update(struct sha256 *c, const void *data, size_t len)
{
#ifdef HAVE_LIBCRYPTO
	if (use_ossl) {
		ossl.update((SHA256_CTX *)c->u.ossl, data, len);
		return;
	}
#endif
	c_update(&c->u.c, data, len);
}

void sha256_final(struct sha256 *c, unsigned char out[SHA256_LEN])
{
#ifdef HAVE_LIBCRYPTO
	if (use_ossl) {
		ossl.final(out, (SHA256_CTX *)c->u.ossl);
		return;
	}
#endif
	c_final(&c->u.c, out);
}

void sha256_tohex(const unsigned char d[SHA256_LEN], char out[SHA256_HEX])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < SHA256_LEN; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
}

void sha256_hex(const void *data, size_t len, char out[SHA256_HEX])
{
	struct sha256 c;
	unsigned char d[SHA256_LEN];

	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final(&c, d);
	sha256_tohex(d, out);
}
