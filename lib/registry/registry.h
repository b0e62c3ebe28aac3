/* registry: the client side of the OCI distribution API for one image reference (spec §4.3
 * authentication, §4.4 manifest resolution, §4.5 blob URLs, §4.9 digest; PITFALLS §3.3).
 *
 * Every failure returns -1 with errno set and a one-line message in r->why (never holding
 * credentials or tokens), ready for msg_error("%s", r->why). */
#ifndef REGISTRY_H
#define REGISTRY_H

#include <stddef.h>

#include "registry/http.h"
#include "registry/imageref.h"
#include "registry/manifest.h"

struct registry {
	const struct imageref *ref;	   /* borrowed */
	struct imageref_platform platform; /* what an index is matched against */
	char *base;			   /* "<scheme>://<registry>/v2/<image>" */
	char *auth;			   /* "Authorization: ..." line after registry_login */
	const char *credentials;	   /* netrc file for USER's password (may not exist) */
	int logged_in;
	char probed[REGISTRY_DIGEST_LEN]; /* the login probe's Docker-Content-Digest, or "" */
	char why[512];
};

/* Prepare a client for ref (borrowed; ref->user already defaulted by the caller).  platform
 * is the index selector (imageref_platform); credentials the .credentials path or NULL. */
int registry_open(struct registry *r, const struct imageref *ref,
		  const struct imageref_platform *platform, const char *credentials);
void registry_close(struct registry *r);

/* §4.3: probe the manifest URL (with the manifest Accept types); when the registry
 * challenges, answer it (netrc credentials for USER, Bearer token or Basic) and keep the
 * Authorization header for every later request.  Called by the functions below on first use. */
int registry_login(struct registry *r);

/* Resolve the reference to one image manifest: indexes matched on os, architecture and
 * variant (attestations skipped, nesting bounded), digests verified when pulling by digest,
 * bodies bounded.  Fill img (free with registry_image_free). */
int registry_resolve(struct registry *r, struct registry_image *img);

/* §4.9: resolve like registry_resolve, then HEAD the platform manifest and set digest to its
 * Docker-Content-Digest (or, when the registry sends none, the sha256 of its body). */
int registry_digest(struct registry *r, char digest[REGISTRY_DIGEST_LEN]);

/* The digest of what the reference names as the registry serves it (an index for a
 * multi-platform tag): the reference's own digest, or Docker-Content-Digest from one HEAD of
 * the manifest (the login probe's when it needed no credentials), or the sha256 of a GET
 * when the registry sends none.  The store keys its images on it (with the platform). */
int registry_ref_digest(struct registry *r, char digest[REGISTRY_DIGEST_LEN]);

/* GET the blob digest ("sha256:<hex>") into sink; reset rewinds the sink for a retry (see
 * http.h).  The body is not verified here: the sink hashes it (blobcache does). */
int registry_get_blob(struct registry *r, const char *digest,
		      int (*sink)(void *ctx, const void *data, size_t len), int (*reset)(void *ctx),
		      void *ctx);

/* For the other clients of the registry API in this layer (regquery.c): one request with
 * the Authorization header once logged in and ACCEPT (NULL: none); the answer to a
 * WWW-Authenticate challenge (kept in r->auth); enroot's message for an error status.  Each
 * fails with -1 and r->why. */
int registry_request(struct registry *r, const char *method, const char *url, const char *accept,
		     struct http_request *req, struct http_response *resp);
int registry_answer(struct registry *r, const char *challenge);
int registry_status_fail(struct registry *r, const char *url, const struct http_response *resp);

#endif
