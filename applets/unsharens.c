/* unsharens: create namespaces, fake chown/setuid with seccomp, load an environment, exec.
 * man7: namespaces(7), user_namespaces(7), mount_namespaces(7), seccomp(2), capabilities(7).
 * Spec: §6.1 (create mode), §6.1.2, §6.6, §8.9. Join mode (--target) and the --pid waiter
 * (§6.1.1) are not implemented yet and fail with a message saying so.
 * File descriptors are inherited (enroot's standard package is built with INHERIT_FDS); ours
 * are all close-on-exec.
 *
 * APPLET(unsharens, 0)
 * ALIAS(enroot-nsenter, unsharens)
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "applet.h"
#include "environ.h"
#include "msg.h"
#include "opt.h"
#include "seccomp.h"
#include "userns.h"
#include "xwrap.h"

static const char usage[] =
    "usage: unsharens [--target PID] [--user] [--mount] [--pid] [--net] [--ipc] [--uts]\n"
    "                 [--remap-root] [--envfile FILE] [--envfd FD] [--workdir DIR] [--]\n"
    "                 COMMAND [ARG...]\n"
    "\n"
    "Create namespaces, then exec COMMAND in them (PATH looked up in the new environment).\n"
    "\n"
    "  --user          new user namespace mapping your uid and gid to themselves (capabilities\n"
    "                  kept as ambient), with the seccomp filter that fakes chown and setuid\n"
    "  --remap-root    with --user, map uid and gid 0 to you instead\n"
    "  --mount         new mount namespace (without --user, / is made recursively slave)\n"
    "  --net           new network namespace with lo up\n"
    "  --ipc           new IPC namespace\n"
    "  --uts           new UTS namespace\n"
    "  --pid           new PID namespace (not supported yet)\n"
    "  --target PID    join the namespaces of PID instead (not supported yet)\n"
    "  --envfile FILE  clear the environment and load NAME=value lines from FILE\n"
    "  --envfd FD      the same from file descriptor FD (wins over --envfile)\n"
    "  --workdir DIR   change into DIR before the exec\n";

/* Namespace options carry their USERNS_* bit as id; the others count from 0x100. */
enum { O_TARGET = 0x100, O_PID, O_ENVFILE, O_ENVFD, O_WORKDIR };

static const struct opt opts[] = {
    {"target", 0, 1, O_TARGET}, {"user", 0, 0, USERNS_USER},	    {"mount", 0, 0, USERNS_MOUNT},
    {"pid", 0, 0, O_PID},	{"net", 0, 0, USERNS_NET},	    {"ipc", 0, 0, USERNS_IPC},
    {"uts", 0, 0, USERNS_UTS},	{"remap-root", 0, 0, USERNS_REMAP}, {"envfile", 0, 1, O_ENVFILE},
    {"envfd", 0, 1, O_ENVFD},	{"workdir", 0, 1, O_WORKDIR},	    {NULL, 0, 0, 0},
};

struct args {
	unsigned flags;
	const char *envfile, *workdir;
	int envfd;
};

static int parse_fd(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > 1 << 30)
		die("invalid file descriptor: %s", s);
	return (int)v;
}

static void parse(struct optparse *p, struct args *a)
{
	int id;

	while ((id = opt_next(p, opts)) != OPT_DONE) {
		if (id > 0 && id < O_TARGET) {
			a->flags |= (unsigned)id;
			continue;
		}
		switch (id) {
		case O_ENVFILE:
			a->envfile = p->arg;
			break;
		case O_ENVFD:
			a->envfd = parse_fd(p->arg);
			break;
		case O_WORKDIR:
			a->workdir = p->arg;
			break;
		case O_TARGET:
			die("--target (joining namespaces) is not supported yet");
		case O_PID:
			die("--pid (PID namespace) is not supported yet");
		case OPT_HELP:
			usage_exit(usage, 0);
		default:
			opt_fail(p, usage);
		}
	}
}

/* The common tail of spec §6.1: seccomp, environment, workdir. */
static void tail(const struct args *a)
{
	if ((a->flags & USERNS_USER) && seccomp_install())
		die("failed to install seccomp filter:");
	if (a->envfd >= 0 && environ_load_fd(a->envfd))
		die("failed to load environment: fd %d:", a->envfd);
	if (a->envfd < 0 && a->envfile && environ_load_path(a->envfile))
		die("failed to load environment: %s:", a->envfile);
	if (a->workdir && chdir(a->workdir))
		die("failed to change directory: %s:", a->workdir);
}

int unsharens_main(int argc, char **argv)
{
	struct args a = {0, NULL, NULL, -1};
	struct optparse p;
	enum userns_step step;

	msg_prog = "unsharens";
	opt_init(&p, argc, argv);
	parse(&p, &a);
	if (p.ind >= argc) {
		msg_error("missing command");
		usage_exit(usage, 1);
	}
	if ((step = userns_create(a.flags)) != USERNS_OK) {
		const char *hint = userns_hint(step, errno);

		if (hint)
			die("failed to %s: %m (%s)", userns_step_what(step), hint);
		die("failed to %s:", userns_step_what(step));
	}
	tail(&a);
	xexecvp(argv + p.ind);
}
