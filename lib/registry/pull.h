/* pull: download an image's config and layers into the blob cache, concurrently (spec §4.5,
 * ENROOT_MAX_CONNECTIONS), each verified by blobcache.  The one download pool of the project:
 * registry-pull runs it, and every command that downloads runs registry-pull. */
#ifndef PULL_H
#define PULL_H

#include <stddef.h>

#include "registry/blobcache.h"
#include "registry/registry.h"

/* Attempts per blob (enroot runs its downloads under `parallel --retries 2`), on top of the
 * HTTP retries with backoff inside one attempt (ENROOT_TRANSFER_RETRIES, Retry-After). */
#define PULL_ATTEMPTS 3

struct pull_stats {
	size_t fetched; /* blobs downloaded by this call */
	size_t hits;	/* blobs found in the cache (possibly after waiting for another writer) */
};

/* How to run the pool and whom to tell.  The callbacks run one at a time (under the pool's
 * lock), in the thread that made the progress. */
struct pull_opts {
	unsigned max_conn; /* downloads at a time (0: one per blob) */
	void *ctx;
	/* DIGEST is in the cache now (each distinct blob once, in the order they land). */
	void (*ready)(void *ctx, const char *digest);
	/* BYTES more bytes arrived; DONE of TOTAL distinct blobs are in the cache. */
	void (*progress)(void *ctx, size_t done, size_t total, unsigned long long bytes);
};

/* Make every blob of img (config first, then the layers) present in c.  Duplicate digests
 * are fetched once.  A config whose descriptor says more than REGISTRY_MAX_CONFIG bytes is
 * refused (readers of the cached config should bound their read the same way).  Returns 0,
 * or -1 with errno and a one-line message in why (the first failure; the downloads still
 * running are stopped and their partial files dropped). */
int pull_image(struct registry *r, struct blobcache *c, const struct registry_image *img,
	       const struct pull_opts *o, struct pull_stats *stats, char *why, size_t whylen);

/* The number of distinct blobs of img missing from c (config included). */
size_t pull_missing(struct blobcache *c, const struct registry_image *img);

/* ENROOT_MAX_CONNECTIONS (default 10; 0 means unlimited). */
unsigned pull_max_connections(void);

#endif
