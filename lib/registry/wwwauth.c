/* wwwauth: a strict WWW-Authenticate parser for the two schemes registries use. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "registry/wwwauth.h"

static int is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ows(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static const char *token_end(const char *s)
{
	while (is_tchar(*s))
		s++;
	return s;
}

/* Parse a quoted string at s (at the opening quote) into b; returns the end or NULL. */
static const char *quoted(const char *s, struct buf *b)
{
	for (s++; *s && *s != '"'; s++) {
		if (*s == '\\' && s[1])
			s++;
		if (buf_addc(b, *s) < 0)
			return NULL;
	}
	return *s == '"' ? s + 1 : NULL;
}

static int fail(struct wwwauth *w, int err, const char *why)
{
	wwwauth_free(w);
	w->error = why;
	errno = err;
	return -1;
}

/* Store one parameter: the realm apart, the others appended in order. */
static int store(struct wwwauth *w, const char *key, size_t klen, struct buf *val)
{
	struct wwwauth_param *p;
	char *k, *v;

	if (klen == 5 && !strncasecmp(key, "realm", 5)) {
		if (w->realm)
			return fail(w, EINVAL, "duplicate realm in the authentication challenge");
		w->realm = strdup(val->data ? val->data : "");
		return w->realm ? 0 : fail(w, ENOMEM, "out of memory");
	}
	p = realloc(w->params, (w->nparams + 1) * sizeof(*p));
	if (!p)
		return fail(w, ENOMEM, "out of memory");
	w->params = p;
	k = strndup(key, klen);
	v = strdup(val->data ? val->data : "");
	if (!k || !v) {
		free(k);
		free(v);
		return fail(w, ENOMEM, "out of memory");
	}
	p[w->nparams++] = (struct wwwauth_param){k, v};
	return 0;
}

/* Parse one key=value at s (an unquoted value runs to a blank or comma, which tolerates the
 * unquoted URLs some servers send) into w; returns the position after it or NULL (w freed). */
static const char *param(const char *s, struct wwwauth *w, struct buf *val)
{
	const char *key = s, *kend = token_end(s), *vend = NULL;

	buf_reset(val);
	s = skip_ows(kend);
	if (kend == key || *s != '=')
		goto bad;
	s = skip_ows(s + 1);
	if (*s == '"') {
		vend = quoted(s, val);
	} else {
		vend = s + strcspn(s, " \t,\"");
		if (vend == s || buf_add(val, s, (size_t)(vend - s)) < 0)
			vend = NULL;
	}
	if (!vend)
		goto bad;
	s = skip_ows(vend);
	if (*s && *s != ',')
		goto bad;
	return store(w, key, (size_t)(kend - key), val) < 0 ? NULL : s;
bad:
	fail(w, EINVAL, "malformed authentication challenge");
	return NULL;
}

int wwwauth_parse(const char *value, struct wwwauth *out)
{
	const char *s = skip_ows(value), *end = token_end(s);
	struct buf val = BUF_INIT;

	*out = (struct wwwauth){0};
	if ((size_t)(end - s) == 6 && !strncasecmp(s, "Bearer", 6))
		out->scheme = WWWAUTH_BEARER;
	else if ((size_t)(end - s) == 5 && !strncasecmp(s, "Basic", 5))
		out->scheme = WWWAUTH_BASIC;
	else if (end == s)
		return fail(out, EINVAL, "empty authentication challenge");
	else
		return fail(out, ENOTSUP, "unsupported authentication method");
	if (*end && *end != ' ' && *end != '\t')
		return fail(out, EINVAL, "malformed authentication challenge");
	for (s = end;;) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		if (!*s)
			break;
		s = param(s, out, &val);
		if (!s) {
			buf_free(&val);
			return -1;
		}
	}
	buf_free(&val);
	if (out->scheme == WWWAUTH_BEARER && !out->realm)
		return fail(out, EINVAL, "missing realm in the authentication challenge");
	return 0;
}

void wwwauth_free(struct wwwauth *w)
{
	for (size_t i = 0; i < w->nparams; i++) {
		free(w->params[i].key);
		free(w->params[i].value);
	}
	free(w->params);
	free(w->realm);
	w->params = NULL;
	w->realm = NULL;
	w->nparams = 0;
}
