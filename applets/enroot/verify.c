/* verify: `enroot verify`, re-hash what the cache and the image store hold against the
 * digests they were written under, and report (or, with --fix, remove) what does not match. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/config.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/xwrap.h"
#include "image/store.h"
#include "registry/blobcache.h"
#include "cmd.h"

const char verify_usage[] =
    "Usage: enroot verify [options] [IMAGE.sqsh | --cache | --store]\n"
    "\n"
    "Re-hash the blob cache (each blob against its digest) and the image store (each image\n"
    "against the sha256 recorded when it was written); report every entry that does not\n"
    "match. Without an argument, both.\n"
    "\n"
    " Options:\n"
    "   -c, --cache   Check the blob cache (ENROOT_CACHE_PATH)\n"
    "   -s, --store   Check the image store (ENROOT_STORE_PATH)\n"
    "   -f, --fix     Remove the entries that do not match\n";

struct tally {
	int fix;
	size_t good, bad, fixed;
};

static void bad(struct tally *t, const char *what, const char *name, const char *why, int fixed)
{
	t->bad++;
	t->fixed += fixed;
	printf("BAD %s %s: %s%s\n", what, name, why, fixed ? " (removed)" : "");
}

/* Every blob of the cache against its name. */
static void verify_cache(struct tally *t)
{
	char *dir = config_path("ENROOT_CACHE_PATH"), hex[STORE_KEY_LEN], digest[80];
	struct blobcache c;
	struct dirent *de;
	DIR *d;

	if (!dir || access(dir, F_OK) < 0 || blobcache_open(&c, dir) < 0) {
		free(dir);
		return;
	}
	free(dir);
	if (!(d = opendir(c.dir)))
		die("failed to read: %s:", c.dir);
	while ((de = readdir(d))) {
		int fd;
		if (strlen(de->d_name) != 64 || strspn(de->d_name, "0123456789abcdef") != 64)
			continue;
		snprintf(digest, sizeof(digest), "sha256:%.64s", de->d_name);
		if ((fd = openat(c.dirfd, de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 ||
		    store_hash_fd(fd, hex) < 0) {
			bad(t, "blob", digest, strerror(errno), 0);
		} else if (strcmp(hex, de->d_name)) {
			char why[100];
			snprintf(why, sizeof(why), "its content hashes to sha256:%s", hex);
			bad(t, "blob", digest, why, t->fix && blobcache_evict(&c, digest) == 0);
		} else {
			t->good++;
		}
		if (fd >= 0)
			close(fd);
	}
	closedir(d);
	blobcache_close(&c);
}

/* Store entry KEY against its meta (under its lock: not while it is being made). */
static void verify_entry(struct tally *t, struct store *s, const char *key)
{
	char *img = store_image_path(s, key), hex[STORE_KEY_LEN];
	struct store_meta m;
	int lock = store_lock(s, key, LOCK_EX), fd = -1;

	if (lock < 0)
		die("failed to lock: %s:", img);
	if (!store_has(s, key) || store_meta_read(s, key, &m) < 0) {
		bad(t, "image", img, "no complete entry", t->fix && store_remove(s, key) == 0);
	} else {
		if ((fd = open(img, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 ||
		    store_hash_fd(fd, hex) < 0)
			bad(t, "image", img, strerror(errno), 0);
		else if (strcmp(hex, m.sha256))
			bad(t, "image", img, "its content does not hash to the recorded sha256",
			    t->fix && store_remove(s, key) == 0);
		else
			t->good++;
		store_meta_free(&m);
	}
	if (fd >= 0)
		close(fd);
	close(lock);
	free(img);
}

/* The store's directory (lib/image/store.h). */
static char *store_dir(void)
{
	char *dir = store_default_dir();

	if (!dir)
		die("out of memory");
	return dir;
}

/* Every store entry, or the one whose image is ONLY. */
static void verify_store(struct tally *t, const char *only)
{
	char *dir = store_dir(), **keys, *real = NULL, *rdir = NULL, key[STORE_KEY_LEN] = "";
	struct store s;

	if (store_open(&s, dir, 0) < 0) {
		if (only)
			die("Not an image of the store: %s", only);
		free(dir);
		return;
	}
	if (only) {
		const char *base;
		size_t n;
		if (!(real = realpath(only, NULL)))
			die("failed to resolve: %s:", only);
		rdir = realpath(dir, NULL);
		base = strrchr(real, '/') + 1;
		n = strlen(base);
		if (!rdir || strncmp(real, rdir, strlen(rdir)) ||
		    base - real != (long)strlen(rdir) + 1 || n != STORE_KEY_LEN - 1 + 5 ||
		    strcmp(base + n - 5, ".sqsh"))
			die("Not an image of the store: %s (only store images have a recorded "
			    "sha256)",
			    only);
		snprintf(key, sizeof(key), "%.*s", (int)(n - 5), base);
		verify_entry(t, &s, key);
	} else {
		if (!(keys = store_keys(&s)))
			die("failed to read: %s:", dir);
		for (size_t i = 0; keys[i]; i++)
			verify_entry(t, &s, keys[i]);
		store_keys_free(keys);
	}
	free(real);
	free(rdir);
	free(dir);
	store_close(&s);
}

int cmd_verify(int argc, char **argv)
{
	static const struct opt opts[] = {
	    {"cache", 'c', 0, 'c'}, {"store", 's', 0, 's'}, {"fix", 'f', 0, 'f'}, {0}};
	struct tally t = {0};
	struct optparse p;
	int id, cache = 0, store = 0;

	opt_init(&p, argc, argv);
	while ((id = opt_next(&p, opts)) != OPT_DONE) {
		if (id == OPT_HELP)
			usage_exit(verify_usage, 0);
		if (id == OPT_BAD)
			opt_fail(&p, verify_usage);
		if (id == 'f')
			t.fix = 1;
		else
			*(id == 'c' ? &cache : &store) = 1;
	}
	if (argc - p.ind > 1 || (argc - p.ind == 1 && (cache || store)))
		usage_exit(verify_usage, 1);
	if (argc - p.ind == 1) {
		verify_store(&t, argv[p.ind]);
	} else {
		if (!cache && !store)
			cache = store = 1;
		if (cache)
			verify_cache(&t);
		if (store)
			verify_store(&t, NULL);
	}
	printf("%zu ok, %zu bad%s\n", t.good, t.bad,
	       t.fixed ? (t.fixed == t.bad ? ", all removed" : ", some removed") : "");
	if (fflush(stdout))
		return 1;
	return t.bad > t.fixed ? 1 : 0;
}
