/* test_sha256: FIPS 180-4 / NIST vectors, and streaming in odd chunk sizes. */
#include <stdlib.h>

#include "base/sha256.h"
#include "unit.h"

static const char *hex_of(const char *s, size_t len)
{
	static char out[SHA256_HEX];

	sha256_hex(s, len, out);
	return out;
}

int main(void)
{
	static const char m448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	char *million = malloc(1000000), out[SHA256_HEX];
	unsigned char d[SHA256_LEN];
	struct sha256 c;

	CHECK_STR(hex_of("", 0),
		  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	CHECK_STR(hex_of("abc", 3),
		  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK_STR(hex_of(m448, strlen(m448)),
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* 55, 56 and 64 bytes: the padding boundaries. */
	CHECK_STR(hex_of("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 55),
		  "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
	CHECK_STR(hex_of("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 56),
		  "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
	CHECK_STR(hex_of("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 64),
		  "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
	/* One million 'a', fed in chunks of 1..97 bytes to exercise the partial-block path. */
	memset(million, 'a', 1000000);
	sha256_init(&c);
	for (size_t off = 0, step = 1; off < 1000000; off += step, step = step % 97 + 1)
		sha256_update(&c, million + off, off + step > 1000000 ? 1000000 - off : step);
	sha256_final(&c, d);
	sha256_tohex(d, out);
	CHECK_STR(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	CHECK_STR(hex_of(million, 1000000),
		  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(million);
	return unit_done();
}
