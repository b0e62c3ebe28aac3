/* squashmount: the FUSE daemons of a direct squashfs start. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/squashmount.h"

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Is path a mount point of its own (another device than its parent)? */
static int is_mounted(const char *path, const char *parent)
{
	struct stat a, b;

	return stat(path, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev;
}

/* Wait until path is a mount point (0), or until 5 s pass (-1), or until the daemon pid
 * dies (-2: it has been reaped, so it must not be killed again).
 * No sleep loop (spec §8.3 polls every 1 ms, which costs half a tick per mount on average):
 *  1. mfd, /proc/self/mountinfo opened before the daemon was started, reports POLLPRI once
 *     per change of our mount namespace's table (proc(5), /proc/pid/mounts);
 *  2. a pidfd (pidfd_open(2), Linux 5.3) becomes readable when the daemon exits;
 *  3. without either, the mount and the daemon are checked every millisecond, as enroot does. */
static int wait_mounted(const char *path, pid_t pid, int mfd)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), tick = mfd >= 0 && pidfd >= 0 ? 100 : 1;
	struct pollfd p[2] = {{.fd = mfd, .events = POLLPRI}, {.fd = pidfd, .events = POLLIN}};
	char parent[4096];
	int rc = -1;

	snprintf(parent, sizeof(parent), "%s/..", path);
	for (long left = 5000; left > 0;) {
		if (is_mounted(path, parent)) {
			rc = 0;
			break;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			rc = -2;
			break;
		}
		long t0 = now_ms();
		if (poll(p, pidfd >= 0 ? 2 : 1, tick) < 0 && errno != EINTR)
			break;
		left -= now_ms() - t0 + (tick == 1);
	}
	if (pidfd >= 0)
		close(pidfd);
	return rc;
}

/* Start a FUSE daemon (argv) as our child, stdin and stdout on /dev/null, stderr into errfd, that
 * the kernel kills when we (the container, after our exec) end, however we end (prctl(2)
 * PR_SET_PDEATHSIG, kept across execve of a file without set-user-ID or capabilities). The check of
 * the parent after arming covers our death between fork and prctl. */
static pid_t spawn(char *const argv[], int errfd)
{
	pid_t parent = getpid(), pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(1);
		/* Not the container's stdin and stdout: a pipe there must see EOF from it alone. */
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		dup2(errfd, 2);
		execvp(argv[0], argv);
		dprintf(2, "failed to execute: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

/* Kill and reap a daemon that did not come up. */
static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* squashfuse on RT/overlay/lower, then the overlay on RT/overlay (kernel, or fuse-overlayfs). */
static int mount_all(const char *image, const char *rt, int native, int errfd, int mfd)
{
	char lower[4200], upper[4200], work[4200], top[4200], opts[3 * 4200 + 64], ids[64];
	char *sq[] = {"squashfuse", "-f", "-o", ids, (char *)image, lower, NULL};
	char *ov[] = {"fuse-overlayfs", "-f", "-o", opts, top, NULL};
	pid_t pid;
	int rc = -1;

	snprintf(top, sizeof(top), "%s/overlay", rt);
	snprintf(lower, sizeof(lower), "%s/overlay/lower", rt);
	snprintf(upper, sizeof(upper), "%s/overlay/upper", rt);
	snprintf(work, sizeof(work), "%s/overlay/work", rt);
	snprintf(ids, sizeof(ids), "uid=%u,gid=%u", (unsigned)geteuid(), (unsigned)getegid());
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
	if ((pid = spawn(sq, errfd)) < 0)
		return -1;
	if ((rc = wait_mounted(lower, pid, mfd)) < 0) {
		if (rc == -1)
			stop(pid);
		return -1;
	}
	if (native) {
		strcat(opts, ",xino=off");
		if (mount("overlay", top, "overlay", 0, opts) == 0)
			return 0;
		dprintf(errfd, "failed to mount overlay: %s: %s\n", top, strerror(errno));
		return stop(pid), -1;
	}
	setenv("FUSE_OVERLAYFS_DISABLE_OVL_WHITEOUT", "y", 1);
	pid_t ovl = spawn(ov, errfd);
	unsetenv("FUSE_OVERLAYFS_DISABLE_OVL_WHITEOUT");
	if (ovl < 0 || (rc = wait_mounted(top, ovl, mfd)) < 0) {
		if (ovl > 0 && rc == -1)
			stop(ovl);
		return stop(pid), -1;
	}
	return 0;
}

int squashmount_start(const char *image, const char *runtime, int native, struct buf *err)
{
	const char *sub[] = {"/overlay", "/overlay/lower", "/overlay/upper", "/overlay/work"};
	char path[4096];
	int fd, mfd, rc;

	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", runtime, sub[i]);
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -1;
	}
	/* The daemons keep their stderr: a file on the runtime tmpfs, read only on failure. */
	snprintf(path, sizeof(path), "%s/fuse", runtime);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	mfd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	rc = mount_all(image, runtime, native, fd, mfd);
	if (mfd >= 0)
		close(mfd);
	if (rc < 0 && lseek(fd, 0, SEEK_SET) == 0)
		buf_read_fd(err, fd, 1 << 20);
	close(fd);
	if (rc < 0)
		errno = EIO;
	return rc;
}
