/* pull: a small thread pool over blobcache_get and registry_get_blob. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "registry/pull.h"

/* What the workers share. */
struct pool {
	struct registry *r;
	struct blobcache *c;
	const struct registry_blob **todo;
	size_t n, next;
	struct pull_stats stats;
	pthread_mutex_t lock;
	int failed, err;
	char *why;
	size_t whylen;
};

/* blobcache's fetcher: a GET of the blob through a per-thread copy of the registry client
 * (its message buffer is per thread; the login state is shared read-only). */
static int fetch_blob(void *arg, const char *digest, int (*sink)(void *, const void *, size_t),
		      int (*reset)(void *), void *ctx, char *why, size_t whylen)
{
	struct registry r = *(const struct registry *)arg;

	if (registry_get_blob(&r, digest, sink, reset, ctx) < 0) {
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

static void *worker(void *arg)
{
	struct pool *p = arg;
	const struct registry_blob *b;
	char why[512];
	int res;

	while ((b = take(p))) {
		res = blobcache_get(p->c, b->digest, b->size, fetch_blob, p->r, why, sizeof(why));
		pthread_mutex_lock(&p->lock);
		if (res < 0 && !p->failed) {
			p->failed = 1;
			p->err = errno;
			snprintf(p->why, p->whylen, "%s", why);
		} else if (res == BLOBCACHE_FETCHED) {
			p->stats.fetched++;
		} else if (res == BLOBCACHE_HIT) {
			p->stats.hits++;
		}
		pthread_mutex_unlock(&p->lock);
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
	       unsigned max_conn, struct pull_stats *stats, char *why, size_t whylen)
{
	struct pool p = {.r = r, .c = c, .why = why, .whylen = whylen};

	memset(stats, 0, sizeof(*stats));
	if (img->config.size > (long long)REGISTRY_MAX_CONFIG) {
		snprintf(why, whylen, "Image config larger than %u bytes: %s", REGISTRY_MAX_CONFIG,
			 img->config.digest);
		errno = EFBIG;
		return -1;
	}
	if (registry_login(r) < 0) {
		snprintf(why, whylen, "%s", r->why);
		return -1;
	}
	if (!(p.todo = distinct(img, &p.n))) {
		snprintf(why, whylen, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	pthread_mutex_init(&p.lock, NULL);
	run_pool(&p, max_conn);
	pthread_mutex_destroy(&p.lock);
	free(p.todo);
	*stats = p.stats;
	if (p.failed) {
		errno = p.err;
		return -1;
	}
	return 0;
}
