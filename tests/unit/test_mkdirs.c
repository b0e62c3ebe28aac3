/* Unit tests for mkdirs (lib/base/mkdirs.c): mkdir -p with a mode, the failing component. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mkdirs.h"
#include "unit.h"

static mode_t mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? (mode_t)-1 : st.st_mode & 07777;
}

int main(void)
{
	char tmpl[] = "/tmp/test_mkdirs.XXXXXX", path[256], *bad = NULL;
	char *top = mkdtemp(tmpl);

	umask(022);
	CHECK(top != NULL);
	snprintf(path, sizeof(path), "%s/a/b/c", top);
	CHECK(mkdirs(path, 0700, NULL) == 0);
	CHECK(mode_of(path) == 0700);
	snprintf(path, sizeof(path), "%s/a", top);
	CHECK(mode_of(path) == 0700);
	snprintf(path, sizeof(path), "%s/a/b/c/", top);
	CHECK(mkdirs(path, 0755, NULL) == 0); /* exists, trailing slash: nothing changes */
	CHECK(mode_of(path) == 0700);

	snprintf(path, sizeof(path), "%s/file", top);
	FILE *f = fopen(path, "w");
	CHECK(f && fclose(f) == 0);
	snprintf(path, sizeof(path), "%s/file/x/y", top);
	CHECK(mkdirs(path, 0755, &bad) < 0 && errno == ENOTDIR);
	snprintf(path, sizeof(path), "%s/file/x", top);
	CHECK_STR(bad, path);
	free(bad);

	snprintf(path, sizeof(path), "rm -rf %s", top);
	CHECK(system(path) == 0);
	return unit_done();
}
