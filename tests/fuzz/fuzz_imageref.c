/* fuzz_imageref: imageref_parse on arbitrary bytes; a parse must give consistent parts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/imageref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *uri = malloc(size + 1), *name, *prov;
	struct imageref r;

	if (!uri)
		return 0;
	memcpy(uri, data, size);
	uri[size] = '\0';
	if (imageref_parse(uri, &r) == 0) {
		if (!r.registry || !r.image || !r.tag || !*r.registry || !*r.image)
			abort();
		name = imageref_output_name(&r);
		prov = imageref_provenance(&r);
		if (!name || !prov || strncmp(prov, "docker://", 9) || strchr(name, '/'))
			abort();
		free(name);
		free(prov);
		imageref_free(&r);
	}
	free(uri);
	return 0;
}
