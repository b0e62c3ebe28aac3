/* layer-unpack: apply one image layer (tar, tar+gzip, tar+zstd) onto a directory, unprivileged
 * and confined to it, with OCI whiteouts applied in user space; replaces enroot-aufs2ovlfs.
 * Spec §4.5, §4.6, §6.4; PITFALLS.md §3.1, §3.2; DESIGN.md decision 4; man7: path_resolution,
 * openat2(2), xattr(7).
 *
 * APPLET(layer-unpack, 0)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/applet.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/size.h"
#include "base/xwrap.h"
#include "image/layer.h"

static const char usage[] =
    "usage: layer-unpack [-v] [--media-type TYPE] [--max-size BYTES] FILE|- DIR\n"
    "\n"
    "Apply the image layer FILE (or standard input with -) onto the tree in DIR: files are\n"
    "created or replaced, .wh.NAME whiteouts remove NAME and .wh..wh..opq empties its\n"
    "directory of what lower layers left.  Nothing is ever written outside DIR; device nodes\n"
    "and sockets are skipped with a warning.\n"
    "\n"
    " Options:\n"
    "   -v, --verbose           Print counts of entries, bytes and skipped entries at the end\n"
    "   -t, --media-type TYPE   The layer's OCI or Docker media type (compression); default:\n"
    "                           recognize gzip, zstd or plain tar by the magic bytes\n"
    "   -m, --max-size BYTES    Fail when the uncompressed layer exceeds BYTES (a K, M, G or T\n"
    "                           suffix multiplies by 1024^1..4; 0: no limit, the default)\n";

enum { OPT_VERBOSE = 1, OPT_MEDIA, OPT_MAX };

static const struct opt opts[] = {
    {"verbose", 'v', 0, OPT_VERBOSE},
    {"media-type", 't', 1, OPT_MEDIA},
    {"max-size", 'm', 1, OPT_MAX},
    {NULL, 0, 0, 0},
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

int layer_unpack_main(int argc, char **argv)
{
	struct layer_opts o = {.warn = warn_entry};
	struct layer_stats st;
	struct layer_error err;
	struct optparse p;
	int verbose = 0, id, in = 0, root;

	opt_init(&p, argc, argv);
	while ((id = opt_next(&p, opts)) != OPT_DONE) {
		if (id == OPT_HELP)
			usage_exit(usage, 0);
		else if (id == OPT_BAD)
			opt_fail(&p, usage);
		else if (id == OPT_VERBOSE)
			verbose = 1;
		else if (id == OPT_MAX)
			o.max_size = parse_size(p.arg);
		else if ((int)(o.compression = layer_media_type(p.arg)) < 0)
			die("unsupported media type: %s", p.arg);
	}
	if (argc - p.ind != 2)
		usage_exit(usage, 1);
	if (strcmp(argv[p.ind], "-") && (in = open(argv[p.ind], O_RDONLY | O_CLOEXEC)) < 0)
		die("failed to open: %s:", argv[p.ind]);
	root = open(argv[p.ind + 1], O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		die("failed to open directory: %s:", argv[p.ind + 1]);
	if (layer_apply(in, root, &o, &st, &err) < 0)
		die("%s", err.msg);
	if (verbose || st.skipped)
		report(&st);
	return 0;
}
