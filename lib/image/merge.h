/* merge: image layers merged top-down, while streaming, straight into a squashfs image
 * (lib/image/sqfs.h): no extracted tree, no whiteout files, every surviving file's data read once
 * from its compressed stream and written once (spec §4.6, §4.8; PITFALLS.md §3.1, §3.2).
 *
 * Feed the uppermost "layer" first (the image configuration files, merge_file/merge_mkdir),
 * then the layers from the top one down (merge_layer).  Each layer's whiteouts and opaque
 * markers are remembered as shadows, so what a lower layer defines under them, or at a path an
 * upper layer already defines, is skipped without being written.  The result equals what
 * lib/image/layer.c gives applying the layers bottom-up onto one tree (its header states the path
 * rules), except directory times, which come from the directory's topmost definition (the
 * tree gets the extraction time where a layer changed a directory it did not define).
 *
 * A hard link to a file an upper layer shadowed (replaced, or whited out: the link keeps the
 * data) makes that layer be read a second time for those files only.  The few layouts a
 * top-down pass cannot decide without the lower layers' tree (an upper layer writing through
 * what turns out to be a lower symlinked or non-directory parent, a type change of a directory
 * within one layer, a hard link to a lower layer's file with a whiteout or a replaced parent in
 * between, or to a target no layer defines) make merge_* return MERGE_FALLBACK with the reason
 * in err->msg: the caller then takes the extract path.  Not thread-safe. */
#ifndef MERGE_H
#define MERGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "image/layer.h"
#include "image/sqfs.h"

#define MERGE_FALLBACK (-2)

struct merge;

/* A merge of NLAYERS layers into W.  NOW stamps the directories the merge creates itself, with
 * DIRMODE (0755 & ~umask, as mkdir gives the extract path); the root directory too.  NULL with
 * errno. */
struct merge *merge_new(struct sqfs *w, size_t nlayers, uint32_t now, mode_t dirmode);
void merge_free(struct merge *m);

/* The uppermost layer (before any merge_layer): the regular file PATH (normalized) holding
 * DATA, replacing whatever the layers have there; and the directory PATH made as `mkdir -p`
 * would (mode 0755, missing components only).  0, -1 with errno, or MERGE_FALLBACK. */
int merge_file(struct merge *m, const char *path, const void *data, size_t len, mode_t mode,
	       struct layer_error *err);
int merge_mkdir(struct merge *m, const char *path, struct layer_error *err);

/* Merge the next layer down, read from FD (a file: it may be read twice) with O's
 * compression and warn callback; ST (zeroed here) gets the counts.  0, -1 with errno and
 * ERR->msg, or MERGE_FALLBACK with the reason in ERR->msg. */
int merge_layer(struct merge *m, int fd, const struct layer_opts *o, struct layer_stats *st,
		struct layer_error *err);

/* After the last layer: build the directories and finish the image.  0, -1, MERGE_FALLBACK. */
int merge_finish(struct merge *m, struct layer_error *err);

#endif
