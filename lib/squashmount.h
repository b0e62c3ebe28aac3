/* squashmount: start a squashfs image directly (spec §8.3): squashfuse on RUNTIME/overlay/lower,
 * then an overlay (kernel, or fuse-overlayfs) with the upper layer on the runtime tmpfs. */
#ifndef SQUASHMOUNT_H
#define SQUASHMOUNT_H

#include "buf.h"

/* Mount IMAGE so that RUNTIME/overlay becomes the rootfs, through a shim process that stops
 * itself once the mounts are up and that, with its FUSE daemons, goes away when the calling
 * process (the container) is gone: its process group is then orphaned while stopped, so the
 * kernel sends it SIGHUP and SIGCONT. native selects the kernel overlay. Call it inside the
 * container's mount namespace. Returns 0, or -1 with the daemons' diagnostics in err. */
int squashmount_start(const char *image, const char *runtime, int native, struct buf *err);

#endif
