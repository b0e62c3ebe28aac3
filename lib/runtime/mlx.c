/* mlx: enumerate and select Mellanox InfiniBand devices for the 99-mellanox hook. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/mlx.h"

/* The value of KEY= in the uevent file at path (a new string), or NULL (errno set; ENOENT
 * when the file has no such key). */
static char *uevent_get(const char *path, const char *key)
{
	struct buf b = BUF_INIT;
	size_t k = strlen(key);
	char *v = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	int rc = buf_read_fd(&b, fd, 64 * 1024);
	close(fd);
	for (char *l = b.data; rc == 0 && l && *l && !v;
	     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, k) && l[k] == '=')
			v = strndup(l + k + 1, strcspn(l + k + 1, "\n"));
	buf_free(&b);
	if (!v && rc == 0)
		errno = ENOENT;
	return v;
}

/* The name of the directory holding the file at path ("…/uverbs0/uevent" → "uverbs0"). */
static char *parent_name(const char *path)
{
	const char *end = strrchr(path, '/'), *start = end;

	while (start > path && start[-1] != '/')
		start--;
	return strndup(start, (size_t)(end - start));
}

/* Fill in the interface and the mad devices of the PCI function dir fn. */
static int add_function(struct mlx_dev *d, const char *fn)
{
	char pat[PATH_MAX + 32];
	glob_t g;
	int rc = 0;

	snprintf(pat, sizeof(pat), "%s/infiniband/*/uevent", fn);
	if (glob(pat, 0, NULL, &g) == 0) {
		d->iface = uevent_get(g.gl_pathv[0], "NAME");
		if (!d->iface && errno == ENOENT)
			d->iface = parent_name(g.gl_pathv[0]);
		rc = d->iface ? 0 : -1;
		globfree(&g);
	}
	snprintf(pat, sizeof(pat), "%s/infiniband_mad/*/uevent", fn);
	if (rc == 0 && glob(pat, 0, NULL, &g) == 0) {
		d->mad = calloc(g.gl_pathc, sizeof(char *));
		d->maddev = calloc(g.gl_pathc, sizeof(char *));
		rc = d->mad && d->maddev ? 0 : -1;
		for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++) {
			d->nmad++;
			d->mad[i] = parent_name(g.gl_pathv[i]);
			d->maddev[i] = uevent_get(g.gl_pathv[i], "DEVNAME");
			rc = d->mad[i] && d->maddev[i] ? 0 : -1;
		}
		globfree(&g);
	}
	return rc;
}

/* One verbs device from its uevent path …/drivers/mlxN_core/PCI/infiniband_verbs/X/uevent. */
static int add_device(struct mlx_dev *d, const char *uevent)
{
	const char *drv = strstr(uevent, "/drivers/mlx");
	char fn[PATH_MAX];

	memcpy(d->driver, drv + 9, 4);
	d->driver[4] = '\0';
	d->verbs = parent_name(uevent);
	d->devname = uevent_get(uevent, "DEVNAME");
	if (!d->verbs || !d->devname)
		return -1;
	snprintf(fn, sizeof(fn), "%.*s", (int)(strstr(uevent, "/infiniband_verbs/") - uevent),
		 uevent);
	return add_function(d, fn);
}

int mlx_enumerate(const char *sysfs, struct mlx_dev **devs, size_t *n)
{
	char pat[PATH_MAX];
	glob_t g;
	int rc;

	*devs = NULL;
	*n = 0;
	snprintf(pat, sizeof(pat), "%s/bus/pci/drivers/mlx[45]_core/*/infiniband_verbs/*/uevent",
		 sysfs);
	rc = glob(pat, 0, NULL, &g);
	if (rc == GLOB_NOMATCH)
		return 0;
	if (rc != 0)
		return errno = ENOMEM, -1;
	*devs = calloc(g.gl_pathc, sizeof(**devs));
	for (size_t i = 0; *devs && i < g.gl_pathc; i++) {
		(*n)++;
		if (add_device(&(*devs)[i], g.gl_pathv[i]) < 0) {
			int err = errno;
			globfree(&g);
			mlx_free(*devs, *n);
			*devs = NULL;
			*n = 0;
			return errno = err, -1;
		}
	}
	globfree(&g);
	return *devs ? 0 : (errno = ENOMEM, -1);
}

void mlx_free(struct mlx_dev *devs, size_t n)
{
	for (size_t i = 0; devs && i < n; i++) {
		for (size_t j = 0; j < devs[i].nmad; j++) {
			free(devs[i].mad[j]);
			free(devs[i].maddev[j]);
		}
		free(devs[i].mad);
		free(devs[i].maddev);
		free(devs[i].verbs);
		free(devs[i].devname);
		free(devs[i].iface);
	}
	free(devs);
}

int mlx_select(const char *spec, size_t n, unsigned char *chosen, char **bad)
{
	static const char sep[] = ", \t\n";

	*bad = NULL;
	memset(chosen, strcmp(spec, "all") ? 0 : 1, n);
	if (!strcmp(spec, "all"))
		return 0;
	for (const char *p = spec + strspn(spec, sep); *p; p += strspn(p, sep)) {
		size_t len = strcspn(p, sep), i = 0, k;
		for (k = 0; k < len && p[k] >= '0' && p[k] <= '9' && i <= n; k++)
			i = i * 10 + (size_t)(p[k] - '0');
		if (k < len || i >= n) {
			*bad = strndup(p, len);
			return -1;
		}
		chosen[i] = 1;
		p += len;
	}
	return 0;
}

/* Append prefix and path to b with the fstab escapes. */
static void add_path(struct buf *b, const char *prefix, const char *path)
{
	for (int i = 0; i < 2; i++)
		for (const char *p = i ? path : prefix; *p; p++) {
			if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\\')
				buf_printf(b, "\\%03o", (unsigned char)*p);
			else
				buf_addc(b, *p);
		}
}

/* Append "ROOT/REL /REL none OPTS" with ROOT the host root of the tree (sysfs or dev). */
static void add_bind(struct buf *b, const char *root, const char *tree, const char *rel,
		     const char *opts)
{
	add_path(b, root, rel);
	buf_addc(b, ' ');
	add_path(b, tree, rel);
	buf_printf(b, " none %s\n", opts);
}

int mlx_fstab(const char *sysfs, const char *dev, const struct mlx_dev *devs, size_t n,
	      const unsigned char *chosen, int superuser, struct buf *out)
{
	static const char *const classes[] = {"infiniband", "infiniband_verbs", "infiniband_cm",
					      "infiniband_mad"};
	static const char ro[] = "x-create=file,bind,ro,nosuid,noexec,nodev,private";
	static const char dev_ro[] = "x-create=file,bind,ro,nosuid,noexec,private";
	static const char dev_rw[] = "x-create=file,bind,rw,nosuid,noexec,private";
	char rel[PATH_MAX];

	for (size_t i = 0; i < 4; i++)
		buf_printf(out, "tmpfs /sys/class/%s tmpfs nosuid,noexec,nodev,mode=755,private\n",
			   classes[i]);
	for (size_t i = 1; i < 4; i++) {
		snprintf(rel, sizeof(rel), "/class/%s/abi_version", classes[i]);
		add_bind(out, sysfs, "/sys", rel, ro);
	}
	add_bind(out, dev, "/dev", "/infiniband/rdma_cm", dev_ro);
	for (size_t i = 0; i < n; i++) {
		if (!chosen[i])
			continue;
		snprintf(rel, sizeof(rel), "/%s", devs[i].devname);
		add_bind(out, dev, "/dev", rel, dev_ro);
		for (size_t j = 0; superuser && j < devs[i].nmad; j++) {
			snprintf(rel, sizeof(rel), "/%s", devs[i].maddev[j]);
			add_bind(out, dev, "/dev", rel, dev_rw);
		}
	}
	return out->data ? 0 : (errno = ENOMEM, -1);
}

/* Append "sys/class/CLASS/NAME TARGET" when SYSFS/class/CLASS/NAME resolves under sysfs. */
static int add_link(const char *sysfs, const char *real_sysfs, const char *class, const char *name,
		    struct buf *out)
{
	char path[PATH_MAX], real[PATH_MAX];
	size_t k = strlen(real_sysfs);

	snprintf(path, sizeof(path), "%s/class/%s/%s", sysfs, class, name);
	if (!realpath(path, real))
		return errno == ENOENT ? 0 : -1;
	if (strncmp(real, real_sysfs, k) || (real[k] != '/' && real[k] != '\0'))
		return 0; /* not a sysfs entry: never point the container elsewhere */
	buf_printf(out, "sys/class/%s/%s /sys%s\n", class, name, real + k);
	return 0;
}

int mlx_links(const char *sysfs, const struct mlx_dev *devs, size_t n, const unsigned char *chosen,
	      int superuser, struct buf *out)
{
	char real_sysfs[PATH_MAX];
	int rc = 0;

	if (!realpath(sysfs, real_sysfs))
		return -1;
	if (!strcmp(real_sysfs, "/"))
		real_sysfs[0] = '\0';
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (!chosen[i])
			continue;
		if (devs[i].iface)
			rc = add_link(sysfs, real_sysfs, "infiniband", devs[i].iface, out);
		if (rc == 0)
			rc = add_link(sysfs, real_sysfs, "infiniband_verbs", devs[i].verbs, out);
		for (size_t j = 0; rc == 0 && superuser && j < devs[i].nmad; j++)
			rc = add_link(sysfs, real_sysfs, "infiniband_mad", devs[i].mad[j], out);
	}
	return rc;
}
