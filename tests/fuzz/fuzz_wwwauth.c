/* Fuzz lib/registry/wwwauth.c: the challenge comes from a remote server, so any bytes must parse or
 * fail cleanly, and a Bearer result always has a realm. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/wwwauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = strndup((const char *)data, size);
	struct wwwauth w;

	if (!s)
		return 0;
	if (wwwauth_parse(s, &w) == 0) {
		if (w.scheme == WWWAUTH_BEARER && !w.realm)
			abort();
		for (size_t i = 0; i < w.nparams; i++)
			if (!w.params[i].key[0])
				abort();
		wwwauth_free(&w);
	} else if (!w.error) {
		abort();
	}
	free(s);
	return 0;
}
