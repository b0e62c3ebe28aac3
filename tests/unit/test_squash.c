/* Unit tests for lib/squash: a real mksquashfs run (mode-0000 content included), the
 * no-clobber rename, a failing mksquashfs, and SOURCE_DATE_EPOCH. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/wait.h>

#include "image/squash.h"
#include "unit.h"

static char dir[] = "/tmp/test_squash.XXXXXX";

/* Run a shell command with D set to the scratch directory. */
static int sh(const char *cmd, const char *d)
{
	setenv("D", d, 1);
	return system(cmd);
}

static int make(const char *name, const char *opts, const char *epoch, int *status)
{
	struct squash_opts o = {opts, 1, epoch, 0, NULL};
	char src[256], tmp[256], out[256];

	snprintf(src, sizeof(src), "%s/src", dir);
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, name);
	snprintf(out, sizeof(out), "%s/%s", dir, name);
	return squash_create(src, tmp, out, &o, status);
}

int main(void)
{
	struct stat st;
	char path[256];
	int status;

	if (system("command -v mksquashfs >/dev/null && command -v unsquashfs >/dev/null")) {
		printf("# mksquashfs or unsquashfs missing: nothing tested\n");
		return unit_done();
	}
	CHECK(mkdtemp(dir) != NULL);
	CHECK(sh("mkdir -p $D/src/locked && echo secret > $D/src/shadow && chmod 0 $D/src/shadow",
		 dir) == 0);
	CHECK(sh("chmod 4755 $D/src/locked && chmod 0 $D/src/locked", dir) == 0);
	CHECK(make("a.sqsh", NULL, NULL, &status) == 0);
	snprintf(path, sizeof(path), "%s/a.sqsh.tmp", dir);
	CHECK(stat(path, &st) < 0 && errno == ENOENT);
	/* Modes (setuid on a mode-0000 directory too) are kept, owners are root, the unreadable
	 * file's data made it in. */
	CHECK(sh("unsquashfs -lls $D/a.sqsh | grep -q '^---------- root/root *7 "
		 ".*squashfs-root/shadow$'",
		 dir) == 0);
	CHECK(sh("unsquashfs -lls $D/a.sqsh | grep -q '^d--S------ root/root "
		 ".*squashfs-root/locked$'",
		 dir) == 0);
	CHECK(sh("unsquashfs -s $D/a.sqsh | grep -q 'Compression lzo'", dir) == 0);
	/* Never clobbers: EEXIST, and the temporary is gone. */
	CHECK(make("a.sqsh", NULL, NULL, &status) < 0 && errno == EEXIST);
	CHECK(stat(path, &st) < 0);
	/* A failing mksquashfs: ECHILD, its status, no output and no temporary. */
	CHECK(make("b.sqsh", "-no-such-option", NULL, &status) < 0 && errno == ECHILD);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	snprintf(path, sizeof(path), "%s/b.sqsh", dir);
	CHECK(stat(path, &st) < 0);
	/* SOURCE_DATE_EPOCH in the environment too: the options win, no conflict. */
	setenv("SOURCE_DATE_EPOCH", "1000000", 1);
	CHECK(make("c.sqsh", "-comp gzip", "1000000", &status) == 0);
	CHECK(sh("unsquashfs -s $D/c.sqsh | grep -q 'Compression gzip'", dir) == 0);
	CHECK(sh("unsquashfs -lls $D/c.sqsh | grep -q '1970-01-12 13:46 squashfs-root/shadow$'",
		 dir) == 0);
	CHECK(sh("chmod -R u+rwx $D && rm -rf $D", dir) == 0);
	return unit_done();
}
