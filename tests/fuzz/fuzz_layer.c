/* fuzz_layer: feed the input as an uncompressed tar to layer_apply on a fresh scratch root, and
 * abort when anything appears or changes outside it.  The scratch root lives alone, beside a
 * sentinel directory, in a parent directory made once per process. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layer.h"
#include "safepath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parent = -1;
static char tmpl[] = "/tmp/fuzz_layer.XXXXXX";

static void cleanup(void)
{
	if (parent >= 0)
		safepath_remove(parent, "root");
	unlinkat(parent, "sentinel", AT_REMOVEDIR);
	rmdir(tmpl);
}

static void setup(void)
{
	if (!mkdtemp(tmpl))
		abort();
	atexit(cleanup);
	parent = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parent < 0 || mkdirat(parent, "sentinel", 0700) < 0)
		abort();
}

/* The parent must hold exactly "root" and an empty "sentinel". */
static void check_outside(void)
{
	int fd = openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), n = 0;
	DIR *d = fdopendir(fd);
	struct dirent *de;
	struct stat st;

	if (!d)
		abort();
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			if (strcmp(de->d_name, "root") && strcmp(de->d_name, "sentinel"))
				abort();
			n++;
		}
	closedir(d);
	if (n != 2 || fstatat(parent, "sentinel", &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISDIR(st.st_mode) || st.st_nlink != 2)
		abort();
}

/* How many fds are open: layer_apply must leave the count as it found it. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		abort();
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct layer_opts o = {.compression = LAYER_TAR, .max_size = 1 << 24};
	struct layer_stats st;
	struct layer_error err;
	int in, root, fds;

	if (parent < 0)
		setup();
	in = memfd_create("layer", MFD_CLOEXEC);
	if (in < 0 || write(in, data, size) != (ssize_t)size || lseek(in, 0, SEEK_SET) < 0)
		abort();
	if (mkdirat(parent, "root", 0700) < 0)
		abort();
	root = openat(parent, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		abort();
	fds = count_fds();
	(void)layer_apply(in, root, &o, &st, &err);
	if (count_fds() != fds)
		abort();
	close(root);
	close(in);
	check_outside();
	if (safepath_remove(parent, "root") < 0)
		abort();
	return 0;
}
