/* pathset: a hash map from relative paths to small records, for the paths one layer touches.
 *
 * Applying a layer needs to know, for every whiteout, which paths the current layer already
 * created (so an opaque marker keeps them), and which directories need their real mode and
 * times restored at the end.  A rescan per entry is quadratic (charliecloud#863); this is O(1). */
#ifndef PATHSET_H
#define PATHSET_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

enum {
	PATHSET_LAYER = 1, /* an entry of the current layer, or an ancestor of one */
	PATHSET_MODE = 2,  /* a directory whose mode must be set to .mode at the end */
	PATHSET_TIMES = 4, /* a directory whose times must be set to .ts at the end */
};

struct pathent {
	char *path; /* owned; NULL marks a free slot */
	unsigned flags;
	mode_t mode;
	struct timespec ts[2];
};

struct pathset {
	struct pathent *tab;
	size_t cap; /* a power of two, or 0 */
	size_t len;
};

/* Find PATH, or NULL. */
struct pathent *pathset_get(const struct pathset *s, const char *path);
/* Find PATH or add it with no flags; NULL with errno ENOMEM. */
struct pathent *pathset_add(struct pathset *s, const char *path);
/* Free every path and the table; the set is empty and reusable afterwards. */
void pathset_free(struct pathset *s);

#endif
