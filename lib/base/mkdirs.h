/* mkdirs: mkdir -p. */
#ifndef MKDIRS_H
#define MKDIRS_H

#include <sys/types.h>

/* Make PATH and its missing parents with MODE (existing ones are left as they are).  0, or
 * -1 with errno; *bad (if not NULL) then points into a malloc'd copy of the component that
 * failed, which the caller frees. */
int mkdirs(const char *path, mode_t mode, char **bad);

#endif
