/* registry-pull: download an image's config and layers from a registry into the blob cache,
 * concurrently, each verified against its digest.  Implements spec §4.1 (references), §4.3
 * (authentication), §4.4 (manifest resolution) and §4.5 (download and cache) for the
 * importer; see registry-pull(1).
 *
 * APPLET(registry-pull, 0)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/applet.h"
#include "base/config.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/xwrap.h"
#include "registry/blobcache.h"
#include "registry/imageref.h"
#include "registry/pull.h"
#include "registry/pullist.h"
#include "registry/registry.h"

static const char usage[] =
    "usage: registry-pull [-a ARCH] [-c DIR] [-j N] [-s] [-p] [--verify] [--] URI\n"
    "\n"
    "Resolve the docker:// URI to the image for ARCH, download its config and layers into\n"
    "the blob cache DIR/blobs/sha256 (each verified against its sha256 before it appears\n"
    "there; concurrent pulls of shared layers download them once), and print:\n"
    "  config DIGEST PATH\n"
    "  layer DIGEST MEDIATYPE PATH      (one line per layer, base layer first)\n"
    "  image SOURCE ARCH                (the provenance enroot records, the platform)\n"
    "Each blob is tried 3 times, each try with the HTTP retries of ENROOT_TRANSFER_RETRIES;\n"
    "the first blob that fails stops the others.\n"
    "\n"
    "  -a, --arch ARCH   x86_64, aarch64 or ppc64le (default: this machine's)\n"
    "  -c, --cache DIR   the cache (default: $ENROOT_CACHE_PATH, else\n"
    "                    ${XDG_CACHE_HOME:-$HOME/.cache}/enroot)\n"
    "  -j, --jobs N      parallel downloads (default: $ENROOT_MAX_CONNECTIONS or 10; 0: all)\n"
    "  -s, --stream      print the lines as soon as the manifest is resolved, then\n"
    "                    `ready DIGEST` as each blob is in the cache and `done` at the end\n"
    "                    (`failed` when the pull fails), for layer-squash and layer-unpack\n"
    "                    to start while the rest downloads\n"
    "  -p, --progress    say what is fetched on stderr, with a progress line on a terminal\n"
    "      --verify      re-hash blobs found in the cache (removing any that do not match)\n"
    "  -h, --help        show this help\n"
    "\n"
    "Credentials: $ENROOT_CONFIG_PATH/.credentials, as for enroot import.\n"
    "Exit status: 0 ok, 1 usage error or failure.\n";

enum { O_ARCH = 1, O_CACHE, O_JOBS, O_STREAM, O_PROGRESS, O_VERIFY };

static const struct opt opts[] = {
    {"arch", 'a', 1, O_ARCH},
    {"cache", 'c', 1, O_CACHE},
    {"jobs", 'j', 1, O_JOBS},
    {"stream", 's', 0, O_STREAM},
    {"progress", 'p', 0, O_PROGRESS},
    {"verify", 0, 0, O_VERIFY},
    {NULL, 0, 0, 0},
};

struct args {
	const char *arch, *cache, *uri;
	unsigned jobs;
	int verify, stream, progress;
};

static int streaming; /* the header is out: a failure says `failed` on stdout first */

static void parse_args(int argc, char **argv, struct args *a)
{
	struct optparse p;
	char *end;
	int id;

	a->jobs = pull_max_connections();
	opt_init(&p, argc, argv);
	while ((id = opt_next(&p, opts)) != OPT_DONE) {
		if (id == OPT_HELP)
			usage_exit(usage, 0);
		if (id == OPT_BAD)
			opt_fail(&p, usage);
		if (id == O_ARCH)
			a->arch = p.arg;
		else if (id == O_CACHE)
			a->cache = p.arg;
		else if (id == O_VERIFY)
			a->verify = 1;
		else if (id == O_STREAM)
			a->stream = 1;
		else if (id == O_PROGRESS)
			a->progress = 1;
		else if ((a->jobs = (unsigned)strtoul(p.arg, &end, 10)), *end || a->jobs > 1024)
			die("invalid number of jobs: %s", p.arg);
	}
	if (argc - p.ind != 1)
		usage_exit(usage, 1);
	a->uri = argv[p.ind];
}

/* Die with the message; a stream reader learns of it from a `failed` line. */
static _Noreturn __attribute__((format(printf, 1, 2))) void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt); /* the message first: a reader told `failed` may end us at once */
	msg_vprint(MSG_LVL_ERROR, fmt, ap);
	va_end(ap);
	if (streaming)
		(void)(fputs("failed\n", stdout) != EOF && fflush(stdout));
	exit(1);
}

/* Re-hash blob B when it is in the cache; a mismatch removes it and fails. */
static void verify(struct blobcache *c, const struct registry_blob *b)
{
	if (blobcache_has(c, b->digest, b->size) == 1 && blobcache_verify(c, b->digest) < 0)
		fail("Checksum mismatch: %s", b->digest + 7);
}

/* --verify: re-hash the cached blobs of img before anyone is told they are ready. */
static void verify_all(struct blobcache *c, const struct registry_image *img)
{
	verify(c, &img->config);
	for (size_t i = 0; i < img->nlayers; i++)
		verify(c, &img->layers[i]);
}

struct report {
	int tty;
	size_t layers;
	unsigned long long bytes;
};

static void ready(void *ctx, const char *digest)
{
	(void)ctx;
	if (streaming && (printf("ready %s\n", digest) < 0 || fflush(stdout)))
		streaming = 0; /* the reader is gone: the pull still fills the cache */
}

static void progress(void *ctx, size_t done, size_t total, unsigned long long bytes)
{
	struct report *r = ctx;
	char line[160];
	int n;

	r->bytes = bytes;
	if (!r->tty)
		return;
	n = snprintf(line, sizeof(line), "\rDownloading: %zu/%zu blobs, %.1f MiB   ", done, total,
		     bytes / 1048576.0);
	if (n > 0 && write(STDERR_FILENO, line, (size_t)n) < 0)
		(void)0;
}

/* Fetch every blob of IMG, telling as asked. */
static void pull(const struct args *a, struct registry *r, struct blobcache *c,
		 const struct registry_image *img)
{
	struct report rep = {a->progress && isatty(STDERR_FILENO), img->nlayers, 0};
	struct pull_opts o = {a->jobs, &rep, ready, progress};
	struct pull_stats st;
	size_t missing = pull_missing(c, img);
	char why[512];

	if (a->progress && missing)
		msg_info("Downloading %zu missing layers...", missing);
	else if (a->progress)
		msg_info("Found all layers in cache");
	if (pull_image(r, c, img, &o, &st, why, sizeof(why)) < 0) {
		if (rep.tty && write(STDERR_FILENO, "\n", 1) < 0)
			(void)0;
		fail("%s", why);
	}
	if (rep.tty && missing && write(STDERR_FILENO, "\n", 1) == 1)
		msg_info("Downloaded %zu blobs (%.1f MiB transferred)", st.fetched,
			 rep.bytes / 1048576.0);
	msg_debug("fetched %zu blobs, %zu found in the cache", st.fetched, st.hits);
}

int registry_pull_main(int argc, char **argv)
{
	struct args a = {0};
	struct imageref_platform platform;
	struct imageref ref;
	struct registry r;
	struct registry_image img;
	struct blobcache c;
	char *creds, *dir, *prov;

	parse_args(argc, argv, &a);
	streaming = a.stream;
	if (imageref_parse(a.uri, &ref) < 0)
		fail(errno == EINVAL ? "Invalid image reference: %s" : "failed to parse: %s:",
		     a.uri);
	if (imageref_platform(a.arch, &platform) < 0)
		fail("Unsupported architecture: %s", a.arch ? a.arch : "(uname)");
	creds = config_credentials_path();
	if (!creds || imageref_default_user(&ref, creds) < 0)
		fail("failed to read: %s:", creds ? creds : ".credentials");
	dir = a.cache ? xstrdup(a.cache) : config_path("ENROOT_CACHE_PATH");
	if (!dir || !(prov = imageref_provenance(&ref)))
		fail("failed to allocate memory:");
	if (blobcache_open(&c, dir) < 0)
		fail("failed to open cache: %s:", dir);
	if (a.progress)
		msg_info("Fetching image manifest");
	if (registry_open(&r, &ref, &platform, creds) < 0 || registry_resolve(&r, &img) < 0)
		fail("%s", r.why);
	if (a.stream && pullist_print(stdout, &c, &img, prov, platform.architecture) < 0)
		die("failed to write the listing:");
	if (a.verify)
		verify_all(&c, &img);
	pull(&a, &r, &c, &img);
	if (a.stream ? printf("done\n") < 0
		     : pullist_print(stdout, &c, &img, prov, platform.architecture) < 0)
		die("failed to write the listing:");
	manifest_image_free(&img);
	registry_close(&r);
	blobcache_close(&c);
	imageref_free(&ref);
	free(prov);
	free(creds);
	free(dir);
	return fflush(stdout) ? 1 : 0;
}
