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

static const char usage[] =
    "usage: layer-squash [-a ARCH] -o IMAGE [FILE]\n"
    "\n"
    "Write the squashfs IMAGE of the image registry-pull described in FILE (default: stdin):\n"
    "  config DIGEST PATH\n"
    "  layer DIGEST MEDIATYPE PATH      (one line per layer, base layer first)\n"
    "  image SOURCE ARCH                (the provenance recorded in /etc/rc; optional)\n"
    "The configuration files (/etc/rc, /etc/rc.local, /etc/fstab, /etc/environment) come\n"
    "from the config; the layers are merged top-down into the image in one pass. Everything\n"
    "the image gets from no layer has the config's `created` time (SOURCE_DATE_EPOCH and\n"
    "-all-time in ENROOT_SQUASH_OPTIONS set every time). IMAGE appears only when complete.\n"
    "\n"
    "  -a, --arch ARCH    warn when the image is not for ARCH (registry-pull's name for it)\n"
    "  -o, --output IMAGE the image to write (it must not exist)\n"
    "\n"
    "Exit status: 0 ok; 1 failure; 2 when the options or the layers need mksquashfs (the\n"
    "extract path: layer-unpack, then mksquashfs), nothing written.\n";

static char *tmp_path; /* the temporary image, removed at exit unless published */

static void remove_tmp(void)
{
	if (tmp_path)
		unlink(tmp_path);
}

struct input {
	char *source, *arch, *config;
	char **digests, **types, **paths;
	size_t n;
};

/* Split LINE into at most 4 words in place; returns the count. */
static int words(char *line, char *w[4])
{
	int n = 0;

	for (char *save = NULL, *t = strtok_r(line, " \t", &save); t && n < 4;
	     t = strtok_r(NULL, " \t", &save))
		w[n++] = t;
	return n;
}

static void read_input(FILE *f, struct input *in)
{
	char *line = NULL, *w[4];
	size_t cap = 0;
	ssize_t len;

	while ((len = getline(&line, &cap, f)) > 0) {
		int n;
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		n = words(line, w);
		if (n == 3 && !strcmp(w[0], "image")) {
			in->source = xstrdup(w[1]);
			in->arch = xstrdup(w[2]);
		} else if (n == 3 && !strcmp(w[0], "config")) {
			in->config = xstrdup(w[2]);
		} else if (n == 4 && !strcmp(w[0], "layer")) {
			in->digests = xrealloc(in->digests, (in->n + 1) * sizeof(char *));
			in->types = xrealloc(in->types, (in->n + 1) * sizeof(char *));
			in->paths = xrealloc(in->paths, (in->n + 1) * sizeof(char *));
			in->digests[in->n] = xstrdup(w[1]);
			in->types[in->n] = strcmp(w[2], "-") ? xstrdup(w[2]) : NULL;
			in->paths[in->n++] = xstrdup(w[3]);
		} else if (n) {
			die("invalid input line: %s", w[0]);
		}
	}
	if (ferror(f))
		die("failed to read the input:");
	free(line);
	if (!in->config)
		die("no config line in the input");
}

static void input_free(struct input *in)
{
	for (size_t i = 0; i < in->n; i++) {
		free(in->digests[i]);
		free(in->types[i]);
		free(in->paths[i]);
	}
	free(in->digests);
	free(in->types);
	free(in->paths);
	free(in->source);
	free(in->arch);
	free(in->config);
}

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
		msg_error("one-pass image not possible (%s): use layer-unpack and mksquashfs",
			  p->err.msg);
		exit(2);
	}
	if (rc < 0)
		die("%s: %s", what, p->err.msg);
	return rc;
}

/* Write the image into FD. */
static void squash(int fd, const struct input *in, const char *arch)
{
	struct onepass p;
	struct imgconfig ic;
	unsigned long long max = layer_max();
	json_t cfg = load_config(in->config);
	int bad;

	if (imgconfig_render(cfg, in->source ? in->source : "", &ic) < 0)
		die("failed to render image configuration:");
	if (arch && (!ic.arch || strcmp(ic.arch, arch)))
		msg_warn("Image architecture doesn't match the requested one: %s != %s",
			 ic.arch ? ic.arch : "", arch);
	check(&p, onepass_open(&p, fd, in->n, (uint32_t)ic.created), "failed to create squashfs");
	check(&p, onepass_config(&p, &ic), "failed to write image configuration");
	for (size_t i = in->n; i-- > 0;) {
		int lfd = xopen(in->paths[i], O_RDONLY | O_CLOEXEC, 0);
		int rc = onepass_layer(&p, lfd, in->types[i], max, &bad);
		close(lfd);
		if (rc < 0 && rc != MERGE_FALLBACK)
			die("failed to extract layer %s: %s", in->digests[i], p.err.msg);
		check(&p, rc, "failed to extract layer");
	}
	check(&p, onepass_finish(&p), "failed to create squashfs");
	onepass_close(&p);
	imgconfig_free(&ic);
	json_free(cfg);
}

int layer_squash_main(int argc, char **argv)
{
	static const struct opt opts[] = {{"arch", 'a', 1, 'a'}, {"output", 'o', 1, 'o'}, {0}};
	const char *arch = NULL, *out = NULL;
	struct input in = {0};
	struct optparse p;
	struct stat st;
	char *tmp, why[PATH_MAX + 128];
	FILE *f = stdin;
	mode_t mask;
	int id, fd;

	opt_init(&p, argc, argv);
	while ((id = opt_next(&p, opts)) != OPT_DONE) {
		if (id == OPT_HELP)
			usage_exit(usage, 0);
		if (id == OPT_BAD)
			opt_fail(&p, usage);
		*(id == 'a' ? &arch : &out) = p.arg;
	}
	if (!out || argc - p.ind > 1)
		usage_exit(usage, 1);
	if (!lstat(out, &st))
		die("File already exists: %s", out);
	if (p.ind < argc && !(f = fopen(argv[p.ind], "re")))
		die("failed to open: %s:", argv[p.ind]);
	read_input(f, &in);
	if (!arch)
		arch = in.arch;
	tmp = xasprintf("%s.tmp.XXXXXX", out);
	if ((fd = stale_mktemp(tmp, 0)) < 0)
		die("failed to create: %s:", tmp);
	tmp_path = tmp;
	atexit(remove_tmp);
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) < 0) /* mkostemp's 0600 would stay on the image */
		die("failed to change mode: %s:", tmp);
	squash(fd, &in, arch);
	if (squash_publish(tmp, out) < 0) {
		squash_describe(errno, 0, out, why, sizeof(why));
		die("%s", why);
	}
	tmp_path = NULL;
	close(fd);
	free(tmp);
	input_free(&in);
	if (f != stdin)
		fclose(f);
	return 0;
}
