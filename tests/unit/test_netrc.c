/* Unit tests for lib/registry/netrc.c: tokens, lookup order, macdef, the first-login rule, and
 * evaluation through the shell (spec §4.1, §4.3). */
#include <errno.h>
#include <stdlib.h>

#include "registry/netrc.h"
#include "unit.h"

static struct netrc_cred c;

/* Look up host/login and return "login|password|account" ("-" for absent), or "ENOENT". */
static const char *look(const char *text, const char *host, const char *login)
{
	static char res[512];

	netrc_cred_free(&c);
	if (netrc_lookup(text, strlen(text), host, login, &c) < 0)
		return errno == ENOENT ? "ENOENT" : "error";
	snprintf(res, sizeof(res), "%s|%s|%s", c.login ? c.login : "-",
		 c.password ? c.password : "-", c.account ? c.account : "-");
	return res;
}

static void test_lookup(void)
{
	const char *f = "machine a.io login u1 password p1\n"
			"machine a.io login u2 password p2 account x\n"
			"machine B.io\n  login\tu3\n  password p3\n"
			"default login anon password none\n";

	CHECK_STR(look(f, "a.io", NULL), "u1|p1|-");
	CHECK_STR(look(f, "a.io", "u2"), "u2|p2|x");
	CHECK_STR(look(f, "b.IO", NULL), "u3|p3|-");
	CHECK_STR(look(f, "c.io", NULL), "anon|none|-");
	CHECK_STR(look(f, "c.io", "u9"), "ENOENT");
	CHECK_STR(look("machine a.io login u1", "b.io", NULL), "ENOENT");
	CHECK_STR(look("", "a.io", NULL), "ENOENT");
	CHECK_STR(look("machine a.io password p", "a.io", "any"), "-|p|-");
	CHECK_STR(look("machine", "a.io", NULL), "ENOENT");
	CHECK_STR(look("machine a.io login", "a.io", NULL), "-|-|-");
}

static void test_tokens(void)
{
	CHECK_STR(look("machine a.io login \"u s\" password \"p\\\"q\\\\\"", "a.io", NULL),
		  "u s|p\"q\\|-");
	CHECK_STR(look("machine a.io login \"\" password \"unterminated", "a.io", NULL),
		  "|unterminated|-");
	CHECK_STR(look("# machine a.io login bad\nmachine a.io login good", "a.io", NULL),
		  "good|-|-");
	CHECK_STR(look("machine a.io password #notacomment", "a.io", NULL), "-|#notacomment|-");
	CHECK_STR(
	    look("macdef init\nmachine a.io login bad\n\nmachine a.io login good", "a.io", NULL),
	    "good|-|-");
	CHECK_STR(look("machine a.io login u macdef m\nmachine b\n \t\npassword p", "a.io", NULL),
		  "u|p|-");
	CHECK_STR(look("default login d\nmachine a.io login m", "a.io", NULL), "m|-|-");
}

static void test_first_login(void)
{
	const char *f =
	    "# c\nmachine reg.io password x login no\nmachine REG.io login first extra\n"
	    "machine reg.io login second\n";
	char *l = netrc_first_login(f, strlen(f), "reg.io");

	CHECK_STR(l, "first");
	free(l);
	errno = 0;
	CHECK(netrc_first_login(f, strlen(f), "other.io") == NULL && errno == ENOENT);
	CHECK(netrc_first_login("machine reg.io login", 20, "reg.io") == NULL);
}

static void test_eval(void)
{
	const char *f = "machine a.io login u password $UT_PW\n"
			"machine b.io login u password $(printf '%s' 'a\\b') c\n"
			"# x x x x $(exit 1)\n"
			"machine c.io login u password plain\n";
	struct buf out = BUF_INIT;
	size_t bad = 0;

	setenv("UT_PW", "-n  secret", 1);
	CHECK(netrc_needs_eval(f, strlen(f)));
	CHECK(!netrc_needs_eval("machine a login u password p$x\n# 1 2 3 4 $5", 43));
	CHECK(netrc_eval(f, strlen(f), &out, &bad) == 0);
	CHECK_STR(out.data, "machine a.io login u password -n secret\n"
			    "machine b.io login u password a\\b c\n"
			    "# x x x x $(exit 1)\n"
			    "machine c.io login u password plain\n");
	buf_free(&out);
	CHECK(netrc_eval("a b c d e $(kill -9 $$)\n", 24, &out, &bad) < 0 && bad == 1);
	buf_free(&out);
	/* A script too big for the pipe fails instead of blocking. */
	char *big = malloc(300000);
	memcpy(big, "x\nm h l u p $", 14);
	memset(big + 14, 'x', 300000 - 14);
	errno = 0;
	CHECK(netrc_eval(big, 300000, &out, &bad) < 0 && errno == E2BIG && bad == 2);
	free(big);
	buf_free(&out);
}

int main(void)
{
	test_lookup();
	test_tokens();
	test_first_login();
	test_eval();
	netrc_cred_free(&c);
	return unit_done();
}
