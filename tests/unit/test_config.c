/* Unit tests for lib/base/config.c: line splitting, allowed keys, false words, plain values. */
#include <stdlib.h>

#include "base/config.h"
#include "unit.h"

static int split(const char *line, const char *key, const char *value)
{
	char buf[256], *k, *v;
	int ok;

	snprintf(buf, sizeof(buf), "%s", line);
	ok = config_split(buf, &k, &v);
	return ok && !strcmp(k, key) && !strcmp(v, value);
}

int main(void)
{
	char *p;

	CHECK(split("ENROOT_DATA_PATH /x/y", "ENROOT_DATA_PATH", "/x/y"));
	CHECK(split("ENROOT_DATA_PATH=/x", "ENROOT_DATA_PATH", "/x"));
	CHECK(split("  ENROOT_A \t= =  v w  \n", "ENROOT_A", "v w"));
	CHECK(split("NVIDIA_VISIBLE_DEVICES all", "NVIDIA_VISIBLE_DEVICES", "all"));
	CHECK(split("https_proxy http://p:3128", "https_proxy", "http://p:3128"));
	CHECK(split("ENROOT_EMPTY", "ENROOT_EMPTY", ""));
	CHECK(!split("#ENROOT_DATA_PATH /x", "#ENROOT_DATA_PATH", "/x"));
	CHECK(!config_key_allowed("ENROOT_lower"));
	CHECK(!config_key_allowed("ENROOT_"));
	CHECK(!config_key_allowed("PATH"));
	CHECK(!config_key_allowed("ENROOT_A1"));
	CHECK(config_key_allowed("MELLANOX_X"));
	CHECK(config_key_allowed("SSL_CERT_FILE"));
	CHECK(config_false_word("n") && config_false_word("No") && config_false_word("FALSE"));
	CHECK(!config_false_word("0") && !config_false_word("off") && !config_false_word("nO"));
	CHECK(!config_false_word(""));
	CHECK(config_needs_shell("$(nproc)") && config_needs_shell("~/x") &&
	      config_needs_shell("'a'") && config_needs_shell("a#b"));
	CHECK(!config_needs_shell("-comp lzo -noD"));
	p = config_plain_value("  -comp  lzo\t-noD ");
	CHECK_STR(p, "-comp lzo -noD");
	free(p);
	return unit_done();
}
