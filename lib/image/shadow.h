/* shadow: the one rule set of a layered image, which both sinks of the layer engine follow:
 * lib/image/layer.c applying layers bottom-up onto a tree, lib/image/merge.c merging them
 * top-down into a squashfs image (spec §4.6; PITFALLS.md §3.1, §3.2; the OCI image layer
 * specification's "Whiteouts").
 *
 * Each entry of an upper layer (lib/image/tarwalk.h classifies them) does one thing to what
 * the layers below it have at its path and below it:
 *   a file, symbolic link, FIFO or hard link (a leaf) replaces whatever is at its path, a
 *     directory with all its contents included;
 *   a directory replaces a leaf at its path, and merges into a directory there: its mode,
 *     times and xattrs win, the contents of both stay;
 *   a whiteout `.wh.NAME` removes NAME, a directory with all its contents included;
 *   an opaque marker `.wh..wh..opq` removes what is below its directory, and keeps the
 *     directory itself.
 * Within a layer, entries apply in the archive's order: a leaf or a directory acts on what
 * earlier entries of its own layer made as on the lower layers (the last entry at a path
 * wins), while whiteouts and opaque markers act on the lower layers only, before or after this
 * layer's entries: what this layer has at the path, or below it, stays; so does a directory
 * this layer writes into, with the metadata the lower layers gave it.
 * A hard link is to its target as it is when the link is read (this layer's last entry at the
 * target before the link, else what the lower layers leave there, unless an earlier entry of
 * this layer removed it); a directory or nothing there: the link is skipped.  An entry whose
 * parent is not a directory at that moment is skipped; a parent that does not exist is made
 * (mode 0755 less the umask, the sink's own time); a symbolic link as a parent is followed,
 * inside the root. */
#ifndef SHADOW_H
#define SHADOW_H

#include "image/tarwalk.h"

/* What an entry is, for the rules. */
enum shadow_class { SHADOW_LEAF, SHADOW_DIR, SHADOW_WHITEOUT, SHADOW_OPAQUE, SHADOW_NCLASS };

/* What becomes of a lower object. */
enum shadow_fate {
	SHADOW_KEEP,  /* it stays as it is */
	SHADOW_MERGE, /* it stays, but the upper directory's metadata replaces its own */
	SHADOW_HIDE,  /* it goes */
};

/* The class of an entry of kind K (TAR_ROOT is the root directory's entry). */
enum shadow_class shadow_class(enum tar_kind k);

/* The fate of a lower object of class LOWER (SHADOW_LEAF or SHADOW_DIR) at the path of an
 * upper entry of class UPPER. */
enum shadow_fate shadow_at(enum shadow_class upper, enum shadow_class lower);

/* Whether an upper entry of class UPPER removes what the lower layers have below its path. */
int shadow_below(enum shadow_class upper);

/* Whether an entry of class C acts on the earlier entries of its own layer too. */
int shadow_own_layer(enum shadow_class c);

/* The fate of a lower object of class LOWER at a path where the upper layers (those above
 * LAYER) have the entries TOP describes: TOP[class] is the uppermost layer with an entry of
 * that class at the path, -1 for none.  The strongest fate wins. */
enum shadow_fate shadow_fate(const int top[SHADOW_NCLASS], int layer, enum shadow_class lower);

/* Whether the upper layers described by TOP remove what the layers up to LAYER have below
 * the path. */
int shadow_hides_below(const int top[SHADOW_NCLASS], int layer);

#endif
