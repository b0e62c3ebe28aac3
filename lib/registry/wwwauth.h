/* wwwauth: parse a registry's WWW-Authenticate challenge (RFC 7235; spec §4.3 step 2). */
#ifndef WWWAUTH_H
#define WWWAUTH_H

#include <stddef.h>

enum wwwauth_scheme { WWWAUTH_BASIC = 1, WWWAUTH_BEARER };

struct wwwauth_param {
	char *key; /* as sent (keys compare case-insensitively) */
	char *value;
};

struct wwwauth {
	enum wwwauth_scheme scheme;
	char *realm;		      /* NULL when absent (allowed for Basic only) */
	struct wwwauth_param *params; /* every other parameter, in order */
	size_t nparams;
	const char *error; /* after a failure: a static one-line reason */
};

/* Parse "Scheme key=value, key="quoted, value", ..." (scheme case-insensitive: Basic or
 * Bearer; blanks around tokens, '=' and ',' allowed; quoted strings take backslash escapes).
 * Returns 0, or -1 with errno EINVAL (syntax, missing realm for Bearer), ENOTSUP (another
 * scheme: "unsupported authentication method") or ENOMEM, and out->error set.  On success
 * free with wwwauth_free; on failure nothing needs freeing. */
int wwwauth_parse(const char *value, struct wwwauth *out);
void wwwauth_free(struct wwwauth *w);

#endif
