/* registry-pull: download an image's config and layers from a registry into the blob cache,
 * concurrently, each verified against its digest.  Implements spec §4.1 (references), §4.3
 * (authentication), §4.4 (manifest resolution) and §4.5 (download and cache) for the
 * importer; see registry-pull(1).
 *
 * APPLET(registry-pull, 0)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/applet.h"
#include "base/config.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/xwrap.h"
#include "registry/blobcache.h"
#include "registry/imageref.h"
#include "registry/pull.h"
#include "registry/registry.h"

static const char usage[] =
    "usage: registry-pull [-a ARCH] [-c DIR] [-j N] [--verify] [--] URI\n"
    "\n"
    "Resolve the docker:// URI to the image for ARCH, download its config and layers into\n"
    "the blob cache DIR/blobs/sha256 (each verified against its sha256 before it appears\n"
    "there; concurrent pulls of shared layers download them once), and print:\n"
    "  config DIGEST PATH\n"
    "  layer DIGEST MEDIATYPE PATH      (one line per layer, base layer first)\n"
    "  image SOURCE ARCH                (the provenance enroot records, the platform)\n"
    "\n"
    "  -a, --arch ARCH   x86_64, aarch64 or ppc64le (default: this machine's)\n"
    "  -c, --cache DIR   the cache (default: $ENROOT_CACHE_PATH, else\n"
    "                    ${XDG_CACHE_HOME:-$HOME/.cache}/enroot)\n"
    "  -j, --jobs N      parallel downloads (default: $ENROOT_MAX_CONNECTIONS or 10; 0: all)\n"
    "      --verify      re-hash blobs found in the cache (removing any that do not match)\n"
    "  -h, --help        show this help\n"
    "\n"
    "Credentials: $ENROOT_CONFIG_PATH/.credentials, as for enroot import.\n"
    "Exit status: 0 ok, 1 usage error or failure.\n";

enum { O_ARCH = 1, O_CACHE, O_JOBS, O_VERIFY };

static const struct opt opts[] = {
    {"arch", 'a', 1, O_ARCH}, {"cache", 'c', 1, O_CACHE},
    {"jobs", 'j', 1, O_JOBS}, {"verify", 0, 0, O_VERIFY},
    {NULL, 0, 0, 0},
};

struct args {
	const char *arch, *cache, *uri;
	unsigned jobs;
	int verify;
};

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
		else if ((a->jobs = (unsigned)strtoul(p.arg, &end, 10)), *end || a->jobs > 1024)
			die("invalid number of jobs: %s", p.arg);
	}
	if (argc - p.ind != 1)
		usage_exit(usage, 1);
	a->uri = argv[p.ind];
}

/* Re-hash the cached blobs of img when asked; a mismatch removes the blob and fails. */
static void verify_all(struct blobcache *c, const struct registry_image *img)
{
	if (blobcache_verify(c, img->config.digest) < 0)
		die("Checksum mismatch: %s", img->config.digest + 7);
	for (size_t i = 0; i < img->nlayers; i++)
		if (blobcache_verify(c, img->layers[i].digest) < 0)
			die("Checksum mismatch: %s", img->layers[i].digest + 7);
}

static void print_blobs(struct blobcache *c, const struct registry_image *img,
			const struct imageref *ref, const char *arch)
{
	char *p = blobcache_path(c, img->config.digest), *prov = imageref_provenance(ref);

	if (!prov)
		die("failed to allocate memory:");
	printf("config %s %s\n", img->config.digest, p);
	free(p);
	for (size_t i = 0; i < img->nlayers; i++) {
		p = blobcache_path(c, img->layers[i].digest);
		printf("layer %s %s %s\n", img->layers[i].digest,
		       img->layers[i].media_type ? img->layers[i].media_type : "-", p);
		free(p);
	}
	printf("image %s %s\n", prov, arch);
	free(prov);
}

int registry_pull_main(int argc, char **argv)
{
	struct args a = {0};
	struct imageref_platform platform;
	struct imageref ref;
	struct registry r;
	struct registry_image img;
	struct blobcache c;
	struct pull_stats st;
	char why[512], *creds, *dir;

	parse_args(argc, argv, &a);
	if (imageref_parse(a.uri, &ref) < 0)
		die(errno == EINVAL ? "Invalid image reference: %s" : "failed to parse: %s:",
		    a.uri);
	if (imageref_platform(a.arch, &platform) < 0)
		die("Unsupported architecture: %s", a.arch ? a.arch : "(uname)");
	creds = config_credentials_path();
	if (!creds || imageref_default_user(&ref, creds) < 0)
		die("failed to read: %s:", creds ? creds : ".credentials");
	dir = a.cache ? xstrdup(a.cache) : config_path("ENROOT_CACHE_PATH");
	if (!dir)
		die("failed to allocate memory:");
	if (blobcache_open(&c, dir) < 0)
		die("failed to open cache: %s:", dir);
	if (registry_open(&r, &ref, &platform, creds) < 0 || registry_resolve(&r, &img) < 0)
		die("%s", r.why);
	if (pull_image(&r, &c, &img, a.jobs, &st, why, sizeof(why)) < 0)
		die("%s", why);
	msg_debug("fetched %zu blobs, %zu found in the cache", st.fetched, st.hits);
	if (a.verify)
		verify_all(&c, &img);
	print_blobs(&c, &img, &ref, platform.architecture);
	manifest_image_free(&img);
	registry_close(&r);
	blobcache_close(&c);
	imageref_free(&ref);
	free(creds);
	free(dir);
	return fflush(stdout) ? 1 : 0;
}
