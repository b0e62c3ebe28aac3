/* tags: `enroot tags docker://REPO`, a repository's tags, one a line (every page). */
#include <stdio.h>
#include <stdlib.h>

#include "base/buf.h"
#include "base/msg.h"
#include "base/opt.h"
#include "registry/imageref.h"
#include "registry/regquery.h"
#include "registry/registry.h"
#include "cmd.h"

const char tags_usage[] = "Usage: enroot tags [--] docker://[USER@][REGISTRY#]IMAGE\n"
			  "\n"
			  "List the tags of a repository, one a line.\n";

static const struct opt no_opts[] = {{NULL, 0, 0, 0}};

int cmd_tags(int argc, char **argv)
{
	struct imageref_platform plat;
	struct imageref ref;
	struct registry r;
	struct buf out = BUF_INIT;
	struct optparse p;
	char *creds;
	int id;

	opt_init(&p, argc, argv);
	while ((id = opt_next(&p, no_opts)) != OPT_DONE) {
		if (id == OPT_HELP)
			usage_exit(tags_usage, 0);
		opt_fail(&p, tags_usage);
	}
	if (argc - p.ind != 1)
		usage_exit(tags_usage, 1);
	cmd_registry_open(argv[p.ind], NULL, &ref, &plat, &r, &creds);
	if (regquery_list(&r, REGQUERY_TAGS, &out) < 0)
		die("%s", r.why);
	if (out.len)
		fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
	registry_close(&r);
	imageref_free(&ref);
	free(creds);
	return fflush(stdout) ? 1 : 0;
}
