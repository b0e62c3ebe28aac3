/* switchroot: pivot into a rootfs, drop privileges, emulate login and exec the shell with rc.
 * man7: pivot_root(2), mount_namespaces(7), cgroup_namespaces(7), capabilities(7).
 * Spec: §6.2, §8.8, §8.9, §9. File descriptors are inherited (enroot's standard package is
 * built with INHERIT_FDS); ours are all close-on-exec except the rc memfd.
 *
 * APPLET(switchroot, 0)
 * ALIAS(enroot-switchroot, switchroot)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/applet.h"
#include "base/buf.h"
#include "base/environ.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/xwrap.h"
#include "runtime/caps.h"
#include "runtime/login.h"
#include "runtime/pivot.h"

static const char usage[] =
    "usage: switchroot [--norc] [--login] [--rcfile FILE] [--rcfile-optional FILE]\n"
    "                  [--envfile FILE] [--workdir DIR] [--] ROOTFS [COMMAND [ARG...]]\n"
    "\n"
    "Make ROOTFS (a mount point) the root, drop privileges, then exec the container's shell\n"
    "with /etc/rc and COMMAND. Run it in a mount namespace.\n"
    "\n"
    "  --login         emulate login: HOME, SHELL, USER, LOGNAME, PATH, TERM from the\n"
    "                  container's passwd and login.defs; the shell runs as a login shell\n"
    "  --norc          do not run the rc file\n"
    "  --rcfile FILE   run FILE (read before the pivot) instead of /etc/rc\n"
    "  --rcfile-optional FILE\n"
    "                  the same when FILE exists (enroot-hook writes RUNTIME/rc only when\n"
    "                  the rc is overridden)\n"
    "  --envfile FILE  clear the environment and load NAME=value lines from FILE\n"
    "  --workdir DIR   change into DIR (inside the rootfs) before the exec\n";

enum { O_NORC = 1, O_LOGIN, O_RCFILE, O_RCOPT, O_ENVFILE, O_WORKDIR };

static const struct opt opts[] = {
    {"norc", 0, 0, O_NORC},
    {"login", 0, 0, O_LOGIN},
    {"rcfile", 0, 1, O_RCFILE},
    {"rcfile-optional", 0, 1, O_RCOPT},
    {"envfile", 0, 1, O_ENVFILE},
    {"workdir", 0, 1, O_WORKDIR},
    {NULL, 0, 0, 0},
};

/* Parse the options into L; return the path of the rc file, or NULL. */
static const char *parse(struct optparse *p, struct login *l, const char **envfile)
{
	const char *rcfile = NULL;
	int id;

	while ((id = opt_next(p, opts)) != OPT_DONE) {
		if (id == O_NORC)
			l->norc = 1;
		else if (id == O_LOGIN)
			l->login = 1;
		else if (id == O_RCFILE)
			rcfile = p->arg;
		else if (id == O_RCOPT && access(p->arg, F_OK) == 0)
			rcfile = p->arg;
		else if (id == O_RCOPT && errno != ENOENT)
			die("failed to access: %s:", p->arg);
		else if (id == O_RCOPT)
			continue;
		else if (id == O_ENVFILE)
			*envfile = p->arg;
		else if (id == O_WORKDIR)
			l->workdir = p->arg;
		else if (id == OPT_HELP)
			usage_exit(usage, 0);
		else
			opt_fail(p, usage);
	}
	return rcfile;
}

/* Read the rc file whole: its host path is gone after the pivot. */
static void read_rc(const char *path, struct buf *rc)
{
	int fd = xopen(path, O_RDONLY | O_CLOEXEC, 0);

	if (buf_read_fd(rc, fd, 16u << 20))
		die("failed to read: %s:", path);
	close(fd);
}

/* Steps 4 and 5 of spec §6.2: pivot_root into ROOTFS, then drop privileges. */
static void enter(const char *rootfs, int last_cap)
{
	enum pivot_step step = pivot_switch(rootfs);

	if (step != PIVOT_OK)
		die("failed to %s: %s:", pivot_step_what(step), rootfs);
	if (caps_drop(last_cap))
		die("failed to drop privileges:");
}

/* Login emulation (§8.8); exits 0 after showing the nologin file. */
static void prepare(struct login *l)
{
	switch (login_prepare(l)) {
	case LOGIN_OK:
		break;
	case LOGIN_NOLOGIN:
		(void)login_cat(login_nologin_file(l), STDOUT_FILENO);
		exit(0);
	case LOGIN_FAIL_DEFS:
		die("failed to read: /etc/login.defs:");
	case LOGIN_FAIL_ENV:
		die("failed to set up the login environment:");
	case LOGIN_FAIL_HOME:
		die("failed to change directory: %s:", getenv("HOME"));
	case LOGIN_FAIL_WORKDIR:
		die("failed to change directory: %s:", l->workdir);
	}
	if (l->home_failed) {
		errno = l->home_errno;
		msg_warn("failed to change directory: %s:", getenv("HOME"));
	}
}

int switchroot_main(int argc, char **argv)
{
	struct login l = {0};
	struct buf rc = BUF_INIT;
	const char *rcfile, *envfile = NULL;
	struct optparse p;
	char **av, *shell, rcpath[64];
	int last_cap, motd;

	msg_prog = "switchroot";
	opt_init(&p, argc, argv);
	rcfile = parse(&p, &l, &envfile);
	if (p.ind >= argc) {
		msg_error("missing rootfs");
		usage_exit(usage, 1);
	}
	if (rcfile)
		read_rc(rcfile, &rc);
	login_init_shell(&l);
	if (envfile && environ_load_path(envfile))
		die("failed to load environment: %s:", envfile);
	if ((last_cap = caps_last_cap()) < 0)
		die("failed to read: /proc/sys/kernel/cap_last_cap:");
	if (l.login)
		login_ids(&l); /* the rootfs may have no /proc */
	enter(argv[p.ind], last_cap);
	if (rcfile) {
		int fd = login_rc_memfd(rc.data ? rc.data : "", rc.len);

		if (fd < 0)
			die("failed to create memfd for: %s:", rcfile);
		snprintf(rcpath, sizeof(rcpath), "/proc/self/fd/%d", fd);
		l.rcpath = rcpath;
	}
	prepare(&l);
	if (!(av = login_argv(&l, argv + p.ind + 1, &shell, &motd)))
		die("failed to build the command line:");
	if (motd)
		login_motd(&l, STDOUT_FILENO);
	xexecv(shell, av);
}
