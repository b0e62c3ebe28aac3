/* fuzz_envsubst: ${NAME} substitution as env-subst applies it (lib/base/envfile.c, envfile_subst).
 * Besides memory errors it checks what substitution promises: text without "${" passes
 * unchanged, substituted values are never rescanned (so the output is bounded by the input
 * times the longest value), and every line formats without error afterwards. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/envfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LONGEST 12 /* strlen of the longest value below */

/* Only these variables exist, so the bound below holds for any ${NAME} the fuzzer writes. */
static void set_vars(void)
{
	clearenv();
	setenv("FZ", "v${FZ}${FZ}", 1); /* rescanning it would grow without bound */
	setenv("E", "", 1);
	setenv("NL", "a\nB=${E}", 1);
	setenv("Q", "\"'$(x)`y`", 1);
}

static int has_brace(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i + 1 < size; i++)
		if (data[i] == '$' && data[i + 1] == '{')
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int once;
	struct buf out = BUF_INIT, fmt = BUF_INIT;
	const char *in = (const char *)data;

	if (!once++)
		set_vars();
	if (envfile_subst(in, size, &out) < 0)
		abort();
	if (!has_brace(data, size) && (out.len != size || (size && memcmp(out.data, in, size))))
		abort();
	if (out.len > size * (LONGEST + 1))
		abort();
	if (envfile_format(out.data ? out.data : "", out.len, 0, &fmt) < 0)
		abort();
	buf_free(&out);
	buf_free(&fmt);
	return 0;
}
