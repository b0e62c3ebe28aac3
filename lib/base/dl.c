/* dl: dlopen wrappers (see dl.h for why). */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

#include "base/dl.h"

static char dl_reason[256];

const char *dl_error(void)
{
	return dl_reason;
}

int dl_load(const char *const sonames[], const char *const syms[], void **ptrs, size_t n)
{
	void *h = NULL;
	const char *e;

	for (size_t i = 0; sonames[i] && !h; i++)
		h = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		e = dlerror();
		snprintf(dl_reason, sizeof(dl_reason), "%s", e ? e : sonames[0]);
		errno = ELIBACC;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		ptrs[i] = dlsym(h, syms[i]);
		if (!ptrs[i]) {
			snprintf(dl_reason, sizeof(dl_reason), "%s: missing symbol %s", sonames[0],
				 syms[i]);
			errno = ELIBACC;
			return -1;
		}
	}
	return 0;
}
