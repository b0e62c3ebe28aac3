/* mountat: apply enroot fstab-dialect text under a root directory, one pass at a time, then
 * exec the rest of the command line (chain loading, as in s6 and execline).
 * mount(2), umount(2), mount_namespaces(7), user_namespaces(7), openat2(2); spec §6.3, §7.
 *
 * Arguments are taken in order, like tar's -C: --root and --pass apply to the sources after
 * them, so one exec can mount the runtime tmpfs on the host and then entries inside a rootfs.
 *
 * APPLET(mountat, 0)
 * ALIAS(enroot-mount, mountat)
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/applet.h"
#include "base/buf.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/xwrap.h"
#include "runtime/mounts.h"

static const char usage[] =
    "usage: mountat [--root DIR] [--pass N] SOURCE... [-- COMMAND [ARG...]]\n"
    "\n"
    "Mount the entries of enroot fstab text whose pass number is N, in order, with every\n"
    "target resolved inside DIR (symlinks included). A SOURCE is a file, \"-\" (stdin) or\n"
    "--fd N. Options and sources are taken in order: --root and --pass apply to the sources\n"
    "after them. With \"--\", exec COMMAND once everything is mounted.\n"
    "\n"
    "  --root DIR  the root the targets of the next sources are confined to (default /)\n"
    "  --pass N    the pass of the next sources; the runtime uses -1 (early) and 0 (default)\n"
    "  --fd N      a source: read the text from file descriptor N, then close it\n";

static void warn_cb(void *arg, const char *msg)
{
	(void)arg;
	msg_warn("%s", msg);
}

/* A number between MIN and MAX, or die naming WHAT. */
static int parse_int(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < min || v > max) {
		msg_error("invalid %s: %s", what, s);
		usage_exit(usage, 1);
	}
	return (int)v;
}

/* Apply the text read from FD (named /proc/self/fd/FD in messages), then close FD. */
static void apply_fd(const char *root, int pass, int fd, struct mounts_report *rep)
{
	struct buf b = BUF_INIT;
	char origin[32];

	snprintf(origin, sizeof(origin), "/proc/self/fd/%d", fd);
	if (buf_read_fd(&b, fd, 64u << 20) < 0)
		die("failed to read: %s:", origin);
	close(fd);
	if (mounts_apply(root, pass, b.data ? b.data : "", b.len, origin, rep) < 0)
		die("%s", rep->msg);
	buf_free(&b);
}

int mountat_main(int argc, char **argv)
{
	static const struct opt opts[] = {
	    {"root", 0, 1, 'r'}, {"pass", 0, 1, 'p'}, {"fd", 0, 1, 'f'}, {0}};
	struct mounts_report rep = {.warn = warn_cb};
	const char *root = "/", *w;
	struct optparse p;
	int pass = 0, sources = 0, c;

	opt_init(&p, argc, argv);
	while (p.ind < argc && strcmp(w = argv[p.ind], "--")) {
		if (w[0] != '-' || !w[1]) {
			if (mounts_apply_file(root, pass, w, &rep) < 0)
				die("%s", rep.msg);
			p.ind++, sources++;
			continue;
		}
		c = opt_next(&p, opts);
		if (c == OPT_HELP)
			usage_exit(usage, 0);
		if (c == OPT_BAD)
			opt_fail(&p, usage);
		if (c == 'r') {
			root = p.arg;
		} else if (c == 'p') {
			pass = parse_int(p.arg, INT_MIN, INT_MAX, "pass number");
		} else {
			apply_fd(root, pass, parse_int(p.arg, 0, INT_MAX, "file descriptor"), &rep);
			sources++;
		}
	}
	if (!sources || (p.ind < argc && p.ind + 1 >= argc))
		usage_exit(usage, 1);
	if (p.ind < argc)
		applet_exec(argv + p.ind + 1);
	return 0;
}
