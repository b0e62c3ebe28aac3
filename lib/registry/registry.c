/* registry: authentication, manifest and index resolution, blob requests. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sha256.h"
#include "registry/http.h"
#include "registry/manifest.h"
#include "registry/netrc.h"
#include "registry/regauth.h"
#include "registry/registry.h"
#include "registry/wwwauth.h"

#define MT_OCI_INDEX	 "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST	 "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_OCI_MANIFEST	 "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_MANIFE "application/vnd.docker.distribution.manifest.v2+json"

/* Every manifest request carries all four types: some registries (Debian's among them)
 * answer 404 to an OCI manifest asked for without them. */
static const char accept_all[] =
    "Accept: " MT_OCI_INDEX ", " MT_DOCKER_LIST ", " MT_OCI_MANIFEST ", " MT_DOCKER_MANIFE;

static int fail(struct registry *r, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct registry *r, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	errno = err;
	return -1;
}

/* enroot's message for an HTTP error status (spec §4.2). */
int registry_status_fail(struct registry *r, const char *url, const struct http_response *resp)
{
	if (resp->status == 401 && r->auth)
		return fail(r, EACCES,
			    "Authentication failed for %s: wrong credentials or no access to %s",
			    r->ref->registry, r->ref->image);
	return fail(r, resp->status == 404 ? ENOENT : EPROTO, "URL %s returned error code: %ld %s",
		    url, resp->status, resp->reason);
}

int registry_open(struct registry *r, const struct imageref *ref,
		  const struct imageref_platform *platform, const char *credentials)
{
	memset(r, 0, sizeof(*r));
	r->ref = ref;
	r->platform = *platform;
	r->credentials = credentials;
	if (asprintf(&r->base, "%s://%s/v2/%s", http_scheme(), ref->registry, ref->image) < 0) {
		r->base = NULL;
		return fail(r, ENOMEM, "out of memory");
	}
	return 0;
}

void registry_close(struct registry *r)
{
	free(r->base);
	if (r->auth) {
		explicit_bzero(r->auth, strlen(r->auth));
		free(r->auth);
	}
	r->base = r->auth = NULL;
}

/* One request with our Authorization (if any) and an optional Accept line. */
int registry_request(struct registry *r, const char *method, const char *url, const char *accept,
		     struct http_request *req, struct http_response *resp)
{
	const char *headers[3] = {NULL, NULL, NULL};
	size_t n = 0;

	if (r->auth)
		headers[n++] = r->auth;
	if (accept)
		headers[n++] = accept;
	req->method = method;
	req->url = url;
	req->headers = headers;
	if (http_request(req, resp) < 0)
		return fail(r, errno, "failed to fetch %s: %s", url, resp->error);
	return 0;
}

/* The password of user for host in the credentials file (evaluated as enroot does), or
 * NULL with *found 0 when the file has no "machine host login user" entry. */
static int lookup_password(struct registry *r, const char *host, const char *user, char **password,
			   int *found)
{
	struct buf text = BUF_INIT;
	struct netrc_cred c = {0};
	size_t bad = 0;
	enum netrc_load_result res;

	*password = NULL;
	*found = 0;
	if (!r->credentials)
		return 0;
	res = netrc_load(r->credentials, 1, &text, &bad);
	if (res == NETRC_EOPEN) {
		buf_free(&text);
		return errno == ENOENT ? 0 : fail(r, errno, "failed to read: %s", r->credentials);
	}
	if (res == NETRC_EUNSAFE || res == NETRC_EEVAL) {
		buf_free(&text);
		return res == NETRC_EUNSAFE
			   ? fail(r, EPERM, "Refusing to evaluate %s: writable by others",
				  r->credentials)
			   : fail(r, errno, "failed to evaluate line %zu of %s", bad,
				  r->credentials);
	}
	if (netrc_lookup(text.data ? text.data : "", text.len, host, user, &c) == 0) {
		*found = 1;
		if (c.password && !(*password = strdup(c.password)))
			*found = -1;
		netrc_cred_free(&c);
	}
	explicit_bzero(text.data ? text.data : (char *)&bad, text.data ? text.cap : 0);
	buf_free(&text);
	return *found < 0 ? fail(r, ENOMEM, "out of memory") : 0;
}

/* Credentials for the challenge: USER's password from the entry for the token service's
 * host (curl's netrc lookup, what enroot relies on), else from the registry's host. */
static int find_password(struct registry *r, const struct wwwauth *ch, char **password)
{
	size_t hostlen = strcspn(r->ref->registry, ":");
	char *host = NULL;
	int found = 0;

	if (ch->scheme == WWWAUTH_BEARER && ch->realm)
		host = regauth_url_host(ch->realm);
	if (host && lookup_password(r, host, r->ref->user, password, &found) < 0) {
		free(host);
		return -1;
	}
	free(host);
	if (found)
		return 0;
	if (!(host = strndup(r->ref->registry, hostlen)))
		return fail(r, ENOMEM, "out of memory");
	if (lookup_password(r, host, r->ref->user, password, &found) < 0) {
		free(host);
		return -1;
	}
	free(host);
	if (!found)
		return fail(r, EACCES, "No credentials for user %s on %s in %s", r->ref->user,
			    r->ref->registry, r->credentials ? r->credentials : "(none)");
	return 0;
}

/* Answer the challenge in value and keep the Authorization line. */
int registry_answer(struct registry *r, const char *value)
{
	struct wwwauth ch;
	char *password = NULL, *header = NULL, why[256];
	int ret;

	if (wwwauth_parse(value, &ch) < 0)
		return fail(r, errno, "%s from %s",
			    errno == ENOTSUP ? "Unsupported authentication method"
					     : "Could not parse authentication challenge",
			    r->ref->registry);
	if (r->ref->user && find_password(r, &ch, &password) < 0) {
		wwwauth_free(&ch);
		return -1;
	}
	ret = regauth_authorize(&ch, r->ref->user, password, &header, why, sizeof(why));
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	wwwauth_free(&ch);
	if (ret < 0)
		return fail(r, errno, "Authentication failed for %s: %s", r->ref->registry, why);
	ret = asprintf(&r->auth, "Authorization: %s", header);
	explicit_bzero(header, strlen(header));
	free(header);
	if (ret < 0) {
		r->auth = NULL;
		return fail(r, ENOMEM, "out of memory");
	}
	return 0;
}

int registry_login(struct registry *r)
{
	struct http_request req = {0};
	struct http_response resp;
	const char *challenge;
	char *url;
	int ret = 0;

	if (r->logged_in)
		return 0;
	if (asprintf(&url, "%s/manifests/%s", r->base, imageref_reference(r->ref)) < 0)
		return fail(r, ENOMEM, "out of memory");
	if (registry_request(r, "HEAD", url, accept_all, &req, &resp) < 0) {
		ret = -1;
	} else if ((challenge = http_header(&resp, "WWW-Authenticate")) && resp.status == 401) {
		ret = registry_answer(r, challenge);
	} else if (resp.status >= 400) {
		ret = registry_status_fail(r, url, &resp);
	} else if (resp.status == 200 &&
		   (challenge = http_header(&resp, "Docker-Content-Digest")) &&
		   manifest_digest_valid(challenge)) {
		snprintf(r->probed, sizeof(r->probed), "%s", challenge);
	}
	http_response_free(&resp);
	free(url);
	if (ret == 0)
		r->logged_in = 1;
	return ret;
}

int registry_ref_digest(struct registry *r, char digest[REGISTRY_DIGEST_LEN])
{
	struct http_request req = {.max_body = REGISTRY_MAX_MANIFEST};
	struct http_response resp;
	char hex[SHA256_HEX], *url;
	const char *d;
	int ret = 0;

	if (r->ref->digest) {
		snprintf(digest, REGISTRY_DIGEST_LEN, "%s", r->ref->digest);
		return 0;
	}
	if (registry_login(r) < 0)
		return -1;
	if (*r->probed) {
		snprintf(digest, REGISTRY_DIGEST_LEN, "%s", r->probed);
		return 0;
	}
	if (asprintf(&url, "%s/manifests/%s", r->base, imageref_reference(r->ref)) < 0)
		return fail(r, ENOMEM, "out of memory");
	if (registry_request(r, "HEAD", url, accept_all, &req, &resp) < 0)
		ret = -1;
	else if (resp.status != 200)
		ret = registry_status_fail(r, url, &resp);
	else if ((d = http_header(&resp, "Docker-Content-Digest")) && manifest_digest_valid(d))
		snprintf(digest, REGISTRY_DIGEST_LEN, "%s", d);
	else
		*digest = '\0';
	http_response_free(&resp);
	if (!ret && !*digest) { /* no header: hash the body */
		if (registry_request(r, "GET", url, accept_all, &req, &resp) < 0)
			ret = -1;
		else if (resp.status != 200)
			ret = registry_status_fail(r, url, &resp);
		else {
			sha256_hex(resp.body.data ? resp.body.data : "", resp.body.len, hex);
			snprintf(digest, REGISTRY_DIGEST_LEN, "sha256:%s", hex);
		}
		http_response_free(&resp);
	}
	free(url);
	return ret;
}

/* GET manifests/<ref> (a digest ref must match the body's sha256, which goes into
 * img->manifest_digest) and parse it: MANIFEST_IMAGE with img filled, MANIFEST_INDEX with
 * next set, or -1. */
static int get_manifest(struct registry *r, const char *ref, struct registry_image *img,
			char next[REGISTRY_DIGEST_LEN])
{
	struct http_request req = {.max_body = REGISTRY_MAX_MANIFEST};
	struct http_response resp;
	char *url, hex[SHA256_HEX], digest[REGISTRY_DIGEST_LEN];
	int ret = -1;

	if (asprintf(&url, "%s/manifests/%s", r->base, ref) < 0)
		return fail(r, ENOMEM, "out of memory");
	if (registry_request(r, "GET", url, accept_all, &req, &resp) < 0) {
		if (errno == EFBIG)
			fail(r, EFBIG, "Manifest larger than %u bytes: %s", REGISTRY_MAX_MANIFEST,
			     url);
	} else if (resp.status != 200) {
		registry_status_fail(r, url, &resp);
	} else {
		sha256_hex(resp.body.data ? resp.body.data : "", resp.body.len, hex);
		snprintf(digest, sizeof(digest), "sha256:%s", hex);
		if (!strncmp(ref, "sha256:", 7) && strcmp(ref, digest))
			fail(r, EBADMSG, "Manifest digest mismatch: %s is %s", url, digest);
		else
			ret = manifest_parse(resp.body.data ? resp.body.data : "", resp.body.len,
					     http_header(&resp, "Content-Type"), &r->platform, url,
					     img, next, r->why, sizeof(r->why));
		if (ret == MANIFEST_IMAGE)
			memcpy(img->manifest_digest, digest, sizeof(digest));
	}
	http_response_free(&resp);
	free(url);
	return ret;
}

int registry_resolve(struct registry *r, struct registry_image *img)
{
	char next[REGISTRY_DIGEST_LEN], *ref;
	int kind;

	memset(img, 0, sizeof(*img));
	if (registry_login(r) < 0)
		return -1;
	if (!(ref = strdup(imageref_reference(r->ref))))
		return fail(r, ENOMEM, "out of memory");
	for (int depth = 0;; depth++) {
		kind = get_manifest(r, ref, img, next);
		if (kind == MANIFEST_IMAGE) {
			img->reference = ref;
			return 0;
		}
		if (kind < 0)
			break;
		if (depth >= REGISTRY_MAX_DEPTH) {
			fail(r, ELOOP, "Image index nesting deeper than %d: %s/manifests/%s",
			     REGISTRY_MAX_DEPTH, r->base, ref);
			break;
		}
		free(ref);
		if (!(ref = strdup(next)))
			return fail(r, ENOMEM, "out of memory");
	}
	free(ref);
	return -1;
}

int registry_digest(struct registry *r, char digest[REGISTRY_DIGEST_LEN])
{
	struct http_request req = {0};
	struct http_response resp;
	struct registry_image img;
	const char *d;
	char *url;
	int ret = 0;

	if (registry_resolve(r, &img) < 0)
		return -1;
	if (asprintf(&url, "%s/manifests/%s", r->base, img.reference) < 0) {
		manifest_image_free(&img);
		return fail(r, ENOMEM, "out of memory");
	}
	if (registry_request(r, "HEAD", url, accept_all, &req, &resp) < 0)
		ret = -1;
	else if (resp.status != 200)
		ret = registry_status_fail(r, url, &resp);
	else if ((d = http_header(&resp, "Docker-Content-Digest")) && *d)
		snprintf(digest, REGISTRY_DIGEST_LEN, "%s", d);
	else
		snprintf(digest, REGISTRY_DIGEST_LEN, "%s", img.manifest_digest);
	if (ret == 0 && !manifest_digest_valid(digest))
		ret = fail(r, EBADMSG, "Could not retrieve digest from %s", url);
	http_response_free(&resp);
	manifest_image_free(&img);
	free(url);
	return ret;
}

int registry_get_blob(struct registry *r, const char *digest,
		      int (*sink)(void *ctx, const void *data, size_t len), int (*reset)(void *ctx),
		      void *ctx)
{
	struct http_request req = {.sink = sink, .reset = reset, .ctx = ctx};
	struct http_response resp;
	char *url;
	int ret = 0;

	if (!manifest_digest_valid(digest))
		return fail(r, EINVAL, "Invalid digest: %s", digest);
	if (registry_login(r) < 0)
		return -1;
	if (asprintf(&url, "%s/blobs/%s", r->base, digest) < 0)
		return fail(r, ENOMEM, "out of memory");
	if (registry_request(r, "GET", url, NULL, &req, &resp) < 0)
		ret = -1;
	else if (resp.status != 200)
		ret = registry_status_fail(r, url, &resp);
	http_response_free(&resp);
	free(url);
	return ret;
}
