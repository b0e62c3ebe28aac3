/* fuzz_mlx: MELLANOX_VISIBLE_DEVICES parsing must accept any string without crashing or
 * leaking, and a success selects only indexes below n. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/mlx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char chosen[8] = {0}, guard = 0xa5;
	char *spec = strndup((const char *)data, size), *bad = NULL;
	size_t n = size ? data[0] % 8 : 3;

	if (!spec)
		return 0;
	chosen[n] = guard;
	if (mlx_select(spec, n, chosen, &bad) < 0 && !bad)
		abort();
	if (n < 8 && chosen[n] != guard)
		abort();
	free(bad);
	free(spec);
	return 0;
}
