/* fuzz_inflate: the input as a gzip stream for lib/image/inflate.c (ISA-L, or zlib with
 * ENROOT_NO_ISAL=1 in the environment of the run), read ahead by a few bytes as tarwalk does:
 * it must decode or fail with a reason, never crash, hang or read out of bounds, and the bytes
 * it hands out must add up to what it reports. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image/inflate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	size_t pre = size < 16 ? size : 16, len, sum = 0;
	struct inflate *z;
	const void *buf;
	char why[256];
	volatile unsigned char last;
	int r;

	if (fd < 0 && (fd = memfd_create("fuzz_inflate", MFD_CLOEXEC)) < 0)
		abort();
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size ||
	    lseek(fd, (off_t)pre, SEEK_SET) < 0)
		abort();
	if (!(z = inflate_open(fd, data, pre, why, sizeof(why))))
		abort();
	while ((r = inflate_read(z, &buf, &len)) > 0) {
		if (!len)
			abort();
		sum += len;
		last = ((const unsigned char *)buf)[len - 1]; /* the whole block is readable */
	}
	if (sum != inflate_total(z) || (r < 0 && !*inflate_error(z)))
		abort();
	(void)last;
	inflate_close(z);
	return 0;
}
