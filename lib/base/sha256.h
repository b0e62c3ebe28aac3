/* sha256: streaming SHA-256 (FIPS 180-4), for verifying registry blobs and manifests.
 *
 * Hashing is done by libcrypto (OpenSSL 3's SHA-256, which uses the SHA-NI or AVX2
 * instructions where the CPU has them: about 4x our plain C on the machines we measured,
 * tests/bench/RESULTS.md), dlopen'ed (libcrypto.so.3, lib/base/dl.h) on the first sha256_init,
 * so a program that hashes nothing never maps it.  Where it cannot be loaded, or the build had
 * no <openssl/sha.h>, the plain C implementation in sha256.c is used.  ENROOT_NO_LIBCRYPTO=1
 * (a debugging and test switch, not a configuration setting) takes the C code anyway.
 *
 * A struct sha256 is a plain value: it holds no allocation, so a hash may be dropped half
 * done, or started again with sha256_init, without a leak. */
#ifndef SHA256_H
#define SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
#define SHA256_HEX 65 /* 64 hex digits and a NUL */

struct sha256 {
	union {
		struct sha256_c {
			uint32_t h[8];
			uint64_t total;		 /* bytes hashed so far */
			unsigned char block[64]; /* pending partial block */
			size_t used;
		} c;				     /* the C implementation's state */
		_Alignas(8) unsigned char ossl[128]; /* libcrypto's SHA256_CTX */
	} u;
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
void sha256_final(struct sha256 *c, unsigned char out[SHA256_LEN]);
/* Lowercase hex of a digest. */
void sha256_tohex(const unsigned char d[SHA256_LEN], char out[SHA256_HEX]);
/* One-shot: lowercase hex of the SHA-256 of data. */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX]);
/* The implementation this process uses: "libcrypto" or "c" (loading libcrypto if needed). */
const char *sha256_impl(void);

#endif
