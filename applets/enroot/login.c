/* login: `enroot login`, check a registry account, then record it in
 * $ENROOT_CONFIG_PATH/.credentials (the file import reads), never from argv. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "base/config.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/xwrap.h"
#include "registry/netrc.h"
#include "registry/regquery.h"
#include "cmd.h"

const char login_usage[] =
    "Usage: enroot login [options] [--] REGISTRY\n"
    "\n"
    "Check an account against a registry and record it in the credentials file.\n"
    "\n"
    " Options:\n"
    "   -u, --username    The user name (asked on the terminal when absent)\n"
    "       --password-stdin  Read the password from the first line of standard input\n"
    "                     (without it, it is asked on the terminal, without echo)\n";

/* One line from FD (the newline dropped) into BUF; -1 at end of input. */
static int read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;
	char c;

	while (n + 1 < len) {
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (c == '\n')
			break;
		buf[n++] = c;
	}
	buf[n] = '\0';
	if (n && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return n || len < 2 ? 0 : (errno = ENODATA, -1);
}

/* Ask PROMPT on the terminal (echo off when SECRET) into BUF. */
static void ask(const char *prompt, int secret, char *buf, size_t len)
{
	int tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	struct termios old, quiet;

	if (tty < 0)
		die("no terminal to ask the %s on (use -u and --password-stdin)",
		    secret ? "password" : "user name");
	if (write(tty, prompt, strlen(prompt)) < 0)
		(void)0;
	if (secret && tcgetattr(tty, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(tty, TCSAFLUSH, &quiet);
	}
	if (read_line(tty, buf, len) < 0)
		buf[0] = '\0';
	if (secret) {
		tcsetattr(tty, TCSAFLUSH, &old);
		if (write(tty, "\n", 1) < 0)
			(void)0;
	}
	close(tty);
}

/* A netrc token that enroot reads back as it is (no space, no quote, no shell character:
 * enroot evaluates $(...) in the credentials file). */
static int plain_token(const char *s)
{
	return *s && !strpbrk(s, " \t\r\n\"'\\$`#");
}

/* REGISTRY without a port: the machine name enroot looks credentials up by. */
static char *machine(const char *registry)
{
	char *m = xstrdup(registry), *colon = strrchr(m, ':');

	if (colon && !strchr(m, ']'))
		*colon = '\0';
	return m;
}

int cmd_login(int argc, char **argv)
{
	static const struct opt opts[] = {
	    {"username", 'u', 1, 'u'}, {"password-stdin", 0, 0, 'p'}, {NULL, 0, 0, 0}};
	char user[256] = "", pass[1024] = "", why[512], *path, *line, *host;
	const char *registry;
	struct optparse p;
	int id, from_stdin = 0, open_reg, rc;

	opt_init(&p, argc, argv);
	while ((id = opt_next(&p, opts)) != OPT_DONE) {
		if (id == OPT_HELP)
			usage_exit(login_usage, 0);
		if (id == OPT_BAD)
			opt_fail(&p, login_usage);
		if (id == 'p')
			from_stdin = 1;
		else
			snprintf(user, sizeof(user), "%s", p.arg);
	}
	if (argc - p.ind != 1)
		usage_exit(login_usage, 1);
	registry = argv[p.ind];
	if (!*registry || strpbrk(registry, "/# \t"))
		die("Invalid registry: %s", registry);
	if (!*user)
		ask("Username: ", 0, user, sizeof(user));
	if (from_stdin ? read_line(STDIN_FILENO, pass, sizeof(pass)) < 0
		       : (ask("Password: ", 1, pass, sizeof(pass)), 0))
		die("no password on standard input");
	if (!plain_token(user) || !plain_token(pass))
		die("The user name and the password must be non-empty, without spaces, quotes or "
		    "$`\\# (the credentials file is evaluated by enroot)");
	if (regquery_login(registry, user, pass, &open_reg, why, sizeof(why)) < 0) {
		explicit_bzero(pass, sizeof(pass));
		die("%s", why);
	}
	if (open_reg)
		msg_warn("%s asks for no credentials; recording them anyway", registry);
	host = machine(registry);
	if (!(path = config_credentials_path()))
		die("out of memory");
	line = xasprintf("machine %s login %s password %s", host, user, pass);
	explicit_bzero(pass, sizeof(pass));
	{
		char *dir = xstrdup(path);
		*strrchr(dir, '/') = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			die("failed to create directory: %s:", dir);
		free(dir);
	}
	rc = netrc_replace(path, host, line);
	explicit_bzero(line, strlen(line));
	free(line);
	if (rc < 0)
		die("failed to write: %s:", path);
	msg_info("Login succeeded: %s (%s)", registry, path);
	free(path);
	free(host);
	return 0;
}
