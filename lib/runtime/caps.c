/* caps: raw capget/capset and prctl, so the in-process start pays no libcap setup.
 * References: capabilities(7), capget(2), prctl(2) PR_CAP_AMBIENT and PR_CAPBSET_DROP. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/caps.h"

struct capsets {
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];
};

static int caps_get(struct capsets *c)
{
	memset(c, 0, sizeof(*c));
	c->hdr.version = _LINUX_CAPABILITY_VERSION_3;
	return (int)syscall(SYS_capget, &c->hdr, c->data);
}

static int caps_set(struct capsets *c)
{
	c->hdr.version = _LINUX_CAPABILITY_VERSION_3;
	c->hdr.pid = 0;
	return (int)syscall(SYS_capset, &c->hdr, c->data);
}

int caps_last_cap(void)
{
	static int cached = -1; /* a kernel constant: `enroot start` asks twice */
	char buf[16];
	int fd;
	ssize_t n;

	if (cached >= 0)
		return cached;
	if ((fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		errno = n ? errno : EINVAL;
		return -1;
	}
	buf[n] = '\0';
	return cached = atoi(buf);
}

int caps_ambient_supported(void)
{
	return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 0, 0) >= 0 ||
	       errno != EINVAL;
}

int caps_raise_ambient(int last_cap)
{
	struct capsets c;

	if (caps_get(&c))
		return -1;
	c.data[0].inheritable = c.data[0].effective;
	c.data[1].inheritable = c.data[1].effective;
	if (caps_set(&c))
		return -1;
	for (int cap = 0; cap <= last_cap && cap < 64; cap++) {
		if (!(c.data[cap / 32].inheritable & (1u << (cap % 32))))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0))
			return -1;
	}
	return 0;
}

int caps_have_effective(int cap)
{
	struct capsets c;

	if (cap < 0 || cap >= 64) {
		errno = EINVAL;
		return -1;
	}
	if (caps_get(&c))
		return -1;
	return !!(c.data[cap / 32].effective & (1u << (cap % 32)));
}

int caps_drop(int last_cap)
{
	struct capsets c;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	if (geteuid() == 0)
		return 0;
	for (int cap = 0; cap <= last_cap; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EPERM && errno != EINVAL)
			return -1;
	memset(&c, 0, sizeof(c));
	/* Clearing permitted and inheritable empties the ambient set as well (capabilities(7)). */
	if (caps_set(&c))
		return -1;
	return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL ? -1 : 0;
}
