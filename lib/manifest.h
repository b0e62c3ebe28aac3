/* manifest: parse an image manifest or image index body from a registry (spec §4.4,
 * PITFALLS §3.3): pick an index's entry for a platform, or take config and layers out of a
 * manifest.  Pure parsing of hostile input; registry.c does the fetching. */
#ifndef MANIFEST_H
#define MANIFEST_H

#include <stddef.h>

#include "imageref.h"
#include "registry.h"

#define MANIFEST_MAX_LAYERS 4096

enum manifest_kind { MANIFEST_IMAGE = 0, MANIFEST_INDEX = 1 };

/* Parse len bytes of body (Content-Type ctype, may be NULL; the body's own mediaType wins).
 * An index (OCI index or Docker manifest list): returns MANIFEST_INDEX with next set to the
 * digest of the best entry for p (os and architecture equal; variant exact, else absent;
 * attestations skipped; first among equals).  An image manifest: returns MANIFEST_IMAGE with
 * img's config, layers and manifest_media_type filled (free with registry_image_free).
 * Otherwise -1 with errno and a message naming url in why. */
int manifest_parse(const char *body, size_t len, const char *ctype,
		   const struct imageref_platform *p, const char *url, struct registry_image *img,
		   char next[REGISTRY_DIGEST_LEN], char *why, size_t whylen);

#endif
