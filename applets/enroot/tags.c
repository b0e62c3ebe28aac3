/* tags: `enroot tags docker://REPO`, a repository's tags, one a line (every page). */
#include <stdio.h>
#include <stdlib.h>

#include "base/msg.h"
#include "base/opt.h"
#include "registry/regquery.h"
#include "cmd.h"

const char tags_usage[] = "Usage: enroot tags [--] docker://[USER@][REGISTRY#]IMAGE\n"
			  "\n"
			  "List the tags of a repository, one a line.\n";

static const struct opt no_opts[] = {{NULL, 0, 0, 0}};

int cmd_tags(int argc, char **argv)
{
	struct optparse p;
	int id;

	opt_init(&p, argc, argv);
	while ((id = opt_next(&p, no_opts)) != OPT_DONE) {
		if (id == OPT_HELP)
			usage_exit(tags_usage, 0);
		opt_fail(&p, tags_usage);
	}
	if (argc - p.ind != 1)
		usage_exit(tags_usage, 1);
	cmd_registry_list(argv[p.ind], REGQUERY_TAGS);
	return fflush(stdout) ? 1 : 0;
}
