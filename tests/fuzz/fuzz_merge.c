/* fuzz_merge: feed the input as an uncompressed tar to the one-pass merge (lib/image/merge.h)
 * twice, as the upper and the lower layer of one image, written by lib/image/sqfs.h into a memfd:
 * no crash, no leak, no fd left open, and a finished image starts with the squashfs magic. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image/merge.h"
#include "image/sqfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void merge_once(int in, int out, const struct sqfs_opts *so)
{
	struct layer_opts o = {.compression = LAYER_TAR};
	struct layer_stats st;
	struct layer_error err;
	struct sqfs *w = sqfs_new(out, so);
	struct merge *m = w ? merge_new(w, 2, 1700000000, 0755) : NULL;
	int rc = m ? merge_file(m, "etc/rc", "rc\n", 3, 0644, &err) : -1;
	char magic[4];

	if (!m)
		abort();
	if (!rc)
		rc = merge_mkdir(m, "/work/dir", &err);
	for (int i = 0; !rc && i < 2; i++)
		if (lseek(in, 0, SEEK_SET) < 0 || (rc = merge_layer(m, in, &o, &st, &err)) == -1)
			break;
	if (!rc && merge_finish(m, &err) == 0 &&
	    (pread(out, magic, 4, 0) != 4 || memcmp(magic, "hsqs", 4)))
		abort();
	merge_free(m);
	sqfs_free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sqfs_opts so;
	static int ready;
	char why[128];
	int in = memfd_create("layer", MFD_CLOEXEC), out = memfd_create("image", MFD_CLOEXEC);

	if (!ready && (sqfs_opts_parse(NULL, NULL, &so, why, sizeof(why)) < 0 || !(ready = 1)))
		abort();
	so.block_size = 4096; /* exercise block and fragment boundaries with small inputs */
	if (in < 0 || out < 0 || write(in, data, size) != (ssize_t)size)
		abort();
	merge_once(in, out, &so);
	close(in);
	close(out);
	return 0;
}
