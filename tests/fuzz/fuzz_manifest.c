/* fuzz_manifest: manifest_parse on arbitrary bodies for two platforms; every result must be
 * a valid sha256 digest or a consistent image. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const uint8_t *data, size_t size, const struct imageref_platform *p)
{
	struct registry_image img;
	char next[REGISTRY_DIGEST_LEN], why[256];
	int k =
	    manifest_parse((const char *)data, size, NULL, p, "U", &img, next, why, sizeof(why));

	if (k == MANIFEST_INDEX && !manifest_digest_valid(next))
		abort();
	if (k == MANIFEST_IMAGE) {
		if (!img.nlayers || !manifest_digest_valid(img.config.digest))
			abort();
		for (size_t i = 0; i < img.nlayers; i++)
			if (!manifest_digest_valid(img.layers[i].digest))
				abort();
		manifest_image_free(&img);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct imageref_platform amd64 = {"linux", "amd64", NULL};
	static const struct imageref_platform arm64 = {"linux", "arm64", "v8"};

	one(data, size, &amd64);
	one(data, size, &arm64);
	return 0;
}
