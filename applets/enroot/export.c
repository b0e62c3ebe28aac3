/* cmd_export: `enroot export` (spec §11.2): a container directory back into a squashfs
 * image, built beside the output and renamed into place (nothing half-done is visible). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/guard.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/rmtree.h"
#include "base/stale.h"
#include "base/xwrap.h"
#include "image/squash.h"
#include "cmd.h"

const char cmd_export_usage[] =
    "Usage: enroot export [options] [--] NAME\n"
    "\n"
    "Create a container image from a container root filesystem.\n"
    "\n"
    " Options:\n"
    "   -o, --output FILE  Name of the output image file (defaults to \"NAME.sqsh\")\n"
    "   -f, --force        Overwrite an existing container image\n";

struct export_ctx {
	char *rootfs, *out, *tmp;
	char **excl; /* paths relative to rootfs */
	size_t nexcl, cap;
};

/* nftw has no user argument: the walk being done. */
static struct export_ctx *walking;

static void add_exclude(struct export_ctx *c, const char *rel)
{
	if (c->nexcl + 2 > c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->excl = xrealloc(c->excl, c->cap * sizeof(char *));
	}
	c->excl[c->nexcl++] = xstrdup(rel);
	c->excl[c->nexcl] = NULL;
}

/* Is the directory at path empty? (Unreadable: not known to be, so no.) */
static int empty_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = d != NULL;

	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = 0;
	if (d)
		closedir(d);
	return empty;
}

/* §11.2: what an export leaves out; a left-out directory takes its subtree with it. */
static int visit(const char *path, const struct stat *st, int type, struct FTW *f)
{
	const char *rel;

	if (f->level == 0)
		return FTW_CONTINUE;
	rel = path + strlen(walking->rootfs) + 1;
	if ((f->level == 1 && (!strcmp(rel, ".enroot") || !strcmp(rel, ".lock"))) ||
	    (f->level == 2 && !strncmp(rel, "dev/", 4)) ||
	    ((st->st_mode & 07777) == 0 &&
	     ((type == FTW_F && S_ISREG(st->st_mode) && st->st_size == 0) ||
	      (type != FTW_F && S_ISDIR(st->st_mode) && empty_dir(path))))) {
		add_exclude(walking, rel);
		return S_ISDIR(st->st_mode) ? FTW_SKIP_SUBTREE : FTW_CONTINUE;
	}
	return FTW_CONTINUE;
}

/* The guarded worker: as root of a user namespace (to see into mode-0000 directories), list
 * the exclusions, then build the image. */
static int export_worker(void *arg)
{
	struct export_ctx *c = arg;
	const char *p = getenv("ENROOT_MAX_PROCESSORS");
	struct squash_opts o = {getenv("ENROOT_SQUASH_OPTIONS"), p && *p ? atol(p) : 0, NULL,
				isatty(STDERR_FILENO), NULL};
	char why[PATH_MAX + 128];
	int status, rc;

	squash_userns(getuid(), getgid());
	walking = c;
	if (nftw(c->rootfs, visit, 64, FTW_PHYS | FTW_ACTIONRETVAL) < 0)
		die("failed to read: %s:", c->rootfs);
	o.excludes = c->excl;
	msg_info("Creating squashfs filesystem...");
	rc = squash_create(c->rootfs, c->tmp, c->out, &o, &status);
	for (size_t i = 0; i < c->nexcl; i++)
		free(c->excl[i]);
	free(c->excl);
	if (rc == 0)
		return 0;
	squash_describe(errno, status, c->out, why, sizeof(why));
	msg_error("%s", why);
	return 1;
}

int cmd_export(int argc, char **argv)
{
	static const struct opt opts[] = {{"output", 'o', 1, 'o'}, {"force", 'f', 0, 'f'}, {0}};
	struct export_ctx c = {0};
	const char *out = NULL, *name;
	char *def, *paths[2];
	struct optparse p;
	int force = 0, o, fd, rc;
	mode_t mask;

	opt_init(&p, argc, argv);
	while ((o = opt_next(&p, opts)) != OPT_DONE) {
		if (o == OPT_HELP)
			usage_exit(cmd_export_usage, 0);
		if (o == OPT_BAD)
			opt_fail(&p, cmd_export_usage);
		if (o == 'o')
			out = p.arg;
		else
			force = 1;
	}
	if (argc - p.ind != 1)
		usage_exit(cmd_export_usage, 1);
	name = argv[p.ind];
	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		die("Invalid argument: %s", name);
	if (!(c.rootfs = cmd_container_path(name)))
		die("No such file or directory: %s", name);
	def = xasprintf("%s.sqsh", name);
	c.out = cmd_output_path(out ? out : def, cmd_forced(force));
	c.tmp = xasprintf("%s.tmp.XXXXXX", c.out);
	if ((fd = stale_mktemp(c.tmp, 0)) < 0)
		die("failed to create: %s:", c.tmp);
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) < 0)
		die("failed to change mode: %s:", c.tmp);
	paths[0] = c.tmp;
	paths[1] = NULL;
	if ((rc = guard_run(export_worker, &c, paths, NULL)) < 0)
		die("failed to fork:");
	close(fd);
	free(def);
	free(c.rootfs);
	free(c.out);
	free(c.tmp);
	return rc;
}
