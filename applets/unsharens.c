/* unsharens: create namespaces, fake chown/setuid with seccomp, load an environment, exec.
 * man7: namespaces(7), user_namespaces(7), mount_namespaces(7), seccomp(2), capabilities(7).
 * Spec: §6.1 (create and join mode), §6.1.1 (the --pid waiter), §6.1.2, §6.6, §8.9.
 * File descriptors are inherited (enroot's standard package is built with INHERIT_FDS); ours
 * are all close-on-exec.
 *
 * APPLET(unsharens, 0)
 * ALIAS(enroot-nsenter, unsharens)
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/applet.h"
#include "base/environ.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/xwrap.h"
#include "runtime/nsjoin.h"
#include "runtime/nswait.h"
#include "runtime/seccomp.h"
#include "runtime/userns.h"

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
    "  --pid           new PID namespace: COMMAND is its PID 1, we wait outside and\n"
    "                  exit as it does (with --target: join the PID namespace)\n"
    "  --target PID    join the namespaces of PID named by the other options (and its\n"
    "                  cgroup namespace) instead of creating new ones\n"
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
	int pid;      /* --pid */
	pid_t target; /* --target, or 0 */
	const char *envfile, *workdir;
	int envfd;     /* --envfd, or -1 */
	int workdirfd; /* the workdir opened before a join, or -1 */
};

/* A non-negative number no larger than MAX, or die naming WHAT. */
static long parse_num(const char *s, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max)
		die("invalid %s: %s", what, s);
	return v;
}

static void parse(struct optparse *p, struct args *a)
{
	int id;

	while ((id = opt_next(p, opts)) != OPT_DONE) {
		if (id > 0 && id < O_TARGET)
			a->flags |= (unsigned)id;
		else if (id == O_PID)
			a->pid = 1;
		else if (id == O_TARGET)
			a->target = (pid_t)parse_num(p->arg, 1l << 30, "PID");
		else if (id == O_ENVFILE)
			a->envfile = p->arg;
		else if (id == O_ENVFD)
			a->envfd = (int)parse_num(p->arg, 1l << 30, "file descriptor");
		else if (id == O_WORKDIR)
			a->workdir = p->arg;
		else if (id == OPT_HELP)
			usage_exit(usage, 0);
		else
			opt_fail(p, usage);
	}
}

/* In a new or joined PID namespace, fork: the child goes on as its PID 1 (or a member), the
 * parent stays outside as the waiter and exits as the child does (spec §6.1.1). */
static void fork_waiter(void)
{
	pid_t child = nswait_fork();

	if (child < 0)
		die("failed to fork into the PID namespace:");
	/* _exit: the waiter has nothing to flush, and LeakSanitizer's exit-time scan cannot
	 * stop the world from inside the new user namespace. */
	if (child > 0)
		_exit(nswait_wait(child));
}

static _Noreturn void die_step(enum userns_step step)
{
	int err = errno;
	const char *hint = userns_hint(step, err);

	if (hint)
		die("failed to %s: %s; %s", userns_step_what(step), strerror(err), hint);
	errno = err;
	die("failed to %s:", userns_step_what(step));
}

/* Create mode, spec §6.1: user, pid (then fork), mount, net, ipc, uts. */
static void create(const struct args *a)
{
	enum userns_step step = userns_create_user(a->flags);

	if (step != USERNS_OK)
		die_step(step);
	if (a->pid) {
		if (unshare(CLONE_NEWPID))
			die("failed to create PID namespace:");
		fork_waiter();
	}
	if ((step = userns_unshare(a->flags)) != USERNS_OK)
		die_step(step);
}

/* Join mode, spec §6.1: open every namespace of the target first, then join them in order. */
static void join(struct args *a)
{
	static const unsigned bits[NSJOIN_N] = {
	    USERNS_USER, 0, USERNS_MOUNT, USERNS_NET, USERNS_IPC, USERNS_UTS, 0};
	enum nsjoin_type t;
	struct nsjoin j;
	unsigned mask = a->pid ? 1u << NSJOIN_PID : 0;

	/* /proc/PID/cwd must be resolved before the PID namespace changes what /proc shows. */
	if (a->workdir && a->pid &&
	    (a->workdirfd = open(a->workdir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		die("failed to open: %s:", a->workdir);
	for (t = 0; t < NSJOIN_N; t++)
		if (a->flags & bits[t])
			mask |= 1u << t;
	if (nsjoin_open(&j, a->target, mask, &t))
		die("failed to open: /proc/%d/ns/%s:", (int)a->target, nsjoin_name(t));
	for (t = 0; t < NSJOIN_N; t++) {
		int r = nsjoin_enter(&j, t);

		if (r < 0)
			die("failed to join %s namespace of %d:", nsjoin_name(t), (int)a->target);
		if (r > 0 && t == NSJOIN_PID)
			fork_waiter();
	}
}

/* The common tail of spec §6.1: seccomp, environment, workdir, speculation (standard flavour). */
static void tail(const struct args *a)
{
	if ((a->flags & USERNS_USER) && seccomp_install())
		die("failed to install seccomp filter:");
	if (a->envfd >= 0 && environ_load_fd(a->envfd))
		die("failed to load environment: fd %d:", a->envfd);
	if (a->envfd > STDERR_FILENO)
		close(a->envfd); /* read: it must not reach the command (enroot exec's memfd) */
	if (a->envfd < 0 && a->envfile && environ_load_path(a->envfile))
		die("failed to load environment: %s:", a->envfile);
	if (a->workdirfd >= 0 && fchdir(a->workdirfd))
		die("failed to change directory: %s:", a->workdir);
	if (a->workdirfd < 0 && a->workdir && chdir(a->workdir))
		die("failed to change directory: %s:", a->workdir);
	if (seccomp_allow_speculation())
		die("failed to enable speculation:");
}

int unsharens_main(int argc, char **argv)
{
	struct args a = {0, 0, 0, NULL, NULL, -1, -1};
	struct optparse p;

	msg_prog = "unsharens";
	opt_init(&p, argc, argv);
	parse(&p, &a);
	if (p.ind >= argc) {
		msg_error("missing command");
		usage_exit(usage, 1);
	}
	if (a.target)
		join(&a);
	else
		create(&a);
	tail(&a);
	applet_exec(argv + p.ind);
}
