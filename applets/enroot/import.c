/* import: `enroot import` and the pipeline shared with `enroot load` (see import.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/applet.h"
#include "base/child.h"
#include "base/config.h"
#include "base/guard.h"
#include "base/json.h"
#include "base/mkdirs.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/safepath.h"
#include "base/stale.h"
#include "base/xwrap.h"
#include "image/imgconfig.h"
#include "image/squash.h"
#include "registry/blobcache.h"
#include "registry/imageref.h"
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

/* Wait for PID; 0 when it exited 0, else an error naming WHAT (unless QUIET: an applet that
 * already said why).  Returns the exit code. */
static int reap(pid_t pid, const char *what, int quiet)
{
	int status = pid < 0 ? -1 : child_wait(pid), code;

	if (status < 0) {
		msg_error("failed to run: %s:", what);
		return 1;
	}
	if (!(code = child_code(status)))
		return 0;
	if (!quiet || !WIFEXITED(status))
		msg_error("failed to run: %s: exit status %d", what, code);
	return code;
}

/* `registry-pull --stream URI | SINK...`, the sink's stdout to OUT_FD (-1: inherit): the
 * pull pipeline of every docker:// import (README "The pull pipeline").  Both applets say
 * why they fail.  Returns the sink's exit code (layer-squash's 2 included), or
 * registry-pull's when only it failed. */
static int pull_into(const struct import_job *job, char *const sink[], int out_fd)
{
	char *pull[] = {"registry-pull",   "--stream",	     "--progress", "-a",
			(char *)job->arch, (char *)job->uri, NULL};
	char *cache = config_path("ENROOT_CACHE_PATH");
	int p[2], code, status;
	pid_t puller, writer;

	if (!cache ||
	    mkdirs(cache, 0755, NULL) < 0) /* as enroot's mkdir -p, before the applets' 0700 */
		die("failed to create directory: %s:", cache ? cache : "ENROOT_CACHE_PATH");
	free(cache);
	if (!job->arch)
		pull[3] = (char *)job->uri, pull[4] = NULL;
	if (pipe2(p, O_CLOEXEC) < 0)
		die("failed to create a pipe:");
	puller = child_spawn(pull, -1, p[1], applet_exec);
	close(p[1]);
	writer = puller < 0 ? -1 : child_spawn(sink, p[0], out_fd, applet_exec);
	close(p[0]);
	if (puller < 0 || writer < 0)
		die("failed to fork:");
	code = reap(writer, sink[0], 1);
	if (code) /* the downloads still running are of no use now; the cache sweep drops them */
		kill(puller, SIGTERM);
	if ((status = child_wait(puller)) < 0)
		die("failed to wait for registry-pull:");
	if (!code && !WIFEXITED(status))
		msg_error("failed to run: registry-pull: exit status %d", child_code(status));
	return code ? code : child_code(status);
}

/* The extract path of docker:// into job->rootfs: `registry-pull | layer-unpack --image`. */
static int build_docker(struct import_job *job)
{
	char *sink[] = {"layer-unpack", "--image", "--progress", "--evict", "-", job->rootfs, NULL};

	return pull_into(job, sink, -1) ? -1 : 0;
}

/* docker:// in one pass into TMP (open as FD): `registry-pull | layer-squash -o -`.  0, 1
 * (said why) or 2 when the layers or the options need the extract path. */
static int onepass_docker(struct import_job *job, int fd)
{
	char *sink[] = {"layer-squash", "--progress", "--evict", "--quiet-fallback",
			"-o",		"-",	      NULL};
	int code = pull_into(job, sink, fd);

	if (code == 2 && ftruncate(fd, 0) < 0)
		die("failed to truncate:");
	return code == 2 ? 2 : code ? 1 : 0;
}

/* `ENGINE export NAME | layer-unpack - ROOTFS`: the container's tree, no tar program. */
static int engine_export(struct import_job *job)
{
	char *export[] = {(char *)job->engine, "export", job->engine_name, NULL};
	char *unpack[] = {"layer-unpack", "-", job->rootfs, NULL};
	int p[2], rc;
	pid_t exporter, unpacker;

	if (pipe2(p, O_CLOEXEC) < 0)
		die("failed to create a pipe:");
	exporter = child_spawn(export, -1, p[1], NULL);
	close(p[1]);
	unpacker = exporter < 0 ? -1 : child_spawn(unpack, p[0], -1, applet_exec);
	close(p[0]);
	if (exporter < 0 || unpacker < 0)
		die("failed to fork:");
	rc = reap(unpacker, "layer-unpack", 1);
	if (rc)
		kill(exporter, SIGTERM);
	return reap(exporter, job->engine, 0) || rc ? -1 : 0;
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

	if (pipe2(p, O_CLOEXEC) < 0)
		die("failed to create a pipe:");
	pid = child_spawn(argv, -1, p[1], NULL);
	close(p[1]);
	if (pid < 0)
		die("failed to fork:");
	if (buf_read_fd(&b, p[0], REGISTRY_MAX_CONFIG) < 0)
		msg_error("failed to read: %s inspect:", job->engine);
	close(p[0]);
	*root = NULL;
	if (reap(pid, job->engine, 0) == 0 && b.data) {
		*root = json_parse(b.data, b.len, err, sizeof(err));
		if (!*root)
			msg_error("failed to parse: %s inspect: %s", job->engine, err);
	}
	buf_free(&b);
	return json_is_object(json_array_at(*root, 0)) ? json_array_at(*root, 0) : NULL;
}

/* The engine's configuration over the tree (the image-config step, lib/image/imgconfig.h). */
static int engine_configure(struct import_job *job, json_t cfg, const char *arch)
{
	char why[PATH_MAX + 128];
	int root_fd, rc;

	if ((root_fd = open(job->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die("failed to open: %s:", job->rootfs);
	engine_scrub(root_fd);
	rc = imgconfig_apply(root_fd, cfg, job->uri, arch, why, sizeof(why));
	close(root_fd);
	if (rc > 0)
		msg_warn("%s", why);
	else if (rc < 0)
		msg_error("%s", why);
	return rc < 0 ? -1 : 0;
}

/* dockerd:// and podman:// (spec §4.11): create, export, inspect through the engine CLI. */
static int build_engine(struct import_job *job)
{
	char *create[] = {(char *)job->engine,	     "create", "--name", job->engine_name,
			  (char *)job->engine_image, NULL};
	struct imageref_platform plat;
	json_t root = NULL, cfg;
	int rc = -1;

	if (imageref_platform(job->arch, &plat) < 0)
		die("Unsupported architecture: %s", job->arch ? job->arch : "(uname -m)");
	msg_info("Fetching image");
	if (reap(child_spawn(create, -1, STDERR_FILENO, NULL), job->engine, 0))
		return -1;
	msg_info("Extracting image content...");
	if (engine_export(job) == 0) {
		if ((cfg = engine_inspect(job, &root)))
			rc = engine_configure(job, cfg, plat.architecture);
		else if (root)
			msg_error("failed to parse: %s inspect: not an array of objects",
				  job->engine);
	}
	json_free(root);
	return rc;
}

void import_engine_cleanup(struct import_job *job)
{
	char *argv[] = {(char *)job->engine, "rm", "-f", "-v", job->engine_name, NULL};

	if (job->engine && job->engine_name)
		(void)child_run(argv, -1, CHILD_DEVNULL, 1);
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
	xsetenv("ENROOT_MSG_STYLE", "enroot"); /* the applets of the pipeline speak as enroot */
	if (mkdirs(parent, 0755, NULL) < 0)
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
	int fd; /* tmp's */
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
		if ((rc = onepass_docker(&c->job, c->fd)) == 1)
			return 1;
		if (!rc && squash_publish(c->tmp, c->out) == 0)
			return 0;
		if (!rc) {
			squash_describe(errno, 0, c->out, why, sizeof(why));
			msg_error("%s", why);
			return 1;
		}
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
	if ((c.fd = fd = stale_mktemp(c.tmp, 0)) < 0)
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
