/* test_size: byte counts with binary suffixes, and what is not one. */
#include <errno.h>

#include "base/size.h"
#include "unit.h"

static int parses(const char *s, unsigned long long want)
{
	unsigned long long v = 0;

	return size_parse(s, &v) == 0 && v == want;
}

static int fails(const char *s, int err)
{
	unsigned long long v = 7;

	return size_parse(s, &v) < 0 && errno == err && v == 7;
}

int main(void)
{
	CHECK(parses("0", 0));
	CHECK(parses("1000", 1000));
	CHECK(parses("1k", 1024));
	CHECK(parses("64M", 64ULL << 20));
	CHECK(parses("2g", 2ULL << 30));
	CHECK(parses("3T", 3ULL << 40));
	CHECK(parses("18446744073709551615", ~0ULL));
	CHECK(fails("", EINVAL));
	CHECK(fails("-1", EINVAL));
	CHECK(fails(" 1", EINVAL));
	CHECK(fails("1x", EINVAL));
	CHECK(fails("1MB", EINVAL));
	CHECK(fails("M", EINVAL));
	CHECK(fails("18446744073709551616", ERANGE));
	CHECK(fails("16777216T", ERANGE));
	CHECK(fails(NULL, EINVAL));
	return unit_done();
}
