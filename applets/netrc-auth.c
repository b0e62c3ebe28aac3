/* netrc-auth: look up registry credentials in a netrc file, or answer a WWW-Authenticate
 * challenge with an Authorization header value.  Implements spec §4.1 (the default USER),
 * §4.3 (authentication, the "$..." evaluation rule); see netrc(5).
 *
 * APPLET(netrc-auth, 0)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/applet.h"
#include "base/buf.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/xwrap.h"
#include "registry/netrc.h"
#include "registry/regauth.h"
#include "registry/wwwauth.h"

static const char usage[] =
    "usage: netrc-auth [-f NETRC] [-l USER] [-n] [--first-login] HOST | --challenge [-H REGISTRY]\n"
    "\n"
    "Print the credentials for HOST from a netrc file as \"login X\", \"password Y\" and\n"
    "\"account Z\" lines; or, with --challenge, read a WWW-Authenticate value on stdin and\n"
    "print the matching Authorization header value (\"Bearer TOKEN\" or \"Basic B64\").\n"
    "\n"
    "  -f, --file NETRC     the netrc file (default: $ENROOT_CONFIG_PATH/.credentials, else\n"
    "                       ${XDG_CONFIG_HOME:-$HOME/.config}/enroot/.credentials)\n"
    "  -l, --login USER     only use entries with this login\n"
    "  -n, --no-eval        take \"$...\" credentials literally instead of running them\n"
    "                       through the shell (they are evaluated by default, as enroot does)\n"
    "  --first-login        print the X of the first line \"machine HOST login X\"\n"
    "  -c, --challenge      answer the challenge read from stdin (a Bearer token is fetched\n"
    "                       from its realm with the credentials of the realm's host, else of\n"
    "                       REGISTRY)\n"
    "  -H, --host REGISTRY  the registry host (needed for Basic challenges)\n"
    "  -h, --help           show this help\n"
    "\n"
    "Exit status: 0 ok, 1 no credentials, bad input, refused file or failed request.\n";

enum { O_FILE = 1, O_LOGIN, O_NOEVAL, O_FIRST, O_CHALLENGE, O_HOST };

static const struct opt opts[] = {
    {"file", 'f', 1, O_FILE},
    {"login", 'l', 1, O_LOGIN},
    {"no-eval", 'n', 0, O_NOEVAL},
    {"first-login", 0, 0, O_FIRST},
    {"challenge", 'c', 0, O_CHALLENGE},
    {"host", 'H', 1, O_HOST},
    {NULL, 0, 0, 0},
};

struct ctx {
	const char *file, *login, *host;
	int eval, first, challenge;
	struct buf text; /* the (evaluated) netrc file */
	int loaded;	 /* 1 when text holds the file, 0 when it does not exist */
};

/* The default credentials file (spec §2.3: ENROOT_CONFIG_PATH). */
static char *default_file(void)
{
	const char *c = getenv("ENROOT_CONFIG_PATH"), *x = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	if (c && *c)
		return xasprintf("%s/.credentials", c);
	if (x && *x)
		return xasprintf("%s/enroot/.credentials", x);
	if (!home || !*home)
		die("failed to find the credentials file: HOME is not set");
	return xasprintf("%s/.config/enroot/.credentials", home);
}

/* Load the netrc file once; a missing file is fatal only when missing_ok is 0. */
static void load(struct ctx *c, int missing_ok)
{
	size_t bad = 0;

	switch (netrc_load(c->file, c->eval, &c->text, &bad)) {
	case NETRC_OK:
		c->loaded = 1;
		return;
	case NETRC_EOPEN:
		if (missing_ok && errno == ENOENT)
			return;
		die("failed to open: %s:", c->file);
	case NETRC_EUNSAFE:
		die("failed to evaluate: %s: refusing a file that is writable by group or others "
		    "or not owned by you",
		    c->file);
	case NETRC_EEVAL:
		die("failed to evaluate: %s: line %zu:", c->file, bad);
	}
}

/* HOST without a ":PORT" suffix or IPv6 brackets, as netrc machine names are written. */
static char *strip_port(const char *host)
{
	const char *colon = strrchr(host, ':');

	if (host[0] == '[') {
		const char *end = strchr(host, ']');
		return xstrndup(host + 1, end ? (size_t)(end - host - 1) : strlen(host + 1));
	}
	if (colon && colon == strchr(host, ':') && colon[1] &&
	    strspn(colon + 1, "0123456789") == strlen(colon + 1))
		return xstrndup(host, (size_t)(colon - host));
	return xstrdup(host);
}

static void print_free(struct buf *out)
{
	if (!out->data)
		return;
	xwrite_all(STDOUT_FILENO, out->data, out->len, "standard output");
	explicit_bzero(out->data, out->cap);
	buf_free(out);
}

/* Print the login/password/account of HOST's entry. */
static int do_lookup(struct ctx *c, const char *host)
{
	struct netrc_cred cred;
	struct buf out = BUF_INIT;

	load(c, 0);
	if (netrc_lookup(c->text.data ? c->text.data : "", c->text.len, host, c->login, &cred) < 0)
		errno == ENOENT ? die("no credentials for %s in %s", host, c->file)
				: die("failed to look up credentials:");
	if ((cred.login && buf_printf(&out, "login %s\n", cred.login) < 0) ||
	    (cred.password && buf_printf(&out, "password %s\n", cred.password) < 0) ||
	    (cred.account && buf_printf(&out, "account %s\n", cred.account) < 0))
		die("failed to format credentials:");
	netrc_cred_free(&cred);
	print_free(&out);
	return 0;
}

/* Print the login of the first "machine HOST login X" line (spec §4.1). */
static int do_first_login(struct ctx *c, const char *host)
{
	char *l;

	c->eval = 0; /* the login field comes before any evaluated one */
	load(c, 0);
	l = netrc_first_login(c->text.data ? c->text.data : "", c->text.len, host);
	if (!l)
		die("no \"machine %s login\" line in %s", host, c->file);
	printf("%s\n", l);
	free(l);
	return fflush(stdout) ? 1 : 0;
}

/* Read the challenge from stdin: one value, with an optional "WWW-Authenticate:" prefix. */
static char *read_challenge(void)
{
	struct buf in = BUF_INIT;
	static const char prefix[] = "WWW-Authenticate:";
	char *s;

	if (buf_read_fd(&in, STDIN_FILENO, 65536) < 0)
		die("failed to read: standard input:");
	if (!in.data)
		die("failed to parse authentication challenge: empty input");
	while (in.len && strchr(" \t\r\n", in.data[in.len - 1]))
		in.data[--in.len] = '\0';
	s = in.data;
	if (!strncasecmp(s, prefix, sizeof(prefix) - 1))
		s += sizeof(prefix) - 1;
	s = xstrdup(s);
	buf_free(&in);
	return s;
}

/* Find credentials for the first of hosts (NULLs skipped) that has an entry. */
static int find_cred(struct ctx *c, const char *const hosts[], size_t n, struct netrc_cred *cred)
{
	*cred = (struct netrc_cred){0};
	if (!c->loaded)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!hosts[i])
			continue;
		if (!netrc_lookup(c->text.data, c->text.len, hosts[i], c->login, cred))
			return 0;
		if (errno != ENOENT)
			die("failed to look up credentials:");
	}
	return -1;
}

/* Answer the challenge on stdin with an Authorization header value. */
static int do_challenge(struct ctx *c)
{
	char *value = read_challenge(), *realm_host = NULL, *reg = NULL, *hdr, why[1024];
	struct wwwauth w;
	struct netrc_cred cred;

	if (wwwauth_parse(value, &w) < 0)
		die("%s", w.error);
	if (w.scheme == WWWAUTH_BEARER && !(realm_host = regauth_url_host(w.realm)))
		die("invalid realm in the authentication challenge");
	if (w.scheme == WWWAUTH_BASIC && !c->host)
		die("a Basic challenge needs --host REGISTRY");
	reg = c->host ? strip_port(c->host) : NULL;
	load(c, 1);
	const char *hosts[] = {realm_host, reg};
	if (find_cred(c, hosts, 2, &cred) < 0 && c->login)
		die("no credentials for %s at %s in %s", c->login, realm_host ? realm_host : reg,
		    c->file);
	if (regauth_authorize(&w, cred.login ? cred.login : c->login, cred.password, &hdr, why,
			      sizeof(why)) < 0)
		die("%s", why);
	printf("%s\n", hdr);
	explicit_bzero(hdr, strlen(hdr));
	free(hdr);
	netrc_cred_free(&cred);
	wwwauth_free(&w);
	free(value);
	free(realm_host);
	free(reg);
	return fflush(stdout) ? 1 : 0;
}

/* Reject operand and mode combinations that make no sense, with the reason. */
static void check_args(const struct ctx *c, int n, char **args)
{
	const char *why = NULL;

	if (c->challenge && c->first)
		why = "--first-login and --challenge exclude each other";
	else if (!c->challenge && c->host)
		why = "--host needs --challenge";
	else if (!c->challenge && (n < 1 || !*args[0]))
		why = "missing HOST";
	if (why) {
		msg_error("%s", why);
		usage_exit(usage, 1);
	}
	if (n > (c->challenge ? 0 : 1)) {
		msg_error("unexpected argument: %s", args[c->challenge ? 0 : 1]);
		usage_exit(usage, 1);
	}
}

/* Parse the options into c; returns the index of the first operand. */
static int parse_opts(struct ctx *c, int argc, char **argv)
{
	struct optparse p;
	int id;

	opt_init(&p, argc, argv);
	while ((id = opt_next(&p, opts)) != OPT_DONE) {
		switch (id) {
		case O_FILE:
			c->file = p.arg;
			break;
		case O_LOGIN:
			c->login = p.arg;
			break;
		case O_NOEVAL:
			c->eval = 0;
			break;
		case O_FIRST:
			c->first = 1;
			break;
		case O_CHALLENGE:
			c->challenge = 1;
			break;
		case O_HOST:
			c->host = p.arg;
			break;
		case OPT_HELP:
			usage_exit(usage, 0);
		default:
			opt_fail(&p, usage);
		}
	}
	check_args(c, argc - p.ind, argv + p.ind);
	return p.ind;
}

int netrc_auth_main(int argc, char **argv)
{
	struct ctx c = {.eval = 1};
	int ind = parse_opts(&c, argc, argv), ret;
	char *file = NULL, *host;

	if (!c.file)
		c.file = file = default_file();
	if (c.challenge) {
		ret = do_challenge(&c);
	} else {
		host = strip_port(argv[ind]);
		ret = c.first ? do_first_login(&c, host) : do_lookup(&c, host);
		free(host);
	}
	if (c.text.data)
		explicit_bzero(c.text.data, c.text.cap);
	buf_free(&c.text);
	free(file);
	return ret;
}
