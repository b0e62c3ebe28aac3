/* floor: the least a container start can do, for `make bench`: unshare user+mount
 * namespaces, write the maps, bind the rootfs onto itself, pivot_root, exec argv[2..].
 * usage: floor ROOTFS CMD [ARG...] */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, text, strlen(text)) < 0) {
		perror(path);
		_exit(1);
	}
	close(fd);
}

int main(int argc, char **argv)
{
	char map[64];
	unsigned uid = getuid(), gid = getgid();

	if (argc < 3)
		return 1;
	/* 1. user + mount namespaces; 2. maps (setgroups deny first); 3. bind; 4. pivot. */
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		return perror("unshare"), 1;
	put("/proc/self/setgroups", "deny");
	snprintf(map, sizeof(map), "%u %u 1\n", uid, uid);
	put("/proc/self/uid_map", map);
	snprintf(map, sizeof(map), "%u %u 1\n", gid, gid);
	put("/proc/self/gid_map", map);
	if (mount(argv[1], argv[1], NULL, MS_BIND | MS_REC, NULL) < 0 || chdir(argv[1]) < 0 ||
	    syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return perror("pivot"), 1;
	execv(argv[2], argv + 2);
	perror("execv");
	return 127;
}
