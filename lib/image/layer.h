/* layer: apply one OCI/Docker image layer (tar, tar+gzip, tar+zstd) onto a directory tree,
 * unprivileged and confined to that tree (spec §4.6, §6.4; PITFALLS.md §3.1, §3.2).
 *
 * Layers are applied bottom-up onto the same directory: a whiteout `.wh.NAME` removes what lower
 * layers left at NAME, `.wh..wh..opq` removes everything lower layers left in its directory but
 * keeps this layer's entries (before or after the marker).  No mknod, no overlay xattrs, no
 * capabilities: it works on any filesystem.  libarchive is loaded with dlopen on first use.
 *
 * Path rules: names are normalized lexically (leading "/" and "./" stripped, ".." resolved);
 * a name that climbs above the root is skipped.  Intermediate components are resolved with
 * openat2(RESOLVE_IN_ROOT): a symlink there (from a lower layer or earlier in this one) is
 * followed as the container would see it, so `lib -> usr/lib` then `lib/x` lands in usr/lib,
 * but it can never lead outside the root.  The final component is never followed.  Whiteouts
 * are matched against this layer's entries by name as written in the layer, so a whiteout
 * reached through a symlinked directory may remove what this layer wrote under the target's
 * own name: only inside the root, and only for layers that mix the two spellings. */
#ifndef LAYER_H
#define LAYER_H

#include "image/tarwalk.h" /* struct layer_opts, layer_stats, layer_error */

/* The default of ENROOT_MAX_LAYER_SIZE (our extension): the most bytes one layer's tar stream
 * may decompress to, far above any real layer, low enough to stop a decompression bomb before
 * it fills a disk.  0 in the setting means no limit. */
#define LAYER_MAX_SIZE (64ULL << 30)

/* ENROOT_MAX_LAYER_SIZE into *MAX (LAYER_MAX_SIZE when unset or empty); -1 with errno EINVAL
 * when it is not a size (lib/base/size.h). */
int layer_max_size(unsigned long long *max);

/* Map an OCI or Docker layer media type to a compression; -1 when it is not a layer type. */
int layer_media_type(const char *media_type);

/* Read the layer from IN_FD (a file or a pipe) and apply it onto the tree under ROOT_FD (any
 * directory fd, O_PATH is fine).  ST (zeroed here) gets counts.  Returns 0, or -1 with errno
 * set and ERR->msg filled in; the tree then holds part of the layer and IN_FD is not drained.
 * Safe to call from several threads at once on different trees.  Skipped entries (device
 * nodes, sockets, names leaving the root, bad hard links, unsupported whiteouts, names over
 * PATH_MAX) are reported through O->warn and counted, and do not fail the layer. */
int layer_apply(int in_fd, int root_fd, const struct layer_opts *o, struct layer_stats *st,
		struct layer_error *err);

#endif
