/* test_manifest: index entry selection and manifest parsing (spec §4.4, PITFALLS §3.3). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "registry/manifest.h"
#include "unit.h"

#define H(c)                                                                                       \
	"sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c  \
	    c c c c c c c c c c c c c c c c c c c c c c c c
#define DA H("a")
#define DB H("b")
#define DC H("c")
#define DD H("d")

static const struct imageref_platform amd64 = {"linux", "amd64", NULL};
static const struct imageref_platform arm64 = {"linux", "arm64", "v8"};
static const struct imageref_platform ppc = {"linux", "ppc64le", NULL};

static char why[512];

/* The digest an index body resolves to for p, or "error" / "image". */
static const char *pick(const char *body, const char *ctype, const struct imageref_platform *p)
{
	static char next[REGISTRY_DIGEST_LEN];
	struct registry_image img;
	int k = manifest_parse(body, strlen(body), ctype, p, "U", &img, next, why, sizeof(why));

	if (k == MANIFEST_IMAGE) {
		manifest_image_free(&img);
		return "image";
	}
	return k == MANIFEST_INDEX ? next : "error";
}

static const char index_body[] =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
    "\"manifests\":["
    "{\"digest\":\"" DA "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"},"
    "\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"}},"
    "{\"digest\":\"" DD "\",\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}},"
    "{\"digest\":\"" DB "\",\"platform\":{\"os\":\"windows\",\"architecture\":\"amd64\"}},"
    "{\"digest\":\"" DC "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
    "{\"digest\":\"" DA
    "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v9\"}},"
    "{\"digest\":\"" DB "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
    "{\"digest\":\"" DD
    "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}}"
    "]}";

static void test_index(void)
{
	CHECK_STR(pick(index_body, NULL, &amd64), DC);
	CHECK_STR(pick(index_body, NULL, &arm64), DD);
	CHECK_STR(pick(index_body, NULL, &ppc), "error");
	CHECK(errno == ENOENT && strstr(why, "No image for linux/ppc64le in U"));
	/* No mediaType in the body: the Content-Type decides, then the shape. */
	CHECK_STR(pick("{\"manifests\":[{\"digest\":\"" DA "\",\"platform\":{\"os\":\"linux\","
		       "\"architecture\":\"arm64\"}}]}",
		       "application/vnd.docker.distribution.manifest.list.v2+json; charset=x",
		       &arm64),
		  DA);
	CHECK_STR(pick("{\"manifests\":[{\"digest\":\"" DA "\",\"platform\":{\"os\":\"linux\","
		       "\"architecture\":\"amd64\"}}]}",
		       NULL, &amd64),
		  DA);
	/* Unsafe or malformed digests in an index are refused. */
	CHECK_STR(pick("{\"manifests\":[{\"digest\":\"sha256:../../etc\",\"platform\":{\"os\":"
		       "\"linux\",\"architecture\":\"amd64\"}}]}",
		       NULL, &amd64),
		  "error");
	CHECK_STR(pick("{\"manifests\":[{\"platform\":{\"os\":\"linux\",\"architecture\":"
		       "\"amd64\"}}]}",
		       NULL, &amd64),
		  "error");
	/* amd64 without a variant does not take an unknown variant. */
	CHECK_STR(pick("{\"manifests\":[{\"digest\":\"" DA "\",\"platform\":{\"os\":\"linux\","
		       "\"architecture\":\"amd64\",\"variant\":\"v3\"}}]}",
		       NULL, &amd64),
		  "error");
}

static const char image_body[] =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" DA
    "\",\"size\":401},\"layers\":["
    "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" DB
    "\",\"size\":147},"
    "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"" DC "\"}]}";

static int parse(const char *body, struct registry_image *img)
{
	char next[REGISTRY_DIGEST_LEN];

	return manifest_parse(body, strlen(body), NULL, &amd64, "U", img, next, why, sizeof(why));
}

static void test_image(void)
{
	struct registry_image img;

	CHECK(parse(image_body, &img) == MANIFEST_IMAGE);
	CHECK_STR(img.manifest_media_type, "application/vnd.oci.image.manifest.v1+json");
	CHECK_STR(img.config.digest, DA);
	CHECK(img.config.size == 401);
	CHECK(img.nlayers == 2);
	CHECK_STR(img.layers[0].digest, DB);
	CHECK_STR(img.layers[0].media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
	CHECK(img.layers[0].size == 147);
	CHECK_STR(img.layers[1].media_type, "application/vnd.oci.image.layer.v1.tar+zstd");
	CHECK(img.layers[1].size == -1);
	manifest_image_free(&img);

	CHECK(parse("{\"config\":{\"digest\":\"" DA "\"},\"layers\":[]}", &img) < 0);
	CHECK(strstr(why, "Could not parse digest information from U") != NULL);
	CHECK(parse("{\"config\":{\"digest\":\"" DA "\"},\"layers\":[{\"digest\":\"sha256:AB\"}]}",
		    &img) < 0);
	CHECK(parse("{\"layers\":[{\"digest\":\"" DA "\"}]}", &img) < 0);
	CHECK(parse("{\"schemaVersion\":1,\"fsLayers\":[{\"blobSum\":\"" DA "\"}]}", &img) < 0 &&
	      errno == ENOTSUP);
	CHECK(parse("not json", &img) < 0 && errno == EBADMSG);
	CHECK(parse("[1,2]", &img) < 0);
	CHECK(parse("", &img) < 0);
}

int main(void)
{
	test_index();
	test_image();
	return unit_done();
}
