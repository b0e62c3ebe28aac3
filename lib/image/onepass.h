/* onepass: the one-pass image writer: an image configuration as the uppermost layer, then
 * the layers top-down (lib/image/merge.h) straight into a squashfs file (lib/image/sqfs.h),
 * no extracted tree.  Used by the layer-squash applet and by `enroot import`.  Functions
 * return 0, -1 (with errno and a message in p->err.msg) or MERGE_FALLBACK (the reason in
 * p->err.msg: the options or the layers need the extract+mksquashfs path). */
#ifndef ONEPASS_H
#define ONEPASS_H

#include <stddef.h>
#include <stdint.h>

#include "image/imgconfig.h"
#include "image/layer.h"

struct onepass {
	struct sqfs *w;
	struct merge *m;
	struct layer_error err;
	int fd;
	/* Entries a layer skips (devices, names too long): set by the caller, may be NULL. */
	void (*warn)(void *ctx, const char *path, const char *reason);
};

/* Start the image in FD (a regular file, truncated here, owned by the caller) for NLAYERS
 * layers.  Options: ENROOT_SQUASH_OPTIONS and SOURCE_DATE_EPOCH.  Without -all-time, the
 * directories the merge makes, the configuration files and the superblock take the time
 * CREATED (the image config's `created`), so that the image depends on nothing but its
 * inputs.  A compressor that cannot be loaded is a MERGE_FALLBACK. */
int onepass_open(struct onepass *p, int fd, size_t nlayers, uint32_t created);

/* The configuration files and directories of IC (spec 4.7) as the uppermost layer. */
int onepass_config(struct onepass *p, const struct imgconfig *ic);

/* Merge the layer in FD (compression from MEDIA_TYPE, NULL: detected; at most MAX bytes
 * uncompressed, 0: no limit) as the next one down.  *BAD is set when the blob itself does not
 * unpack (corrupt, not a tar, over the limit), so that the caller can evict it. */
int onepass_layer(struct onepass *p, int fd, const char *media_type, unsigned long long max,
		  int *bad);

/* After the last layer: the directories, the tables, the superblock. */
int onepass_finish(struct onepass *p);
void onepass_close(struct onepass *p);

#endif
