/* test_sha256: FIPS 180-4 / NIST vectors and streaming in odd chunk sizes, through libcrypto
 * and, in a child with ENROOT_NO_LIBCRYPTO=1, through the plain C code; both must give the
 * same digest of a pseudo-random megabyte fed in uneven pieces. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/sha256.h"
#include "unit.h"

static const char *hex_of(const char *s, size_t len)
{
	static char out[SHA256_HEX];

	sha256_hex(s, len, out);
	return out;
}

static void vectors(void)
{
	static const char m448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static const char m896[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
				   "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
	char *million = malloc(1000000), out[SHA256_HEX];
	unsigned char d[SHA256_LEN];
	struct sha256 c;

	CHECK_STR(hex_of("", 0),
		  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	CHECK_STR(hex_of("abc", 3),
		  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK_STR(hex_of(m448, strlen(m448)),
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	CHECK_STR(hex_of(m896, strlen(m896)),
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
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
	/* A hash dropped half done and started again (as a retried download does). */
	sha256_init(&c);
	sha256_update(&c, "junk", 4);
	sha256_init(&c);
	sha256_update(&c, "abc", 3);
	sha256_final(&c, d);
	sha256_tohex(d, out);
	CHECK_STR(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	free(million);
}

/* The digest of a pseudo-random megabyte fed in pieces of 1 to 70000 bytes. */
static void random_digest(char out[SHA256_HEX])
{
	size_t n = 1 << 20;
	unsigned char *buf = malloc(n), d[SHA256_LEN];
	unsigned x = 12345;
	struct sha256 c;

	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)((x = x * 1103515245 + 12345) >> 16);
	sha256_init(&c);
	for (size_t off = 0, step = 1; off < n; off += step, step = (step * 7 + 13) % 70000 + 1)
		sha256_update(&c, buf + off, off + step > n ? n - off : step);
	sha256_final(&c, d);
	sha256_tohex(d, out);
	free(buf);
}

int main(void)
{
	char mine[SHA256_HEX], theirs[SHA256_HEX] = "";
	int p[2], status = -1;
	pid_t pid;

	fflush(stdout);
	if (pipe(p) < 0 || (pid = fork()) < 0)
		return 2;
	if (pid == 0) { /* the C code, by the test switch */
		close(p[0]);
		setenv("ENROOT_NO_LIBCRYPTO", "1", 1);
		printf("# the plain C implementation\n");
		CHECK_STR(sha256_impl(), "c");
		vectors();
		random_digest(mine);
		if (write(p[1], mine, SHA256_HEX) != SHA256_HEX)
			return 2;
		exit(unit_done());
	}
	close(p[1]);
	CHECK(read(p[0], theirs, SHA256_HEX) == SHA256_HEX);
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	printf("# libcrypto\n");
#if __has_include(<openssl/sha.h>)
	CHECK_STR(sha256_impl(), "libcrypto");
#endif
	vectors();
	random_digest(mine);
	CHECK_STR(mine, theirs);
	return unit_done();
}
