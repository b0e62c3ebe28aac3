/* regauth: answer a registry's WWW-Authenticate challenge with the value of an Authorization
 * header (spec §4.3 step 4): a Bearer token fetched from the realm, or Basic credentials. */
#ifndef REGAUTH_H
#define REGAUTH_H

#include <stddef.h>

#include "base/buf.h"
#include "registry/wwwauth.h"

/* The token request URL: the realm with every other parameter appended as a URL-encoded
 * query parameter, in order (repeated keys kept).  A new string, or NULL with errno EINVAL
 * (the realm is not an http:// or https:// URL) or ENOMEM. */
char *regauth_token_url(const struct wwwauth *ch);

/* The host of an http(s) URL without userinfo, port or IPv6 brackets, as a new string; NULL
 * with errno EINVAL or ENOMEM. */
char *regauth_url_host(const char *url);

/* Set *header to a new string "Bearer TOKEN" (GET of the token URL, with HTTP Basic
 * credentials when user is not NULL, token from the JSON field "token" or else
 * "access_token") or "Basic BASE64(user:password)" (no request; needs user).  password NULL
 * counts as empty.  Returns 0, or -1 with errno set and a one-line reason in why that never
 * holds the credentials or the token. */
int regauth_authorize(const struct wwwauth *ch, const char *user, const char *password,
		      char **header, char *why, size_t whylen);

#endif
