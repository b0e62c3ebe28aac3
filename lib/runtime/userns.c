/* userns: unshare(2) the container namespaces and write the one-line id maps.
 *
 * The user namespace sequence (user_namespaces(7), "User and group ID mappings"):
 *  1. Read euid/egid before unsharing: inside the new namespace they read as the overflow id.
 *  2. unshare(CLONE_NEWUSER): we get a full capability set in the new namespace.
 *  3. Write "deny" to /proc/self/setgroups: since Linux 3.19 an unprivileged process must do so
 *     before it may write gid_map (CVE-2014-8989).
 *  4. Write gid_map, then uid_map, each once, each one line "INSIDE OUTSIDE 1".
 *  5. Without remap-root the inside uid is not 0, so execve would drop every capability
 *     (capabilities(7), "Transformation of capabilities during execve"): raise them as ambient.
 * Mount namespace (mount_namespaces(7)): a new user namespace makes every shared mount a slave
 * of the host's; without one (real root) we must make / rslave ourselves (PITFALLS §3.5).
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/caps.h"
#include "runtime/userns.h"

static int write_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), saved;
	ssize_t len = (ssize_t)strlen(data), n;

	if (fd < 0)
		return -1;
	n = write(fd, data, (size_t)len);
	saved = errno;
	close(fd);
	errno = n < 0 ? saved : (n == len ? 0 : EIO);
	return n == len ? 0 : -1;
}

/* Steps 1-5 of the comment above. */
static enum userns_step create_user(unsigned flags)
{
	char uid_map[64], gid_map[64];
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int remap = !!(flags & USERNS_REMAP), last_cap = 0;

	if (!remap) {
		if (!caps_ambient_supported()) {
			errno = EINVAL;
			return USERNS_STEP_AMBIENT;
		}
		if ((last_cap = caps_last_cap()) < 0)
			return USERNS_STEP_CAPS;
	}
	snprintf(uid_map, sizeof(uid_map), "%u %u 1\n", remap ? 0u : (unsigned)uid, (unsigned)uid);
	snprintf(gid_map, sizeof(gid_map), "%u %u 1\n", remap ? 0u : (unsigned)gid, (unsigned)gid);
	if (unshare(CLONE_NEWUSER))
		return USERNS_STEP_USER;
	if (write_file("/proc/self/setgroups", "deny") && errno != ENOENT)
		return USERNS_STEP_SETGROUPS;
	if (write_file("/proc/self/gid_map", gid_map))
		return USERNS_STEP_GIDMAP;
	if (write_file("/proc/self/uid_map", uid_map))
		return USERNS_STEP_UIDMAP;
	if (!remap && caps_raise_ambient(last_cap))
		return USERNS_STEP_CAPS;
	return USERNS_OK;
}

int userns_lo_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = -1, saved;

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (!ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

enum userns_step userns_create_user(unsigned flags)
{
	return (flags & USERNS_USER) ? create_user(flags) : USERNS_OK;
}

enum userns_step userns_unshare(unsigned flags)
{
	if (flags & USERNS_MOUNT) {
		if (unshare(CLONE_NEWNS))
			return USERNS_STEP_MOUNT;
		if (!(flags & USERNS_USER) && mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL))
			return USERNS_STEP_SLAVE;
	}
	if (flags & USERNS_NET) {
		if (unshare(CLONE_NEWNET))
			return USERNS_STEP_NET;
		if (userns_lo_up())
			return USERNS_STEP_LO;
	}
	if ((flags & USERNS_IPC) && unshare(CLONE_NEWIPC))
		return USERNS_STEP_IPC;
	if ((flags & USERNS_UTS) && unshare(CLONE_NEWUTS))
		return USERNS_STEP_UTS;
	return USERNS_OK;
}

enum userns_step userns_create(unsigned flags)
{
	enum userns_step step = userns_create_user(flags);

	return step != USERNS_OK ? step : userns_unshare(flags);
}

const char *userns_step_what(enum userns_step step)
{
	static const char *const what[] = {
	    [USERNS_OK] = "nothing",
	    [USERNS_STEP_AMBIENT] = "check ambient capabilities",
	    [USERNS_STEP_USER] = "create user namespace",
	    [USERNS_STEP_SETGROUPS] = "write /proc/self/setgroups",
	    [USERNS_STEP_GIDMAP] = "write /proc/self/gid_map",
	    [USERNS_STEP_UIDMAP] = "write /proc/self/uid_map",
	    [USERNS_STEP_CAPS] = "raise ambient capabilities",
	    [USERNS_STEP_MOUNT] = "create mount namespace",
	    [USERNS_STEP_SLAVE] = "make / recursively slave",
	    [USERNS_STEP_NET] = "create network namespace",
	    [USERNS_STEP_LO] = "bring up lo",
	    [USERNS_STEP_IPC] = "create IPC namespace",
	    [USERNS_STEP_UTS] = "create UTS namespace",
	};

	return step <= USERNS_STEP_UTS ? what[step] : "set up namespaces";
}

const char *userns_hint(enum userns_step step, int err)
{
	if (step == USERNS_STEP_AMBIENT)
		return "kernel lacks ambient capabilities (Linux < 4.3): use --remap-root";
	if (err == EPERM && step >= USERNS_STEP_SETGROUPS && step <= USERNS_STEP_UIDMAP)
		return "no capabilities in the new user namespace: check sysctl "
		       "kernel.apparmor_restrict_unprivileged_userns";
	if (step != USERNS_STEP_USER)
		return NULL;
	if (err == ENOSPC)
		return "check sysctl user.max_user_namespaces (0 disables user namespaces)";
	if (err == EPERM)
		return "check sysctl kernel.apparmor_restrict_unprivileged_userns, "
		       "kernel.unprivileged_userns_clone, and that no seccomp policy blocks "
		       "unshare";
	if (err == EINVAL)
		return "a threaded process or a chroot cannot create a user namespace";
	return NULL;
}
