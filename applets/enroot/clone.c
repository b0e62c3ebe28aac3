/* cmd_clone: `enroot clone [--] SRC NEW`: a faithful copy of a container (lib/base/copytree.h:
 * modes with setuid/setgid, owners as create keeps them, hard links, user.* xattrs, symlinks,
 * times, holes; reflinks where the file system shares extents). The copy is made in a locked
 * temporary beside it, DATA/.NEW.cloning.XXXXXX (lib/base/stale.h), and renamed into place
 * (RENAME_NOREPLACE) when complete; a failure or a signal leaves nothing (lib/base/guard.h).
 *
 * A running container whose root is mounted read-write is refused: its processes may write
 * while the copy is made, and the copy would be of no consistent moment. Read-only (the
 * default start) it is copied. The copy starts unprotected. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/copytree.h"
#include "base/guard.h"
#include "base/msg.h"
#include "base/stale.h"
#include "base/xwrap.h"
#include "cmd.h"
#include "runtime/running.h"

const char cmd_clone_usage[] =
    "Usage: enroot clone [--] SRC NEW\n"
    "\n"
    "Copy a container root filesystem. NEW appears when the copy is\n"
    "complete. A running container is refused unless its root is mounted\n"
    "read-only (the default without --rw).\n";

struct clone {
	char *src, *dest, *target, *mark; /* mark: NEW's protection mark, if one was left */
};

/* Deep trees hold three descriptors a level: allow what the hard limit allows. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The guarded worker: copy SRC into DEST, rename DEST to TARGET. */
static int clone_worker(void *arg)
{
	struct clone *c = arg;
	struct copytree_stats st;
	char *bad = NULL;

	raise_nofile();
	if (copytree(c->src, c->dest, &st, &bad) < 0) {
		msg_error("failed to copy: %s%s%s:", c->src, bad && *bad ? "/" : "",
			  bad ? bad : "");
		free(bad);
		free(st.first_skipped);
		return 1;
	}
	if (st.skipped)
		msg_warn("%llu device node%s not copied (making one needs privilege): %s/%s",
			 st.skipped, st.skipped > 1 ? "s" : "", c->src, st.first_skipped);
	msg_debug("clone: %llu entries, %llu hard links, %llu bytes of data, %llu files reflinked",
		  st.entries, st.links, st.bytes, st.reflinked);
	free(st.first_skipped);
	guard_commit();
	if (renameat2(AT_FDCWD, c->dest, AT_FDCWD, c->target, RENAME_NOREPLACE) < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY)
			msg_error("File already exists: %s", c->target);
		else
			msg_error("failed to rename: %s:", c->target);
		return 1;
	}
	/* A mark left for NEW by a container deleted behind our back would protect the copy. */
	if (unlink(c->mark) < 0 && errno != ENOENT)
		msg_warn("failed to remove: %s:", c->mark);
	return 0;
}

/* Refuse a source that is not a container, or that runs with a writable root. */
static void check_source(const char *data, const char *name, const char *src)
{
	struct stat st;
	int writable, n;
	pid_t pid;

	if (lstat(src, &st) < 0 || !S_ISDIR(st.st_mode))
		die("No such file or directory: %s", name);
	n = running_count(data, name, &pid, &writable);
	if (n > 0 && writable)
		die("Container is running with a writable root: %s (PID %d); stop it, or start it "
		    "without --rw, to clone it",
		    name, (int)pid);
}

static int clone_container(const char *data, const char *from, const char *to)
{
	struct clone c = {xasprintf("%s/%s", data, from), NULL, xasprintf("%s/%s", data, to),
			  cmd_protect_path(to)};
	char *tmp = xasprintf("%s/.%s.cloning.XXXXXX", data, to), *paths[2] = {tmp, NULL};
	struct stat st;
	int lock = -1, rc = 1;

	check_source(data, from, c.src);
	if (lstat(c.target, &st) == 0) {
		msg_error("File already exists: %s", c.target);
	} else if ((lock = stale_mktemp(tmp, 1)) < 0) {
		msg_error("failed to create directory: %s/.%s:", data, to);
	} else {
		c.dest = xasprintf("%s/rootfs", tmp);
		if ((rc = guard_run(clone_worker, &c, paths, NULL)) < 0) {
			msg_error("failed to fork:");
			rc = 1;
		}
	}
	if (lock >= 0)
		close(lock);
	free(tmp);
	free(c.src);
	free(c.dest);
	free(c.target);
	free(c.mark);
	return rc;
}

int cmd_clone(int argc, char **argv)
{
	int i = cmd_operands(argc, argv, cmd_clone_usage, 2, 2);

	for (int j = i; j < argc; j++)
		if (!cmd_valid_name(argv[j]))
			die("Invalid argument: %s", argv[j]);
	return clone_container(getenv("ENROOT_DATA_PATH"), argv[i], argv[i + 1]);
}
