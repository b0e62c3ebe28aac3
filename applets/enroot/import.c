/* import: `enroot import` and the pipeline shared with `enroot load` (see import.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/config.h"
#include "base/dl.h"
#include "base/guard.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/safepath.h"
#include "base/sha256.h"
#include "base/stale.h"
#include "base/xwrap.h"
#include "image/imgconfig.h"
#include "image/layer.h"
#include "image/merge.h"
#include "image/onepass.h"
#include "image/sqfs.h"
#include "image/squash.h"
#include "registry/blobcache.h"
#include "registry/imageref.h"
#include "registry/pull.h"
#include "registry/registry.h"
#include "import.h"

const char import_usage[] =
    "Usage: enroot import [options] [--] URI\n"
    "\n"
    "Import a container image from a specific location.\n"
    "\n"
    " Schemes:\n"
    "   docker://[USER@][REGISTRY#]IMAGE[:TAG]  Import a Docker image from a registry\n"
    "   dockerd://IMAGE[:TAG]                   Import a Docker image from the Docker daemon\n"
    "   podman://IMAGE[:TAG]                    Import a Docker image from a local podman "
    "repository\n"
    "\n"
    " Options:\n"
    "   -a, --arch    Architecture of the image (defaults to host architecture)\n"
    "   -o, --output  Name of the output image file (defaults to \"URI.sqsh\")\n";

/* mkdir -p with mode 0755 for the settings' directories. */
static int mkdirs(const char *path)
{
	char *copy, *p;
	int rc = 0;

	if (!(copy = strdup(path)))
		return -1;
	for (p = copy + 1; !rc && (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST)
			rc = -1;
		*p = '/';
	}
	if (!rc && mkdir(copy, 0755) < 0 && errno != EEXIST)
		rc = -1;
	free(copy);
	return rc;
}

/* Attempts per blob download (enroot runs them under `parallel --retries 2`). */
#define FETCH_ATTEMPTS 3

/* Room for a message naming a path. */
#define WHY_LEN (PATH_MAX + 512)

/* Concurrent blob downloads into the cache, consumed in layer order by the builder. */
struct fetcher {
	struct registry *r;
	const struct registry_image *img;
	struct blobcache *bc;
	int tty;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t next, done;
	int *state; /* per layer: 0 pending, 1 in the cache, -1 failed (why[i] says why) */
	char (*why)[WHY_LEN];
	int stop;
	unsigned long long bytes;
	pthread_t *tids; /* the download threads, nthreads of them */
	size_t nthreads;
};

/* What blobcache's fetcher writes through: its sink, plus our progress and stop check. */
struct sink {
	int (*sink)(void *ctx, const void *data, size_t len);
	void *ctx;
	struct fetcher *f;
};

struct fetch_arg {
	struct fetcher *f;
	struct registry *r;
};

static void progress(struct fetcher *f, const char *what)
{
	char line[160];
	int n;

	if (!f->tty)
		return;
	n = snprintf(line, sizeof(line), "\r%s: %zu/%zu layers, %.1f MiB   ", what, f->done,
		     f->img->nlayers, f->bytes / 1048576.0);
	if (n > 0 && write(STDERR_FILENO, line, (size_t)n) < 0)
		(void)0;
}

static int sink_write(void *ctx, const void *data, size_t len)
{
	struct sink *s = ctx;

	if (__atomic_load_n(&s->f->stop, __ATOMIC_RELAXED))
		return errno = ECANCELED, -1;
	if (s->sink(s->ctx, data, len) < 0)
		return -1;
	pthread_mutex_lock(&s->f->mu);
	s->f->bytes += len;
	progress(s->f, "Downloading");
	pthread_mutex_unlock(&s->f->mu);
	return 0;
}

/* blobcache's fetcher: the registry GET, streamed through our sink. */
static int fetch_from_registry(void *arg, const char *digest,
			       int (*sink)(void *ctx, const void *data, size_t len),
			       int (*reset)(void *ctx), void *ctx, char *why, size_t whylen)
{
	struct fetch_arg *a = arg;
	struct sink s = {sink, ctx, a->f};

	if (registry_get_blob(a->r, digest, sink_write, reset, &s) == 0)
		return 0;
	snprintf(why, whylen, "%s", a->r->why);
	return -1;
}

/* Make blob B present in the cache (lib/blobcache: verified, locked against concurrent
 * writers, atomic), tried FETCH_ATTEMPTS times as enroot's `parallel --retries 2` does, on
 * top of the HTTP retries (ENROOT_TRANSFER_RETRIES) inside one attempt. */
static int fetch_blob(struct fetcher *f, struct registry *r, const struct registry_blob *b,
		      char *why, size_t whylen)
{
	struct fetch_arg a = {f, r};
	int rc = -1;

	for (int t = 0; rc < 0 && t < FETCH_ATTEMPTS; t++) {
		rc = blobcache_get(f->bc, b->digest, b->size, fetch_from_registry, &a, why, whylen);
		if (__atomic_load_n(&f->stop, __ATOMIC_RELAXED))
			break;
	}
	return rc < 0 ? -1 : 0;
}

/* A download thread: claim the next layer, fetch it, report; until none is left. */
static void *fetch_thread(void *arg)
{
	struct fetcher *f = arg;
	struct registry r = *f->r; /* its own error text; login happened before */

	for (;;) {
		size_t i;
		int rc;

		pthread_mutex_lock(&f->mu);
		i = f->stop ? f->img->nlayers : f->next++;
		pthread_mutex_unlock(&f->mu);
		if (i >= f->img->nlayers)
			break;
		rc = fetch_blob(f, &r, &f->img->layers[i], f->why[i], sizeof(f->why[i]));
		pthread_mutex_lock(&f->mu);
		f->state[i] = rc < 0 ? -1 : 1;
		f->done++;
		progress(f, "Downloading");
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->mu);
	}
	return NULL;
}

/* Allocate the per-layer state and start up to ENROOT_MAX_CONNECTIONS download threads (no
 * more than there are layers); dies when none can be started. */
static void fetch_start(struct fetcher *f)
{
	long max = pull_max_connections(); /* 0: one per layer */
	size_t n = f->img->nlayers;

	f->tids = calloc(n ? n : 1, sizeof(pthread_t));
	f->state = calloc(n ? n : 1, sizeof(int));
	f->why = calloc(n ? n : 1, sizeof(*f->why));
	if (!f->tids || !f->state || !f->why)
		die("out of memory");
	if (!n)
		return;
	if (max <= 0 || (size_t)max > n)
		max = (long)n;
	while (f->nthreads < (size_t)max &&
	       !pthread_create(&f->tids[f->nthreads], NULL, fetch_thread, f))
		f->nthreads++;
	if (!f->nthreads)
		die("failed to start the download threads:");
}

/* Wait until layer I is in the cache; -1 when its download failed. */
static int fetch_wait(struct fetcher *f, size_t i)
{
	int st;

	pthread_mutex_lock(&f->mu);
	while (!(st = f->state[i]))
		pthread_cond_wait(&f->cv, &f->mu);
	pthread_mutex_unlock(&f->mu);
	return st < 0 ? -1 : 0;
}

/* Stop the downloads still running (STOP) or let them end, join every thread, tell a tty
 * what was done with the layers (DONE: "extracted", "merged") and free the per-layer state. */
static void fetch_join(struct fetcher *f, int stop, const char *done)
{
	size_t n = f->img->nlayers;

	if (stop)
		__atomic_store_n(&f->stop, 1, __ATOMIC_RELAXED);
	for (size_t i = 0; i < f->nthreads; i++)
		pthread_join(f->tids[i], NULL);
	if (f->tty && n && write(STDERR_FILENO, "\n", 1) == 1)
		msg_info("Downloaded and %s %zu layers (%.1f MiB transferred)", done, n,
			 f->bytes / 1048576.0);
	free(f->tids);
	free(f->state);
	free(f->why);
	f->tids = NULL, f->state = NULL, f->why = NULL, f->nthreads = 0;
}

static void warn_entry(void *ctx, const char *path, const char *reason)
{
	(void)ctx;
	msg_debug("skipped %s: %s", path, reason);
}

/* The limit of one layer's uncompressed tar stream (ENROOT_MAX_LAYER_SIZE, our extension:
 * it stops decompression bombs); -1 with a message when the setting is not a size. */
static int layer_limit(unsigned long long *max)
{
	if (layer_max_size(max) == 0)
		return 0;
	msg_error("Invalid value for ENROOT_MAX_LAYER_SIZE: %s", getenv("ENROOT_MAX_LAYER_SIZE"));
	return -1;
}

/* Apply the cached blob B onto the tree ROOT_FD (spec §4.6, in user space).  A blob that does
 * not unpack (corrupt, not a tar, over the size limit) leaves the cache: it verified against
 * its digest, but keeping it would only make the next import fail the same way offline. */
static int apply_layer(int root_fd, struct blobcache *bc, const struct registry_blob *b)
{
	int comp = b->media_type ? layer_media_type(b->media_type) : -1;
	struct layer_opts o = {
	    .compression = comp < 0 ? LAYER_AUTO : (enum layer_compression)comp,
	    .warn = warn_entry,
	};
	struct layer_stats st;
	struct layer_error err;
	int fd, rc, bad;

	if (layer_limit(&o.max_size) < 0)
		return -1;
	if ((fd = blobcache_open_blob(bc, b->digest)) < 0) {
		msg_error("failed to open: %s in the cache:", b->digest);
		return -1;
	}
	rc = layer_apply(fd, root_fd, &o, &st, &err);
	bad = rc < 0 && (errno == EINVAL || errno == EIO || errno == EFBIG);
	close(fd);
	if (bad)
		(void)blobcache_evict(bc, b->digest);
	if (rc < 0)
		msg_error("failed to extract layer %s: %s", b->digest, err.msg);
	return rc;
}

/* Fetch every layer concurrently and apply them bottom-up onto the root in turn. */
static int fetch_and_apply(struct fetcher *f, int root_fd, int scratch_fd)
{
	size_t n = f->img->nlayers;
	int rc = 0;

	fetch_start(f);
	for (size_t i = 0; !rc && i < n; i++) {
		if (fetch_wait(f, i) < 0) {
			msg_error("%s", f->why[i]);
			rc = -1;
		} else if (apply_layer(root_fd, f->bc, &f->img->layers[i]) < 0) {
			rc = -1;
		}
	}
	fetch_join(f, rc < 0, "extracted");
	return rc;
}

/* Read the cached config blob (bounded) and parse it. */
static json_t load_config(struct blobcache *bc, const char *digest)
{
	struct buf b = BUF_INIT;
	char err[256];
	json_t cfg;
	int fd;

	if ((fd = blobcache_open_blob(bc, digest)) < 0 ||
	    buf_read_fd(&b, fd, REGISTRY_MAX_CONFIG) < 0) {
		msg_error("failed to read image configuration: %s:", digest);
		if (fd >= 0)
			close(fd);
		buf_free(&b);
		return NULL;
	}
	close(fd);
	cfg = json_parse(b.data ? b.data : "", b.len, err, sizeof(err));
	if (!cfg || !json_is_object(cfg))
		msg_error("failed to parse image configuration: %s", cfg ? "not an object" : err);
	buf_free(&b);
	if (cfg && !json_is_object(cfg)) {
		json_free(cfg);
		cfg = NULL;
	}
	return cfg;
}

/* Render the configuration files of CFG and write them over the tree (spec §4.7). */
static int configure(const char *rootfs, json_t cfg, const char *provenance, const char *want_arch)
{
	struct imgconfig ic;
	char bad[PATH_MAX] = "";
	int fd, rc;

	if (imgconfig_render(cfg, provenance, &ic) < 0) {
		msg_error("failed to render image configuration:");
		return -1;
	}
	if (want_arch && (!ic.arch || strcmp(ic.arch, want_arch)))
		msg_warn("Image architecture doesn't match the requested one: %s != %s",
			 ic.arch ? ic.arch : "", want_arch);
	if ((fd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		msg_error("failed to open: %s:", rootfs);
		imgconfig_free(&ic);
		return -1;
	}
	rc = imgconfig_write(fd, &ic, bad, sizeof(bad));
	if (rc < 0)
		msg_error("failed to write image configuration: %s:", bad);
	close(fd);
	imgconfig_free(&ic);
	return rc;
}

/* Count the blobs (config and layers) missing from the cache, for enroot's message. */
static size_t count_missing(struct blobcache *bc, const struct registry_image *img)
{
	size_t n = blobcache_has(bc, img->config.digest, img->config.size) != 1;

	for (size_t i = 0; i < img->nlayers; i++)
		n += blobcache_has(bc, img->layers[i].digest, img->layers[i].size) != 1;
	return n;
}

struct docker {
	struct imageref ref;
	struct imageref_platform plat;
	struct registry r;
	struct registry_image img;
	struct blobcache bc;
	char *creds, *cache;
	int opened, resolved, cached;
};

static void docker_close(struct docker *d)
{
	if (d->resolved)
		manifest_image_free(&d->img);
	if (d->opened)
		registry_close(&d->r);
	if (d->cached)
		blobcache_close(&d->bc);
	imageref_free(&d->ref);
	free(d->creds);
	free(d->cache);
}

/* Parse the URI, find the credentials, log in and resolve the manifest (spec §4.1-§4.4). */
static int docker_open(struct import_job *job, struct docker *d)
{
	char *cfgdir = config_path("ENROOT_CONFIG_PATH");

	memset(d, 0, sizeof(*d));
	if (imageref_parse(job->uri, &d->ref) < 0)
		die(errno == EINVAL ? "Invalid image reference: %s" : "failed to parse: %s:",
		    job->uri);
	if (imageref_platform(job->arch, &d->plat) < 0)
		die("Unsupported architecture: %s", job->arch ? job->arch : "(uname -m)");
	d->cache = config_path("ENROOT_CACHE_PATH");
	if (!cfgdir || !d->cache || asprintf(&d->creds, "%s/.credentials", cfgdir) < 0)
		die("out of memory");
	free(cfgdir);
	if (mkdirs(d->cache) < 0 || blobcache_open(&d->bc, d->cache) < 0)
		die("failed to open the cache: %s:", d->cache);
	d->cached = 1;
	if (imageref_default_user(&d->ref, d->creds) < 0)
		die("failed to read: %s:", d->creds);
	msg_info("Fetching image manifest");
	if (registry_open(&d->r, &d->ref, &d->plat, d->creds) < 0) {
		msg_error("%s", d->r.why);
		return -1;
	}
	d->opened = 1;
	if (registry_resolve(&d->r, &d->img) < 0) {
		msg_error("%s", d->r.why);
		return -1;
	}
	d->resolved = 1;
	return 0;
}

/* Fetch the config blob into the cache (in this thread; it also warms up the connection). */
static json_t docker_config(struct docker *d, struct fetcher *f)
{
	char why[WHY_LEN];

	if (d->img.config.size > (long long)REGISTRY_MAX_CONFIG) {
		msg_error("Image configuration too large: %lld bytes", d->img.config.size);
		return NULL;
	}
	if (fetch_blob(f, &d->r, &d->img.config, why, sizeof(why)) < 0) {
		msg_error("%s", why);
		return NULL;
	}
	return load_config(&d->bc, d->img.config.digest);
}

static int build_docker(struct import_job *job)
{
	struct docker d;
	struct fetcher f = {.tty = job->tty};
	json_t cfg = NULL;
	char *prov = NULL;
	size_t missing;
	int root_fd = -1, scratch_fd = -1, rc = -1;

	if (docker_open(job, &d) < 0)
		goto out;
	f.r = &d.r;
	f.img = &d.img;
	f.bc = &d.bc;
	pthread_mutex_init(&f.mu, NULL);
	pthread_cond_init(&f.cv, NULL);
	missing = count_missing(&d.bc, &d.img);
	if (missing)
		msg_info("Downloading %zu missing layers...", missing);
	else
		msg_info("Found all layers in cache");
	if (!(cfg = docker_config(&d, &f)))
		goto out;
	msg_info("Extracting image layers...");
	if ((root_fd = open(job->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (scratch_fd = open(job->tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die("failed to open: %s:", job->rootfs);
	if (fetch_and_apply(&f, root_fd, scratch_fd) < 0)
		goto out;
	if (!(prov = imageref_provenance(&d.ref)))
		die("out of memory");
	rc = configure(job->rootfs, cfg, prov, d.plat.architecture);
out:
	if (root_fd >= 0)
		close(root_fd);
	if (scratch_fd >= 0)
		close(scratch_fd);
	free(prov);
	json_free(cfg);
	docker_close(&d);
	return rc;
}

/* Report a one-pass step's result: 0, MERGE_FALLBACK (said in debug output) or -1. */
static int onepass_rc(struct onepass *p, int rc, const char *what)
{
	if (rc == MERGE_FALLBACK)
		msg_debug("one-pass import not possible (%s), using mksquashfs", p->err.msg);
	else if (rc < 0)
		msg_error("%s: %s", what, p->err.msg);
	return rc;
}

/* The image configuration files of IC as the uppermost layer. */
static int onepass_conf(struct onepass *p, const struct imgconfig *ic, const char *arch)
{
	if (arch && (!ic->arch || strcmp(ic->arch, arch)))
		msg_warn("Image architecture doesn't match the requested one: %s != %s",
			 ic->arch ? ic->arch : "", arch);
	return onepass_rc(p, onepass_config(p, ic), "failed to write image configuration");
}

/* Merge the cached blob B as the next layer down. */
static int onepass_blob(struct onepass *p, struct blobcache *bc, const struct registry_blob *b)
{
	unsigned long long max;
	int fd, rc, bad;

	if (layer_limit(&max) < 0)
		return -1;
	if ((fd = blobcache_open_blob(bc, b->digest)) < 0) {
		msg_error("failed to open: %s in the cache:", b->digest);
		return -1;
	}
	rc = onepass_layer(p, fd, b->media_type, max, &bad);
	close(fd);
	if (bad) /* as in apply_layer: a blob that does not unpack leaves the cache */
		(void)blobcache_evict(bc, b->digest);
	if (rc < 0 && rc != MERGE_FALLBACK) { /* the same line as apply_layer's */
		msg_error("failed to extract layer %s: %s", b->digest, p->err.msg);
		return rc;
	}
	return onepass_rc(p, rc, "failed to extract layer");
}

/* Fetch every layer concurrently and merge them from the top one down as they arrive. */
static int fetch_and_merge(struct fetcher *f, struct onepass *p)
{
	size_t n = f->img->nlayers;
	int rc = 0;

	fetch_start(f);
	for (size_t i = n; !rc && i-- > 0;) {
		if (fetch_wait(f, i) < 0) {
			msg_error("%s", f->why[i]);
			rc = -1;
		} else {
			rc = onepass_blob(p, f->bc, &f->img->layers[i]);
		}
	}
	fetch_join(f, rc != 0, "merged");
	return rc;
}

/* docker:// in one pass into TMP, published as OUT: 0, -1 (said why) or MERGE_FALLBACK. */
static int onepass_docker(struct import_job *job, const char *tmp, const char *out)
{
	struct onepass p = {.fd = -1};
	struct imgconfig ic = {0};
	struct docker d;
	struct fetcher f = {.tty = job->tty};
	json_t cfg = NULL;
	char *prov = NULL;
	int rc = -1, fd = -1;

	if (docker_open(job, &d) < 0)
		goto out;
	f.r = &d.r;
	f.img = &d.img;
	f.bc = &d.bc;
	pthread_mutex_init(&f.mu, NULL);
	pthread_cond_init(&f.cv, NULL);
	if (count_missing(&d.bc, &d.img))
		msg_info("Downloading %zu missing layers...", count_missing(&d.bc, &d.img));
	else
		msg_info("Found all layers in cache");
	if (!(cfg = docker_config(&d, &f)))
		goto out;
	if (!(prov = imageref_provenance(&d.ref)))
		die("out of memory");
	if ((fd = open(tmp, O_RDWR | O_CLOEXEC)) < 0) {
		msg_error("failed to open: %s:", tmp);
		goto out;
	}
	if (imgconfig_render(cfg, prov, &ic) < 0) {
		msg_error("failed to render image configuration:");
		goto out;
	}
	/* The time of everything the import makes is the image's own (reproducible images). */
	rc = onepass_open(&p, fd, d.img.nlayers, (uint32_t)ic.created);
	p.warn = warn_entry;
	if (onepass_rc(&p, rc, "failed to create squashfs"))
		goto out;
	msg_info("Extracting image layers and creating squashfs filesystem...");
	if (!(rc = onepass_conf(&p, &ic, d.plat.architecture)) && !(rc = fetch_and_merge(&f, &p)))
		rc = onepass_rc(&p, onepass_finish(&p), "failed to create squashfs");
	onepass_close(&p);
	if (!rc && squash_publish(tmp, out) < 0) {
		char why[PATH_MAX + 128];
		squash_describe(errno, 0, out, why, sizeof(why));
		msg_error("%s", why);
		rc = -1;
	}
out:
	onepass_close(&p);
	imgconfig_free(&ic);
	if (fd >= 0)
		close(fd);
	free(prov);
	json_free(cfg);
	docker_close(&d);
	return rc;
}

/* Run ARGV with stdin from IN_FD and stdout to OUT_FD (-1: inherit); returns the child pid. */
static pid_t spawn(char *const argv[], int in_fd, int out_fd)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	if (in_fd >= 0)
		dup2(in_fd, STDIN_FILENO);
	if (out_fd >= 0)
		dup2(out_fd, STDOUT_FILENO);
	xexecvp(argv);
}

/* Wait for PID; 0 when it exited 0, else an error naming WHAT. */
static int reap(pid_t pid, const char *what)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return 0;
	msg_error("failed to run: %s: exit status %d", what,
		  WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return -1;
}

/* `ENGINE export NAME` streamed straight into the layer code: no tar program in between. */
static int engine_export(struct import_job *job, int root_fd)
{
	char *argv[] = {(char *)job->engine, "export", job->engine_name, NULL};
	struct layer_opts o = {.compression = LAYER_TAR, .warn = warn_entry};
	struct layer_stats st;
	struct layer_error err;
	int p[2], rc;
	pid_t pid;

	xpipe(p);
	pid = spawn(argv, -1, p[1]);
	close(p[1]);
	if (pid < 0)
		die("failed to fork:");
	rc = layer_apply(p[0], root_fd, &o, &st, &err);
	if (rc < 0)
		msg_error("failed to extract the container: %s", err.msg);
	close(p[0]);
	return reap(pid, job->engine) < 0 || rc < 0 ? -1 : 0;
}

/* enroot leaves dev/ empty and drops .dockerenv from daemon exports (spec §4.11). */
static void engine_scrub(int root_fd)
{
	int dev = openat(root_fd, "dev", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = dev >= 0 ? fdopendir(dev) : NULL;
	struct dirent *de;

	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			(void)safepath_remove(dirfd(d), de->d_name);
	if (d)
		closedir(d);
	else if (dev >= 0)
		close(dev);
	(void)safepath_remove(root_fd, ".dockerenv");
}

/* `ENGINE inspect IMAGE`: the first element of its array is the configuration. */
static json_t engine_inspect(struct import_job *job, json_t *root)
{
	char *argv[] = {(char *)job->engine, "inspect", (char *)job->engine_image, NULL};
	struct buf b = BUF_INIT;
	char err[256];
	int p[2];
	pid_t pid;

	xpipe(p);
	pid = spawn(argv, -1, p[1]);
	close(p[1]);
	if (pid < 0)
		die("failed to fork:");
	if (buf_read_fd(&b, p[0], REGISTRY_MAX_CONFIG) < 0)
		msg_error("failed to read: %s inspect:", job->engine);
	close(p[0]);
	*root = NULL;
	if (reap(pid, job->engine) == 0 && b.data) {
		*root = json_parse(b.data, b.len, err, sizeof(err));
		if (!*root)
			msg_error("failed to parse: %s inspect: %s", job->engine, err);
	}
	buf_free(&b);
	return json_is_object(json_array_at(*root, 0)) ? json_array_at(*root, 0) : NULL;
}

/* dockerd:// and podman:// (spec §4.11): create, export, inspect through the engine CLI. */
static int build_engine(struct import_job *job)
{
	char *create[] = {(char *)job->engine,	     "create", "--name", job->engine_name,
			  (char *)job->engine_image, NULL};
	struct imageref_platform plat;
	json_t root = NULL, cfg;
	int root_fd, rc = -1;

	if (imageref_platform(job->arch, &plat) < 0)
		die("Unsupported architecture: %s", job->arch ? job->arch : "(uname -m)");
	msg_info("Fetching image");
	if (reap(spawn(create, -1, STDERR_FILENO), job->engine) < 0)
		return -1;
	msg_info("Extracting image content...");
	if ((root_fd = open(job->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die("failed to open: %s:", job->rootfs);
	if (engine_export(job, root_fd) == 0) {
		engine_scrub(root_fd);
		if ((cfg = engine_inspect(job, &root)))
			rc = configure(job->rootfs, cfg, job->uri, plat.architecture);
		else if (root)
			msg_error("failed to parse: %s inspect: not an array of objects",
				  job->engine);
	}
	json_free(root);
	close(root_fd);
	return rc;
}

void import_engine_cleanup(struct import_job *job)
{
	char *argv[] = {(char *)job->engine, "rm", "-f", "-v", job->engine_name, NULL};
	int null;
	pid_t pid;

	if (!job->engine || !job->engine_name)
		return;
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	pid = fork();
	if (pid == 0) {
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (null >= 0)
		close(null);
	while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

int import_build(struct import_job *job)
{
	return job->engine ? build_engine(job) : build_docker(job);
}

/* The engine of a dockerd:// or podman:// URI, with its image; NULL for docker://. */
static const char *uri_engine(const char *uri, const char **image)
{
	static const char *const schemes[][2] = {{"dockerd://", "docker"}, {"podman://", "podman"}};

	for (size_t i = 0; i < 2; i++) {
		size_t n = strlen(schemes[i][0]);

		if (strncmp(uri, schemes[i][0], n))
			continue;
		*image = uri + n;
		if (!**image ||
		    strspn(*image, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				   "0123456789/._:-") != strlen(*image))
			die("Invalid image reference: %s", uri);
		return schemes[i][1];
	}
	if (strncmp(uri, "docker://", 9))
		die("Invalid image reference: %s", uri);
	return NULL;
}

char *import_default_name(const char *uri)
{
	const char *image;
	struct imageref ref;
	char *name;

	if (uri_engine(uri, &image)) {
		name = xasprintf("%s.sqsh", image);
		for (char *p = name; *p; p++)
			*p = *p == ':' || *p == '/' ? '+' : *p;
		return name;
	}
	if (imageref_parse(uri, &ref) < 0)
		die(errno == EINVAL ? "Invalid image reference: %s" : "failed to parse: %s:", uri);
	if (!(name = imageref_output_name(&ref)))
		die("out of memory");
	imageref_free(&ref);
	return name;
}

void import_job_init(struct import_job *job, const char *uri, const char *arch, const char *parent,
		     const char *prefix)
{
	char *base;

	memset(job, 0, sizeof(*job));
	job->uri = uri;
	job->arch = arch;
	job->engine = uri_engine(uri, &job->engine_image);
	job->tty = isatty(STDERR_FILENO);
	if (mkdirs(parent) < 0)
		die("failed to create directory: %s:", parent);
	job->tmpdir = xasprintf("%s/%s.XXXXXXXXXX", parent, prefix);
	if ((job->tmpdir_lock = stale_mktemp(job->tmpdir, 1)) < 0)
		die("failed to create directory: %s:", job->tmpdir);
	job->rootfs = xasprintf("%s/rootfs", job->tmpdir);
	if (mkdir(job->rootfs, 0755) < 0)
		die("failed to create directory: %s:", job->rootfs);
	base = strrchr(job->tmpdir, '/') + 1;
	job->engine_name = job->engine ? base : NULL;
}

void import_job_free(struct import_job *job)
{
	if (job->tmpdir_lock >= 0)
		close(job->tmpdir_lock);
	free(job->rootfs);
	free(job->tmpdir);
}

/* An absolute path for PATH as `readlink -f` makes it: its directory resolved. */
static char *absolute(const char *path)
{
	char *d = xstrdup(path), *b = xstrdup(path), *dir, *out;
	const char *base = basename(b);

	if (!(dir = realpath(dirname(d), NULL)))
		die("failed to resolve: %s:", path);
	out = xasprintf("%s/%s", strcmp(dir, "/") ? dir : "", base);
	free(dir);
	free(d);
	free(b);
	return out;
}

struct import_ctx {
	struct import_job job;
	char *out, *tmp;
};

void import_sweep_cache(void)
{
	char *cache = config_path("ENROOT_CACHE_PATH");
	struct blobcache bc;

	if (cache && access(cache, F_OK) == 0 && blobcache_open(&bc, cache) == 0)
		blobcache_close(&bc);
	free(cache);
}

static void import_after(void *arg)
{
	import_engine_cleanup(&((struct import_ctx *)arg)->job);
	import_sweep_cache();
}

/* ENROOT_SQUASH_MKSQUASHFS=y forces the extract+mksquashfs path (for tests and comparisons;
 * a y/n setting, since the driver unsets ENROOT_* variables set to n). */
static int onepass_enabled(void)
{
	return !config_enabled("ENROOT_SQUASH_MKSQUASHFS");
}

/* The worker (in the guarded child): build the tree, then the squashfs image (spec §4.8). */
static int import_worker(void *arg)
{
	struct import_ctx *c = arg;
	const char *epoch = getenv("SOURCE_DATE_EPOCH");
	struct squash_opts o = {getenv("ENROOT_SQUASH_OPTIONS"),
				config_long("ENROOT_MAX_PROCESSORS", 0, 1), epoch, c->job.tty,
				NULL};
	char why[PATH_MAX + 128];
	int status, rc;

	/* docker:// goes straight from the layers to the image when the options allow it. */
	if (!c->job.engine && onepass_enabled()) {
		rc = onepass_docker(&c->job, c->tmp, c->out);
		if (rc != MERGE_FALLBACK)
			return rc ? 1 : 0;
	}
	if (import_build(&c->job) < 0)
		return 1;
	msg_info("Creating squashfs filesystem...");
	if (squash_create(c->job.rootfs, c->tmp, c->out, &o, &status) == 0)
		return 0;
	squash_describe(errno, status, c->out, why, sizeof(why));
	msg_error("%s", why);
	return 1;
}

static const char *import_args(int argc, char **argv, const char **arch, const char **out)
{
	static const struct opt opts[] = {
	    {"arch", 'a', 1, 'a'}, {"output", 'o', 1, 'o'}, {NULL, 0, 0, 0}};
	struct optparse p;
	int id;

	opt_init(&p, argc, argv);
	while ((id = opt_next(&p, opts)) != OPT_DONE) {
		if (id == OPT_HELP)
			usage_exit(import_usage, 0);
		if (id == OPT_BAD)
			opt_fail(&p, import_usage);
		*(id == 'a' ? arch : out) = p.arg;
	}
	if (argc - p.ind != 1)
		usage_exit(import_usage, 1);
	return argv[p.ind];
}

int import_main(int argc, char **argv)
{
	const char *arch = NULL, *out = NULL, *uri = import_args(argc, argv, &arch, &out);
	struct import_ctx c;
	char *name = out ? NULL : import_default_name(uri), *temp, *paths[3];
	struct stat st;
	mode_t mode;
	int fd, rc;

	c.out = absolute(out ? out : name);
	if (!lstat(c.out, &st))
		die("File already exists: %s", c.out);
	if (!(temp = config_path("ENROOT_TEMP_PATH")))
		die("out of memory");
	import_job_init(&c.job, uri, arch, temp, "enroot");
	c.tmp = xasprintf("%s.tmp.XXXXXX", c.out);
	if ((fd = stale_mktemp(c.tmp, 0)) < 0)
		die("failed to create: %s:", c.tmp);
	mode = umask(0);
	umask(mode);
	if (fchmod(fd, 0666 & ~mode) < 0) /* mkostemp's 0600 would stay on the image */
		die("failed to change mode: %s:", c.tmp);
	paths[0] = c.job.tmpdir;
	paths[1] = c.tmp;
	paths[2] = NULL;
	rc = guard_run(import_worker, &c, paths, import_after);
	if (rc < 0)
		die("failed to fork:");
	close(fd);
	import_job_free(&c.job);
	free(c.tmp);
	free(c.out);
	free(temp);
	free(name);
	return rc;
}
