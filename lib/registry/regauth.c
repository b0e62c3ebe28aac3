/* regauth: the token request of the registry protocol and the Basic header.  Every error
 * reason is built from the URL and status only, never from credentials or response bodies. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/base64.h"
#include "base/json.h"
#include "base/why.h"
#include "registry/http.h"
#include "registry/regauth.h"

/* Length of "http://" or "https://" at the start of url, or 0. */
static size_t scheme_len(const char *url)
{
	if (!strncasecmp(url, "https://", 8))
		return 8;
	if (!strncasecmp(url, "http://", 7))
		return 7;
	return 0;
}

char *regauth_url_host(const char *url)
{
	size_t s = scheme_len(url), alen;
	const char *auth = url + s, *at, *end;

	if (!s) {
		errno = EINVAL;
		return NULL;
	}
	alen = strcspn(auth, "/?#");
	at = memrchr(auth, '@', alen);
	if (at) {
		alen -= (size_t)(at + 1 - auth);
		auth = at + 1;
	}
	if (alen && auth[0] == '[') {
		end = memchr(auth, ']', alen);
		auth++;
	} else {
		end = memchr(auth, ':', alen);
	}
	if (!end)
		end = auth + alen;
	if (end <= auth || end > auth + alen) {
		errno = EINVAL;
		return NULL;
	}
	return strndup(auth, (size_t)(end - auth));
}

char *regauth_token_url(const struct wwwauth *ch)
{
	struct buf b = BUF_INIT;
	char sep = strchr(ch->realm ? ch->realm : "", '?') ? '&' : '?';

	if (!ch->realm || !scheme_len(ch->realm) || strpbrk(ch->realm, " \t\r\n#")) {
		errno = EINVAL;
		return NULL;
	}
	if (buf_adds(&b, ch->realm) < 0)
		goto fail;
	for (size_t i = 0; i < ch->nparams; i++, sep = '&')
		if (buf_addc(&b, sep) < 0 || http_urlencode(&b, ch->params[i].key) < 0 ||
		    buf_addc(&b, '=') < 0 || http_urlencode(&b, ch->params[i].value) < 0)
			goto fail;
	return b.data;
fail:
	buf_free(&b);
	errno = ENOMEM;
	return NULL;
}

/* A token is sent back in a header: refuse bytes that could end or split it. */
static int token_ok(const char *t)
{
	if (!t || !*t)
		return 0;
	for (; *t; t++)
		if ((unsigned char)*t < 0x21 || *t == 0x7f)
			return 0;
	return 1;
}

static void wipe(struct buf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->cap);
}

/* Take the token out of a token response body into *header as "Bearer TOKEN". */
static int parse_token(const struct buf *body, const char *url, char **header, char *why,
		       size_t whylen)
{
	json_t root = json_parse(body->data ? body->data : "", body->len, NULL, 0);
	const char *t = json_string(json_get(root, "token"));
	int ret = 0;

	if (!t)
		t = json_string(json_get(root, "access_token"));
	if (!root)
		ret =
		    why_set(why, whylen, EBADMSG, "invalid JSON in the token response of %s", url);
	else if (!t)
		ret = why_set(why, whylen, EBADMSG, "no token in the response of %s", url);
	else if (!token_ok(t))
		ret = why_set(why, whylen, EBADMSG, "invalid token in the response of %s", url);
	else if (asprintf(header, "Bearer %s", t) < 0)
		ret = why_set(why, whylen, ENOMEM, "out of memory");
	json_free(root);
	return ret;
}

/* GET the token URL, with Basic credentials when user is set. */
static int bearer(const struct wwwauth *ch, const char *user, const char *password, char **header,
		  char *why, size_t whylen)
{
	struct http_request req = {.method = "GET", .user = user, .password = password};
	struct http_response resp;
	char *url = regauth_token_url(ch);
	int ret;

	if (!url)
		return errno == EINVAL ? why_set(why, whylen, EINVAL,
						 "invalid realm in the "
						 "authentication challenge")
				       : why_set(why, whylen, ENOMEM, "out of memory");
	if (user && !password)
		req.password = "";
	req.url = url;
	if (http_request(&req, &resp) < 0)
		ret = why_set(why, whylen, errno, "failed to fetch token: %s: %s", url, resp.error);
	else if (resp.status < 200 || resp.status > 299)
		ret = why_set(why, whylen, EACCES, "URL %s returned error code: %ld %s", url,
			      resp.status, resp.reason);
	else
		ret = parse_token(&resp.body, url, header, why, whylen);
	wipe(&resp.body);
	http_response_free(&resp);
	free(url);
	return ret;
}

/* "Basic BASE64(user:password)". */
static int basic(const char *user, const char *password, char **header, char *why, size_t whylen)
{
	struct buf plain = BUF_INIT, enc = BUF_INIT;
	int ret = 0;

	if (!user)
		return why_set(why, whylen, EACCES, "no credentials for Basic authentication");
	if (buf_adds(&enc, "Basic ") < 0 || buf_adds(&plain, user) < 0 ||
	    buf_addc(&plain, ':') < 0 || buf_adds(&plain, password ? password : "") < 0 ||
	    base64_encode(plain.data, plain.len, &enc) < 0) {
		ret = why_set(why, whylen, ENOMEM, "out of memory");
		wipe(&enc);
		buf_free(&enc);
	} else {
		*header = enc.data;
	}
	wipe(&plain);
	buf_free(&plain);
	return ret;
}

int regauth_authorize(const struct wwwauth *ch, const char *user, const char *password,
		      char **header, char *why, size_t whylen)
{
	*header = NULL;
	if (ch->scheme == WWWAUTH_BEARER)
		return bearer(ch, user, password, header, why, whylen);
	if (ch->scheme == WWWAUTH_BASIC)
		return basic(user, password, header, why, whylen);
	return why_set(why, whylen, ENOTSUP, "unsupported authentication method");
}
