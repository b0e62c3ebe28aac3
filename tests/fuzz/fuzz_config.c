/* Fuzz lib/base/config.c's line parsing: splitting, key filter, shell detection and the plain
 * value collapse must never crash, and a plain value never grows when collapsed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1), *key, *value, *plain;

	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	config_split(line, &key, &value);
	if (!config_needs_shell(value)) {
		plain = config_plain_value(value);
		if (plain && strlen(plain) > strlen(value))
			abort();
		free(plain);
	}
	(void)config_false_word(value);
	free(line);
	return 0;
}
