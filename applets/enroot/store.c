/* store: `enroot store get|release|list|gc`, the node image store (lib/image/store.h): one
 * import per image per node however many callers ask at once, leases that pin an image
 * while a job step uses it, and a garbage collector that never takes a leased or busy one.
 * The import itself is `enroot import` (the pull pipeline), run as a child. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/applet.h"
#include "base/child.h"
#include "base/config.h"
#include "base/mkdirs.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/size.h"
#include "base/xwrap.h"
#include "image/store.h"
#include "registry/blobcache.h"
#include "registry/imageref.h"
#include "registry/manifest.h"
#include "registry/registry.h"
#include "cmd.h"

const char store_usage[] =
    "Usage: enroot store COMMAND [options]\n"
    "\n"
    "The node image store: imported images shared by every caller on this node.\n"
    "\n"
    " Commands:\n"
    "   get [-a ARCH] [--lease NAME] [--] URI   Print the path of URI's image, importing it\n"
    "                                           first if absent (NAME pins it, see release)\n"
    "   release NAME                            Drop the lease NAME (unknown names too)\n"
    "   list                                    Show the images, their use and leases\n"
    "   gc [--max-size SIZE] [--max-age AGE] [--dry-run]\n"
    "                                           Remove least recently used images (never a\n"
    "                                           leased or busy one) and cache blobs\n"
    "\n"
    " Options:\n"
    "   -a, --arch      Architecture of the image (defaults to host architecture)\n"
    "   -l, --lease     Pin the image under NAME while the calling process lives\n"
    "   -s, --max-size  Keep at most SIZE bytes (K, M, G, T suffixes) in the store, and\n"
    "                   as much in the blob cache\n"
    "   -t, --max-age   Remove what was not used for AGE (s, m, h, d suffixes)\n"
    "   -n, --dry-run   Say what would be removed\n";

/* The store's directory (lib/image/store.h). */
static char *store_dir(void)
{
	char *dir = store_default_dir();

	if (!dir)
		die("out of memory");
	return dir;
}

/* mkdir -p for the store's parents (0755 as enroot makes its directories). */
static void mkparents(const char *path)
{
	char *parent = xstrdup(path), *slash = strrchr(parent, '/'), *bad;

	if (slash && slash != parent) {
		*slash = '\0';
		if (mkdirs(parent, 0755, &bad) < 0)
			die("failed to create directory: %s:", bad);
	}
	free(parent);
}

static void open_store(struct store *s)
{
	char *dir = store_dir();

	mkparents(dir);
	if (store_open(s, dir, 1) < 0)
		die("failed to open the image store: %s:", dir);
	free(dir);
}

/* The digest, architecture and key of URI, with at most one manifest request. */
struct wanted {
	struct imageref ref;
	struct imageref_platform plat;
	char digest[REGISTRY_DIGEST_LEN], key[STORE_KEY_LEN];
	const char *options, *uri;
};

/* The digest of W's reference: asked of the registry, unless another caller resolved it
 * while we waited for its record (a burst of gets on a node makes one request). */
static void ref_digest(struct wanted *w, struct store *s, const char *creds)
{
	struct registry r;
	struct timespec start;
	char *what;
	int fd;

	clock_gettime(CLOCK_REALTIME, &start);
	what = xasprintf("%s\n%s", w->uri, w->plat.architecture);
	if ((fd = store_ref_lock(s, what)) < 0)
		die("failed to lock: %s/refs:", s->dir);
	free(what);
	if (store_ref_read(fd, (long long)start.tv_sec * 1000000000LL + start.tv_nsec, w->digest,
			   sizeof(w->digest)) &&
	    manifest_digest_valid(w->digest)) {
		close(fd);
		return;
	}
	if (registry_open(&r, &w->ref, &w->plat, creds) < 0 ||
	    registry_ref_digest(&r, w->digest) < 0)
		die("%s", r.why);
	registry_close(&r);
	if (store_ref_write(fd, w->digest) < 0)
		msg_warn("failed to record the digest of %s", w->uri);
	close(fd);
}

static void resolve(struct wanted *w, struct store *s, const char *uri, const char *arch)
{
	char *creds;

	w->uri = uri;
	if (strncmp(uri, "docker://", 9) || imageref_parse(uri, &w->ref) < 0)
		die("Invalid image reference: %s", uri);
	if (imageref_platform(arch, &w->plat) < 0)
		die("Unsupported architecture: %s", arch ? arch : "(uname -m)");
	creds = config_credentials_path();
	if (!creds || imageref_default_user(&w->ref, creds) < 0)
		die("failed to read: %s:", creds ? creds : ".credentials");
	if (w->ref.digest)
		snprintf(w->digest, sizeof(w->digest), "%s", w->ref.digest);
	else
		ref_digest(w, s, creds);
	free(creds);
	w->options = getenv("ENROOT_SQUASH_OPTIONS") ? getenv("ENROOT_SQUASH_OPTIONS") : "";
	store_key(w->digest, w->plat.architecture, w->options, w->key);
}

/* Why a read-only store's file or directory ST may not be trusted (NULL: it may): it must
 * belong to root or the caller and be writable by no one else. */
static const char *untrusted(const struct stat *st)
{
	if (st->st_uid != 0 && st->st_uid != getuid())
		return "owned by another user";
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return "writable by others";
	return NULL;
}

/* Is IMG (in directory D) usable?  Says why not on stderr. */
static int trusted(const char *d, const char *img, const struct stat *si)
{
	struct stat sd;
	const char *why;

	if (!S_ISREG(si->st_mode)) {
		msg_warn("Refusing read-only store image %s: not a regular file", img);
		return 0;
	}
	if (stat(d, &sd) < 0) {
		msg_warn("Refusing read-only store image %s: its directory is unreadable", img);
		return 0;
	}
	if ((why = untrusted(&sd))) {
		msg_warn("Refusing read-only store image %s: its directory is %s", img, why);
		return 0;
	}
	if ((why = untrusted(si))) {
		msg_warn("Refusing read-only store image %s: it is %s", img, why);
		return 0;
	}
	return 1;
}

/* The image for W in one of ENROOT_STORE_READONLY's directories, or NULL. */
static char *readonly_lookup(const struct wanted *w)
{
	const char *list = getenv("ENROOT_STORE_READONLY");
	char *copy, *save = NULL, *found = NULL;

	if (!list || !*list)
		return NULL;
	copy = xstrdup(list);
	for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		char *img = xasprintf("%s/%s.sqsh", d, w->key);
		struct stat si;
		if (lstat(img, &si) == 0 && trusted(d, img, &si))
			found = realpath(img, NULL);
		free(img);
	}
	free(copy);
	return found;
}

/* `enroot import -a ARCH -o NEW URI@DIGEST`, its stdout to our stderr: 0 or -1. */
static int import_into(const struct wanted *w, const char *arch, const char *out)
{
	char *pinned = w->ref.digest ? xstrdup(w->uri) : xasprintf("%s@%s", w->uri, w->digest);
	char *argv[] = {"enroot", "import", "-o", (char *)out, pinned, NULL, NULL, NULL};
	int status;
	pid_t pid;

	if (arch) {
		argv[2] = "-a", argv[3] = (char *)arch;
		argv[4] = "-o", argv[5] = (char *)out, argv[6] = pinned;
	}
	pid = child_spawn(argv, -1, STDERR_FILENO, applet_exec);
	if (pid < 0)
		die("failed to fork:");
	status = child_wait(pid);
	free(pinned);
	return status == 0 ? 0 : -1;
}

/* Make KEY's entry (under its lock): import, hash, meta, then the image by rename. */
static int make_entry(struct store *s, const struct wanted *w, const char *arch)
{
	char *img = store_image_path(s, w->key), *tmp = xasprintf("%s.new", img), hex[65];
	struct store_meta m = {0};
	struct stat st;
	int fd, rc = -1;

	(void)store_remove(s, w->key); /* a broken one: an image without meta, or the reverse */
	unlink(tmp);
	if (import_into(w, arch, tmp) < 0)
		goto out;
	if ((fd = open(tmp, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0 ||
	    store_hash_fd(fd, hex) < 0) {
		msg_error("failed to read: %s:", tmp);
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	m.reference = (char *)w->uri, m.digest = (char *)w->digest;
	m.arch = (char *)w->plat.architecture, m.options = (char *)w->options, m.sha256 = hex;
	m.size = st.st_size, m.created = time(NULL);
	if (store_meta_write(s, w->key, &m) < 0 || rename(tmp, img) < 0)
		msg_error("failed to add to the image store: %s:", img);
	else
		rc = 0;
out:
	if (rc < 0) {
		unlink(tmp);
		(void)store_remove(s, w->key);
	}
	free(tmp);
	free(img);
	return rc;
}

static int gc_run(struct store *s, long long max_size, long long max_age, int dry);
static FILE *gc_out; /* stdout for `store gc`, stderr after a get (whose stdout is a path) */

/* ENROOT_STORE_MAX_SIZE: a collection after each get. */
static void auto_gc(struct store *s)
{
	const char *v = getenv("ENROOT_STORE_MAX_SIZE");
	unsigned long long max;

	if (!v || !*v)
		return;
	if (size_parse(v, &max) < 0)
		die("Invalid value for ENROOT_STORE_MAX_SIZE: %s", v);
	gc_out = stderr;
	(void)gc_run(s, (long long)max, -1, 0);
}

static int store_get(int argc, char **argv)
{
	static const struct opt opts[] = {{"arch", 'a', 1, 'a'}, {"lease", 'l', 1, 'l'}, {0}};
	const char *arch = NULL, *lease = NULL;
	struct optparse p;
	struct wanted w = {0};
	struct store s;
	char *path;
	int id, lock, rc = 0;

	opt_init(&p, argc, argv);
	while ((id = opt_next(&p, opts)) != OPT_DONE) {
		if (id == OPT_HELP)
			usage_exit(store_usage, 0);
		if (id == OPT_BAD)
			opt_fail(&p, store_usage);
		*(id == 'a' ? &arch : &lease) = p.arg;
	}
	if (argc - p.ind != 1)
		usage_exit(store_usage, 1);
	if (lease && !store_lease_name_ok(lease))
		die("Invalid lease name: %s", lease);
	open_store(&s);
	resolve(&w, &s, argv[p.ind], arch);
	if ((path = readonly_lookup(&w))) {
		printf("%s\n", path);
		free(path);
		imageref_free(&w.ref);
		store_close(&s);
		return fflush(stdout) ? 1 : 0;
	}
	if ((lock = store_lock(&s, w.key, LOCK_EX)) < 0)
		die("failed to lock the image store: %s:", s.dir);
	if (!store_has(&s, w.key))
		rc = make_entry(&s, &w, arch);
	if (!rc && store_touch(&s, w.key) < 0)
		msg_warn("failed to mark as used: %s", w.key);
	if (!rc && lease && store_lease(&s, lease, w.key, getppid()) < 0)
		die("failed to record the lease %s:", lease);
	if (rc)
		return 1;
	auto_gc(&s); /* while we hold the lock: the image we return is busy, so it stays */
	close(lock);
	path = store_image_path(&s, w.key);
	printf("%s\n", path);
	free(path);
	if (fflush(stdout))
		return 1;
	store_close(&s);
	imageref_free(&w.ref);
	return 0;
}

static int store_release_cmd(int argc, char **argv)
{
	struct store s;
	char *dir;

	if (argc != 2)
		usage_exit(store_usage, 1);
	if (!store_lease_name_ok(argv[1]))
		die("Invalid lease name: %s", argv[1]);
	dir = store_dir();
	if (store_open(&s, dir, 0) < 0) { /* no store: nothing is leased */
		free(dir);
		return 0;
	}
	free(dir);
	if (store_release(&s, argv[1]) < 0)
		die("failed to release %s:", argv[1]);
	store_close(&s);
	return 0;
}

static void when(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M", &tm))
		snprintf(buf, len, "%lld", t);
}

static int store_list(int argc, char **argv)
{
	struct store s;
	char **keys, *dir = store_dir();

	(void)argv;
	if (argc != 1)
		usage_exit(store_usage, 1);
	if (store_open(&s, dir, 0) < 0) {
		free(dir);
		return 0;
	}
	free(dir);
	if (!(keys = store_keys(&s)))
		die("failed to read the image store: %s:", s.dir);
	printf("%-40s %-19s %10s %-16s %s\n", "REFERENCE", "DIGEST", "SIZE", "LAST USE", "LEASES");
	for (size_t i = 0; keys[i]; i++) {
		struct store_meta m;
		char used[32], *names = NULL;
		if (!store_has(&s, keys[i]) || store_meta_read(&s, keys[i], &m) < 0)
			continue;
		store_leases(&s, keys[i], 0, &names);
		when(m.used, used, sizeof(used));
		printf("%-40s %-19.19s %10lld %-16s %s\n", m.reference, m.digest, m.size, used,
		       names ? names : "-");
		free(names);
		store_meta_free(&m);
	}
	store_keys_free(keys);
	store_close(&s);
	return fflush(stdout) ? 1 : 0;
}

/* One thing gc may remove: a store entry or a cache blob. */
struct victim {
	char name[STORE_KEY_LEN];
	long long size, used;
};

static int by_use(const void *a, const void *b)
{
	const struct victim *x = a, *y = b;

	return x->used < y->used ? -1 : x->used > y->used ? 1 : strcmp(x->name, y->name);
}

/* Which of V (N, sorted by use) go: older than MAX_AGE, then the least recently used while
 * the total is above MAX_SIZE.  Marks them with size -1 - size. */
static void choose(struct victim *v, size_t n, long long max_size, long long max_age)
{
	long long total = 0, now = time(NULL);

	for (size_t i = 0; i < n; i++)
		total += v[i].size;
	for (size_t i = 0; i < n; i++) {
		int old = max_age >= 0 && now - v[i].used > max_age;
		int big = max_size >= 0 && total > max_size;
		if (old || big) {
			total -= v[i].size;
			v[i].size = -1 - v[i].size;
		}
	}
}

/* The store entries gc may consider (not leased); locked ones are skipped when removing. */
static struct victim *store_victims(struct store *s, size_t *n)
{
	char **keys = store_keys(s);
	struct victim *v = NULL;

	*n = 0;
	for (size_t i = 0; keys && keys[i]; i++) {
		struct store_meta m;
		if (store_leases(s, keys[i], 1, NULL) != 0 || store_meta_read(s, keys[i], &m) < 0)
			continue;
		v = xrealloc(v, (*n + 1) * sizeof(*v));
		snprintf(v[*n].name, sizeof(v[*n].name), "%s", keys[i]);
		v[*n].size = m.size;
		v[(*n)++].used = m.used;
		store_meta_free(&m);
	}
	store_keys_free(keys);
	return v;
}

static void say(int dry, const char *what, const char *name, long long size)
{
	fprintf(gc_out ? gc_out : stdout, "%s %s %s (%lld bytes)\n",
		dry ? "Would remove" : "Removed", what, name, size);
}

static void gc_store(struct store *s, long long max_size, long long max_age, int dry)
{
	size_t n;
	struct victim *v = store_victims(s, &n);

	if (n)
		qsort(v, n, sizeof(*v), by_use);
	choose(v, n, max_size, max_age);
	for (size_t i = 0; i < n; i++) {
		int lock;
		if (v[i].size >= 0)
			continue;
		/* Busy (being made, checked or removed by another caller) stays. */
		if ((lock = store_lock(s, v[i].name, LOCK_EX | LOCK_NB)) < 0)
			continue;
		if (store_leases(s, v[i].name, 1, NULL) == 0 &&
		    (dry || store_remove(s, v[i].name) == 0))
			say(dry, "image", v[i].name, -1 - v[i].size);
		close(lock);
	}
	free(v);
}

/* The blobs of the cache (mtime: last download or use). */
static struct victim *cache_victims(struct blobcache *c, size_t *n)
{
	int fd = openat(c->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct victim *v = NULL;
	struct dirent *de;
	struct stat st;

	*n = 0;
	while (d && (de = readdir(d))) {
		if (strlen(de->d_name) != 64 || strspn(de->d_name, "0123456789abcdef") != 64 ||
		    fstatat(c->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		v = xrealloc(v, (*n + 1) * sizeof(*v));
		snprintf(v[*n].name, sizeof(v[*n].name), "%.64s", de->d_name);
		v[*n].size = st.st_size;
		v[(*n)++].used = st.st_mtime > st.st_atime ? st.st_mtime : st.st_atime;
	}
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	return v;
}

static void gc_cache(long long max_size, long long max_age, int dry)
{
	char *dir = config_path("ENROOT_CACHE_PATH"), digest[80];
	struct blobcache c;
	struct victim *v;
	size_t n;

	if (!dir || access(dir, F_OK) < 0 || blobcache_open(&c, dir) < 0) {
		free(dir);
		return;
	}
	v = cache_victims(&c, &n);
	if (n)
		qsort(v, n, sizeof(*v), by_use);
	choose(v, n, max_size, max_age);
	for (size_t i = 0; i < n; i++) {
		if (v[i].size >= 0)
			continue;
		snprintf(digest, sizeof(digest), "sha256:%s", v[i].name);
		if (dry || blobcache_evict(&c, digest) == 0)
			say(dry, "blob", digest, -1 - v[i].size);
	}
	free(v);
	blobcache_close(&c);
	free(dir);
}

static int gc_run(struct store *s, long long max_size, long long max_age, int dry)
{
	gc_store(s, max_size, max_age, dry);
	gc_cache(max_size, max_age, dry);
	return fflush(stdout) ? 1 : 0;
}

/* AGE: a number with an s, m, h or d suffix (seconds without one). */
static long long parse_age(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	long long unit = !*end		     ? 1
			 : !strcmp(end, "s") ? 1
			 : !strcmp(end, "m") ? 60
			 : !strcmp(end, "h") ? 3600
			 : !strcmp(end, "d") ? 86400
					     : 0;

	if (end == s || v < 0 || !unit)
		die("Invalid age: %s", s);
	return v * unit;
}

static int store_gc(int argc, char **argv)
{
	static const struct opt opts[] = {
	    {"max-size", 's', 1, 's'}, {"max-age", 't', 1, 't'}, {"dry-run", 'n', 0, 'n'}, {0}};
	long long max_size = -1, max_age = -1;
	unsigned long long sz;
	struct optparse p;
	struct store s;
	char *dir;
	int id, dry = 0, rc;

	opt_init(&p, argc, argv);
	while ((id = opt_next(&p, opts)) != OPT_DONE) {
		if (id == OPT_HELP)
			usage_exit(store_usage, 0);
		if (id == OPT_BAD)
			opt_fail(&p, store_usage);
		if (id == 'n')
			dry = 1;
		else if (id == 't')
			max_age = parse_age(p.arg);
		else if (size_parse(p.arg, &sz) < 0)
			die("Invalid size: %s", p.arg);
		else
			max_size = (long long)sz;
	}
	if (argc != p.ind)
		usage_exit(store_usage, 1);
	dir = store_dir();
	if (store_open(&s, dir, 0) < 0) {
		free(dir);
		gc_cache(max_size, max_age, dry);
		return fflush(stdout) ? 1 : 0;
	}
	free(dir);
	rc = gc_run(&s, max_size, max_age, dry);
	store_close(&s);
	return rc;
}

int cmd_store(int argc, char **argv)
{
	if (argc < 2)
		usage_exit(store_usage, 1);
	if (!strcmp(argv[1], "get"))
		return store_get(argc - 1, argv + 1);
	if (!strcmp(argv[1], "release"))
		return store_release_cmd(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return store_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "gc"))
		return store_gc(argc - 1, argv + 1);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		usage_exit(store_usage, 0);
	usage_exit(store_usage, 1);
}
