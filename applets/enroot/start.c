/* cmd_start: `enroot start` (spec §8.1): parse, read the configuration, check, then exec the
 * chain of applets that does the rest in this same PID (§8.2-§8.8), each doing its one step
 * and exec'ing the rest of its argv:
 *
 *   unsharens [--user] [--remap-root] [--pid] --mount [--net] [--ipc] [--uts] --
 *   mountat --fd N --                         runtime tmpfs (and the rootfs bind)
 *   [squashmount IMAGE RUNTIME -- mountat --fd M --]    an image: FUSE mount, then the bind
 *   enroot-hook [--conf F --conf-args K] [--rc F] [--env E]... [--mount M]... --
 *   switchroot [--login] --rcfile-optional RUNTIME/rc --envfile RUNTIME/environment ROOTFS CMD
 *
 * The fstab text of mountat comes on inherited pipes; nothing here changes the process. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/applet.h"
#include "base/buf.h"
#include "base/child.h"
#include "base/config.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/xwrap.h"
#include "runtime/fstab.h"
#include "cmd.h"

const char cmd_start_usage[] =
    "Usage: enroot start [options] [--] NAME|IMAGE [COMMAND] [ARG...]\n"
    "\n"
    "Start a container and invoke the command script within its root filesystem.\n"
    "Command and arguments are passed to the script as input parameters.\n"
    "\n"
    "In the absence of a command script and if a command was given, it will be executed\n"
    "directly. Otherwise, an interactive shell will be started within the container.\n"
    "\n"
    " Options:\n"
    "   -c, --conf CONFIG    Specify a configuration script to run before the container starts\n"
    "   -e, --env KEY[=VAL]  Export an environment variable inside the container\n"
    "       --rc SCRIPT      Override the command script inside the container\n"
    "   -r, --root           Ask to be remapped to root inside the container\n"
    "   -w, --rw             Make the container root filesystem writable\n"
    "   -m, --mount FSTAB    Perform a mount from the host inside the container (colon-separated)\n"
    "       --net            Unshare the network namespace\n"
    "       --ipc            Unshare the IPC namespace\n"
    "       --uts            Unshare the UTS namespace\n"
    "       --pid            Unshare the PID namespace\n";

struct start {
	const char *conf, *rcfile, *rootfs_arg;
	char *rootfs, *runtime;
	char *image; /* a squashfs file started directly (§8.3) */
	char **envs, **mounts;
	int nenvs, nmounts;
	char **cmd;
	char **argv; /* the chain being built */
	int argc;
};

enum { O_CONF = 1, O_ENV, O_RC, O_ROOT, O_RW, O_MOUNT, O_NET, O_IPC, O_UTS, O_PID };

/* §2.1: the directives of the config script, then the CLI flags, which win. */
static void apply_flags(struct start *s, const int flags[])
{
	if (s->conf) {
		struct stat st;
		char *bad = NULL;
		if (stat(s->conf, &st) == 0 && S_ISREG(st.st_mode) &&
		    config_directives(s->conf, &bad) != CONFIG_OK)
			die("failed to read: %s:", s->conf);
		free(bad);
	}
	static const char *const names[] = {
	    [O_ROOT] = "ENROOT_REMAP_ROOT", [O_RW] = "ENROOT_ROOTFS_WRITABLE",
	    [O_NET] = "ENROOT_UNSHARE_NET", [O_IPC] = "ENROOT_UNSHARE_IPC",
	    [O_UTS] = "ENROOT_UNSHARE_UTS", [O_PID] = "ENROOT_UNSHARE_PID"};
	for (int i = O_ROOT; i <= O_PID; i++)
		if (names[i] && flags[i])
			setenv(names[i], "y", 1);
}

static void parse(struct start *s, int argc, char **argv)
{
	static const struct opt opts[] = {{"conf", 'c', 1, O_CONF},
					  {"env", 'e', 1, O_ENV},
					  {"rc", 0, 1, O_RC},
					  {"root", 'r', 0, O_ROOT},
					  {"rw", 'w', 0, O_RW},
					  {"mount", 'm', 1, O_MOUNT},
					  {"net", 0, 0, O_NET},
					  {"ipc", 0, 0, O_IPC},
					  {"uts", 0, 0, O_UTS},
					  {"pid", 0, 0, O_PID},
					  {0}};
	struct optparse p;
	int o, flags[O_PID + 1] = {0};

	s->envs = xcalloc((size_t)argc, sizeof(char *));
	s->mounts = xcalloc((size_t)argc, sizeof(char *));
	opt_init(&p, argc, argv);
	while ((o = opt_next(&p, opts)) != OPT_DONE) {
		if (o == OPT_HELP)
			usage_exit(cmd_start_usage, 0);
		if (o == OPT_BAD)
			opt_fail(&p, cmd_start_usage);
		if (o == O_CONF)
			s->conf = p.arg;
		else if (o == O_ENV)
			s->envs[s->nenvs++] = (char *)p.arg;
		else if (o == O_MOUNT)
			s->mounts[s->nmounts++] = (char *)p.arg;
		else if (o == O_RC)
			s->rcfile = p.arg;
		else
			flags[o] = 1;
	}
	if (p.ind >= argc)
		usage_exit(cmd_start_usage, 1);
	s->rootfs_arg = argv[p.ind];
	s->cmd = argv + p.ind + 1;
	apply_flags(s, flags);
}

/* --mount: one or more non-blank tokens joined by ':'. */
static int valid_mount(const char *m)
{
	const char *p = m;

	do {
		size_t n = strcspn(p, ":");
		int blank = 1;
		for (size_t i = 0; i < n; i++)
			if (p[i] != ' ' && p[i] != '\t')
				blank = 0;
		if (blank)
			return 0;
		p += n;
	} while (*p++ == ':');
	return 1;
}

/* --env: ^[A-Za-z_][A-Za-z0-9_]* then '=' or the end. */
static int valid_env(const char *e)
{
	size_t n = 0;

	if (!((e[0] >= 'A' && e[0] <= 'Z') || (e[0] >= 'a' && e[0] <= 'z') || e[0] == '_'))
		return 0;
	while (e[n] && e[n] != '=') {
		char c = e[n++];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return 0;
	}
	return 1;
}

/* §8.1 step 6: the config script must be a regular file that bash -n accepts; bash's
 * complaints are shown as warnings. */
static void check_conf(const char *conf)
{
	char *argv[] = {"bash", "-c", "exec bash -n \"$0\" 2>&1", (char *)conf, NULL};
	struct buf out = BUF_INIT;
	struct stat st;
	int status;

	if (stat(conf, &st) < 0 || !S_ISREG(st.st_mode))
		die("Invalid argument: %s", conf);
	status = child_run(argv, -1, &out, 0);
	if (status == 0) {
		buf_free(&out);
		return;
	}
	for (char *l = out.data, *save = NULL; (l = strtok_r(l, "\n", &save)); l = NULL)
		msg_warn("%s", l);
	die("Invalid argument: %s", conf);
}

/* §8.1 steps 3-6: the rootfs, --mount, --env, --rc and --conf. */
static void check_args(struct start *s)
{
	struct stat st;

	if (!*s->rootfs_arg)
		die("Invalid argument: %s", s->rootfs_arg);
	if (stat(s->rootfs_arg, &st) == 0 && S_ISREG(st.st_mode) &&
	    cmd_is_squashfs(s->rootfs_arg)) {
		s->image = realpath(s->rootfs_arg, NULL);
	} else {
		if (strchr(s->rootfs_arg, '/'))
			die("Invalid argument: %s", s->rootfs_arg);
		s->rootfs = cmd_container_path(s->rootfs_arg);
		if (!s->rootfs)
			die("No such file or directory: %s", s->rootfs_arg);
	}
	for (int i = 0; i < s->nmounts; i++)
		if (!valid_mount(s->mounts[i]))
			die("Invalid argument: %s", s->mounts[i]);
	for (int i = 0; i < s->nenvs; i++)
		if (!valid_env(s->envs[i]))
			die("Invalid argument: %s", s->envs[i]);
	if (s->rcfile &&
	    !(stat(s->rcfile, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode))))
		die("Invalid argument: %s", s->rcfile);
	if (s->conf)
		check_conf(s->conf);
}

/* Words of the chain. */
static void add(struct start *s, const char *w)
{
	s->argv[s->argc++] = (char *)w;
}

/* A pipe whose read end (inherited across the chain's execs) holds TEXT for mountat --fd. */
static char *text_fd(const struct buf *text)
{
	int p[2];

	if (pipe(p) < 0)
		die("failed to create pipe:");
	/* The text is far below the pipe's capacity: the write cannot block. */
	xwrite_all(p[1], text->data, text->len, "pipe");
	close(p[1]);
	return xasprintf("%d", p[0]);
}

/* mountat --fd N -- with the fstab text of B (host paths, root /). */
static void add_mountat(struct start *s, struct buf *b)
{
	add(s, "mountat");
	add(s, "--fd");
	add(s, text_fd(b));
	add(s, "--");
	buf_free(b);
}

/* §8.2 steps 2-5: the runtime tmpfs (ours alone: slave), the image, the rootfs bind. The
 * mounts containing RUNTIME and ROOTFS need no explicit MS_SLAVE: a mount namespace created
 * in a new user namespace turns shared mounts into slaves (mount_namespaces(7)), and
 * unsharens makes / rslave when no user namespace is created. */
static void add_mounts(struct start *s)
{
	struct buf b = BUF_INIT;

	if (fstab_add_entry(&b, "tmpfs", s->runtime, "tmpfs", "mode=700,slave") < 0 ||
	    (!s->image &&
	     fstab_add_entry(&b, s->rootfs, s->rootfs, "none", "bind,nosuid,nodev,slave") < 0))
		die("failed to allocate memory:");
	add_mountat(s, &b);
	if (!s->image)
		return;
	add(s, "squashmount");
	if (!config_enabled("ENROOT_NATIVE_OVERLAYFS"))
		add(s, "--fuse-overlayfs");
	add(s, s->image);
	add(s, s->runtime);
	add(s, "--");
	if (fstab_add_entry(&b, s->rootfs, s->rootfs, "none", "bind,nosuid,nodev,slave") < 0)
		die("failed to allocate memory:");
	add_mountat(s, &b);
}

/* §8.1 step 7 and §6.1: the namespaces. */
static void add_unsharens(struct start *s)
{
	static const struct {
		const char *name, *flag;
	} ns[] = {{"ENROOT_REMAP_ROOT", "--remap-root"},
		  {"ENROOT_UNSHARE_PID", "--pid"},
		  {NULL, "--mount"},
		  {"ENROOT_UNSHARE_NET", "--net"},
		  {"ENROOT_UNSHARE_IPC", "--ipc"},
		  {"ENROOT_UNSHARE_UTS", "--uts"}};

	add(s, "unsharens");
	if (getuid() != 0 || geteuid() != 0 || !config_enabled("ENROOT_ALLOW_SUPERUSER"))
		add(s, "--user");
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		if (!ns[i].name || config_enabled(ns[i].name))
			add(s, ns[i].flag);
	add(s, "--");
}

/* §8.2 step 6: the configuration phase. */
static void add_hook(struct start *s, int ncmd)
{
	add(s, "enroot-hook");
	if (s->conf) {
		add(s, "--conf");
		add(s, s->conf);
		add(s, "--conf-args");
		add(s, xasprintf("%d", ncmd));
	}
	if (s->rcfile) {
		add(s, "--rc");
		add(s, s->rcfile);
	}
	for (int i = 0; i < s->nenvs; i++) {
		add(s, "--env");
		add(s, s->envs[i]);
	}
	for (int i = 0; i < s->nmounts; i++) {
		add(s, "--mount");
		add(s, s->mounts[i]);
	}
	add(s, "--");
}

/* §8.2 step 9. */
static void add_switchroot(struct start *s)
{
	add(s, "switchroot");
	if (config_enabled("ENROOT_LOGIN_SHELL"))
		add(s, "--login");
	add(s, "--rcfile-optional");
	add(s, xasprintf("%s/rc", s->runtime));
	add(s, "--envfile");
	add(s, xasprintf("%s/environment", s->runtime));
	add(s, "--");
	add(s, s->rootfs);
	for (char **c = s->cmd; *c; c++)
		add(s, *c);
}

/* PITFALLS 3.5: a noexec data path would only show up as "permission denied" later. */
static void check_exec(const struct start *s)
{
	struct statvfs sv;

	if (!s->image && statvfs(s->rootfs, &sv) == 0 && (sv.f_flag & ST_NOEXEC))
		die("the container is on a noexec filesystem: %s (move ENROOT_DATA_PATH)",
		    s->rootfs);
}

int cmd_start(int argc, char **argv)
{
	struct start s = {0};
	int ncmd = 0;

	parse(&s, argc, argv);
	check_args(&s);
	check_exec(&s);
	while (s.cmd[ncmd])
		ncmd++;
	s.runtime = xstrdup(getenv("ENROOT_RUNTIME_PATH"));
	if (s.image)
		s.rootfs = xasprintf("%s/overlay", s.runtime);
	s.argv = xcalloc((size_t)(2 * s.nenvs + 2 * s.nmounts + ncmd + 64), sizeof(char *));
	add_unsharens(&s);
	add_mounts(&s);
	add_hook(&s, ncmd);
	add_switchroot(&s);
	xsetenv("ENROOT_ROOTFS", s.rootfs);
	xsetenv("ENROOT_MSG_STYLE", "enroot");
	applet_exec(s.argv);
}
