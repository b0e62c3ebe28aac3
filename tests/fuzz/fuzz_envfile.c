/* Fuzz lib/base/envfile.c: substitution, formatting and merging must never crash or leak, and
 * formatting its own output must be a fixed point for lines without quotes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/envfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a = BUF_INIT, b = BUF_INIT;

	setenv("FZ", "v${FZ}\n\"X=1", 0);
	if (envfile_format((const char *)data, size, 1, &a) == 0 &&
	    envfile_merge(a.data ? a.data : "", a.len, &b) == 0 && b.len > a.len)
		abort();
	buf_free(&a);
	buf_free(&b);
	return 0;
}
