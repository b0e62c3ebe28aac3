/* manifest: index entry selection and manifest parsing with the json accessors. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/why.h"
#include "registry/manifest.h"

#define MT_OCI_INDEX   "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

/* How well an index entry's variant fits: 3 exact, 2 unspecified, 1 "v1" when we want
 * none, 0 unusable (another variant may not run here). */
static int variant_score(const char *want, const char *have)
{
	if (!want)
		return !have ? 3 : !strcmp(have, "v1") ? 1 : 0;
	if (!have)
		return 2;
	return !strcmp(want, have) ? 3 : 0;
}

/* The best entry of an index for our platform (the first among equals), or NULL.
 * Attestation manifests (vnd.docker.reference.type) and entries without a platform never
 * match. */
static json_t select_entry(const struct imageref_platform *want, json_t manifests)
{
	json_t best = NULL;
	int best_score = 0;

	for (size_t i = 0; i < json_array_len(manifests); i++) {
		json_t e = json_array_at(manifests, i), p = json_get(e, "platform");
		const char *os = json_string(json_get(p, "os"));
		const char *arch = json_string(json_get(p, "architecture"));
		int score;

		if (json_get(json_get(e, "annotations"), "vnd.docker.reference.type"))
			continue;
		if (!os || !arch || strcmp(os, want->os) || strcmp(arch, want->architecture))
			continue;
		score = variant_score(want->variant, json_string(json_get(p, "variant")));
		if (score > best_score) {
			best = e;
			best_score = score;
		}
	}
	return best;
}

static int is_index(json_t root, const char *mt)
{
	return !strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST) ||
	       (!*mt && json_is_array(json_get(root, "manifests")));
}

/* Fill b from a descriptor {digest, mediaType, size}; -1 when the digest is not sha256. */
static int blob_fill(struct registry_blob *b, json_t desc)
{
	const char *d = json_string(json_get(desc, "digest"));
	const char *mt = json_string(json_get(desc, "mediaType"));

	if (!d || !manifest_digest_valid(d))
		return -1;
	memcpy(b->digest, d, 72 - 1);
	b->digest[71] = '\0';
	b->media_type = mt ? strdup(mt) : NULL;
	if (json_integer(json_get(desc, "size"), &b->size) < 0 || b->size < 0)
		b->size = -1;
	return mt && !b->media_type ? -1 : 0;
}

/* Take config and layers out of an image manifest (§4.4 step 2). */
static int parse_image(json_t root, const char *url, struct registry_image *img, char *why,
		       size_t whylen)
{
	json_t layers = json_get(root, "layers");
	size_t n = json_array_len(layers);

	if (!json_get(root, "config") && json_get(root, "fsLayers"))
		return why_set(why, whylen, ENOTSUP, "Unsupported manifest (schema 1): %s", url);
	if (!n || n > MANIFEST_MAX_LAYERS || blob_fill(&img->config, json_get(root, "config")) < 0)
		return why_set(why, whylen, EBADMSG, "Could not parse digest information from %s",
			       url);
	img->layers = calloc(n, sizeof(*img->layers));
	if (!img->layers)
		return why_set(why, whylen, ENOMEM, "out of memory");
	for (; img->nlayers < n; img->nlayers++)
		if (blob_fill(&img->layers[img->nlayers], json_array_at(layers, img->nlayers)) < 0)
			return why_set(why, whylen, EBADMSG,
				       "Could not parse digest information from %s", url);
	return 0;
}

/* The entry of an index for platform p, into next. */
static int parse_index(json_t root, const struct imageref_platform *p, const char *url,
		       char next[REGISTRY_DIGEST_LEN], char *why, size_t whylen)
{
	json_t e = select_entry(p, json_get(root, "manifests"));
	const char *d = json_string(json_get(e, "digest"));

	if (!e)
		return why_set(why, whylen, ENOENT, "No image for %s/%s%s%s in %s", p->os,
			       p->architecture, p->variant ? "/" : "", p->variant ? p->variant : "",
			       url);
	if (!d || !manifest_digest_valid(d))
		return why_set(why, whylen, EBADMSG, "Invalid digest in index %s", url);
	snprintf(next, REGISTRY_DIGEST_LEN, "%s", d);
	return 0;
}

/* The media type: the body's mediaType, else the Content-Type without parameters. */
static char *media_type_of(json_t root, const char *ctype)
{
	const char *mt = json_string(json_get(root, "mediaType"));

	if (mt)
		return strdup(mt);
	if (ctype)
		return strndup(ctype, strcspn(ctype, "; \t"));
	return strdup("");
}

int manifest_parse(const char *body, size_t len, const char *ctype,
		   const struct imageref_platform *p, const char *url, struct registry_image *img,
		   char next[REGISTRY_DIGEST_LEN], char *why, size_t whylen)
{
	json_t root = json_parse(body, len, NULL, 0);
	char *mt;
	int ret;

	memset(img, 0, sizeof(*img));
	if (!root || !json_is_object(root)) {
		json_free(root);
		return why_set(why, whylen, EBADMSG, "Could not parse manifest from %s", url);
	}
	if (!(mt = media_type_of(root, ctype))) {
		json_free(root);
		return why_set(why, whylen, ENOMEM, "out of memory");
	}
	if (is_index(root, mt)) {
		ret = parse_index(root, p, url, next, why, whylen);
		free(mt);
		ret = ret < 0 ? -1 : MANIFEST_INDEX;
	} else {
		img->manifest_media_type = mt;
		ret = parse_image(root, url, img, why, whylen);
		if (ret < 0)
			manifest_image_free(img);
	}
	json_free(root);
	return ret;
}

int manifest_digest_valid(const char *s)
{
	if (strncmp(s, "sha256:", 7))
		return 0;
	s += 7;
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

void manifest_image_free(struct registry_image *img)
{
	free(img->config.media_type);
	for (size_t i = 0; i < img->nlayers; i++)
		free(img->layers[i].media_type);
	free(img->layers);
	free(img->manifest_media_type);
	free(img->reference);
	memset(img, 0, sizeof(*img));
}
