/* squashmount: start a squashfs image directly (spec §8.3): squashfuse on RUNTIME/overlay/lower,
 * then an overlay (kernel, or fuse-overlayfs) with the upper layer on the runtime tmpfs. */
#ifndef SQUASHMOUNT_H
#define SQUASHMOUNT_H

#include "base/buf.h"

/* Mount IMAGE so that RUNTIME/overlay becomes the rootfs: the FUSE daemons are our children
 * and the kernel kills them when the calling process (the container, after its exec) ends,
 * however it ends (PR_SET_PDEATHSIG), so nothing outlives it. native selects the kernel
 * overlay. Call it inside the container's mount namespace, single-threaded. Returns 0, or
 * -1 with the daemons' diagnostics in err. */
int squashmount_start(const char *image, const char *runtime, int native, struct buf *err);

#endif
