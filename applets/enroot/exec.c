/* cmd_exec: `enroot exec` (spec §11.5, §6.7): run a command in the namespaces of a running
 * container, with its environment and cwd. The join itself is unsharens's join mode, which
 * this command becomes (exec of /proc/self/exe with argv[0] "unsharens"). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/applet.h"
#include "base/buf.h"
#include "base/environ.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/xwrap.h"
#include "cmd.h"

const char cmd_exec_usage[] =
    "Usage: enroot exec [options] [--] PID COMMAND [ARG...]\n"
    "\n"
    "Execute a command inside an existing container.\n"
    "\n"
    " Options:\n"
    "   -e, --env KEY[=VAL]  Export an environment variable inside the container\n";

/* KEY=VAL or a bare KEY, KEY matching ^[A-Za-z_][A-Za-z0-9_]*. */
static int valid_env(const char *e)
{
	size_t n = strcspn(e, "=");
	char *line = xasprintf("%.*s=", (int)n, e);
	int ok = environ_name_len(line, n + 1) == n;

	free(line);
	return ok && n > 0;
}

/* Add the K=V entries of the NUL-separated text in b (an environ) to out, one a line; values
 * holding a newline cannot be carried by the line format and are left out. */
static void add_environ(struct buf *out, const struct buf *b)
{
	for (size_t i = 0; i < b->len;) {
		const char *e = b->data + i;
		size_t n = strnlen(e, b->len - i);
		if (environ_name_len(e, n) && !memchr(e, '\n', n)) {
			buf_add(out, e, n);
			buf_addc(out, '\n');
		}
		i += n + 1;
	}
}

/* The environment of §11.5 in an anonymous file, inherited across exec, at offset 0. */
static int env_fd(pid_t pid, char **envs, int nenvs)
{
	char *path = xasprintf("/proc/%d/environ", (int)pid);
	struct buf in = BUF_INIT, out = BUF_INIT;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || buf_read_fd(&in, fd, 64u << 20) < 0)
		die("failed to read: %s:", path);
	close(fd);
	add_environ(&out, &in);
	for (int i = 0; i < nenvs; i++) {
		const char *v = strchr(envs[i], '=') ? NULL : getenv(envs[i]);
		if (!strchr(envs[i], '=') && !v)
			continue;
		buf_add(&out, envs[i], strlen(envs[i]));
		if (v) {
			buf_addc(&out, '=');
			buf_add(&out, v, strlen(v));
		}
		buf_addc(&out, '\n');
	}
	if ((fd = memfd_create("enroot-exec-environ", 0)) < 0)
		die("failed to create: memfd:");
	xwrite_all(fd, out.data ? out.data : "", out.len, "memfd");
	if (lseek(fd, 0, SEEK_SET) < 0)
		die("failed to seek: memfd:");
	buf_free(&in);
	buf_free(&out);
	free(path);
	return fd;
}

int cmd_exec(int argc, char **argv)
{
	static const struct opt opts[] = {{"env", 'e', 1, 'e'}, {0}};
	char **envs = xcalloc((size_t)argc, sizeof(char *)), **nargv, *end, fdarg[16];
	struct optparse p;
	int nenvs = 0, o, k = 0;
	long pid;

	opt_init(&p, argc, argv);
	while ((o = opt_next(&p, opts)) != OPT_DONE) {
		if (o == OPT_HELP)
			usage_exit(cmd_exec_usage, 0);
		if (o == OPT_BAD)
			opt_fail(&p, cmd_exec_usage);
		envs[nenvs++] = (char *)p.arg;
	}
	if (argc - p.ind < 2)
		usage_exit(cmd_exec_usage, 1);
	for (int i = 0; i < nenvs; i++)
		if (!valid_env(envs[i]))
			die("Invalid argument: %s", envs[i]);
	errno = 0;
	pid = strtol(argv[p.ind], &end, 10);
	if (errno || *end || end == argv[p.ind] || pid <= 0 || pid > (1l << 30) ||
	    kill((pid_t)pid, 0) < 0)
		die("Process not found: %s", argv[p.ind]);
	snprintf(fdarg, sizeof(fdarg), "%d", env_fd((pid_t)pid, envs, nenvs));
	nargv = xcalloc((size_t)argc + 16, sizeof(char *));
	nargv[k++] = "unsharens";
	nargv[k++] = "--target";
	nargv[k++] = argv[p.ind];
	for (const char *const *f = (const char *const[]){"--user", "--pid", "--mount", "--net",
							  "--ipc", "--uts", NULL};
	     *f; f++)
		nargv[k++] = (char *)*f;
	nargv[k++] = "--envfd";
	nargv[k++] = fdarg;
	nargv[k++] = "--workdir";
	nargv[k++] = xasprintf("/proc/%ld/cwd", pid);
	nargv[k++] = "--";
	for (int i = p.ind + 1; i < argc; i++)
		nargv[k++] = argv[i];
	free(envs);
	applet_exec(nargv);
}
