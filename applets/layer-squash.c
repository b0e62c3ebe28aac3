/* layer-squash: write the squashfs image of a pulled image in one pass: its configuration
 * files (spec 4.7) as the uppermost layer, then the layers top-down straight into the image
 * (lib/image/onepass.h), no extracted tree.  Reads what registry-pull prints, so that
 *   registry-pull URI | layer-squash -o IMAGE.sqsh
 * gives the image `enroot import -o IMAGE.sqsh URI` gives, byte for byte.
 *
 * APPLET(layer-squash, 0)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/applet.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/stale.h"
#include "base/xwrap.h"
#include "image/imgconfig.h"
#include "image/layer.h"
#include "image/merge.h"
#include "image/onepass.h"
#include "image/squash.h"
#include "registry/pullist.h"

static const char usage[] =
    "usage: layer-squash [-a ARCH] [-p] [--evict] [--quiet-fallback] -o IMAGE|- [FILE]\n"
    "\n"
    "Write the squashfs IMAGE of the image registry-pull described in FILE (default: stdin):\n"
    "  config DIGEST PATH\n"
    "  layer DIGEST MEDIATYPE PATH      (one line per layer, base layer first)\n"
    "  image SOURCE ARCH                (the provenance recorded in /etc/rc; optional)\n"
    "and, from registry-pull --stream, `ready DIGEST` lines and `done`: each layer is merged\n"
    "as soon as it is ready, while the others download.\n"
    "The configuration files (/etc/rc, /etc/rc.local, /etc/fstab, /etc/environment) come\n"
    "from the config; the layers are merged top-down into the image in one pass. Everything\n"
    "the image gets from no layer has the config's `created` time (SOURCE_DATE_EPOCH and\n"
    "-all-time in ENROOT_SQUASH_OPTIONS set every time). IMAGE appears only when complete.\n"
    "\n"
    "  -a, --arch ARCH    warn when the image is not for ARCH (default: the image line's)\n"
    "  -o, --output IMAGE the image to write (it must not exist); with -, the image goes to\n"
    "                     standard output, which must be an empty regular file\n"
    "  -p, --progress     say on stderr when the image is being written\n"
    "      --evict        remove from the blob cache a layer that verified but does not unpack\n"
    "      --quiet-fallback  exit 2 with the reason as a debug message, not an error (for a\n"
    "                     caller that then takes the extract path itself)\n"
    "\n"
    "Exit status: 0 ok; 1 failure; 2 when the options or the layers need mksquashfs (the\n"
    "extract path: layer-unpack, then mksquashfs), nothing written.\n";

static char *tmp_path; /* the temporary image, removed at exit unless published */

static void remove_tmp(void)
{
	if (tmp_path)
		unlink(tmp_path);
}

struct args {
	const char *arch, *out;
	int progress, evict;
};

static int quiet_fallback;

static json_t load_config(const char *path)
{
	struct buf b = BUF_INIT;
	char why[256];
	json_t cfg;
	int fd = xopen(path, O_RDONLY | O_CLOEXEC, 0);

	if (buf_read_fd(&b, fd, 64u << 20) < 0)
		die("failed to read: %s:", path);
	close(fd);
	if (!(cfg = json_parse(b.data ? b.data : "", b.len, why, sizeof(why))))
		die("Invalid image configuration: %s: %s", path, why);
	buf_free(&b);
	return cfg;
}

/* The most bytes one layer may decompress to (ENROOT_MAX_LAYER_SIZE). */
static unsigned long long layer_max(void)
{
	unsigned long long max;

	if (layer_max_size(&max) < 0)
		die("Invalid value for ENROOT_MAX_LAYER_SIZE: %s", getenv("ENROOT_MAX_LAYER_SIZE"));
	return max;
}

static int check(struct onepass *p, int rc, const char *what)
{
	if (rc == MERGE_FALLBACK) {
		if (quiet_fallback)
			msg_debug("one-pass import not possible (%s), using mksquashfs",
				  p->err.msg);
		else
			msg_error("one-pass image not possible (%s): use layer-unpack and "
				  "mksquashfs",
				  p->err.msg);
		exit(2);
	}
	if (rc < 0)
		die("%s: %s", what, p->err.msg);
	return rc;
}

/* Merge layer I as the next one down. */
static void squash_layer(struct onepass *p, struct pullist *l, size_t i, unsigned long long max,
			 int evict)
{
	int bad, lfd, rc;

	xpullist_wait(l, i);
	lfd = xopen(l->paths[i], O_RDONLY | O_CLOEXEC, 0);
	rc = onepass_layer(p, lfd, l->types[i], max, &bad);
	close(lfd);
	if (bad && evict)
		pullist_evict(l, i);
	if (rc < 0 && rc != MERGE_FALLBACK)
		die("failed to extract layer %s: %s", l->digests[i], p->err.msg);
	check(p, rc, "failed to extract layer");
}

/* Write the image into FD. */
static void squash(int fd, struct pullist *l, const struct args *a)
{
	const char *arch = a->arch ? a->arch : l->arch;
	unsigned long long max = layer_max();
	struct onepass p;
	struct imgconfig ic;
	char why[128];
	json_t cfg;

	xpullist_wait(l, PULLIST_CONFIG(l));
	cfg = load_config(l->config);
	if (imgconfig_render(cfg, l->source ? l->source : "", &ic) < 0)
		die("failed to render image configuration:");
	if (imgconfig_check_arch(&ic, arch, why, sizeof(why)) < 0)
		msg_warn("%s", why);
	check(&p, onepass_open(&p, fd, l->n, (uint32_t)ic.created), "failed to create squashfs");
	if (a->progress)
		msg_info("Extracting image layers and creating squashfs filesystem...");
	check(&p, onepass_config(&p, &ic), "failed to write image configuration");
	for (size_t i = l->n; i-- > 0;)
		squash_layer(&p, l, i, max, a->evict);
	check(&p, onepass_finish(&p), "failed to create squashfs");
	onepass_close(&p);
	imgconfig_free(&ic);
	json_free(cfg);
}

/* The output: a new temporary beside OUT (published by the caller), or an empty regular
 * standard output for -o -. */
static int open_output(const char *out)
{
	struct stat st;
	mode_t mask;
	int fd;

	if (!strcmp(out, "-")) {
		int fl = fcntl(STDOUT_FILENO, F_GETFL);
		if (fstat(STDOUT_FILENO, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size)
			die("-o -: standard output is not an empty regular file");
		if (fl < 0 || (fl & O_APPEND))
			die("-o -: standard output is open for appending (use >FILE, not >>FILE)");
		return STDOUT_FILENO;
	}
	if (!lstat(out, &st))
		die("File already exists: %s", out);
	tmp_path = xasprintf("%s.tmp.XXXXXX", out);
	if ((fd = stale_mktemp(tmp_path, 0)) < 0)
		die("failed to create: %s:", tmp_path);
	atexit(remove_tmp);
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) < 0) /* mkostemp's 0600 would stay on the image */
		die("failed to change mode: %s:", tmp_path);
	return fd;
}

static const char *parse_args(int argc, char **argv, struct args *a)
{
	static const struct opt opts[] = {{"arch", 'a', 1, 'a'},	 {"output", 'o', 1, 'o'},
					  {"progress", 'p', 0, 'p'},	 {"evict", 0, 0, 'e'},
					  {"quiet-fallback", 0, 0, 'q'}, {0}};
	struct optparse p;
	int id;

	opt_init(&p, argc, argv);
	while ((id = opt_next(&p, opts)) != OPT_DONE) {
		if (id == OPT_HELP)
			usage_exit(usage, 0);
		if (id == OPT_BAD)
			opt_fail(&p, usage);
		if (id == 'a')
			a->arch = p.arg;
		else if (id == 'o')
			a->out = p.arg;
		else if (id == 'p')
			a->progress = 1;
		else if (id == 'q')
			quiet_fallback = 1;
		else
			a->evict = 1;
	}
	if (!a->out || argc - p.ind > 1)
		usage_exit(usage, 1);
	return p.ind < argc ? argv[p.ind] : NULL;
}

int layer_squash_main(int argc, char **argv)
{
	struct args a = {0};
	const char *file = parse_args(argc, argv, &a);
	struct pullist l;
	char why[PATH_MAX + 128];
	FILE *f = stdin;
	int fd;

	if (file && !(f = fopen(file, "re")))
		die("failed to open: %s:", file);
	fd = open_output(a.out);
	xpullist_read(f, &l);
	squash(fd, &l, &a);
	xpullist_drain(&l);
	if (tmp_path && squash_publish(tmp_path, a.out) < 0) {
		squash_describe(errno, 0, a.out, why, sizeof(why));
		die("%s", why);
	}
	free(tmp_path);
	tmp_path = NULL;
	if (fd != STDOUT_FILENO)
		close(fd);
	pullist_free(&l);
	if (f != stdin)
		fclose(f);
	return 0;
}
