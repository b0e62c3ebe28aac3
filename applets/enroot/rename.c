/* cmd_rename: `enroot rename [--] OLD NEW`: one renameat2(RENAME_NOREPLACE) inside
 * ENROOT_DATA_PATH, so NEW appears whole or not at all and an existing NEW is never replaced,
 * even by a concurrent create. A protection mark moves along.
 *
 * A running container may be renamed: its processes hold their root by a mount of the
 * directory, not by its path, so nothing changes for them; `list -f` shows them under NEW,
 * `enroot exec PID` still works, and only a start of OLD that is half-way through fails. */
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

const char cmd_rename_usage[] =
    "Usage: enroot rename [--] OLD NEW\n"
    "\n"
    "Rename a container root filesystem. NEW must not exist. A running\n"
    "container may be renamed: its processes keep running and show under\n"
    "NEW in `enroot list -f`. Protection (enroot protect) moves along.\n";

/* Give NEW the mark of a protected OLD before the rename, so that at no point is the
 * container unprotected. Returns 1 when a mark was made for NEW, 0 when none was needed
 * (or one was there already), -1 on failure. */
static int mark_new(const char *omark, const char *nmark)
{
	if (link(omark, nmark) == 0)
		return 1;
	if (errno == ENOENT || errno == EEXIST)
		return 0;
	msg_error("failed to create: %s:", nmark);
	return -1;
}

static int rename_container(const char *data, const char *from, const char *to)
{
	char *old = xasprintf("%s/%s", data, from), *new = xasprintf("%s/%s", data, to);
	char *omark = cmd_protect_path(from), *nmark = cmd_protect_path(to);
	int protected = cmd_is_protected(from), made = 0, rc = 1;
	struct stat st;

	if (lstat(old, &st) < 0 || !S_ISDIR(st.st_mode)) {
		msg_error("No such file or directory: %s", from);
	} else if (protected && (made = mark_new(omark, nmark)) < 0) {
		/* message given */
	} else if (renameat2(AT_FDCWD, old, AT_FDCWD, new, RENAME_NOREPLACE) < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY)
			msg_error("File already exists: %s", new);
		else
			msg_error("failed to rename: %s:", old);
		if (made)
			unlink(nmark);
	} else {
		/* OLD's mark goes; a mark left for NEW by a container deleted behind our back
		 * would wrongly protect the renamed one. */
		if (unlink(protected ? omark : nmark) < 0 && errno != ENOENT)
			msg_warn("failed to remove: %s:", protected ? omark : nmark);
		rc = 0;
	}
	free(old);
	free(new);
	free(omark);
	free(nmark);
	return rc;
}

int cmd_rename(int argc, char **argv)
{
	int i = cmd_operands(argc, argv, cmd_rename_usage, 2, 2);

	for (int j = i; j < argc; j++)
		if (!cmd_valid_name(argv[j]))
			die("Invalid argument: %s", argv[j]);
	return rename_container(getenv("ENROOT_DATA_PATH"), argv[i], argv[i + 1]);
}
