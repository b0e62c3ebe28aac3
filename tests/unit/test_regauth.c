/* Unit tests for the pure parts of lib/registry/regauth.c and lib/base/base64.c: the token URL, the
 * realm host, and the Basic header (the token request itself is tested in tests/netrc-auth.test).
 */
#include <errno.h>
#include <stdlib.h>

#include "base/base64.h"
#include "registry/regauth.h"
#include "unit.h"

static struct buf b;

static const char *b64(const char *s)
{
	buf_free(&b);
	return base64_encode(s, strlen(s), &b) < 0 ? NULL : b.data;
}

static void test_url(void)
{
	struct wwwauth w;
	char *u;

	CHECK(wwwauth_parse("Bearer realm=\"https://a.io/t\",service=\"r s\",scope=\"x:y/z:pull\","
			    "scope=\"q\"",
			    &w) == 0);
	u = regauth_token_url(&w);
	CHECK_STR(u, "https://a.io/t?service=r%20s&scope=x%3Ay%2Fz%3Apull&scope=q");
	free(u);
	wwwauth_free(&w);
	CHECK(wwwauth_parse("Bearer realm=\"http://a.io/t?k=v\",s=\"&=\"", &w) == 0);
	u = regauth_token_url(&w);
	CHECK_STR(u, "http://a.io/t?k=v&s=%26%3D");
	free(u);
	wwwauth_free(&w);
	CHECK(wwwauth_parse("Bearer realm=\"ftp://a.io/t\"", &w) == 0);
	errno = 0;
	CHECK(regauth_token_url(&w) == NULL && errno == EINVAL);
	wwwauth_free(&w);
}

static void test_host(void)
{
	char *h;

#define HOST(url, want)                                                                            \
	h = regauth_url_host(url);                                                                 \
	CHECK_STR(h, want);                                                                        \
	free(h)
	HOST("https://auth.docker.io/token", "auth.docker.io");
	HOST("http://127.0.0.1:5000/t?x", "127.0.0.1");
	HOST("https://u:p@h.io:1/", "h.io");
	HOST("https://[::1]:443/t", "::1");
	HOST("HTTPS://h.io", "h.io");
	CHECK(regauth_url_host("file:///etc/passwd") == NULL);
	CHECK(regauth_url_host("https:///x") == NULL);
}

int main(void)
{
	char *hdr, why[256];
	struct wwwauth w;

	test_url();
	test_host();
	CHECK_STR(b64(""), "");
	CHECK_STR(b64("f"), "Zg==");
	CHECK_STR(b64("fo"), "Zm8=");
	CHECK_STR(b64("foo"), "Zm9v");
	CHECK_STR(b64("foobar"), "Zm9vYmFy");
	CHECK_STR(b64("alice:s3cr3t"), "YWxpY2U6czNjcjN0");
	CHECK(wwwauth_parse("Basic realm=r", &w) == 0);
	CHECK(regauth_authorize(&w, "u", NULL, &hdr, why, sizeof(why)) == 0);
	CHECK_STR(hdr, "Basic dTo=");
	free(hdr);
	CHECK(regauth_authorize(&w, NULL, NULL, &hdr, why, sizeof(why)) < 0 && !hdr);
	CHECK_STR(why, "no credentials for Basic authentication");
	wwwauth_free(&w);
	buf_free(&b);
	return unit_done();
}
