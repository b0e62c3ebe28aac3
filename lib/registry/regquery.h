/* regquery: what the registry says about an image or a repository without downloading
 * layers: the config blob, a repository's tags, a registry's catalog (distribution spec
 * "Listing tags", "Listing repositories"), following Link pagination. */
#ifndef REGQUERY_H
#define REGQUERY_H

#include "base/buf.h"
#include "registry/registry.h"

/* The config blob B (at most REGISTRY_MAX_CONFIG bytes, verified against its digest) into
 * OUT.  -1 with r->why. */
int regquery_config(struct registry *r, const struct registry_blob *b, struct buf *out);

/* Every tag of r's repository (TAGS) or every repository of r's registry (CATALOG), one a
 * line, into OUT, in the registry's order, all pages.  -1 with r->why. */
enum regquery_list { REGQUERY_TAGS, REGQUERY_CATALOG };
int regquery_list(struct registry *r, enum regquery_list what, struct buf *out);

/* Check USER and PASSWORD against REGISTRY (host[:port]): GET /v2/, answer its challenge
 * (a token request where Bearer), GET /v2/ again with the answer: 0 when it is accepted (or
 * the registry asks for nothing: *open set), -1 with a reason in why that never holds the
 * password. */
int regquery_login(const char *registry, const char *user, const char *password, int *open,
		   char *why, size_t whylen);

#endif
