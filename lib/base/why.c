/* why: format a failure reason into the caller's buffer (see why.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "base/why.h"

int why_set(char *why, size_t whylen, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	errno = err;
	return -1;
}
