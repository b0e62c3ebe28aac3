/* fuzz_logindefs: the login.defs parser must accept any bytes without crashing or leaking, and
 * every key it stores must be found again. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/logindefs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct logindefs d = LOGINDEFS_INIT;

	if (logindefs_parse(&d, (const char *)data, size) == 0) {
		for (size_t i = 0; i < d.n; i++) {
			const char *v = logindefs_get(&d, d.keys[i]);

			if (!v || strpbrk(v, " \t\"\n"))
				abort();
		}
		(void)logindefs_yes(&d, "USERGROUPS_ENAB");
	}
	logindefs_free(&d);
	return 0;
}
