/* regquery: config, tags and catalog requests (see regquery.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/sha256.h"
#include "registry/regauth.h"
#include "registry/regquery.h"
#include "registry/wwwauth.h"

static int fail(struct registry *r, int err, const char *what, const char *detail)
{
	snprintf(r->why, sizeof(r->why), "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
	errno = err;
	return -1;
}

int regquery_config(struct registry *r, const struct registry_blob *b, struct buf *out)
{
	struct http_request req = {.max_body = REGISTRY_MAX_CONFIG};
	struct http_response resp;
	char hex[SHA256_HEX], *url;
	int ret = -1;

	if (b->size > (long long)REGISTRY_MAX_CONFIG)
		return fail(r, EFBIG, "Image configuration too large", NULL);
	if (registry_login(r) < 0)
		return -1;
	if (asprintf(&url, "%s/blobs/%s", r->base, b->digest) < 0)
		return fail(r, ENOMEM, "out of memory", NULL);
	if (registry_request(r, "GET", url, NULL, &req, &resp) < 0) {
		ret = -1;
	} else if (resp.status != 200) {
		registry_status_fail(r, url, &resp);
	} else {
		sha256_hex(resp.body.data ? resp.body.data : "", resp.body.len, hex);
		if (strcmp(hex, b->digest + 7))
			fail(r, EBADMSG, "Checksum mismatch", b->digest + 7);
		else if (buf_add(out, resp.body.data ? resp.body.data : "", resp.body.len) < 0)
			fail(r, ENOMEM, "out of memory", NULL);
		else
			ret = 0;
	}
	http_response_free(&resp);
	free(url);
	return ret;
}

/* The next page from a Link header (<URL>; rel="next"), made absolute against ORIGIN
 * ("scheme://host"); NULL when there is none. */
static char *next_page(const struct http_response *resp, const char *origin)
{
	const char *link = http_header(resp, "Link"), *lt, *gt;
	char *url;

	if (!link || !strstr(link, "rel=\"next\"") || !(lt = strchr(link, '<')) ||
	    !(gt = strchr(lt, '>')))
		return NULL;
	lt++;
	if (*lt == '/')
		return asprintf(&url, "%s%.*s", origin, (int)(gt - lt), lt) < 0 ? NULL : url;
	return strndup(lt, (size_t)(gt - lt));
}

/* Append the strings of array KEY of the JSON page to OUT, one a line. */
static int add_names(struct registry *r, const struct buf *page, const char *key, struct buf *out)
{
	char why[200];
	json_t doc = json_parse(page->data ? page->data : "", page->len, why, sizeof(why));
	json_t list = json_get(doc, key);
	int ret = 0;

	if (!doc || (list && !json_is_array(list)))
		ret = fail(r, EBADMSG, "Invalid response", doc ? key : why);
	for (size_t i = 0; !ret && i < json_array_len(list); i++) {
		const char *name = json_string(json_array_at(list, i));
		if (name && !strchr(name, '\n') && buf_printf(out, "%s\n", name) < 0)
			ret = fail(r, ENOMEM, "out of memory", NULL);
	}
	json_free(doc);
	return ret;
}

/* GET URL, answering one challenge (the catalog's scope is not the login probe's). */
static int get_page(struct registry *r, const char *url, struct http_response *resp)
{
	struct http_request req = {.max_body = 16u << 20};
	const char *challenge;

	if (registry_request(r, "GET", url, "Accept: application/json", &req, resp) < 0) {
		http_response_free(resp);
		return -1;
	}
	if (resp->status == 401 && (challenge = http_header(resp, "WWW-Authenticate"))) {
		char *copy = strdup(challenge);
		int rc;
		http_response_free(resp);
		if (!copy)
			return fail(r, ENOMEM, "out of memory", NULL);
		free(r->auth);
		r->auth = NULL;
		rc = registry_answer(r, copy);
		free(copy);
		if (rc < 0)
			return -1;
		memset(&req, 0, sizeof(req));
		req.max_body = 16u << 20;
		if (registry_request(r, "GET", url, "Accept: application/json", &req, resp) < 0) {
			http_response_free(resp);
			return -1;
		}
	}
	if (resp->status != 200) {
		registry_status_fail(r, url, resp);
		http_response_free(resp);
		return -1;
	}
	return 0;
}

int regquery_list(struct registry *r, enum regquery_list what, struct buf *out)
{
	char *origin, *url, *slash;
	int pages = 0, ret = 0;

	if (!(origin = strdup(r->base)) || !(slash = strstr(origin, "/v2/"))) {
		free(origin);
		return fail(r, ENOMEM, "out of memory", NULL);
	}
	*slash = '\0';
	if (what == REGQUERY_TAGS ? asprintf(&url, "%s/tags/list", r->base) < 0
				  : asprintf(&url, "%s/v2/_catalog", origin) < 0)
		url = NULL;
	while (!ret && url) {
		struct http_response resp;
		char *next;
		if (++pages > 10000) {
			ret = fail(r, ELOOP, "Too many pages", url);
			break;
		}
		if (get_page(r, url, &resp) < 0) {
			ret = -1;
			break;
		}
		ret =
		    add_names(r, &resp.body, what == REGQUERY_TAGS ? "tags" : "repositories", out);
		next = next_page(&resp, origin);
		http_response_free(&resp);
		free(url);
		url = next;
	}
	free(url);
	free(origin);
	return ret;
}

/* GET URL with the Authorization line AUTH (or none): its status, -1 on a transport error. */
static long probe(const char *url, const char *auth, char **challenge, char *why, size_t len)
{
	const char *headers[] = {auth, NULL};
	struct http_request req = {.method = "GET", .url = url, .headers = auth ? headers : NULL};
	struct http_response resp;
	const char *c;
	long status = -1;

	if (http_request(&req, &resp) < 0)
		snprintf(why, len, "failed to fetch %s: %s", url, resp.error);
	else
		status = resp.status;
	if (challenge && status == 401 && (c = http_header(&resp, "WWW-Authenticate")))
		*challenge = strdup(c);
	http_response_free(&resp);
	return status;
}

int regquery_login(const char *registry, const char *user, const char *password, int *open,
		   char *why, size_t whylen)
{
	char *url, *challenge = NULL, *header = NULL, *auth = NULL;
	struct wwwauth ch;
	long status;
	int ret = -1;

	*open = 0;
	if (asprintf(&url, "%s://%s/v2/", http_scheme(), registry) < 0)
		return errno = ENOMEM, -1;
	status = probe(url, NULL, &challenge, why, whylen);
	if (status == 200) {
		*open = 1;
		ret = 0;
	} else if (status == 401 && challenge) {
		if (wwwauth_parse(challenge, &ch) < 0) {
			snprintf(why, whylen, "Could not parse authentication challenge from %s",
				 registry);
		} else {
			char reason[256];
			if (regauth_authorize(&ch, user, password, &header, reason,
					      sizeof(reason)) < 0)
				snprintf(why, whylen, "Authentication failed for %s: %s", registry,
					 reason);
			else if (asprintf(&auth, "Authorization: %s", header) < 0)
				auth = NULL;
			else if ((status = probe(url, auth, NULL, why, whylen)) == 200)
				ret = 0;
			else if (status > 0)
				snprintf(why, whylen,
					 "Authentication failed for %s: wrong credentials",
					 registry);
			wwwauth_free(&ch);
		}
	} else if (status > 0) {
		snprintf(why, whylen, "URL %s returned error code: %ld", url, status);
	}
	if (header) {
		explicit_bzero(header, strlen(header));
		free(header);
	}
	if (auth) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	free(challenge);
	free(url);
	return ret;
}
