/* squashmount: mount a squashfs image as a writable root filesystem (spec §8.3), then exec
 * the rest of the command line: squashfuse on DIR/overlay/lower, an overlay on DIR/overlay
 * whose upper layer lives in DIR (the runtime tmpfs of `enroot start`).  The FUSE daemons are
 * children of this process and die with it (PR_SET_PDEATHSIG survives the exec), so they live
 * exactly as long as the command the chain ends in.
 *
 * APPLET(squashmount, 0)
 */
#include <string.h>

#include "base/applet.h"
#include "base/buf.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/xwrap.h"
#include "runtime/squashmount.h"

static const char usage[] =
    "usage: squashmount [--fuse-overlayfs] IMAGE DIR -- COMMAND [ARG...]\n"
    "\n"
    "Mount the squashfs IMAGE with squashfuse and an overlay on it at DIR/overlay (upper and\n"
    "work directories in DIR), then exec COMMAND, which the FUSE daemons do not outlive.\n"
    "Run it in a mount namespace.\n"
    "\n"
    "  --fuse-overlayfs  use fuse-overlayfs for the overlay instead of the kernel's\n";

int squashmount_main(int argc, char **argv)
{
	static const struct opt opts[] = {{"fuse-overlayfs", 0, 0, 'f'}, {0}};
	struct buf err = BUF_INIT;
	struct optparse p;
	int native = 1, c;

	opt_init(&p, argc, argv);
	while ((c = opt_next(&p, opts)) != OPT_DONE) {
		if (c == OPT_HELP)
			usage_exit(usage, 0);
		if (c == OPT_BAD)
			opt_fail(&p, usage);
		native = 0;
	}
	if (argc - p.ind < 4 || strcmp(argv[p.ind + 2], "--"))
		usage_exit(usage, 1);
	if (squashmount_start(argv[p.ind], argv[p.ind + 1], native, &err) < 0) {
		for (char *l = err.data, *save = NULL; (l = strtok_r(l, "\n", &save)); l = NULL)
			msg_warn("%s", l);
		die("Failed to mount: %s", argv[p.ind]);
	}
	buf_free(&err);
	applet_exec(argv + p.ind + 3);
}
