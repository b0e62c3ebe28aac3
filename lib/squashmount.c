/* squashmount: the FUSE shim of a direct squashfs start. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "squashmount.h"

/* Is path a mount point of its own (another device than its parent), or has pid died? */
static int wait_mounted(const char *path, pid_t pid)
{
	struct timespec tick = {0, 1000 * 1000};
	char parent[4096];
	struct stat a, b;

	snprintf(parent, sizeof(parent), "%s/..", path);
	for (int i = 0; i < 5000; i++) {
		if (stat(path, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev)
			return 0;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		nanosleep(&tick, NULL);
	}
	return -1;
}

/* Start a FUSE daemon (argv) in the background, its stderr into errfd. */
static pid_t spawn(char *const argv[], int errfd)
{
	pid_t pid = fork();

	if (pid == 0) {
		dup2(errfd, 2);
		execvp(argv[0], argv);
		fprintf(stderr, "failed to execute: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

static void kill_group(int sig)
{
	(void)sig;
	kill(0, SIGKILL);
}

/* The shim: squashfuse, then the overlay, then stop; killed with its group later. */
static _Noreturn void shim(const char *image, const char *rt, int native, int errfd)
{
	char lower[4200], upper[4200], work[4200], top[4200], opts[3 * 4200 + 64], ids[64];
	char *sq[] = {"squashfuse", "-f", "-o", ids, (char *)image, lower, NULL};
	char *ov[] = {"fuse-overlayfs", "-f", "-o", opts, top, NULL};
	pid_t pid;

	setpgid(0, 0);
	signal(SIGHUP, kill_group);
	signal(SIGTERM, kill_group);
	snprintf(top, sizeof(top), "%s/overlay", rt);
	snprintf(lower, sizeof(lower), "%s/overlay/lower", rt);
	snprintf(upper, sizeof(upper), "%s/overlay/upper", rt);
	snprintf(work, sizeof(work), "%s/overlay/work", rt);
	snprintf(ids, sizeof(ids), "uid=%u,gid=%u", (unsigned)geteuid(), (unsigned)getegid());
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
	pid = spawn(sq, errfd);
	if (pid < 0 || wait_mounted(lower, pid) < 0)
		_exit(1);
	if (native) {
		strcat(opts, ",xino=off");
		if (mount("overlay", top, "overlay", 0, opts) < 0) {
			dprintf(errfd, "failed to mount overlay: %s: %s\n", top, strerror(errno));
			_exit(1);
		}
	} else {
		setenv("FUSE_OVERLAYFS_DISABLE_OVL_WHITEOUT", "y", 1);
		pid = spawn(ov, errfd);
		if (pid < 0 || wait_mounted(top, pid) < 0)
			_exit(1);
	}
	close(errfd);
	raise(SIGSTOP);
	kill(0, SIGKILL);
	_exit(0);
}

int squashmount_start(const char *image, const char *runtime, int native, struct buf *err)
{
	const char *sub[] = {"/overlay", "/overlay/lower", "/overlay/upper", "/overlay/work"};
	char path[4096];
	int fd, status;
	pid_t pid;

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
	pid = fork();
	if (pid == 0)
		shim(image, runtime, native, fd);
	while (pid > 0 && waitpid(pid, &status, WUNTRACED) < 0)
		if (errno != EINTR)
			break;
	if (pid > 0 && WIFSTOPPED(status)) {
		close(fd);
		return 0;
	}
	if (lseek(fd, 0, SEEK_SET) == 0)
		buf_read_fd(err, fd, 1 << 20);
	close(fd);
	errno = EIO;
	return -1;
}
