/* fuzz_layer: apply the input as a layer (tar, or gzip/zstd by its magic) twice onto a fresh
 * scratch root, as layer N and layer N+1, so a symlink planted by the first is in place for the
 * second, and abort when anything appears or changes outside the root.  The root lives in
 * PARENT/work beside an empty PARENT/work/sentinel, and PARENT holds a second empty sentinel:
 * an escape by "..", by an absolute path or through a symlink to either level is caught. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/safepath.h"
#include "image/layer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parent = -1;
static char tmpl[] = "/tmp/fuzz_layer.XXXXXX";

static int top = -1; /* PARENT; parent is PARENT/work */

static void cleanup(void)
{
	if (parent >= 0)
		safepath_remove(parent, "root");
	if (top >= 0)
		safepath_remove(top, "work");
	unlinkat(top, "sentinel", AT_REMOVEDIR);
	rmdir(tmpl);
}

static void setup(void)
{
	if (!mkdtemp(tmpl))
		abort();
	atexit(cleanup);
	top = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (top < 0 || mkdirat(top, "sentinel", 0700) < 0 || mkdirat(top, "work", 0700) < 0)
		abort();
	parent = openat(top, "work", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parent < 0 || mkdirat(parent, "sentinel", 0700) < 0)
		abort();
}

/* DIR must hold exactly KEEP and an empty directory "sentinel". */
static void check_level(int dir, const char *keep)
{
	int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), n = 0;
	DIR *d = fdopendir(fd);
	struct dirent *de;
	struct stat st;

	if (!d)
		abort();
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			if (strcmp(de->d_name, keep) && strcmp(de->d_name, "sentinel"))
				abort();
			n++;
		}
	closedir(d);
	if (n != 2 || fstatat(dir, "sentinel", &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISDIR(st.st_mode) || st.st_nlink != 2 || (st.st_mode & 07777) != 0700)
		abort();
}

static void check_outside(void)
{
	check_level(top, "work");
	check_level(parent, "root");
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
	struct layer_opts o = {.compression = LAYER_AUTO, .max_size = 1 << 24};
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
	for (int layer = 0; layer < 2; layer++) {
		if (lseek(in, 0, SEEK_SET) < 0)
			abort();
		(void)layer_apply(in, root, &o, &st, &err);
		if (count_fds() != fds)
			abort();
		check_outside();
	}
	close(root);
	close(in);
	check_outside();
	if (safepath_remove(parent, "root") < 0)
		abort();
	return 0;
}
