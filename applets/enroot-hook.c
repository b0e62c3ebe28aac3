/* enroot-hook: the configuration phase of `enroot start` (spec §8.2 steps 6-8, §8.4-§8.7),
 * then exec the rest of the command line; or one of enroot's standard hooks (spec §10).
 *
 * Chain mode (with "--"): inside the container's namespaces, with the rootfs bind-mounted
 * (ENROOT_ROOTFS) and the runtime tmpfs on ENROOT_RUNTIME_PATH: take the rootfs lock, build
 * RUNTIME/environment, mount pass -1, run the hooks.d hooks (our stubs in-process, other
 * files as processes) and the --conf script (bash, fds 3-6), mount their pass 0 entries and
 * the late ones, write RUNTIME/rc when the rc is overridden, drop the lock, remount the rootfs
 * read-only and seal /.enroot and /.lock, then exec COMMAND (switchroot, in `enroot start`).
 * Standard hook mode: what the hooks.d stub files exec.
 *
 * APPLET(enroot-hook, 0)
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/applet.h"
#include "base/buf.h"
#include "base/child.h"
#include "base/config.h"
#include "base/envfile.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/xwrap.h"
#include "runtime/fstab.h"
#include "runtime/hooks.h"
#include "runtime/mounts.h"

static const char usage[] =
    "usage: enroot-hook [--conf FILE] [--conf-args N] [--rc FILE] [--env KEY[=VAL]]...\n"
    "                   [--mount FSTAB]... -- COMMAND [ARG...]\n"
    "       enroot-hook NAME\n"
    "       enroot-hook --stub NAME\n"
    "\n"
    "With \"--\", run the configuration phase of a container start, then exec COMMAND: take\n"
    "the lock ENROOT_ROOTFS/.lock, build ENROOT_RUNTIME_PATH/environment, mount the early\n"
    "(pass -1) entries, run the hooks.d hooks and the configuration script, mount the pass 0\n"
    "entries, write ENROOT_RUNTIME_PATH/rc if the rc is overridden, then remount the rootfs\n"
    "read-only (unless ENROOT_ROOTFS_WRITABLE) and exec COMMAND.\n"
    "With NAME, run the standard hook NAME (aptfix, cgroups, devices, home, localtime, shadow,\n"
    "nvidia, mellanox) on the container being started, as the hooks.d stubs do.\n"
    "\n"
    "  --conf FILE     the configuration script (bash: environ, mounts, hooks, rc)\n"
    "  --conf-args N   the last N words of COMMAND are the script's positional parameters\n"
    "  --rc FILE       the command script to run instead of the container's /etc/rc\n"
    "  --env KEY[=VAL] add KEY=VAL (or KEY with its value here) to the environment\n"
    "  --mount FSTAB   mount an fstab entry (fields separated by ':') at pass 0\n"
    "  --stub          print the stub file of NAME\n";

struct phase {
	const char *conf, *rcfile, *rootfs;
	char **envs, **mounts, **args;
	int nenvs, nmounts;
	char *envpath, *fstabpath, *rcpath;
	struct buf env;	  /* the environment file being built */
	struct buf fstab; /* pass -1 / pass 0 mount text */
	struct buf extra; /* mounts() of the config script */
	struct buf rc;	  /* rc() body or --rc contents */
	int have_rc;
	pid_t conf_pid; /* the bash running --conf */
	int conf_go, conf_mounts, conf_rc;
	int lock_fd;
};

static void report_warn(void *arg, const char *m)
{
	(void)arg;
	msg_warn("%s", m);
}

/* Apply fstab text under root at pass; die with the mount engine's message on failure. */
static void apply(const char *root, int pass, const struct buf *b, const char *origin)
{
	struct mounts_report rep = {.warn = report_warn};

	if (mounts_apply(root, pass, b->data ? b->data : "", b->len, origin, &rep) < 0)
		die("%s", rep.msg);
}

/* §8.2 6b: ROOTFS/.lock, exclusive, waiting at most 30 s, held for the configuration
 * phase (a writer on the mount would make the read-only remount fail with EBUSY). */
static void take_lock(struct phase *s)
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

/* Append the file at path to the buf arg, with ${VAR} substituted and formatted (§8.4). */
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
static void early_phase(struct phase *s)
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
	apply(s->rootfs, -1, &s->fstab, s->fstabpath);
}

/* §8.4 step 4: K=V verbatim, or K alone with the host's value. */
static void add_cli_env(struct phase *s)
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

/* In the child: fds 3-6 from the pipes, then bash on the script with the arguments. */
static _Noreturn void conf_exec(struct phase *s, int p[4][2], const int child_end[4])
{
	int fds[4];
	size_t n = 0;
	char **argv;

	for (int i = 0; i < 4; i++)
		fds[i] = fcntl(p[i][child_end[i]], F_DUPFD_CLOEXEC, 10);
	for (int i = 0; i < 4; i++)
		if (fds[i] < 0 || dup2(fds[i], 3 + i) < 0)
			_exit(126);
	while (s->args[n])
		n++;
	argv = calloc(n + 6, sizeof(*argv));
	if (!argv)
		_exit(126);
	argv[0] = "bash";
	argv[1] = "--norc";
	argv[2] = "-c";
	argv[3] = (char *)conf_script;
	argv[4] = (char *)s->conf;
	memcpy(argv + 5, s->args, n * sizeof(*argv));
	signal(SIGPIPE, SIG_DFL);
	execvp("bash", argv);
	_exit(127);
}

/* Start bash on the config script; returns the read end of fd 3 (environ() output). */
static int conf_start(struct phase *s)
{
	int p[4][2]; /* child's fd 3 (w), 4 (r), 5 (w), 6 (w) */
	static const int child_end[4] = {1, 0, 1, 1};

	for (int i = 0; i < 4; i++)
		xpipe(p[i]);
	s->conf_pid = xfork();
	if (s->conf_pid == 0)
		conf_exec(s, p, child_end);
	for (int i = 0; i < 4; i++)
		close(p[i][child_end[i]]);
	s->conf_go = p[1][1];
	s->conf_mounts = p[2][0];
	s->conf_rc = p[3][0];
	return p[0][0];
}

/* environ() output of the config script, appended to the environment (no substitution). */
static void conf_environ(struct phase *s)
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
static void conf_finish(struct phase *s)
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
static void hook_phase(struct phase *s)
{
	struct buf b = BUF_INIT;

	write_file(s->fstabpath, &b);
	each_file("hooks.d", ".sh", run_hook, NULL);
	if (s->conf)
		conf_finish(s);
	read_into(s->fstabpath, &b);
	apply(s->rootfs, 0, &b, s->fstabpath);
	buf_reset(&b);
	read_into(s->envpath, &b);
	buf_reset(&s->env);
	if (b.len && envfile_format(b.data, b.len, 0, &s->env) < 0)
		die("failed to allocate memory:");
	write_file(s->envpath, &s->env);
	buf_free(&b);
}

/* §8.5 late mounts: the saved file, mounts() of the config, then each --mount; then the rc
 * override of §8.2 6h (--rc wins over rc()). */
static void late_phase(struct phase *s)
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
	apply(s->rootfs, 0, &s->fstab, s->fstabpath);
	if (s->rcfile) {
		buf_reset(&s->rc);
		read_into(s->rcfile, &s->rc);
		s->have_rc = 1;
	}
	if (s->have_rc)
		write_file(s->rcpath, &s->rc);
}

/* §8.2 steps 7-8, as fstab entries under the rootfs: read-only root (unless writable), then
 * /.enroot (a directory) and /.lock (a file) bound onto themselves read-only and private. */
static void seal(struct phase *s)
{
	struct buf b = BUF_INIT;
	struct stat st;
	char *p;

	close(s->lock_fd);
	if (!config_enabled("ENROOT_ROOTFS_WRITABLE"))
		buf_adds(&b, "none / none remount,bind,nosuid,nodev,ro\n");
	p = xasprintf("%s/.enroot", s->rootfs);
	if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
		if (fstab_add_entry(&b, p, "/.enroot", "none", "rbind,ro,rprivate") < 0)
			die("failed to allocate memory:");
	free(p);
	p = xasprintf("%s/.lock", s->rootfs);
	if (lstat(p, &st) == 0 && S_ISREG(st.st_mode))
		if (fstab_add_entry(&b, p, "/.lock", "none", "bind,ro,noexec,private") < 0)
			die("failed to allocate memory:");
	free(p);
	apply(s->rootfs, 0, &b, "the rootfs seal");
	buf_free(&b);
}

enum { O_CONF = 1, O_CONF_ARGS, O_RC, O_ENV, O_MOUNT };

/* Parse the chain mode's options; returns the index of COMMAND. */
static int parse(struct phase *s, int argc, char **argv)
{
	static const struct opt opts[] = {
	    {"conf", 0, 1, O_CONF}, {"conf-args", 0, 1, O_CONF_ARGS}, {"rc", 0, 1, O_RC},
	    {"env", 0, 1, O_ENV},   {"mount", 0, 1, O_MOUNT},	      {0}};
	struct optparse p;
	long nargs = 0;
	char *end;
	int o;

	s->envs = xcalloc((size_t)argc, sizeof(char *));
	s->mounts = xcalloc((size_t)argc, sizeof(char *));
	opt_init(&p, argc, argv);
	while ((o = opt_next(&p, opts)) != OPT_DONE) {
		if (o == OPT_HELP)
			usage_exit(usage, 0);
		if (o == OPT_BAD)
			opt_fail(&p, usage);
		if (o == O_CONF)
			s->conf = p.arg;
		else if (o == O_RC)
			s->rcfile = p.arg;
		else if (o == O_ENV)
			s->envs[s->nenvs++] = (char *)p.arg;
		else if (o == O_MOUNT)
			s->mounts[s->nmounts++] = (char *)p.arg;
		else if ((nargs = strtol(p.arg, &end, 10)) < 0 || *end || nargs > argc)
			die("invalid number of arguments: %s", p.arg);
	}
	if (p.ind >= argc || strcmp(argv[p.ind - 1], "--") || argc - p.ind < nargs)
		usage_exit(usage, 1);
	s->args = argv + argc - nargs;
	return p.ind;
}

/* ENROOT_PID (§8.2 step 1) and the four variables hooks read (6a). */
static void export_vars(struct phase *s)
{
	const char *runtime = getenv("ENROOT_RUNTIME_PATH");
	char pid[32];

	s->rootfs = getenv("ENROOT_ROOTFS");
	if (!s->rootfs || !*s->rootfs || !runtime || !*runtime)
		die("ENROOT_ROOTFS and ENROOT_RUNTIME_PATH must be set");
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	xsetenv("ENROOT_PID", getenv("ENROOT_NSENTER_PID") ? getenv("ENROOT_NSENTER_PID") : pid);
	unsetenv("ENROOT_NSENTER_PID");
	s->envpath = xasprintf("%s/environment", runtime);
	s->fstabpath = xasprintf("%s/fstab", runtime);
	s->rcpath = xasprintf("%s/rc", runtime);
	xsetenv("ENROOT_ENVIRON", s->envpath);
	xsetenv("ENROOT_MOUNTS", s->fstabpath);
}

static int configure(int argc, char **argv)
{
	struct phase s = {.env = BUF_INIT, .fstab = BUF_INIT, .extra = BUF_INIT, .rc = BUF_INIT};
	int cmd = parse(&s, argc, argv);

	export_vars(&s);
	take_lock(&s);
	early_phase(&s);
	if (s.conf)
		conf_environ(&s);
	add_cli_env(&s);
	write_file(s.envpath, &s.env);
	hook_phase(&s);
	late_phase(&s);
	seal(&s);
	applet_exec(argv + cmd);
}

int enroot_hook_main(int argc, char **argv)
{
	int stub = argc == 3 && !strcmp(argv[1], "--stub");

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--"))
			return configure(argc, argv);
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		usage_exit(usage, 0);
	if (argc != 2 + stub || !hooks_known(argv[1 + stub]))
		usage_exit(usage, 1);
	if (stub) {
		fputs(hooks_stub(argv[2]), stdout);
		return fflush(stdout) ? 1 : 0;
	}
	if (!getenv("ENROOT_ROOTFS"))
		die("ENROOT_ROOTFS is not set");
	if (hooks_run(argv[1]) < 0)
		die("%s", hooks_error);
	return 0;
}
