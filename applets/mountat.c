/* mountat: apply enroot fstab-dialect files under a root directory, one pass at a time.
 * mount(2), umount(2), mount_namespaces(7), user_namespaces(7), openat2(2); spec §6.3, §7.
 *
 * APPLET(mountat, 0)
 * ALIAS(enroot-mount, mountat)
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "base/applet.h"
#include "base/msg.h"
#include "base/opt.h"
#include "runtime/mounts.h"

static const char usage[] =
    "usage: mountat [--root DIR] [--pass N] FSTAB... | -\n"
    "\n"
    "Mount the entries of enroot fstab files whose pass number is N, in order, with every\n"
    "target resolved inside DIR (symlinks included). \"-\" reads the entries from stdin.\n"
    "\n"
    "  --root DIR  the root the targets are confined to (default /)\n"
    "  --pass N    the pass to apply; the runtime uses -1 (early) and 0 (default)\n";

static void warn_cb(void *arg, const char *msg)
{
	(void)arg;
	msg_warn("%s", msg);
}

static int parse_pass(const char *s, int *pass)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < INT_MIN || v > INT_MAX)
		return -1;
	*pass = (int)v;
	return 0;
}

int mountat_main(int argc, char **argv)
{
	static const struct opt opts[] = {{"root", 0, 1, 'r'}, {"pass", 0, 1, 'p'}, {0}};
	const char *root = "/";
	struct mounts_report rep = {.warn = warn_cb};
	struct optparse p;
	int pass = 0, c;

	opt_init(&p, argc, argv);
	while ((c = opt_next(&p, opts)) != OPT_DONE) {
		if (c == OPT_HELP)
			usage_exit(usage, 0);
		if (c == OPT_BAD)
			opt_fail(&p, usage);
		if (c == 'r')
			root = p.arg;
		else if (c == 'p' && parse_pass(p.arg, &pass) < 0) {
			msg_error("invalid pass number: %s", p.arg);
			usage_exit(usage, 1);
		}
	}
	if (p.ind >= argc)
		usage_exit(usage, 1);
	for (int i = p.ind; i < argc; i++)
		if (mounts_apply_file(root, pass, argv[i], &rep) < 0)
			die("%s", rep.msg);
	return 0;
}
