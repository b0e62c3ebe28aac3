/* test_mountinfo: parsing proc_pid_mountinfo(5) lines and finding the mount of a path. */
#include <errno.h>

#include "runtime/mountinfo.h"
#include "unit.h"

static const char sample[] =
    "26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n"
    "27 26 0:24 / /mnt/my\\040dir ro,nosuid,nodev,relatime shared:5 - tmpfs none ro,size=4k\n"
    "28 27 0:25 /sub /mnt/my\\040dir/a rw master:5 - tmpfs none rw\n"
    "29 26 0:26 / /mnt/myx rw shared:7 master:3 - tmpfs none rw\n"
    "30 26 0:27 / /proc rw unbindable - proc proc rw\n"
    "31 26 0:28 / /proc rw,nosuid - proc proc rw\n";

int main(void)
{
	struct mountinfo mi;
	const struct mountinfo_entry *m;

	CHECK(mountinfo_parse(&mi, sample, sizeof(sample) - 1) == 0);
	CHECK(mi.n == 6);
	CHECK(mi.e[1].id == 27 && mi.e[1].parent == 26 && mi.e[1].major == 0 &&
	      mi.e[1].minor == 24);
	CHECK_STR(mi.e[1].mountpoint, "/mnt/my dir");
	CHECK_STR(mi.e[1].options, "ro,nosuid,nodev,relatime");
	CHECK_STR(mi.e[1].optional, "shared:5");
	CHECK_STR(mi.e[1].fstype, "tmpfs");
	CHECK_STR(mi.e[1].source, "none");
	CHECK_STR(mi.e[1].super_options, "ro,size=4k");
	CHECK_STR(mi.e[0].optional, "");
	CHECK_STR(mi.e[2].root, "/sub");
	m = mountinfo_find(&mi, "/mnt/my dir/a/b");
	CHECK(m && m->id == 28);
	m = mountinfo_find(&mi, "/mnt/my dir/ab");
	CHECK(m && m->id == 27);
	m = mountinfo_find(&mi, "/mnt/my");
	CHECK(m && m->id == 26);
	m = mountinfo_find(&mi, "/proc/self");
	CHECK(m && m->id == 31);
	m = mountinfo_find(&mi, "/");
	CHECK(m && m->id == 26);
	CHECK_STR(mountinfo_propagation(&mi.e[0]), "private");
	CHECK_STR(mountinfo_propagation(&mi.e[1]), "shared");
	CHECK_STR(mountinfo_propagation(&mi.e[2]), "slave");
	CHECK_STR(mountinfo_propagation(&mi.e[3]), "shared,slave");
	CHECK_STR(mountinfo_propagation(&mi.e[4]), "unbindable");
	CHECK(mountinfo_has_option(mi.e[1].options, "ro"));
	CHECK(mountinfo_has_option(mi.e[1].options, "relatime"));
	CHECK(!mountinfo_has_option(mi.e[1].options, "rw"));
	CHECK(!mountinfo_has_option(mi.e[1].options, "nosu"));
	mountinfo_free(&mi);

	CHECK(mountinfo_parse(&mi, "1 2 3:4 / /x rw\n", 16) == -1 && errno == EINVAL);
	CHECK(mountinfo_parse(&mi, "garbage\n", 8) == -1);
	CHECK(mountinfo_parse(&mi, "", 0) == 0 && mi.n == 0);
	mountinfo_free(&mi);

	CHECK(mountinfo_self() != NULL);
	CHECK(mountinfo_self() == mountinfo_self());
	m = mountinfo_find(mountinfo_self(), "/proc/self");
	CHECK(m && !strcmp(m->fstype, "proc"));
	mountinfo_invalidate();
	return unit_done();
}
