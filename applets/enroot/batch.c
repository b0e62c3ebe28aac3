/* cmd_batch: `enroot batch` (spec §11.6): a config script that names its own rootfs, meant
 * as a shebang interpreter; the rest is `enroot start --conf CONFIG ROOTFS [CMD...]`. */
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/xwrap.h"
#include "cmd.h"

const char cmd_batch_usage[] =
    "Usage: enroot batch [--] CONFIG [COMMAND] [ARG...]\n"
    "\n"
    "Start a container from a configuration script naming its root filesystem with the\n"
    "directive ENROOT_ROOTFS (a container name or an image); meant for \"#!\" lines.\n";

int cmd_batch(int argc, char **argv)
{
	static const struct opt opts[] = {{0}};
	char **nargv, *bad = NULL;
	const char *conf, *rootfs;
	struct optparse p;
	int o, k = 0;

	opt_init(&p, argc, argv);
	while ((o = opt_next(&p, opts)) != OPT_DONE) {
		if (o == OPT_HELP)
			usage_exit(cmd_batch_usage, 0);
		opt_fail(&p, cmd_batch_usage);
	}
	if (p.ind >= argc)
		usage_exit(cmd_batch_usage, 1);
	conf = argv[p.ind];
	/* The directives with overwrite (shell expansions included), as start applies them. */
	if (config_directives(conf, &bad) != CONFIG_OK)
		die("failed to read: %s:", conf);
	free(bad);
	rootfs = getenv("ENROOT_ROOTFS");
	if (!rootfs || !*rootfs)
		die("Missing directive ENROOT_ROOTFS in %s", conf);
	nargv = xcalloc((size_t)argc + 4, sizeof(char *));
	nargv[k++] = "start";
	nargv[k++] = "--conf";
	nargv[k++] = (char *)conf;
	nargv[k++] = "--";
	nargv[k++] = xstrdup(rootfs);
	for (int i = p.ind + 1; i < argc; i++)
		nargv[k++] = argv[i];
	return cmd_start(k, nargv);
}
