/* sqfsbuf: buffer helpers of the squashfs writer (see sqfsbuf.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "image/sqfsbuf.h"

int sqfsbuf_grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need) {
		if (n > SIZE_MAX / 2 / size)
			return errno = ENOMEM, -1;
		n *= 2;
	}
	if (!(q = realloc(*p, n * size)))
		return -1;
	*p = q;
	*cap = n;
	return 0;
}
