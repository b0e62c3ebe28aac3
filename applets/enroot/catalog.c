/* catalog: `enroot catalog [USER@]REGISTRY`, the repositories a registry lists (every page). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/msg.h"
#include "base/opt.h"
#include "base/xwrap.h"
#include "registry/regquery.h"
#include "cmd.h"

const char catalog_usage[] = "Usage: enroot catalog [--] [USER@]REGISTRY\n"
			     "\n"
			     "List the repositories of a registry, one a line.\n";

static const struct opt no_opts[] = {{NULL, 0, 0, 0}};

int cmd_catalog(int argc, char **argv)
{
	struct optparse p;
	char *uri;
	const char *arg;
	int id;

	opt_init(&p, argc, argv);
	while ((id = opt_next(&p, no_opts)) != OPT_DONE) {
		if (id == OPT_HELP)
			usage_exit(catalog_usage, 0);
		opt_fail(&p, catalog_usage);
	}
	if (argc - p.ind != 1)
		usage_exit(catalog_usage, 1);
	arg = argv[p.ind];
	if (!*arg || strpbrk(arg, "#/ "))
		die("Invalid registry: %s", arg);
	/* The client wants an image; the catalog request does not use it. */
	uri = xasprintf("docker://%s#_catalog", arg);
	cmd_registry_list(uri, REGQUERY_CATALOG);
	free(uri);
	return fflush(stdout) ? 1 : 0;
}
