/* test_resolve: confined path resolution (spec §7.4 step 1) on a scratch tree. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/resolve.h"
#include "unit.h"

static int rootfd;
static char out[PATH_MAX];

static const char *res(const char *path)
{
	if (resolve_in_root(rootfd, path, out, sizeof(out)) < 0)
		return strerror(errno);
	return out;
}

int main(void)
{
	char dir[] = "/tmp/test_resolve.XXXXXX";
	char cmd[PATH_MAX];
	int fd;

	if (!mkdtemp(dir))
		return 2;
	snprintf(
	    cmd, sizeof(cmd),
	    "cd %s && mkdir -p etc run var/lib && ln -s /run var/run && ln -s ../etc var/e && "
	    "ln -s /../../etc up && ln -s ../../../etc rel && ln -s a loopb && ln -s loopb a && "
	    "touch file && ln -s /var/run/x deep",
	    dir);
	if (system(cmd) != 0)
		return 2;
	rootfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK_STR(res("/"), "");
	CHECK_STR(res(""), "");
	CHECK_STR(res("/etc"), "etc");
	CHECK_STR(res("etc//./"), "etc");
	CHECK_STR(res("/var/run"), "run");
	CHECK_STR(res("/var/run/sub"), "run/sub");
	CHECK_STR(res("/var/e/passwd"), "etc/passwd");
	CHECK_STR(res("/deep"), "run/x");
	CHECK_STR(res("/new/a/b"), "new/a/b");
	CHECK_STR(res("/new/a/../b"), "new/b");
	CHECK_STR(res("/new/../var/run"), "run");
	CHECK_STR(res("/var/lib/.."), "var");
	CHECK_STR(res("/.."), strerror(EXDEV));
	CHECK_STR(res("../home"), strerror(EXDEV));
	CHECK_STR(res("/etc/../../x"), strerror(EXDEV));
	CHECK_STR(res("/up"), strerror(EXDEV));
	CHECK_STR(res("/rel/x"), strerror(EXDEV));
	CHECK_STR(res("/a"), strerror(ELOOP));
	CHECK_STR(res("/file/x"), strerror(ENOTDIR));
	CHECK(resolve_in_root(rootfd, "/etc", out, 3) == -1 && errno == ENAMETOOLONG);

	fd = resolve_open(rootfd, "etc", O_DIRECTORY);
	CHECK(fd >= 0);
	close(fd);
	fd = resolve_open(rootfd, "", O_DIRECTORY);
	CHECK(fd >= 0);
	close(fd);
	CHECK(resolve_open(rootfd, "var/run", 0) == -1 && errno == ELOOP);
	CHECK(resolve_open(rootfd, "../etc", 0) == -1 && errno == EXDEV);
	CHECK(resolve_open(rootfd, "missing", 0) == -1 && errno == ENOENT);
	close(rootfd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? unit_done() : 2;
}
