/* layer-unpack: apply one image layer (tar, tar+gzip, tar+zstd) onto a directory, unprivileged
 * and confined to it, with OCI whiteouts applied in user space; replaces enroot-aufs2ovlfs.
 * Spec §4.5, §4.6, §6.4; PITFALLS.md §3.1, §3.2; DESIGN.md decision 4; man7: path_resolution,
 * openat2(2), xattr(7).
 *
 * APPLET(layer-unpack, 0)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/applet.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/size.h"
#include "base/xwrap.h"
#include "image/imgconfig.h"
#include "image/layer.h"
#include "registry/pullist.h"
#include "registry/registry.h"

static const char usage[] =
    "usage: layer-unpack [-v] [--media-type TYPE] [--max-size BYTES] FILE|- DIR\n"
    "       layer-unpack --image [-p] [--evict] [--max-size BYTES] LIST|- DIR\n"
    "\n"
    "Apply the image layer FILE (or standard input with -) onto the tree in DIR: files are\n"
    "created or replaced, .wh.NAME whiteouts remove NAME and .wh..wh..opq empties its\n"
    "directory of what lower layers left.  Nothing is ever written outside DIR; device nodes\n"
    "and sockets are skipped with a warning.\n"
    "\n"
    "With --image, LIST is what registry-pull prints (streamed or not): every layer is\n"
    "applied, base first, each as soon as it is ready, then the image configuration files\n"
    "(/etc/rc, /etc/rc.local, /etc/fstab, /etc/environment, WorkingDir and Volumes) are\n"
    "written, so that `registry-pull --stream URI | layer-unpack --image - DIR` makes the tree\n"
    "`enroot load` makes.\n"
    "\n"
    " Options:\n"
    "   -i, --image             LIST is a registry-pull listing (see above)\n"
    "   -p, --progress          Say on stderr when the layers are being extracted\n"
    "       --evict             Remove from the blob cache a layer that does not unpack\n"
    "   -v, --verbose           Print counts of entries, bytes and skipped entries at the end\n"
    "   -t, --media-type TYPE   The layer's OCI or Docker media type (compression); default:\n"
    "                           recognize gzip, zstd or plain tar by the magic bytes\n"
    "   -m, --max-size BYTES    Fail when the uncompressed layer exceeds BYTES (a K, M, G or T\n"
    "                           suffix multiplies by 1024^1..4; 0: no limit, the default;\n"
    "                           with --image, ENROOT_MAX_LAYER_SIZE or 64G)\n";

enum { OPT_VERBOSE = 1, OPT_MEDIA, OPT_MAX, OPT_IMAGE, OPT_PROGRESS, OPT_EVICT };

static const struct opt opts[] = {
    {"verbose", 'v', 0, OPT_VERBOSE},
    {"media-type", 't', 1, OPT_MEDIA},
    {"max-size", 'm', 1, OPT_MAX},
    {"image", 'i', 0, OPT_IMAGE},
    {"progress", 'p', 0, OPT_PROGRESS},
    {"evict", 0, 0, OPT_EVICT},
    {NULL, 0, 0, 0},
};

struct args {
	struct layer_opts o;
	int verbose, image, progress, evict, max_set;
};

/* Warn about a skipped entry.  The name comes from the layer: control characters become '?'
 * so it cannot drive the terminal, and the reason goes first so a long name cannot hide it. */
static void warn_entry(void *ctx, const char *path, const char *reason)
{
	char name[513];
	size_t i;

	(void)ctx;
	for (i = 0; path[i] && i < sizeof(name) - 1; i++)
		name[i] = (unsigned char)path[i] < 0x20 || path[i] == 0x7f ? '?' : path[i];
	name[i] = '\0';
	msg_warn("%s: %s%s", reason, name, path[i] ? "..." : "");
}

static unsigned long long parse_size(const char *s)
{
	unsigned long long v;

	if (size_parse(s, &v) < 0)
		die("invalid size: %s", s);
	return v;
}

static void report(const struct layer_stats *st)
{
	msg_info("%llu entries, %llu bytes, %llu skipped (%llu device nodes), "
		 "%llu whiteouts, %llu opaque directories, %llu whiteouts ignored",
		 st->entries, st->bytes, st->skipped, st->devices, st->whiteouts, st->opaques,
		 st->wh_ignored);
}

/* Apply layer I of the listing onto ROOT. */
static void apply_listed(struct pullist *l, size_t i, int root, struct args *a)
{
	struct layer_stats st;
	struct layer_error err;
	int fd, rc;

	xpullist_wait(l, i);
	fd = xopen(l->paths[i], O_RDONLY | O_CLOEXEC, 0);
	a->o.compression = l->types[i] ? layer_media_type(l->types[i]) : LAYER_AUTO;
	if ((int)a->o.compression < 0)
		a->o.compression = LAYER_AUTO;
	rc = layer_apply(fd, root, &a->o, &st, &err);
	close(fd);
	if (rc < 0 && a->evict && (errno == EINVAL || errno == EIO || errno == EFBIG))
		pullist_evict(l, i);
	if (rc < 0)
		die("failed to extract layer %s: %s", l->digests[i], err.msg);
	if (a->verbose || st.skipped)
		report(&st);
}

/* The listing's configuration, rendered and written over the tree in ROOT. */
static void configure(struct pullist *l, int root)
{
	struct buf b = BUF_INIT;
	char why[PATH_MAX + 128];
	json_t cfg;
	int fd, rc;

	xpullist_wait(l, PULLIST_CONFIG(l));
	fd = xopen(l->config, O_RDONLY | O_CLOEXEC, 0);
	if (buf_read_fd(&b, fd, REGISTRY_MAX_CONFIG) < 0)
		die("failed to read image configuration: %s:", l->config);
	close(fd);
	if (!(cfg = json_parse(b.data ? b.data : "", b.len, why, sizeof(why))) ||
	    !json_is_object(cfg))
		die("failed to parse image configuration: %s", cfg ? "not an object" : why);
	buf_free(&b);
	if ((rc = imgconfig_apply(root, cfg, l->source ? l->source : "", l->arch, why,
				  sizeof(why))) < 0)
		die("%s", why);
	if (rc > 0)
		msg_warn("%s", why);
	json_free(cfg);
}

/* --image: every layer of the listing on IN, then the configuration files. */
static void unpack_image(int in, int root, struct args *a)
{
	FILE *f = in ? fdopen(in, "r") : stdin;
	struct pullist l;

	if (!f)
		die("failed to open the listing:");
	if (!a->max_set && layer_max_size(&a->o.max_size) < 0)
		die("Invalid value for ENROOT_MAX_LAYER_SIZE: %s", getenv("ENROOT_MAX_LAYER_SIZE"));
	xpullist_read(f, &l);
	if (a->progress)
		msg_info("Extracting image layers...");
	for (size_t i = 0; i < l.n; i++)
		apply_listed(&l, i, root, a);
	configure(&l, root);
	xpullist_drain(&l);
	pullist_free(&l);
	if (f != stdin)
		fclose(f);
}

int layer_unpack_main(int argc, char **argv)
{
	struct args a = {.o = {.warn = warn_entry}};
	struct layer_stats st;
	struct layer_error err;
	struct optparse p;
	int id, in = 0, root;

	opt_init(&p, argc, argv);
	while ((id = opt_next(&p, opts)) != OPT_DONE) {
		if (id == OPT_HELP)
			usage_exit(usage, 0);
		else if (id == OPT_BAD)
			opt_fail(&p, usage);
		else if (id == OPT_VERBOSE)
			a.verbose = 1;
		else if (id == OPT_IMAGE)
			a.image = 1;
		else if (id == OPT_PROGRESS)
			a.progress = 1;
		else if (id == OPT_EVICT)
			a.evict = 1;
		else if (id == OPT_MAX)
			a.o.max_size = parse_size(p.arg), a.max_set = 1;
		else if ((int)(a.o.compression = layer_media_type(p.arg)) < 0)
			die("unsupported media type: %s", p.arg);
	}
	if (argc - p.ind != 2)
		usage_exit(usage, 1);
	if (strcmp(argv[p.ind], "-") && (in = open(argv[p.ind], O_RDONLY | O_CLOEXEC)) < 0)
		die("failed to open: %s:", argv[p.ind]);
	root = open(argv[p.ind + 1], (a.image ? O_RDONLY : O_PATH) | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		die("failed to open directory: %s:", argv[p.ind + 1]);
	if (a.image) {
		unpack_image(in, root, &a);
		return 0;
	}
	if (layer_apply(in, root, &a.o, &st, &err) < 0)
		die("%s", err.msg);
	if (a.verbose || st.skipped)
		report(&st);
	return 0;
}
