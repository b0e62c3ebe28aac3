/* fuzz_mountinfo: parsing proc_pid_mountinfo(5) text and looking paths up in it. */
#include <stddef.h>
#include <stdint.h>

#include "runtime/mountinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mountinfo mi;

	if (mountinfo_parse(&mi, (const char *)data, size) < 0)
		return 0;
	for (size_t i = 0; i < mi.n; i++) {
		(void)mountinfo_propagation(&mi.e[i]);
		(void)mountinfo_has_option(mi.e[i].options, "ro");
	}
	(void)mountinfo_find(&mi, "/proc/self");
	(void)mountinfo_find(&mi, "/");
	mountinfo_free(&mi);
	return 0;
}
