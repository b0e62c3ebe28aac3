/* Unit tests for lib/registry/wwwauth.c: the WWW-Authenticate challenge parser (spec §4.3). */
#include <errno.h>

#include "registry/wwwauth.h"
#include "unit.h"

static struct wwwauth w;

/* Parse and render "SCHEME realm [k=v]..." or "ERR: reason". */
static const char *parse(const char *v)
{
	static char res[1024];
	size_t n;

	wwwauth_free(&w);
	if (wwwauth_parse(v, &w) < 0) {
		snprintf(res, sizeof(res), "ERR: %s", w.error);
		return res;
	}
	n = (size_t)snprintf(res, sizeof(res), "%s %s",
			     w.scheme == WWWAUTH_BEARER ? "Bearer" : "Basic",
			     w.realm ? w.realm : "-");
	for (size_t i = 0; i < w.nparams && n < sizeof(res); i++)
		n += (size_t)snprintf(res + n, sizeof(res) - n, " [%s=%s]", w.params[i].key,
				      w.params[i].value);
	return res;
}

int main(void)
{
	CHECK_STR(
	    parse("Bearer realm=\"https://a/token\",service=\"reg\",scope=\"repository:x:pull\""),
	    "Bearer https://a/token [service=reg] [scope=repository:x:pull]");
	CHECK_STR(parse("  bEARER  scope = \"a,b\" , realm=https://a/t,, service=s "),
		  "Bearer https://a/t [scope=a,b] [service=s]");
	CHECK_STR(parse("Bearer realm=\"x\",scope=\"a\",scope=\"b\",extra=\"q\\\"t\""),
		  "Bearer x [scope=a] [scope=b] [extra=q\"t]");
	CHECK_STR(parse("Bearer REALM=\"x\""), "Bearer x");
	CHECK_STR(parse("Basic realm=\"Registry Realm\""), "Basic Registry Realm");
	CHECK_STR(parse("Basic"), "Basic -");
	CHECK_STR(parse("Bearer service=\"s\""),
		  "ERR: missing realm in the authentication challenge");
	CHECK_STR(parse("Bearer"), "ERR: missing realm in the authentication challenge");
	CHECK_STR(parse("Digest realm=\"x\""), "ERR: unsupported authentication method");
	CHECK(errno == ENOTSUP);
	CHECK_STR(parse("Bearerx realm=x"), "ERR: unsupported authentication method");
	CHECK_STR(parse(""), "ERR: empty authentication challenge");
	CHECK_STR(parse("Bearer realm=\"x"), "ERR: malformed authentication challenge");
	CHECK_STR(parse("Bearer realm"), "ERR: malformed authentication challenge");
	CHECK_STR(parse("Bearer realm="), "ERR: malformed authentication challenge");
	CHECK_STR(parse("Bearer realm=a b"), "ERR: malformed authentication challenge");
	CHECK_STR(parse("Bearer realm=a,realm=b"),
		  "ERR: duplicate realm in the authentication challenge");
	CHECK_STR(parse("Bearer,realm=a"), "ERR: malformed authentication challenge");
	CHECK(errno == EINVAL);
	wwwauth_free(&w);
	return unit_done();
}
