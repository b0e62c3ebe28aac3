/* overlaydir: merge image layers that were unpacked each into its own directory (so that they
 * can be unpacked in parallel) onto the root tree, bottom-up, with the result of applying them
 * one after the other with lib/image/layer.h (spec §4.6; PITFALLS.md §3.2): whiteouts and opaque
 * markers applied in user space, a name replaced by another type and back, hard links kept.
 *
 * A layer is unpacked with layer_opts.record = overlaydir_record and record_ctx = its struct
 * overlaydir_layer, so its directory holds only real entries and the layer struct knows its
 * whiteouts, opaque directories, own directory entries and hard links to lower layers.
 * overlaydir_merge then, for that layer:
 *   1. removes what its whiteouts and opaque markers hide from the root tree;
 *   2. walks the layer's directory: a name the root lacks is moved in by rename(2) (a whole
 *      subtree at once); a directory present in both is merged recursively, and gets the
 *      layer's mode, times and user.* xattrs when the layer names it itself; anything else
 *      replaces what the root has.  A directory the layer only made as a parent follows a
 *      symbolic link in the root as layer_apply does (`lib -> usr/lib` then `lib/x`), and is
 *      dropped over a non-directory;
 *   3. makes its hard links to files of lower layers.
 * Paths in the root are opened with safepath's confinement: no symlink leads outside it.
 * Directories without u+rwx are opened up while merging and given their modes back after. */
#ifndef OVERLAYDIR_H
#define OVERLAYDIR_H

#include <limits.h>
#include <stddef.h>

#include "base/pathset.h"
#include "image/layer.h"

struct overlaydir_rec {
	enum layer_record what;
	char *path, *target;
};

/* What one layer's unpack recorded; zero it (or OVERLAYDIR_LAYER_INIT) before use. */
struct overlaydir_layer {
	struct pathset dirs; /* the directories the layer names itself */
	struct overlaydir_rec *recs;
	size_t nrecs, cap;
	unsigned long long skipped; /* hard links whose target is missing below too */
};

/* A layer_opts.record callback; CTX is a struct overlaydir_layer.  0, or -1 with ENOMEM. */
int overlaydir_record(void *ctx, enum layer_record what, const char *path, const char *target);

/* Merge the layer tree LAYER_FD (it is consumed: its entries move out) with what L recorded
 * onto the tree ROOT_FD.  Returns 0, or -1 with errno set and ERR->msg filled in. */
int overlaydir_merge(int root_fd, int layer_fd, struct overlaydir_layer *l,
		     struct layer_error *err);

/* Free what L holds; L is empty and reusable afterwards. */
void overlaydir_layer_free(struct overlaydir_layer *l);

#endif
