/* pull: a small thread pool over blobcache_get and registry_get_blob. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/config.h"
#include "registry/pull.h"

/* What the workers share. */
struct pool {
	struct registry *r;
	struct blobcache *c;
	const struct pull_opts *o;
	const struct registry_blob **todo;
	size_t n, next, done;
	unsigned long long bytes;
	struct pull_stats stats;
	pthread_mutex_t lock;
	int failed, err;
	char *why;
	size_t whylen;
};

/* What one download writes through: blobcache's sink, plus the count and the stop check. */
struct sink {
	int (*sink)(void *ctx, const void *data, size_t len);
	void *ctx;
	struct pool *p;
};

static int sink_write(void *arg, const void *data, size_t len)
{
	struct sink *s = arg;
	struct pool *p = s->p;

	if (__atomic_load_n(&p->failed, __ATOMIC_RELAXED))
		return errno = ECANCELED, -1;
	if (s->sink(s->ctx, data, len) < 0)
		return -1;
	pthread_mutex_lock(&p->lock);
	p->bytes += len;
	if (p->o->progress)
		p->o->progress(p->o->ctx, p->done, p->n, p->bytes);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* blobcache's fetcher: a GET of the blob through a per-thread copy of the registry client
 * (its message buffer is per thread; the login state is shared read-only). */
static int fetch_blob(void *arg, const char *digest, int (*sink)(void *, const void *, size_t),
		      int (*reset)(void *), void *ctx, char *why, size_t whylen)
{
	struct pool *p = arg;
	struct registry r = *p->r;
	struct sink s = {sink, ctx, p};

	if (registry_get_blob(&r, digest, sink_write, reset, &s) < 0) {
		int saved = errno;
		snprintf(why, whylen, "%s", r.why);
		errno = saved;
		return -1;
	}
	return 0;
}

/* The next blob to fetch, or NULL when done or after a failure. */
static const struct registry_blob *take(struct pool *p)
{
	const struct registry_blob *b = NULL;

	pthread_mutex_lock(&p->lock);
	if (!p->failed && p->next < p->n)
		b = p->todo[p->next++];
	pthread_mutex_unlock(&p->lock);
	return b;
}

/* Blob B in the cache: PULL_ATTEMPTS tries, none after another download failed. */
static int get(struct pool *p, const struct registry_blob *b, char *why, size_t whylen)
{
	int res = -1;

	for (int t = 0; res < 0 && t < PULL_ATTEMPTS; t++) {
		if (__atomic_load_n(&p->failed, __ATOMIC_RELAXED))
			return errno = ECANCELED, -1;
		res = blobcache_get(p->c, b->digest, b->size, fetch_blob, p, why, whylen);
	}
	return res;
}

/* Record the result of one blob and tell the caller. */
static void finish(struct pool *p, const struct registry_blob *b, int res, const char *why)
{
	pthread_mutex_lock(&p->lock);
	if (res < 0) {
		if (!p->failed) {
			__atomic_store_n(&p->failed, 1, __ATOMIC_RELAXED);
			p->err = errno;
			snprintf(p->why, p->whylen, "%s", why);
		}
	} else {
		p->done++;
		if (res == BLOBCACHE_FETCHED)
			p->stats.fetched++;
		else /* a use: the store's gc removes the least recently used blobs first */
			p->stats.hits++, (void)utimensat(p->c->dirfd, b->digest + 7, NULL, 0);
		if (p->o->ready)
			p->o->ready(p->o->ctx, b->digest);
		if (p->o->progress)
			p->o->progress(p->o->ctx, p->done, p->n, p->bytes);
	}
	pthread_mutex_unlock(&p->lock);
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	const struct registry_blob *b;
	char why[512];

	while ((b = take(p))) {
		int res = get(p, b, why, sizeof(why));
		if (!(res < 0 && errno == ECANCELED && p->failed))
			finish(p, b, res, why);
	}
	return NULL;
}

/* The distinct blobs of img, config first. */
static const struct registry_blob **distinct(const struct registry_image *img, size_t *n)
{
	const struct registry_blob **v = calloc(img->nlayers + 1, sizeof(*v));

	*n = 0;
	if (!v)
		return NULL;
	v[(*n)++] = &img->config;
	for (size_t i = 0; i < img->nlayers; i++) {
		size_t j = 0;
		while (j < *n && strcmp(v[j]->digest, img->layers[i].digest))
			j++;
		if (j == *n)
			v[(*n)++] = &img->layers[i];
	}
	return v;
}

size_t pull_missing(struct blobcache *c, const struct registry_image *img)
{
	size_t n, missing = 0;
	const struct registry_blob **v = distinct(img, &n);

	for (size_t i = 0; v && i < n; i++)
		missing += blobcache_has(c, v[i]->digest, v[i]->size) != 1;
	free(v);
	return v ? missing : img->nlayers + 1;
}

unsigned pull_max_connections(void)
{
	long n = config_long("ENROOT_MAX_CONNECTIONS", 10, 0);

	return n > 1024 ? 10 : (unsigned)n;
}

/* Run the pool: the calling thread works too, beside up to max_conn - 1 others. */
static void run_pool(struct pool *p, unsigned max_conn)
{
	size_t want = max_conn && max_conn < p->n ? max_conn : p->n, started = 0;
	pthread_t *tids = calloc(want, sizeof(*tids));

	for (size_t i = 1; tids && i < want; i++)
		if (pthread_create(&tids[started], NULL, worker, p) == 0)
			started++;
	worker(p);
	for (size_t i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	free(tids);
}

int pull_image(struct registry *r, struct blobcache *c, const struct registry_image *img,
	       const struct pull_opts *o, struct pull_stats *stats, char *why, size_t whylen)
{
	struct pool p = {.r = r, .c = c, .o = o, .why = why, .whylen = whylen};
	size_t n;

	memset(stats, 0, sizeof(*stats));
	if (img->config.size > (long long)REGISTRY_MAX_CONFIG) {
		snprintf(why, whylen, "Image configuration too large: %lld bytes",
			 img->config.size);
		errno = EFBIG;
		return -1;
	}
	if (registry_login(r) < 0) {
		snprintf(why, whylen, "%s", r->why);
		return -1;
	}
	if (!(p.todo = distinct(img, &n))) {
		snprintf(why, whylen, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	pthread_mutex_init(&p.lock, NULL);
	/* The config first, alone: an image whose config fails leaves no layer in the cache. */
	p.n = 1;
	worker(&p);
	p.n = n;
	if (!p.failed)
		run_pool(&p, o->max_conn);
	pthread_mutex_destroy(&p.lock);
	free(p.todo);
	*stats = p.stats;
	if (p.failed) {
		errno = p.err;
		return -1;
	}
	return 0;
}
