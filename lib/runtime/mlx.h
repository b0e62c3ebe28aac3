/* mlx: the InfiniBand side of the 99-mellanox hook (spec §10): find the mlx4/mlx5 verbs
 * devices under a sysfs root, pick the ones MELLANOX_VISIBLE_DEVICES names, and describe
 * what the container gets: fstab text and sysfs class symlinks. The sysfs and /dev roots
 * are parameters so that the logic runs against any tree (tests build one). */
#ifndef MLX_H
#define MLX_H

#include <stddef.h>

#include "base/buf.h"

/* One verbs device (one index of MELLANOX_VISIBLE_DEVICES), in glob order of
 * SYSFS/bus/pci/drivers/mlx?_core/PCI/infiniband_verbs/NAME. */
struct mlx_dev {
	char driver[8]; /* "mlx4" or "mlx5" */
	char *verbs;	/* class entry of the verbs device: "uverbs0" */
	char *devname;	/* its DEVNAME (under /dev): "infiniband/uverbs0" */
	char *iface;	/* class entry under infiniband/ of the same function ("mlx5_0"), or NULL */
	char **mad;	/* class entries under infiniband_mad/ ("umad0", "issm0") */
	char **maddev;	/* their DEVNAMEs ("infiniband/umad0") */
	size_t nmad;
};

/* Enumerate the devices under sysfs (normally "/sys"). No device is not an error: *n = 0.
 * Returns 0, or -1 with errno (out of memory, an unreadable uevent). */
int mlx_enumerate(const char *sysfs, struct mlx_dev **devs, size_t *n);
void mlx_free(struct mlx_dev *devs, size_t n);

/* Parse MELLANOX_VISIBLE_DEVICES ("all", or indexes separated by commas or blanks, as the
 * shell hook's word splitting reads them) against n devices into chosen[0..n). Returns 0, or -1
 * with *bad a new string holding the first invalid index (not a decimal number, or not below n). */
int mlx_select(const char *spec, size_t n, unsigned char *chosen, char **bad);

/* The fstab text (enroot's dialect, targets inside the container): tmpfs masks over
 * /sys/class/infiniband{,_verbs,_cm,_mad}, the abi_version files and rdma_cm bound back,
 * then a read-only bind of each chosen verbs device, and with superuser its umad and issm
 * devices. Sources are under sysfs and dev (normally "/sys" and "/dev"). */
int mlx_fstab(const char *sysfs, const char *dev, const struct mlx_dev *devs, size_t n,
	      const unsigned char *chosen, int superuser, struct buf *out);

/* The class symlinks of the chosen devices, one "LINK TARGET\n" line each: LINK relative to
 * the container root ("sys/class/infiniband/mlx5_0"), TARGET the entry's real path with the
 * sysfs root replaced by /sys ("/sys/devices/pci0000:00/.../infiniband/mlx5_0"). An entry
 * whose class link is missing is skipped. Returns 0, or -1 with errno. */
int mlx_links(const char *sysfs, const struct mlx_dev *devs, size_t n, const unsigned char *chosen,
	      int superuser, struct buf *out);

#endif
