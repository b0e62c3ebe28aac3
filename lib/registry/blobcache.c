/* blobcache: a content-addressed store with per-digest locks and atomic publication. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/io.h"
#include "base/mkdirs.h"
#include "base/sha256.h"
#include "base/why.h"
#include "registry/blobcache.h"
#include "registry/registry.h"

#define STALE_SECONDS 3600

/* Remove the temporary NAME (<hex>.tmp.XXXXXX) when its writer is gone: older than
 * STALE_SECONDS (hung), or its digest's lock is free (a writer takes the lock before making
 * its temporary and holds it until the temporary is gone: SIGKILL, crash).  The removal is
 * done under that lock. */
static void clean_temp(struct blobcache *c, const char *name, time_t now)
{
	const char *dot = strchr(name, '.');
	char lock[SHA256_HEX + 8];
	struct stat st;
	int fd;

	if (fstatat(c->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (now - st.st_mtime > STALE_SECONDS) {
		unlinkat(c->dirfd, name, 0);
		return;
	}
	if (!dot || dot - name != SHA256_HEX - 1)
		return;
	snprintf(lock, sizeof(lock), "%.*s.lock", (int)(dot - name), name);
	fd = openat(c->dirfd, lock, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
		unlinkat(c->dirfd, name, 0);
	if (fd >= 0)
		close(fd);
}

/* Call FN for every temporary of the cache directory: every name holding ".tmp.", or with a
 * PREFIX (a digest's hex) the names PREFIX.tmp.*. */
static void each_temp(struct blobcache *c, const char *prefix,
		      void (*fn)(struct blobcache *c, const char *name, time_t now))
{
	int fd = openat(c->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	size_t n = strlen(prefix);
	time_t now = time(NULL);
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)))
		if (n ? !strncmp(e->d_name, prefix, n) && !strncmp(e->d_name + n, ".tmp.", 5)
		      : strstr(e->d_name, ".tmp.") != NULL)
			fn(c, e->d_name, now);
	closedir(d);
}

/* Remove the temporaries of writers that are gone (see clean_temp). */
static void clean_stale(struct blobcache *c)
{
	each_temp(c, "", clean_temp);
}

int blobcache_open(struct blobcache *c, const char *cache_path)
{
	char *abs;

	c->dirfd = -1;
	if (asprintf(&c->dir, "%s/blobs/sha256", cache_path) < 0) {
		c->dir = NULL;
		errno = ENOMEM;
		return -1;
	}
	if (mkdirs(c->dir, 0700, NULL) < 0 ||
	    (c->dirfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		int saved = errno;
		free(c->dir);
		c->dir = NULL;
		errno = saved;
		return -1;
	}
	/* Absolute paths for the callers that print or hand them on. */
	if ((abs = realpath(c->dir, NULL))) {
		free(c->dir);
		c->dir = abs;
	}
	clean_stale(c);
	return 0;
}

void blobcache_close(struct blobcache *c)
{
	if (c->dirfd >= 0)
		close(c->dirfd);
	free(c->dir);
	c->dir = NULL;
	c->dirfd = -1;
}

char *blobcache_path(const struct blobcache *c, const char *digest)
{
	char *p;

	return asprintf(&p, "%s/%s", c->dir, digest + 7) < 0 ? NULL : p;
}

int blobcache_has(struct blobcache *c, const char *digest, long long size)
{
	struct stat st;

	if (!manifest_digest_valid(digest)) {
		errno = EINVAL;
		return -1;
	}
	if (fstatat(c->dirfd, digest + 7, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISREG(st.st_mode) || (size >= 0 && st.st_size != size))
		return 0;
	return 1;
}

int blobcache_open_blob(struct blobcache *c, const char *digest)
{
	if (!manifest_digest_valid(digest)) {
		errno = EINVAL;
		return -1;
	}
	return openat(c->dirfd, digest + 7, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

/* A download in progress: the temporary file and the running hash. */
struct writer {
	int fd;
	struct sha256 hash;
	long long written, limit; /* limit < 0: none */
	int over;		  /* the body went past limit */
};

static int writer_sink(void *ctx, const void *data, size_t len)
{
	struct writer *w = ctx;
	const char *p = data;

	if (w->limit >= 0 && (long long)len > w->limit - w->written) {
		w->over = 1;
		errno = EFBIG;
		return -1;
	}
	sha256_update(&w->hash, data, len);
	w->written += (long long)len;
	return io_write_all(w->fd, p, len);
}

static int writer_reset(void *ctx)
{
	struct writer *w = ctx;

	if (ftruncate(w->fd, 0) < 0 || lseek(w->fd, 0, SEEK_SET) < 0)
		return -1;
	sha256_init(&w->hash);
	w->written = 0;
	w->over = 0;
	return 0;
}

static void unlink_temp(struct blobcache *c, const char *name, time_t now)
{
	(void)now;
	unlinkat(c->dirfd, name, 0);
}

/* Remove <hex>.tmp.* left by writers that died: we hold the digest's lock, so none is live. */
static void clean_digest_temps(struct blobcache *c, const char *hex)
{
	each_temp(c, hex, unlink_temp);
}

/* Take the per-digest lock (blocking); returns its fd. */
static int lock_digest(struct blobcache *c, const char *hex)
{
	char name[SHA256_HEX + 8];
	int fd;

	snprintf(name, sizeof(name), "%s.lock", hex);
	fd = openat(c->dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
	}
	return fd;
}

/* Check the finished download and publish it: fsync, 0640, rename to <hex>. */
static int publish(struct blobcache *c, struct writer *w, const char *tmp, const char *hex,
		   long long size, char *why, size_t whylen)
{
	unsigned char d[SHA256_LEN];
	char got[SHA256_HEX];

	sha256_final(&w->hash, d);
	sha256_tohex(d, got);
	if (strcmp(got, hex))
		return why_set(why, whylen, EBADMSG, "Checksum mismatch: %s", hex);
	if (size >= 0 && w->written != size)
		return why_set(why, whylen, EBADMSG,
			       "Size mismatch: %s (%lld bytes, expected %lld)", hex, w->written,
			       size);
	if (fsync(w->fd) < 0 || fchmod(w->fd, 0640) < 0 ||
	    renameat(c->dirfd, tmp, c->dirfd, hex) < 0)
		return why_set(why, whylen, errno, "failed to store blob %s: %s", hex,
			       strerror(errno));
	fsync(c->dirfd);
	return 0;
}

/* Download digest into a temporary and publish it; the caller holds the lock. */
static int download(struct blobcache *c, const char *digest, long long size,
		    blobcache_fetch_fn fetch, void *arg, char *why, size_t whylen)
{
	const char *hex = digest + 7;
	struct writer w = {.limit = size};
	char tmp[SHA256_HEX + 16], *path;
	int ret = -1, saved;

	snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", hex);
	if (asprintf(&path, "%s/%s", c->dir, tmp) < 0)
		return why_set(why, whylen, ENOMEM, "out of memory");
	w.fd = mkostemp(path, O_CLOEXEC);
	if (w.fd < 0) {
		saved = errno;
		free(path);
		return why_set(why, whylen, saved, "failed to create temporary file in %s: %s",
			       c->dir, strerror(saved));
	}
	memcpy(tmp, path + strlen(c->dir) + 1, strlen(tmp));
	sha256_init(&w.hash);
	if (fetch(arg, digest, writer_sink, writer_reset, &w, why, whylen) == 0)
		ret = publish(c, &w, tmp, hex, size, why, whylen);
	else if (w.over) /* say what the registry did, not that our sink said EFBIG */
		why_set(why, whylen, EBADMSG,
			"Size mismatch: %s (more than %lld bytes, expected %lld)", hex, size, size);
	saved = errno;
	close(w.fd);
	if (ret < 0)
		unlinkat(c->dirfd, tmp, 0);
	free(path);
	errno = saved;
	return ret;
}

int blobcache_get(struct blobcache *c, const char *digest, long long size, blobcache_fetch_fn fetch,
		  void *arg, char *why, size_t whylen)
{
	int lock, have, ret, saved;

	have = blobcache_has(c, digest, size);
	if (have < 0)
		return why_set(why, whylen, errno, "failed to look up %s in %s: %s", digest, c->dir,
			       strerror(errno));
	if (have)
		return BLOBCACHE_HIT;
	lock = lock_digest(c, digest + 7);
	if (lock < 0)
		return why_set(why, whylen, errno, "failed to lock %s in %s: %s", digest, c->dir,
			       strerror(errno));
	/* Another process may have stored it while we waited; a wrong-sized leftover is
	 * replaced by the verified download's rename. */
	have = blobcache_has(c, digest, size);
	if (have > 0) {
		ret = BLOBCACHE_HIT;
	} else {
		clean_digest_temps(c, digest + 7);
		ret = download(c, digest, size, fetch, arg, why, whylen);
		if (ret == 0)
			ret = BLOBCACHE_FETCHED;
	}
	saved = errno;
	close(lock);
	errno = saved;
	return ret;
}

int blobcache_evict(struct blobcache *c, const char *digest)
{
	int lock, ret = 0, saved;

	if (!manifest_digest_valid(digest)) {
		errno = EINVAL;
		return -1;
	}
	if ((lock = lock_digest(c, digest + 7)) < 0)
		return -1;
	if (unlinkat(c->dirfd, digest + 7, 0) < 0 && errno != ENOENT)
		ret = -1;
	saved = errno;
	close(lock);
	errno = saved;
	return ret;
}

int blobcache_verify(struct blobcache *c, const char *digest)
{
	unsigned char buf[65536], d[SHA256_LEN];
	char got[SHA256_HEX];
	struct sha256 h;
	ssize_t n;
	int fd = blobcache_open_blob(c, digest), saved;

	if (fd < 0)
		return -1;
	sha256_init(&h);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		sha256_update(&h, buf, (size_t)n);
	}
	close(fd);
	sha256_final(&h, d);
	sha256_tohex(d, got);
	if (!strcmp(got, digest + 7))
		return 0;
	unlinkat(c->dirfd, digest + 7, 0);
	errno = EBADMSG;
	return -1;
}
