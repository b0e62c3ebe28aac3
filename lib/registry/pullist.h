/* pullist: the listing registry-pull prints and the image writers (layer-squash, layer-unpack
 * --image) read, so that `registry-pull URI | layer-squash -o IMAGE` is the import pipeline:
 *
 *   config DIGEST PATH
 *   layer DIGEST MEDIATYPE PATH      one line per layer, base layer first ("-": no type)
 *   image SOURCE ARCH                the provenance enroot records, the platform
 *
 * printed once every blob is in the cache; or, streamed (registry-pull --stream), printed as
 * soon as the manifest is resolved and followed by
 *
 *   ready DIGEST                     that blob is in the cache now (any order)
 *   done                             every blob is
 *   failed                           the pull failed (registry-pull said why on stderr)
 *
 * so that a writer starts on the first layer it needs while the others download.  A reader
 * tells the two forms apart by what follows the header: end of input, or `ready`/`done`. */
#ifndef PULLIST_H
#define PULLIST_H

#include <stdio.h>

#include "registry/blobcache.h"
#include "registry/registry.h"

/* Print the header for img (blobs in c) on F; -1 with errno on a write error. */
int pullist_print(FILE *f, const struct blobcache *c, const struct registry_image *img,
		  const char *source, const char *arch);

struct pullist {
	FILE *in;
	char *source, *arch; /* NULL when the input has no image line */
	char *config_digest, *config;
	size_t n;			  /* layers */
	char **digests, **types, **paths; /* types[i] NULL for "-" */
	unsigned char *ready;		  /* n + 1: the layers, then the config */
	int streamed, done, eof;
	int failed; /* the input said `failed`: the reason was printed upstream */
};

#define PULLIST_CONFIG(l) ((l)->n)

/* Read the header from IN into L.  0, or -1 with a message in why. */
int pullist_read(FILE *in, struct pullist *l, char *why, size_t whylen);

/* Wait until blob I (a layer index or PULLIST_CONFIG) is in the cache.  0, or -1 with a
 * message in why (l->failed set when upstream already said why). */
int pullist_wait(struct pullist *l, size_t i, char *why, size_t whylen);

/* Read the rest of the input (the writer is done with it; the puller may still be saying
 * `done`).  0, or -1 with why when a streamed input ends before `done`. */
int pullist_drain(struct pullist *l, char *why, size_t whylen);

/* Remove layer I's blob from the cache its path is in (a layer that verified but does not
 * unpack: keeping it would only make the next import fail the same way offline).  Does
 * nothing for a path that is not a blob cache entry of its digest. */
void pullist_evict(const struct pullist *l, size_t i);

void pullist_free(struct pullist *l);

/* x-wrappers for the writers: pullist_read, pullist_wait, pullist_drain that die with the
 * message, or exit 1 quietly when upstream said `failed` (it already said why). */
void xpullist_read(FILE *in, struct pullist *l);
void xpullist_wait(struct pullist *l, size_t i);
void xpullist_drain(struct pullist *l);

#endif
