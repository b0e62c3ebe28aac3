/* cmd_remove: `enroot remove [-f] [--] NAME...` (spec §11.4). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/msg.h"
#include "base/opt.h"
#include "base/rmtree.h"
#include "cmd.h"

const char cmd_remove_usage[] =
    "Usage: enroot remove [options] [--] NAME...\n"
    "\n"
    "Delete one or multiple container root filesystems.\n"
    "A protected container (enroot protect) is refused, forced or not.\n"
    "\n"
    " Options:\n"
    "   -f, --force  Do not prompt for confirmation\n";

/* Ask on stderr, read one line from stdin: only "y" or "Y" confirms. */
static int confirm(const char *path)
{
	char *line = NULL;
	size_t cap = 0;
	int yes = 0;

	fprintf(stderr, "Do you really want to delete %s? [y/N] ", path);
	fflush(stderr);
	if (getline(&line, &cap, stdin) >= 0) {
		line[strcspn(line, "\n")] = '\0';
		yes = !strcmp(line, "y") || !strcmp(line, "Y");
	} else {
		fputc('\n', stderr);
	}
	free(line);
	return yes;
}

static int remove_one(const char *name, int force)
{
	char *path, *bad = NULL;

	if (strchr(name, '/') || !*name)
		die("Invalid argument: %s", name);
	path = cmd_container_path(name);
	if (!path)
		die("No such file or directory: %s", name);
	cmd_refuse_protected(name);
	if (!force && !confirm(path)) {
		free(path);
		return 0;
	}
	if (rmtree(path, &bad) < 0) {
		msg_error("failed to remove: %s:", bad ? bad : path);
		free(bad);
		free(path);
		return 1;
	}
	free(path);
	return 0;
}

int cmd_remove(int argc, char **argv)
{
	static const struct opt opts[] = {{"force", 'f', 0, 'f'}, {0}};
	struct optparse p;
	int force = 0, o;

	opt_init(&p, argc, argv);
	while ((o = opt_next(&p, opts)) != OPT_DONE) {
		if (o == OPT_HELP)
			usage_exit(cmd_remove_usage, 0);
		if (o == OPT_BAD)
			opt_fail(&p, cmd_remove_usage);
		force = 1;
	}
	if (p.ind >= argc)
		usage_exit(cmd_remove_usage, 1);
	force = cmd_forced(force);
	for (int i = p.ind; i < argc; i++)
		if (remove_one(argv[i], force))
			return 1;
	return 0;
}
