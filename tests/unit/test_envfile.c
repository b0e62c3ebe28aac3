/* Unit tests for lib/base/envfile.c: substitution, formatting and merging (spec §8.4). */
#include <stdlib.h>

#include "base/envfile.h"
#include "unit.h"

static struct buf out;

static const char *subst(const char *in)
{
	buf_reset(&out);
	return envfile_subst(in, strlen(in), &out) < 0 ? NULL : out.data ? out.data : "";
}

static const char *fmt(const char *in, int sub)
{
	buf_reset(&out);
	return envfile_format(in, strlen(in), sub, &out) < 0 ? NULL : out.data ? out.data : "";
}

static const char *merge(const char *in)
{
	buf_reset(&out);
	return envfile_merge(in, strlen(in), &out) < 0 ? NULL : out.data ? out.data : "";
}

static void test_subst(void)
{
	setenv("UT_A", "va", 1);
	setenv("UT_REC", "${UT_A}", 1);
	unsetenv("UT_NONE");
	CHECK_STR(subst("${UT_A}"), "va");
	CHECK_STR(subst("x${UT_A}y${UT_A}"), "xvayva");
	CHECK_STR(subst("${UT_NONE}"), "");
	CHECK_STR(subst("${UT_REC}"), "${UT_A}");
	CHECK_STR(subst("$UT_A ${UT_A:-x} ${} ${9a} ${UT_A"), "$UT_A ${UT_A:-x} ${} ${9a} ${UT_A");
	CHECK_STR(subst("$${UT_A}}"), "$va}");
	CHECK_STR(subst(""), "");
	CHECK_STR(subst("${_}x"), "x"); /* "_" is a valid name; unset in this process? */
}

static void test_format(void)
{
	CHECK_STR(fmt("A=1\n", 0), "A=1\n");
	CHECK_STR(fmt(" \t A=1", 0), "A=1\n");
	CHECK_STR(fmt("\n#A=1\n \n", 0), "");
	CHECK_STR(fmt("export A=1\nA\n=1\n9A=1\n", 0), "");
	CHECK_STR(fmt("ENROOT_A=1\nENROOT=2\n", 0), "ENROOT=2\n");
	CHECK_STR(fmt("A=\"x y\"  \n", 0), "A=x y\n");
	CHECK_STR(fmt("A='x\"\n", 0), "A=x\n");
	CHECK_STR(fmt("A=\"\"\n", 0), "A=\n");
	CHECK_STR(fmt("A=\"\n", 0), "A=\"\n");
	CHECK_STR(fmt("A=\"x\"y\n", 0), "A=\"x\"y\n");
	CHECK_STR(fmt("A=x  \n", 0), "A=x  \n"); /* trailing blanks only go with quotes */
	CHECK_STR(fmt("A=${UT_A}\n", 1), "A=va\n");
	CHECK_STR(fmt("A=${UT_A}\n", 0), "A=${UT_A}\n");
	setenv("UT_Q", "\"q\"", 1);
	CHECK_STR(fmt("A=${UT_Q}\n", 1), "A=q\n");
	buf_reset(&out);
	CHECK(envfile_format_line("B=2", 3, 0, &out) == 0 && !strcmp(out.data, "B=2\n"));
}

static void test_merge(void)
{
	CHECK_STR(merge("A=1\nB=2\nA=3\n"), "B=2\nA=3\n");
	CHECK_STR(merge("A=1\nAB=2\nA_=3\nA=4"), "AB=2\nA_=3\nA=4\n");
	CHECK_STR(merge("junk\nA=1\n"), "A=1\n");
	CHECK_STR(merge(""), "");
	CHECK_STR(merge("B=1\nA=1\nB=2\nA=2\nB=3\n"), "A=2\nB=3\n");
}

int main(void)
{
	unsetenv("_");
	test_subst();
	test_format();
	test_merge();
	buf_free(&out);
	return unit_done();
}
