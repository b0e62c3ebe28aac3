/* test_mlx: enumeration, selection, fstab text and class links of the 99-mellanox hook,
 * against a sysfs-shaped tree built here (two PCI functions: mlx4 with two ports, mlx5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/mlx.h"
#include "unit.h"

static char root[64];

/* mkdir -p ROOT/rel. */
static void mkdirs(const char *rel)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	mkdir(p, 0755);
}

static void put(const char *rel, const char *text)
{
	char p[1024];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
}

static void link_(const char *target, const char *rel)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (symlink(target, p) < 0)
		perror(p);
}

/* One PCI function with its class entries (uverbs, interface, mad devices). */
static void function(const char *drv, const char *pci, const char *verbs, const char *iface,
		     const char *const mad[])
{
	char dir[128], p[400], t[400];

	snprintf(dir, sizeof(dir), "devices/pci0000:00/%s", pci);
	snprintf(p, sizeof(p), "%s/infiniband_verbs/%s", dir, verbs);
	mkdirs(p);
	snprintf(p, sizeof(p), "%s/infiniband_verbs/%s/uevent", dir, verbs);
	snprintf(t, sizeof(t), "MAJOR=231\nMINOR=192\nDEVNAME=infiniband/%s\n", verbs);
	put(p, t);
	snprintf(p, sizeof(p), "%s/infiniband/%s", dir, iface);
	mkdirs(p);
	snprintf(p, sizeof(p), "%s/infiniband/%s/uevent", dir, iface);
	snprintf(t, sizeof(t), "NAME=%s\n", iface);
	put(p, t);
	for (int i = 0; mad && mad[i]; i++) {
		snprintf(p, sizeof(p), "%s/infiniband_mad/%s", dir, mad[i]);
		mkdirs(p);
		snprintf(p, sizeof(p), "%s/infiniband_mad/%s/uevent", dir, mad[i]);
		snprintf(t, sizeof(t), "DEVNAME=infiniband/%s\n", mad[i]);
		put(p, t);
		snprintf(p, sizeof(p), "class/infiniband_mad/%s", mad[i]);
		snprintf(t, sizeof(t), "../../%s/infiniband_mad/%s", dir, mad[i]);
		link_(t, p);
	}
	snprintf(p, sizeof(p), "bus/pci/drivers/%s_core/%s", drv, pci);
	snprintf(t, sizeof(t), "../../../../%s", dir);
	link_(t, p);
	snprintf(p, sizeof(p), "class/infiniband/%s", iface);
	snprintf(t, sizeof(t), "../../%s/infiniband/%s", dir, iface);
	link_(t, p);
	snprintf(p, sizeof(p), "class/infiniband_verbs/%s", verbs);
	snprintf(t, sizeof(t), "../../%s/infiniband_verbs/%s", dir, verbs);
	link_(t, p);
}

static void build(void)
{
	static const char *const mad4[] = {"issm0", "issm1", "umad0", "umad1", NULL};
	static const char *const mad5[] = {"issm2", "umad2", NULL};

	mkdirs("bus/pci/drivers/mlx4_core");
	mkdirs("bus/pci/drivers/mlx5_core");
	mkdirs("bus/pci/drivers/e1000e_core");
	mkdirs("class/infiniband");
	mkdirs("class/infiniband_verbs");
	mkdirs("class/infiniband_mad");
	function("mlx5", "0000:3b:00.0", "uverbs1", "mlx5_0", mad5);
	function("mlx4", "0000:81:00.0", "uverbs0", "mlx4_0", mad4);
	put("bus/pci/drivers/mlx5_core/new_id", "");
}

static void test_select(void)
{
	unsigned char c[3];
	char *bad;

	CHECK(mlx_select("all", 3, c, &bad) == 0 && c[0] && c[1] && c[2]);
	CHECK(mlx_select("1", 3, c, &bad) == 0 && !c[0] && c[1] && !c[2]);
	CHECK(mlx_select("2,0", 3, c, &bad) == 0 && c[0] && !c[1] && c[2]);
	CHECK(mlx_select("0, 2", 3, c, &bad) == 0 && c[0] && !c[1] && c[2]);
	CHECK(mlx_select(",", 3, c, &bad) == 0 && !c[0] && !c[1] && !c[2]);
	CHECK(mlx_select("3", 3, c, &bad) < 0);
	CHECK_STR(bad, "3");
	free(bad);
	CHECK(mlx_select("0,x1", 3, c, &bad) < 0);
	CHECK_STR(bad, "x1");
	free(bad);
	CHECK(mlx_select("-1", 3, c, &bad) < 0);
	CHECK_STR(bad, "-1");
	free(bad);
	CHECK(mlx_select("99999999999999999999999", 3, c, &bad) < 0);
	free(bad);
	CHECK(mlx_select("0", 0, c, &bad) < 0);
	CHECK_STR(bad, "0");
	free(bad);
	CHECK(mlx_select("all", 0, c, &bad) == 0);
}

static void test_tree(void)
{
	struct mlx_dev *d;
	unsigned char c[2] = {1, 1};
	struct buf b = BUF_INIT;
	char want[2048];
	size_t n;

	CHECK(mlx_enumerate(root, &d, &n) == 0 && n == 2);
	if (n != 2)
		return;
	/* glob order: mlx4_core before mlx5_core */
	CHECK_STR(d[0].driver, "mlx4");
	CHECK_STR(d[0].verbs, "uverbs0");
	CHECK_STR(d[0].devname, "infiniband/uverbs0");
	CHECK_STR(d[0].iface, "mlx4_0");
	CHECK(d[0].nmad == 4);
	CHECK_STR(d[0].maddev[3], "infiniband/umad1");
	CHECK_STR(d[1].driver, "mlx5");
	CHECK_STR(d[1].iface, "mlx5_0");
	CHECK(d[1].nmad == 2);

	c[0] = 0;
	CHECK(mlx_fstab("/sys", "/dev", d, n, c, 0, &b) == 0);
	CHECK_STR(b.data,
		  "tmpfs /sys/class/infiniband tmpfs nosuid,noexec,nodev,mode=755,private\n"
		  "tmpfs /sys/class/infiniband_verbs tmpfs nosuid,noexec,nodev,mode=755,private\n"
		  "tmpfs /sys/class/infiniband_cm tmpfs nosuid,noexec,nodev,mode=755,private\n"
		  "tmpfs /sys/class/infiniband_mad tmpfs nosuid,noexec,nodev,mode=755,private\n"
		  "/sys/class/infiniband_verbs/abi_version /sys/class/infiniband_verbs/abi_version "
		  "none x-create=file,bind,ro,nosuid,noexec,nodev,private\n"
		  "/sys/class/infiniband_cm/abi_version /sys/class/infiniband_cm/abi_version none "
		  "x-create=file,bind,ro,nosuid,noexec,nodev,private\n"
		  "/sys/class/infiniband_mad/abi_version /sys/class/infiniband_mad/abi_version "
		  "none x-create=file,bind,ro,nosuid,noexec,nodev,private\n"
		  "/dev/infiniband/rdma_cm /dev/infiniband/rdma_cm none "
		  "x-create=file,bind,ro,nosuid,noexec,private\n"
		  "/dev/infiniband/uverbs1 /dev/infiniband/uverbs1 none "
		  "x-create=file,bind,ro,nosuid,noexec,private\n");
	buf_reset(&b);
	/* superuser: the umad and issm devices too, read-write; sources under other roots */
	CHECK(mlx_fstab("/s y", "/d", d, n, c, 1, &b) == 0);
	CHECK(strstr(b.data, "/s\\040y/class/infiniband_cm/abi_version /sys/class/") != NULL);
	CHECK(strstr(b.data, "\n/d/infiniband/umad2 /dev/infiniband/umad2 none "
			     "x-create=file,bind,rw,nosuid,noexec,private\n") != NULL);
	CHECK(strstr(b.data, "umad0") == NULL);
	buf_reset(&b);

	CHECK(mlx_links(root, d, n, c, 0, &b) == 0);
	CHECK_STR(b.data, "sys/class/infiniband/mlx5_0 /sys/devices/pci0000:00/0000:3b:00.0/"
			  "infiniband/mlx5_0\n"
			  "sys/class/infiniband_verbs/uverbs1 /sys/devices/pci0000:00/0000:3b:00.0/"
			  "infiniband_verbs/uverbs1\n");
	buf_reset(&b);
	c[0] = 1;
	c[1] = 0;
	CHECK(mlx_links(root, d, n, c, 1, &b) == 0);
	snprintf(want, sizeof(want),
		 "sys/class/infiniband_mad/umad1 /sys/devices/pci0000:00/"
		 "0000:81:00.0/infiniband_mad/umad1\n");
	CHECK(b.data && strstr(b.data, want) != NULL);
	CHECK(b.data && strstr(b.data, "mlx5") == NULL);
	buf_free(&b);
	mlx_free(d, n);
}

int main(void)
{
	struct mlx_dev *d = (struct mlx_dev *)1;
	size_t n = 1;
	char cmd[128];

	snprintf(root, sizeof(root), "%s/mlx.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root))
		return 1;
	CHECK(mlx_enumerate(root, &d, &n) == 0 && n == 0 && d == NULL);
	build();
	test_select();
	test_tree();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	CHECK(system(cmd) == 0);
	return unit_done();
}
