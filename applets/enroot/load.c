/* load: `enroot load`, a registry image straight into a container directory (spec §4.10).
 * The layers are merged in user space by the import pipeline, so unlike enroot this needs no
 * overlayfs, no namespace and no tar pipe, and keeps every mode (setuid/setgid included). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/config.h"
#include "base/guard.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/safepath.h"
#include "base/xwrap.h"
#include "cmd.h"
#include "import.h"

const char load_usage[] =
    "Usage: enroot load [options] [--] URI\n"
    "\n"
    "Load a container image from a registry into a container (without a squashfs image).\n"
    "\n"
    " Schemes:\n"
    "   docker://[USER@][REGISTRY#]IMAGE[:TAG]  Load a Docker image from a registry\n"
    "\n"
    " Options:\n"
    "   -a, --arch   Architecture of the image (defaults to host architecture)\n"
    "   -n, --name   Name of the container (defaults to \"URI\")\n"
    "   -f, --force  Overwrite an existing container\n";

struct load_ctx {
	struct import_job job;
	char *dest;
	int force;
};

/* Put the finished tree in place: never over another one, unless forced, and then by an
 * atomic exchange (the old tree ends up in the scratch directory, removed with it). */
static int publish(struct load_ctx *c)
{
	guard_commit();
	if (!renameat2(AT_FDCWD, c->job.rootfs, AT_FDCWD, c->dest, RENAME_NOREPLACE))
		return 0;
	if (errno == EEXIST && c->force &&
	    !renameat2(AT_FDCWD, c->job.rootfs, AT_FDCWD, c->dest, RENAME_EXCHANGE))
		return 0;
	if (errno == EEXIST)
		msg_error("File already exists: %s", c->dest);
	else
		msg_error("failed to rename: %s:", c->dest);
	return -1;
}

static int load_worker(void *arg)
{
	struct load_ctx *c = arg;

	if (import_build(&c->job) < 0)
		return 1;
	return publish(c) < 0 ? 1 : 0;
}

static const char *load_args(int argc, char **argv, const char **arch, const char **name,
			     int *force)
{
	static const struct opt opts[] = {
	    {"arch", 'a', 1, 'a'}, {"name", 'n', 1, 'n'}, {"force", 'f', 0, 'f'}, {NULL, 0, 0, 0}};
	struct optparse p;
	int id;

	opt_init(&p, argc, argv);
	while ((id = opt_next(&p, opts)) != OPT_DONE) {
		if (id == OPT_HELP)
			usage_exit(load_usage, 0);
		if (id == OPT_BAD)
			opt_fail(&p, load_usage);
		if (id == 'f')
			*force = 1;
		else
			*(id == 'a' ? arch : name) = p.arg;
	}
	if (argc - p.ind != 1)
		usage_exit(load_usage, 1);
	return argv[p.ind];
}

/* NAME from -n, or the import file name without ".sqsh". */
static char *load_name(const char *uri, const char *given)
{
	char *name = given ? xstrdup(given) : import_default_name(uri);
	size_t n = strlen(name);

	if (!given && n > 5 && !strcmp(name + n - 5, ".sqsh"))
		name[n - 5] = '\0';
	if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		die("Invalid container name: %s", name);
	return name;
}

static void load_after(void *arg)
{
	(void)arg;
	import_sweep_cache();
}

int load_main(int argc, char **argv)
{
	const char *arch = NULL, *given = NULL, *uri;
	struct load_ctx c = {0};
	char *name, *data, *paths[2];
	struct stat st;
	int rc;

	uri = load_args(argc, argv, &arch, &given, &c.force);
	if (strncmp(uri, "docker://", 9))
		die("Invalid image reference: %s", uri);
	c.force |= config_enabled("ENROOT_FORCE_OVERRIDE");
	name = load_name(uri, given);
	if (!(data = config_path("ENROOT_DATA_PATH")))
		die("out of memory");
	c.dest = xasprintf("%s/%s", data, name);
	if (!lstat(c.dest, &st)) {
		if (!c.force)
			die("File already exists: %s", c.dest);
		cmd_refuse_protected(name); /* -f would replace it */
	}
	import_job_init(&c.job, uri, arch, data, ".enroot-load");
	paths[0] = c.job.tmpdir;
	paths[1] = NULL;
	if ((rc = guard_run(load_worker, &c, paths, load_after)) < 0)
		die("failed to fork:");
	import_job_free(&c.job);
	free(c.dest);
	free(data);
	free(name);
	return rc;
}
