/* test_safepath: name normalization and splitting for layer entries, the media type table and
 * the path set. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/pathset.h"
#include "base/safepath.h"
#include "image/layer.h"
#include "unit.h"

static const char *norm(const char *in)
{
	static char out[64];

	if (safepath_norm(in, out, sizeof(out)) < 0)
		return errno == EXDEV ? "EXDEV" : errno == ENAMETOOLONG ? "ENAMETOOLONG" : "?";
	return out;
}

/* A component longer than NAME_MAX is refused even when the whole fits (a layer naming one
 * made the import fail instead of skipping the entry). */
static void test_norm_name_max(void)
{
	char in[300], out[600];

	memset(in, 'n', 256);
	in[256] = '\0';
	CHECK(safepath_norm(in, out, sizeof(out)) < 0 && errno == ENAMETOOLONG);
	in[255] = '\0';
	CHECK(safepath_norm(in, out, sizeof(out)) == 0 && strlen(out) == 255);
}

static void test_norm(void)
{
	CHECK_STR(norm("a/b/c"), "a/b/c");
	CHECK_STR(norm("/abs/path"), "abs/path");
	CHECK_STR(norm("./x"), "x");
	CHECK_STR(norm("./"), "");
	CHECK_STR(norm("/"), "");
	CHECK_STR(norm("."), "");
	CHECK_STR(norm(""), "");
	CHECK_STR(norm("//a//./b/"), "a/b");
	CHECK_STR(norm("a/../b"), "b");
	CHECK_STR(norm("a/b/../../c"), "c");
	CHECK_STR(norm("a/.."), "");
	CHECK_STR(norm(".."), "EXDEV");
	CHECK_STR(norm("../x"), "EXDEV");
	CHECK_STR(norm("a/../../x"), "EXDEV");
	CHECK_STR(norm("/../etc/passwd"), "EXDEV");
	CHECK_STR(norm("a/.wh..wh..opq"), "a/.wh..wh..opq");
	CHECK_STR(norm("...x/..y"), "...x/..y");
	CHECK_STR(norm("0123456789012345678901234567890123456789/0123456789012345678901234"),
		  "ENAMETOOLONG");
}

static void test_split(void)
{
	char dir[16];
	const char *base;

	safepath_split("a/b/c", dir, &base);
	CHECK_STR(dir, "a/b");
	CHECK_STR(base, "c");
	safepath_split("top", dir, &base);
	CHECK_STR(dir, "");
	CHECK_STR(base, "top");
}

static void test_media_type(void)
{
	CHECK(layer_media_type("application/vnd.oci.image.layer.v1.tar") == LAYER_TAR);
	CHECK(layer_media_type("application/vnd.oci.image.layer.v1.tar+gzip") == LAYER_GZIP);
	CHECK(layer_media_type("application/vnd.oci.image.layer.v1.tar+zstd") == LAYER_ZSTD);
	CHECK(layer_media_type("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip") ==
	      LAYER_GZIP);
	CHECK(layer_media_type("application/vnd.docker.image.rootfs.diff.tar.gzip") == LAYER_GZIP);
	CHECK(layer_media_type("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip") ==
	      LAYER_GZIP);
	CHECK(layer_media_type("application/vnd.docker.image.rootfs.diff.tar") == LAYER_TAR);
	CHECK(layer_media_type("application/vnd.oci.image.layer.v1.tar+bzip2") == -1);
	CHECK(layer_media_type("application/vnd.oci.image.config.v1+json") == -1);
	CHECK(layer_media_type("") == -1);
}

static void test_pathset(void)
{
	struct pathset s = {0};
	char name[32];
	int ok = 1;

	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "dir/%d", i);
		ok &= pathset_add(&s, name) != NULL;
		pathset_get(&s, name)->flags = (unsigned)i;
	}
	CHECK(ok && s.len == 1000);
	CHECK(pathset_get(&s, "dir/999") && pathset_get(&s, "dir/999")->flags == 999);
	CHECK(pathset_add(&s, "dir/5")->flags == 5 && s.len == 1000);
	CHECK(pathset_get(&s, "dir/1000") == NULL);
	CHECK(pathset_get(&s, "") == NULL);
	pathset_free(&s);
	CHECK(s.len == 0 && pathset_get(&s, "dir/1") == NULL);
}

int main(void)
{
	test_norm();
	test_norm_name_max();
	test_split();
	test_media_type();
	test_pathset();
	return unit_done();
}
