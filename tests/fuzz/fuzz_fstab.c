/* fuzz_fstab: lexing, shorthand completion and option parsing of fstab lines (pure: nothing
 * is mounted). Every line of the input goes through the whole chain. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "runtime/fstab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fstab_entry e;
static struct fstab_opts o;

static void one_line(const char *line, size_t n)
{
	if (n > FSTAB_LINE_MAX - 1 || fstab_parse_line(line, n, &e) != 1)
		return;
	(void)fstab_parse_options(e.options, &o);
	if (fstab_complete(&e) < 0)
		return;
	if (!*e.source || !*e.target || !*e.type)
		__builtin_trap();
	if (fstab_parse_options(e.options, &o) == 0 && strlen(o.data) > strlen(e.options))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;

	while (size > 0) {
		const char *nl = memchr(p, '\n', size);
		size_t n = nl ? (size_t)(nl - p) : size;
		one_line(p, n);
		p += n + (nl != NULL);
		size -= n + (nl != NULL);
	}
	return 0;
}
