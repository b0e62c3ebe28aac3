/* decode: our layer-reading steps alone, for tests/bench/inflate.sh.
 *   decode gunzip FILE...   gzip-decode each file (lib/image/inflate.h), data dropped
 *   decode walk FILE...     read each layer through tarwalk (decode + tar parse), data dropped
 *   decode sha256 FILE...   sha256 of each file (lib/base/sha256.h), as the blob cache hashes
 * Prints the bytes handled and the implementation used (ENROOT_NO_ISAL, ENROOT_NO_LIBCRYPTO
 * select the fallbacks).  Built by the bench script against build/obj. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/sha256.h"
#include "image/inflate.h"
#include "image/tarwalk.h"

static unsigned long long gunzip(int fd)
{
	unsigned char pre[4];
	char why[256];
	ssize_t n = read(fd, pre, sizeof(pre));
	struct inflate *z = n > 0 ? inflate_open(fd, pre, (size_t)n, why, sizeof(why)) : NULL;
	unsigned long long total;
	const void *buf;
	size_t len;
	int r;

	if (!z)
		return fprintf(stderr, "decode: %s\n", n > 0 ? why : "empty"), exit(1), 0;
	while ((r = inflate_read(z, &buf, &len)) > 0)
		;
	if (r < 0)
		fprintf(stderr, "decode: %s\n", inflate_error(z)), exit(1);
	total = inflate_total(z);
	inflate_close(z);
	return total;
}

static unsigned long long walk(int fd)
{
	struct layer_opts o = {0};
	struct layer_stats st;
	struct layer_error err;
	struct tarwalk *t = tarwalk_open(fd, &o, &st, &err);
	const struct tar_entry *e;
	const void *buf;
	size_t len;
	uint64_t off;
	int r = t ? 1 : -1;

	while (r > 0 && (r = tarwalk_next(t, &e)) > 0) {
		if (e->kind != TAR_FILE)
			continue;
		while ((r = tarwalk_block(t, &buf, &len, &off)) > 0)
			;
		r = r < 0 ? r : 1;
	}
	if (r < 0)
		fprintf(stderr, "decode: %s\n", err.msg), exit(1);
	tarwalk_close(t);
	return st.bytes;
}

static unsigned long long hash(int fd)
{
	static unsigned char buf[1 << 20];
	unsigned long long total = 0;
	unsigned char d[SHA256_LEN];
	char hex[SHA256_HEX];
	struct sha256 c;
	ssize_t n;

	sha256_init(&c);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sha256_update(&c, buf, (size_t)n), total += (unsigned long long)n;
	sha256_final(&c, d);
	sha256_tohex(d, hex);
	printf("%s\n", hex);
	return total;
}

int main(int argc, char **argv)
{
	unsigned long long (*fn)(int) = NULL, total = 0;

	if (argc > 1)
		fn = !strcmp(argv[1], "gunzip")	  ? gunzip
		     : !strcmp(argv[1], "walk")	  ? walk
		     : !strcmp(argv[1], "sha256") ? hash
						  : NULL;
	if (!fn)
		return fprintf(stderr, "usage: decode gunzip|walk|sha256 FILE...\n"), 1;
	for (int i = 2; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return perror(argv[i]), 1;
		total += fn(fd);
		close(fd);
	}
	fprintf(stderr, "decode: %llu bytes (%s, %s)\n", total, inflate_impl(), sha256_impl());
	return 0;
}
