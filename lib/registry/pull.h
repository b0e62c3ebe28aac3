/* pull: download an image's config and layers into the blob cache, concurrently (spec §4.5,
 * ENROOT_MAX_CONNECTIONS), each verified by blobcache. */
#ifndef PULL_H
#define PULL_H

#include <stddef.h>

#include "registry/blobcache.h"
#include "registry/registry.h"

struct pull_stats {
	size_t fetched; /* blobs downloaded by this call */
	size_t hits;	/* blobs found in the cache (possibly after waiting for another writer) */
};

/* Make every blob of img (config first, then the layers) present in c, with at most
 * max_conn downloads at a time (0: one per blob).  Duplicate digests are fetched once.
 * A config whose descriptor says more than REGISTRY_MAX_CONFIG bytes is refused (readers of
 * the cached config should bound their read the same way).  Returns 0, or -1 with errno and a
 * one-line message in why (the first failure; the other downloads are stopped). */
int pull_image(struct registry *r, struct blobcache *c, const struct registry_image *img,
	       unsigned max_conn, struct pull_stats *stats, char *why, size_t whylen);

/* ENROOT_MAX_CONNECTIONS (default 10; 0 means unlimited). */
unsigned pull_max_connections(void);

#endif
