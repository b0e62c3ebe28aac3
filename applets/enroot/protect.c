/* cmd_protect: `enroot protect NAME...` and `enroot unprotect NAME...`. A protected container
 * cannot be removed (`remove` and `remove -f` refuse it) until it is unprotected.
 *
 * The mark is an empty file beside the container, ENROOT_DATA_PATH/.NAME.protected, not
 * inside it and not an xattr on its root: the container's own processes can write to their
 * root (with --rw, as remapped root) but never see DATA, so the mark survives anything the
 * container does, and a dot-file stays out of `enroot list`. rename moves it along; a copy
 * (clone) starts unprotected. Protecting a running container changes nothing for it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/msg.h"
#include "base/xwrap.h"
#include "cmd.h"

const char cmd_protect_usage[] =
    "Usage: enroot protect [--] NAME...\n"
    "\n"
    "Protect container root filesystems from removal: `enroot remove`,\n"
    "forced or not, refuses them until `enroot unprotect`.\n";

const char cmd_unprotect_usage[] = "Usage: enroot unprotect [--] NAME...\n"
				   "\n"
				   "Let protected container root filesystems be removed again.\n"
				   "Unprotecting an unprotected container does nothing.\n";

int cmd_valid_name(const char *name)
{
	return *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

char *cmd_protect_path(const char *name)
{
	const char *data = getenv("ENROOT_DATA_PATH");

	return xasprintf("%s/.%s.protected", data ? data : ".", name);
}

int cmd_is_protected(const char *name)
{
	char *mark = cmd_protect_path(name);
	struct stat st;
	int yes = lstat(mark, &st) == 0;

	free(mark);
	return yes;
}

void cmd_refuse_protected(const char *name)
{
	if (cmd_is_protected(name))
		die("Container is protected: %s (enroot unprotect %s first)", name, name);
}

/* Make the mark of one existing container (a second protect finds it there). */
static int protect_one(const char *name)
{
	char *path, *mark;
	int fd;

	if (!cmd_valid_name(name))
		die("Invalid argument: %s", name);
	if (!(path = cmd_container_path(name)))
		die("No such file or directory: %s", name);
	mark = cmd_protect_path(name);
	fd = open(mark, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		msg_error("failed to create: %s:", mark);
	else
		close(fd);
	free(mark);
	free(path);
	return fd < 0;
}

/* Remove the mark; none is fine. A mark left by a container deleted behind our back goes
 * too, so only a name that is neither a container nor marked is an error. */
static int unprotect_one(const char *name)
{
	char *path, *mark;
	int rc = 0, gone;

	if (!cmd_valid_name(name))
		die("Invalid argument: %s", name);
	path = cmd_container_path(name);
	mark = cmd_protect_path(name);
	gone = unlink(mark) < 0 ? errno : 0;
	if (gone && gone != ENOENT) {
		errno = gone;
		msg_error("failed to remove: %s:", mark);
		rc = 1;
	} else if (gone && !path) {
		msg_error("No such file or directory: %s", name);
		rc = 1;
	}
	free(mark);
	free(path);
	return rc;
}

static int run(int argc, char **argv, const char *usage, int (*one)(const char *))
{
	for (int i = cmd_operands(argc, argv, usage, 1, -1); i < argc; i++)
		if (one(argv[i]))
			return 1;
	return 0;
}

int cmd_protect(int argc, char **argv)
{
	return run(argc, argv, cmd_protect_usage, protect_one);
}

int cmd_unprotect(int argc, char **argv)
{
	return run(argc, argv, cmd_unprotect_usage, unprotect_one);
}
