/* Unit tests for the login.defs parser (spec §8.8 step 2) and the environment-file name check
 * (spec §6.6). */
#include <stdlib.h>
#include <string.h>

#include "base/environ.h"
#include "runtime/logindefs.h"
#include "unit.h"

static struct logindefs d = LOGINDEFS_INIT;

static void parse(const char *s)
{
	logindefs_free(&d);
	CHECK(logindefs_parse(&d, s, strlen(s)) == 0);
}

static void test_forms(void)
{
	parse("ENV_PATH PATH=/bin:/usr/bin\nUMASK=022\n  MAIL_DIR\t/var/mail  \n");
	CHECK_STR(logindefs_get(&d, "ENV_PATH"), "PATH=/bin:/usr/bin");
	CHECK_STR(logindefs_get(&d, "UMASK"), "022");
	CHECK_STR(logindefs_get(&d, "MAIL_DIR"), "/var/mail");
	CHECK(logindefs_get(&d, "PATH") == NULL);
	parse("A = 1\nB\t=\t2\nC==3\n");
	CHECK_STR(logindefs_get(&d, "A"), "1");
	CHECK_STR(logindefs_get(&d, "B"), "2");
	CHECK_STR(logindefs_get(&d, "C"), "3");
}

static void test_quotes_and_cuts(void)
{
	parse("Q \"quoted value\"\nR 'single'\nS abc\"def\nT a b c\nU=\"x\"\r\n");
	CHECK_STR(logindefs_get(&d, "Q"), "quoted");
	CHECK_STR(logindefs_get(&d, "R"), "'single'");
	CHECK_STR(logindefs_get(&d, "S"), "abc");
	CHECK_STR(logindefs_get(&d, "T"), "a");
	CHECK_STR(logindefs_get(&d, "U"), "x");
}

static void test_comments_and_override(void)
{
	parse("# FAKE_SHELL /bin/x\n   # indented comment\n\nK 1\nK 2\nEMPTY\nNOEOL yes");
	CHECK(logindefs_get(&d, "FAKE_SHELL") == NULL);
	CHECK(logindefs_get(&d, "#") == NULL);
	CHECK_STR(logindefs_get(&d, "K"), "2");
	CHECK_STR(logindefs_get(&d, "EMPTY"), "");
	CHECK(logindefs_yes(&d, "NOEOL") == 1);
	CHECK(logindefs_yes(&d, "K") == 0);
	CHECK(logindefs_yes(&d, "MISSING") == 0);
	parse("");
	CHECK(d.n == 0);
	CHECK(logindefs_load(&d, "/nonexistent/login.defs") == 0);
}

static void test_environ_names(void)
{
	CHECK(environ_name_len("A=1", 3) == 1);
	CHECK(environ_name_len("_x9=", 4) == 3);
	CHECK(environ_name_len("9A=1", 4) == 0);
	CHECK(environ_name_len(" A=1", 4) == 0);
	CHECK(environ_name_len("A B=1", 5) == 0);
	CHECK(environ_name_len("A", 1) == 0);
	CHECK(environ_name_len("=1", 2) == 0);
	CHECK(environ_name_len("AB=", 2) == 0); /* LEN bounds the line: no '=' within it */
}

static void test_environ_load(void)
{
	const char *file = "A=1\nB=x=y\n1BAD=no\nA=2\nEMPTY=\nQ=\"q\" \nno equals";

	CHECK(environ_load_buf(file, strlen(file)) == 0);
	CHECK_STR(getenv("A"), "2");
	CHECK_STR(getenv("B"), "x=y");
	CHECK_STR(getenv("EMPTY"), "");
	CHECK_STR(getenv("Q"), "\"q\" ");
	CHECK(getenv("1BAD") == NULL);
	CHECK(getenv("PATH") == NULL);
}

int main(void)
{
	test_forms();
	test_quotes_and_cuts();
	test_comments_and_override();
	test_environ_names();
	test_environ_load();
	logindefs_free(&d);
	return unit_done();
}
