/* cmd_start: `enroot start` (spec §8.1-§8.2, §8.4-§8.7) in one process: parse, check,
 * unshare, runtime tmpfs, rootfs bind, mounts pass -1, environment, hooks, pass 0, read-only
 * remount, pivot, drop, login, exec the shell. The PID of `enroot start` is the command's.
 * Standard hooks whose file is our stub run in-process (lib/runtime/hooks.c); other .sh hooks and
 * --conf scripts run as child processes (bash). */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <sched.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/child.h"
#include "base/config.h"
#include "base/envfile.h"
#include "base/environ.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/xwrap.h"
#include "runtime/caps.h"
#include "runtime/hooks.h"
#include "runtime/login.h"
#include "runtime/mounts.h"
#include "runtime/nswait.h"
#include "runtime/pivot.h"
#include "runtime/seccomp.h"
#include "runtime/squashmount.h"
#include "runtime/userns.h"
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
	char *rootfs, *runtime, *envpath, *fstabpath;
	char *image; /* a squashfs file started directly (§8.3) */
	char **envs, **mounts;
	int nenvs, nmounts;
	char **cmd;
	unsigned ns;
	struct buf env;	  /* the environment file being built */
	struct buf fstab; /* pass -1 / pass 0 mount text */
	struct buf extra; /* mounts() of the config script */
	struct buf rc;	  /* rc() body or --rc contents */
	int have_rc;
	pid_t conf_pid; /* the bash running --conf */
	int conf_go, conf_mounts, conf_rc;
	int lock_fd;
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

static void report_warn(void *arg, const char *m)
{
	(void)arg;
	msg_warn("%s", m);
}

/* Apply fstab text under root at pass; die with the mount engine's message on failure. */
static void apply(const char *root, int pass, const char *text, size_t len, const char *origin)
{
	struct mounts_report rep = {.warn = report_warn};

	if (mounts_apply(root, pass, text, len, origin, &rep) < 0) {
		msg_error("%s", rep.msg);
		exit(1);
	}
}

/* The per-mount flags a user namespace locks (they must be repeated on a remount). */
static unsigned long locked_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;

	if (statvfs(path, &sv) < 0)
		return 0;
	f |= (sv.f_flag & ST_RDONLY) ? MS_RDONLY : 0;
	f |= (sv.f_flag & ST_NOSUID) ? MS_NOSUID : 0;
	f |= (sv.f_flag & ST_NODEV) ? MS_NODEV : 0;
	f |= (sv.f_flag & ST_NOEXEC) ? MS_NOEXEC : 0;
	f |= (sv.f_flag & ST_NOATIME) ? MS_NOATIME : 0;
	f |= (sv.f_flag & ST_NODIRATIME) ? MS_NODIRATIME : 0;
	f |= (sv.f_flag & ST_RELATIME) ? MS_RELATIME : 0;
	return f;
}

/* Bind path onto itself (rec: recursively), then remount it with flags added to the locked
 * ones, then set its propagation (0: leave it). Host paths; the caller dies on failure. */
static int bind_self(const char *path, int rec, unsigned long flags, unsigned long prop)
{
	if (mount(path, path, NULL, MS_BIND | (rec ? MS_REC : 0), NULL) < 0)
		return -1;
	if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | flags | locked_flags(path), NULL) < 0)
		return -1;
	return prop ? mount(NULL, path, NULL, prop, NULL) : 0;
}

/* Remount the bind at path with flags added (read-only remount of §8.2 step 7). */
static int remount(const char *path, unsigned long flags)
{
	return mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | flags | locked_flags(path), NULL);
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

/* §6.1 create mode: user, then pid (fork: the parent stays outside as the waiter and exits
 * as the container does, §6.1.1), then mount, net, ipc, uts. */
static void create_namespaces(unsigned flags, int pidns)
{
	enum userns_step step = userns_create_user(flags);
	pid_t child;

	if (step != USERNS_OK)
		die_step(step);
	if (pidns) {
		if (unshare(CLONE_NEWPID) < 0)
			die("failed to create PID namespace:");
		child = nswait_fork();
		if (child < 0)
			die("failed to fork into the PID namespace:");
		if (child > 0)
			_exit(nswait_wait(child));
	}
	if ((step = userns_unshare(flags)) != USERNS_OK)
		die_step(step);
}

/* §8.3: the image's overlay on RUNTIME/overlay becomes the rootfs. */
static void mount_image(struct start *s)
{
	struct buf err = BUF_INIT;

	if (squashmount_start(s->image, s->runtime, config_enabled("ENROOT_NATIVE_OVERLAYFS"),
			      &err) < 0) {
		for (char *l = err.data, *save = NULL; (l = strtok_r(l, "\n", &save)); l = NULL)
			msg_warn("%s", l);
		die("Failed to mount: %s", s->image);
	}
	buf_free(&err);
	s->rootfs = xasprintf("%s/overlay", s->runtime);
}

/* §8.2 steps 1-5 and §8.9: namespaces and seccomp, the runtime tmpfs, the rootfs bind.
 * The mounts containing RUNTIME and ROOTFS need no explicit MS_SLAVE here: a mount
 * namespace created in a new user namespace turns shared mounts into slaves
 * (mount_namespaces(7), "Restrictions on mount namespaces"), and userns_create makes /
 * rslave when no user namespace is created. */
static void enter_namespaces(struct start *s)
{
	unsigned flags = USERNS_MOUNT;
	char pid[32];

	if (getuid() != 0 || geteuid() != 0 || !config_enabled("ENROOT_ALLOW_SUPERUSER"))
		flags |= USERNS_USER;
	if (config_enabled("ENROOT_REMAP_ROOT"))
		flags |= USERNS_REMAP;
	if (config_enabled("ENROOT_UNSHARE_NET"))
		flags |= USERNS_NET;
	if (config_enabled("ENROOT_UNSHARE_IPC"))
		flags |= USERNS_IPC;
	if (config_enabled("ENROOT_UNSHARE_UTS"))
		flags |= USERNS_UTS;
	create_namespaces(flags, config_enabled("ENROOT_UNSHARE_PID"));
	if ((flags & USERNS_USER) && seccomp_install() < 0)
		die("failed to install the seccomp filter:");
	/* Under --pid, ENROOT_PID is our PID seen from the host (set by nswait_fork). */
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	xsetenv("ENROOT_PID", getenv("ENROOT_NSENTER_PID") ? getenv("ENROOT_NSENTER_PID") : pid);
	unsetenv("ENROOT_NSENTER_PID");
	s->runtime = xstrdup(getenv("ENROOT_RUNTIME_PATH"));
	if (mount("tmpfs", s->runtime, "tmpfs", 0, "mode=700") < 0 ||
	    mount(NULL, s->runtime, NULL, MS_SLAVE, NULL) < 0)
		die("failed to mount: tmpfs at %s:", s->runtime);
	if (s->image)
		mount_image(s);
	if (bind_self(s->rootfs, 0, MS_NOSUID | MS_NODEV, MS_SLAVE) < 0)
		die("failed to mount: %s at %s:", s->rootfs, s->rootfs);
	/* PITFALLS 3.5: a noexec data path would only show up as "permission denied" later. */
	if (locked_flags(s->rootfs) & MS_NOEXEC)
		die("the container is on a noexec filesystem: %s (move ENROOT_DATA_PATH)",
		    s->rootfs);
	s->envpath = xasprintf("%s/environment", s->runtime);
	s->fstabpath = xasprintf("%s/fstab", s->runtime);
	xsetenv("ENROOT_ROOTFS", s->rootfs);
	xsetenv("ENROOT_ENVIRON", s->envpath);
	xsetenv("ENROOT_MOUNTS", s->fstabpath);
}

/* §8.2 6b: ROOTFS/.lock, exclusive, waiting at most 30 s, held for the configuration
 * phase (a writer on the mount would make the read-only remount fail with EBUSY). */
static void take_lock(struct start *s)
{
	char *path = xasprintf("%s/.lock", s->rootfs);
	/* No O_TRUNC: the file stays empty, and truncating it would dirty its inode (mtime) on
	 * the data filesystem at every start. */
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	struct timespec tick = {0, 10 * 1000 * 1000};

	if (fd < 0)
		die("failed to open: %s:", path);
	for (int i = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; i++) {
		if (errno != EWOULDBLOCK || i >= 3000)
			die("Could not acquire rootfs lock");
		nanosleep(&tick, NULL);
	}
	s->lock_fd = fd;
	free(path);
}

/* Append the file at path to b (a missing file adds nothing). */
static void read_into(const char *path, struct buf *b)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			die("failed to open: %s:", path);
		return;
	}
	if (buf_read_fd(b, fd, 64u << 20) < 0)
		die("failed to read: %s:", path);
	close(fd);
}

static void write_file(const char *path, const struct buf *b)
{
	int fd = xopen(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	xwrite_all(fd, b->data ? b->data : "", b->len, path);
	xclose(fd);
}

/* Each file with SUFFIX in SUB of the system, then the user, config directory (glob order). */
static void each_file(const char *sub, const char *suffix, void (*fn)(const char *, void *),
		      void *arg)
{
	const char *dirs[] = {config_sysconf_dir(), getenv("ENROOT_CONFIG_PATH")};

	for (int d = 0; d < 2; d++) {
		char *pattern;
		glob_t g;
		if (!dirs[d] || !*dirs[d])
			continue;
		pattern = xasprintf("%s/%s/*%s", dirs[d], sub, suffix);
		if (glob(pattern, 0, NULL, &g) == 0) {
			for (size_t i = 0; i < g.gl_pathc; i++)
				fn(g.gl_pathv[i], arg);
			globfree(&g);
		}
		free(pattern);
	}
}

/* Append the file at path to the buf arg, with ${VAR} substituted (and formatted, for
 * environment files). */
static void add_env_file(const char *path, void *arg)
{
	struct buf in = BUF_INIT;

	read_into(path, &in);
	if (in.len && envfile_format(in.data, in.len, 1, arg) < 0)
		die("failed to allocate memory:");
	buf_free(&in);
}

static void add_fstab_file(const char *path, void *arg)
{
	struct buf in = BUF_INIT;
	struct buf *out = arg;

	read_into(path, &in);
	if (in.len && envfile_subst(in.data, in.len, out) < 0)
		die("failed to allocate memory:");
	if (out->len && out->data[out->len - 1] != '\n')
		buf_addc(out, '\n');
	buf_free(&in);
}

/* §8.4 steps 1-2 and §8.5 pass -1. */
static void early_phase(struct start *s)
{
	char *path = xasprintf("%s/etc/environment", s->rootfs);

	add_env_file(path, &s->env);
	free(path);
	each_file("environ.d", ".env", add_env_file, &s->env);
	path = xasprintf("%s/etc/fstab", s->rootfs);
	add_fstab_file(path, &s->fstab);
	free(path);
	each_file("mounts.d", ".fstab", add_fstab_file, &s->fstab);
	/* [HEAD] a fresh /proc for a new PID namespace, a fresh /sys for a new netns. */
	if (config_enabled("ENROOT_UNSHARE_PID"))
		buf_adds(&s->fstab,
			 "none /proc none x-detach,nofail,silent 0 -1\n"
			 "proc /proc proc x-create=dir,rw,nosuid,nodev,noexec,private 0 -1\n");
	if (config_enabled("ENROOT_UNSHARE_NET"))
		buf_adds(&s->fstab,
			 "none /sys none x-detach,nofail,silent 0 -1\n"
			 "sysfs /sys sysfs x-create=dir,ro,nosuid,nodev,noexec,private 0 -1\n");
	write_file(s->fstabpath, &s->fstab);
	apply(s->rootfs, -1, s->fstab.data ? s->fstab.data : "", s->fstab.len, s->fstabpath);
}

/* §8.4 step 4: K=V verbatim, or K alone with the host's value. */
static void add_cli_env(struct start *s)
{
	for (int i = 0; i < s->nenvs; i++) {
		struct buf line = BUF_INIT;
		const char *v = getenv(s->envs[i]);
		if (strchr(s->envs[i], '='))
			buf_adds(&line, s->envs[i]);
		else
			buf_printf(&line, "%s=%s", s->envs[i], v ? v : "");
		if (envfile_format_line(line.data, line.len, 0, &s->env) < 0)
			die("failed to allocate memory:");
		buf_free(&line);
	}
}

/* The --conf driver (§8.7): source the script with the command as "$@", print environ()
 * on fd 3, wait for the go on fd 4 (after the hooks.d hooks), run hooks(), print mounts()
 * on fd 5 and the rc() definition on fd 6. Same shell options as enroot's runtime. */
static const char conf_script[] = "set -euo pipefail\n"
				  "exec >/dev/null\n"
				  "source \"$0\" \"$@\"\n"
				  "if declare -F environ >/dev/null; then environ >&3; fi\n"
				  "exec 3>&-\n"
				  "read -r _ <&4 || exit 0\n"
				  "exec 4<&-\n"
				  "if declare -F hooks >/dev/null; then hooks; fi\n"
				  "if declare -F mounts >/dev/null; then mounts >&5; fi\n"
				  "exec 5>&-\n"
				  "if declare -F rc >/dev/null; then declare -f rc >&6; fi\n";

/* Start bash on the config script; returns the read end of fd 3 (environ() output). */
static int conf_start(struct start *s)
{
	int p[4][2]; /* child's fd 3 (w), 4 (r), 5 (w), 6 (w) */
	int child_end[4] = {1, 0, 1, 1};

	for (int i = 0; i < 4; i++)
		xpipe(p[i]);
	s->conf_pid = xfork();
	if (s->conf_pid == 0) {
		int fds[4];
		size_t n = 0;
		char **argv;
		for (int i = 0; i < 4; i++)
			fds[i] = fcntl(p[i][child_end[i]], F_DUPFD_CLOEXEC, 10);
		for (int i = 0; i < 4; i++)
			if (fds[i] < 0 || dup2(fds[i], 3 + i) < 0)
				_exit(126);
		while (s->cmd[n])
			n++;
		argv = calloc(n + 6, sizeof(*argv));
		if (!argv)
			_exit(126);
		argv[0] = "bash";
		argv[1] = "--norc";
		argv[2] = "-c";
		argv[3] = (char *)conf_script;
		argv[4] = (char *)s->conf;
		memcpy(argv + 5, s->cmd, n * sizeof(*argv));
		signal(SIGPIPE, SIG_DFL);
		execvp("bash", argv);
		_exit(127);
	}
	for (int i = 0; i < 4; i++)
		close(p[i][child_end[i]]);
	s->conf_go = p[1][1];
	s->conf_mounts = p[2][0];
	s->conf_rc = p[3][0];
	return p[0][0];
}

/* environ() output of the config script, appended to the environment (no substitution). */
static void conf_environ(struct start *s)
{
	struct buf out = BUF_INIT;
	int fd;

	signal(SIGPIPE, SIG_IGN); /* the script may exit early; its status tells */
	fd = conf_start(s);
	if (buf_read_fd(&out, fd, 64u << 20) < 0)
		die("failed to read the output of: %s:", s->conf);
	close(fd);
	if (out.len && envfile_format(out.data, out.len, 0, &s->env) < 0)
		die("failed to allocate memory:");
	buf_free(&out);
}

/* Drop the "rc () \n{ \n" header and the closing "}" of a declare -f listing. */
static void rc_body(struct buf *rc)
{
	char *start = rc->data, *end;

	for (int i = 0; i < 2 && start && (start = strchr(start, '\n')); i++)
		start++;
	if (!start) {
		buf_reset(rc);
		return;
	}
	end = rc->data + rc->len;
	while (end > start && (end[-1] == '\n' || end[-1] == '}' || end[-1] == ' '))
		end--;
	memmove(rc->data, start, (size_t)(end - start));
	rc->len = (size_t)(end - start);
	rc->data[rc->len] = '\0';
	buf_addc(rc, '\n');
}

/* Let the script run hooks(), collect mounts() and rc(), check its exit status. */
static void conf_finish(struct start *s)
{
	int status;

	if (write(s->conf_go, "go\n", 3) < 0 && errno != EPIPE)
		die("failed to write to: %s:", s->conf);
	close(s->conf_go);
	if (buf_read_fd(&s->extra, s->conf_mounts, 64u << 20) < 0 ||
	    buf_read_fd(&s->rc, s->conf_rc, 64u << 20) < 0)
		die("failed to read the output of: %s:", s->conf);
	close(s->conf_mounts);
	close(s->conf_rc);
	while (waitpid(s->conf_pid, &status, 0) < 0)
		if (errno != EINTR)
			die("failed to wait for: %s:", s->conf);
	signal(SIGPIPE, SIG_DFL);
	if (status != 0)
		die("%s exited with return code %d", s->conf, child_code(status));
	if (s->rc.len) {
		rc_body(&s->rc);
		s->have_rc = !s->rcfile;
	}
}

/* Run one hooks.d file: in-process when it is our standard stub, else as a process with
 * stdout discarded. A failure ends the start (§8.6). */
static void run_hook(const char *path, void *arg)
{
	const char *name;
	int status;
	pid_t pid;

	(void)arg;
	if (access(path, X_OK) < 0)
		return;
	name = hooks_builtin(path);
	if (name) {
		if (hooks_run(name) < 0) {
			msg_error("%s", hooks_error);
			die("%s exited with return code 1", path);
		}
		return;
	}
	pid = xfork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null < 0 || dup2(null, 1) < 0)
			_exit(126);
		execl(path, path, (char *)NULL);
		_exit(errno == ENOENT ? 127 : 126);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("failed to wait for: %s:", path);
	if (status != 0)
		die("%s exited with return code %d", path, child_code(status));
}

/* §8.5 hook phase and §8.6: an empty $ENROOT_MOUNTS, the hooks, then their mounts at pass 0
 * and a second formatting of the environment file. */
static void hook_phase(struct start *s)
{
	struct buf b = BUF_INIT;

	write_file(s->fstabpath, &b);
	each_file("hooks.d", ".sh", run_hook, NULL);
	if (s->conf)
		conf_finish(s);
	read_into(s->fstabpath, &b);
	apply(s->rootfs, 0, b.data ? b.data : "", b.len, s->fstabpath);
	buf_reset(&b);
	read_into(s->envpath, &b);
	buf_reset(&s->env);
	if (b.len && envfile_format(b.data, b.len, 0, &s->env) < 0)
		die("failed to allocate memory:");
	write_file(s->envpath, &s->env);
	buf_free(&b);
}

/* §8.5 late mounts: the saved file, mounts() of the config, then each --mount. */
static void late_phase(struct start *s)
{
	if (s->extra.len) {
		buf_add(&s->fstab, s->extra.data, s->extra.len);
		if (s->extra.data[s->extra.len - 1] != '\n')
			buf_addc(&s->fstab, '\n');
	}
	for (int i = 0; i < s->nmounts; i++) {
		for (const char *p = s->mounts[i]; *p; p++)
			buf_addc(&s->fstab, *p == ':' ? ' ' : *p);
		buf_addc(&s->fstab, '\n');
	}
	write_file(s->fstabpath, &s->fstab);
	apply(s->rootfs, 0, s->fstab.data ? s->fstab.data : "", s->fstab.len, s->fstabpath);
	if (s->rcfile) {
		buf_reset(&s->rc);
		read_into(s->rcfile, &s->rc);
		s->have_rc = 1;
	}
}

/* §8.2 steps 7-8: read-only rootfs, /.enroot and /.lock. */
static void seal(struct start *s)
{
	char *p;
	struct stat st;

	close(s->lock_fd);
	if (!config_enabled("ENROOT_ROOTFS_WRITABLE") &&
	    remount(s->rootfs, MS_NOSUID | MS_NODEV | MS_RDONLY) < 0)
		die("failed to remount read-only: %s:", s->rootfs);
	p = xasprintf("%s/.enroot", s->rootfs);
	if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode) &&
	    bind_self(p, 1, MS_RDONLY, MS_PRIVATE | MS_REC) < 0)
		die("failed to mount: %s:", p);
	free(p);
	p = xasprintf("%s/.lock", s->rootfs);
	if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) &&
	    bind_self(p, 0, MS_RDONLY | MS_NOEXEC, MS_PRIVATE) < 0)
		die("failed to mount: %s:", p);
	free(p);
}

/* §8.8 (switchroot in-process): environment, pivot, drop, login, exec the shell. */
static _Noreturn void switch_root(struct start *s)
{
	struct login l = {0};
	char **av, *shell, rcpath[64];
	int last_cap, motd;

	l.login = config_enabled("ENROOT_LOGIN_SHELL");
	if (environ_load_buf(s->env.data ? s->env.data : "", s->env.len) < 0)
		die("failed to load environment: %s:", s->envpath);
	if ((last_cap = caps_last_cap()) < 0)
		die("failed to read: /proc/sys/kernel/cap_last_cap:");
	enum pivot_step step = pivot_switch(s->rootfs);
	if (step != PIVOT_OK)
		die("failed to %s: %s:", pivot_step_what(step), s->rootfs);
	if (caps_drop(last_cap))
		die("failed to drop privileges:");
	if (s->have_rc) {
		int fd = login_rc_memfd(s->rc.data ? s->rc.data : "", s->rc.len);
		if (fd < 0)
			die("failed to create memfd:");
		snprintf(rcpath, sizeof(rcpath), "/proc/self/fd/%d", fd);
		l.rcpath = rcpath;
	}
	switch (login_prepare(&l)) {
	case LOGIN_OK:
		break;
	case LOGIN_NOLOGIN:
		(void)login_cat(login_nologin_file(&l), STDOUT_FILENO);
		exit(0);
	case LOGIN_FAIL_HOME:
		die("failed to change directory: %s:", getenv("HOME"));
	default:
		die("failed to set up the login environment:");
	}
	if (l.home_failed) {
		errno = l.home_errno;
		msg_warn("failed to change directory: %s:", getenv("HOME"));
	}
	if (!(av = login_argv(&l, s->cmd, &shell, &motd)))
		die("failed to build the command line:");
	if (motd)
		login_motd(&l, STDOUT_FILENO);
	xexecv(shell, av);
}

int cmd_start(int argc, char **argv)
{
	struct start s = {.env = BUF_INIT, .fstab = BUF_INIT, .extra = BUF_INIT, .rc = BUF_INIT};

	parse(&s, argc, argv);
	check_args(&s);
	enter_namespaces(&s);
	take_lock(&s);
	early_phase(&s);
	if (s.conf)
		conf_environ(&s);
	add_cli_env(&s);
	write_file(s.envpath, &s.env);
	hook_phase(&s);
	late_phase(&s);
	seal(&s);
	switch_root(&s);
}
