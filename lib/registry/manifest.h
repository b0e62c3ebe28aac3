/* manifest: parse an image manifest or image index body from a registry (spec §4.4,
 * PITFALLS §3.3): pick an index's entry for a platform, or take config and layers out of a
 * manifest; the image description both give.  Pure parsing of hostile input; registry.c
 * does the fetching. */
#ifndef MANIFEST_H
#define MANIFEST_H

#include <stddef.h>

#include "registry/imageref.h"

#define MANIFEST_MAX_LAYERS 4096

#define REGISTRY_MAX_MANIFEST (4u << 20)  /* bytes of a manifest or index */
#define REGISTRY_MAX_CONFIG   (64u << 20) /* bytes of an image config (by its descriptor) */
#define REGISTRY_MAX_DEPTH    4		  /* nested indexes followed */

#define REGISTRY_DIGEST_LEN 72 /* "sha256:" + 64 hex + NUL, rounded up */

struct registry_blob {
	char digest[REGISTRY_DIGEST_LEN]; /* "sha256:<64 lowercase hex>", validated */
	char *media_type;		  /* as the manifest says, or NULL */
	long long size;			  /* as the manifest says, -1 when absent */
};

struct registry_image {
	char manifest_digest[REGISTRY_DIGEST_LEN]; /* sha256 of the resolved manifest body */
	char *reference;			   /* tag or digest it was fetched by */
	char *manifest_media_type;
	struct registry_blob config;
	struct registry_blob *layers; /* manifest order: base layer first */
	size_t nlayers;
};

/* Free what img holds; img is zeroed. */
void manifest_image_free(struct registry_image *img);

/* 1 when s is "sha256:" followed by exactly 64 lowercase hex digits. */
int manifest_digest_valid(const char *s);

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
