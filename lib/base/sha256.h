/* sha256: streaming SHA-256 (FIPS 180-4), for verifying registry blobs and manifests. */
#ifndef SHA256_H
#define SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
#define SHA256_HEX 65 /* 64 hex digits and a NUL */

struct sha256 {
	uint32_t h[8];
	uint64_t total;		 /* bytes hashed so far */
	unsigned char block[64]; /* pending partial block */
	size_t used;
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
void sha256_final(struct sha256 *c, unsigned char out[SHA256_LEN]);
/* Lowercase hex of a digest. */
void sha256_tohex(const unsigned char d[SHA256_LEN], char out[SHA256_HEX]);
/* One-shot: lowercase hex of the SHA-256 of data. */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX]);

#endif
