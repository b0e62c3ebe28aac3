/* mkdirs: mkdir -p (see mkdirs.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/mkdirs.h"

int mkdirs(const char *path, mode_t mode, char **bad)
{
	char *p = strdup(path);
	int e;

	if (bad)
		*bad = NULL;
	if (!p)
		return -1;
	for (char *s = p + 1;; s++) {
		if (*s && *s != '/')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			goto fail;
		if (!(*s = c))
			break;
	}
	free(p);
	return 0;
fail:
	e = errno;
	if (bad)
		*bad = p;
	else
		free(p);
	errno = e;
	return -1;
}
