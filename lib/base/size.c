/* size: parse byte counts with an optional binary suffix (see size.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/size.h"

int size_parse(const char *s, unsigned long long *out)
{
	static const char units[] = "kmgt";
	const char *u;
	unsigned long long v;
	char *end;
	int shift;

	if (!s || *s < '0' || *s > '9')
		return errno = EINVAL, -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	shift = 0;
	if (*end && (u = strchr(units, *end | 0x20)) && *u) {
		shift = 10 * (int)(u - units + 1);
		end++;
	}
	if (*end)
		return errno = EINVAL, -1;
	if (shift && v > (~0ULL >> shift))
		return errno = ERANGE, -1;
	*out = v << shift;
	return 0;
}
