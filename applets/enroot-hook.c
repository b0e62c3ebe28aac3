/* enroot-hook: run one of enroot's standard hooks (spec §10) from its hooks.d stub file.
 * `enroot start` recognises the stubs and runs the same code in-process; this applet is
 * what runs when a stub is executed by hand or by another tool.
 *
 * APPLET(enroot-hook, 0)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/applet.h"
#include "base/msg.h"
#include "runtime/hooks.h"

static const char usage[] =
    "usage: enroot-hook NAME\n"
    "\n"
    "Run the standard hook NAME (aptfix, cgroups, devices, home, localtime, shadow, nvidia,\n"
    "mellanox) on the container being started: it reads ENROOT_ROOTFS, ENROOT_ENVIRON and\n"
    "ENROOT_MOUNTS from the environment, as hooks do. With --stub, print the hooks.d file\n"
    "for NAME instead.\n"
    "\n"
    "  --stub  print the stub file of NAME\n";

int enroot_hook_main(int argc, char **argv)
{
	int stub = argc == 3 && !strcmp(argv[1], "--stub");

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		usage_exit(usage, 0);
	if (argc != 2 + stub || !hooks_known(argv[1 + stub]))
		usage_exit(usage, 1);
	if (stub) {
		fputs(hooks_stub(argv[2]), stdout);
		return fflush(stdout) ? 1 : 0;
	}
	if (!getenv("ENROOT_ROOTFS"))
		die("ENROOT_ROOTFS is not set");
	if (hooks_run(argv[1]) < 0)
		die("%s", hooks_error);
	return 0;
}
