/* netrc: a netrc tokenizer and lookup, enroot's "$..." evaluation, and the safe loader.
 * The lookup follows curl's reading of the format (comments with '#' where a keyword is
 * expected, quoted tokens with backslash escapes) since curl is what enroot hands the file to. */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/io.h"
#include "registry/netrc.h"

struct lexer {
	const char *p, *end;
	struct buf tok;
	int quoted; /* the last token was a quoted string */
};

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Read a quoted token body after the opening quote; a backslash takes the next byte as is. */
static int lex_quoted(struct lexer *lx)
{
	while (lx->p < lx->end && *lx->p != '"') {
		if (*lx->p == '\\' && lx->p + 1 < lx->end)
			lx->p++;
		if (buf_addc(&lx->tok, *lx->p++) < 0)
			return -1;
	}
	if (lx->p < lx->end)
		lx->p++;
	return 1;
}

/* The next token into lx->tok: 1, or 0 at the end, or -1 (ENOMEM). */
static int lex_next(struct lexer *lx)
{
	const char *s;

	buf_reset(&lx->tok);
	while (lx->p < lx->end && is_space(*lx->p))
		lx->p++;
	if (lx->p >= lx->end)
		return 0;
	lx->quoted = *lx->p == '"';
	if (lx->quoted) {
		lx->p++;
		return lex_quoted(lx);
	}
	s = lx->p;
	while (lx->p < lx->end && !is_space(*lx->p))
		lx->p++;
	return buf_add(&lx->tok, s, (size_t)(lx->p - s)) < 0 ? -1 : 1;
}

static void skip_line(struct lexer *lx)
{
	const char *nl = memchr(lx->p, '\n', (size_t)(lx->end - lx->p));

	lx->p = nl ? nl + 1 : lx->end;
}

/* Skip a macdef body: the rest of the current line, then lines up to a blank one. */
static void skip_macdef(struct lexer *lx)
{
	skip_line(lx);
	while (lx->p < lx->end) {
		const char *s = lx->p;

		while (s < lx->end && *s != '\n' && is_space(*s))
			s++;
		if (s >= lx->end || *s == '\n') {
			lx->p = s < lx->end ? s + 1 : s;
			return;
		}
		skip_line(lx);
	}
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void netrc_cred_free(struct netrc_cred *c)
{
	wipe_free(c->login);
	wipe_free(c->password);
	wipe_free(c->account);
	c->login = c->password = c->account = NULL;
}

enum { E_NONE, E_HOST, E_OTHER, E_DEFAULT };

struct entry {
	int kind;
	struct netrc_cred c;
};

static const char *tok(const struct lexer *lx)
{
	return lx->tok.data ? lx->tok.data : "";
}

static void buf_wipe_free(struct buf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->cap);
	buf_free(b);
}

/* Close the entry cur: 1 when it is the answer (moved to out); a matching default entry
 * is kept in def when it is the first one. */
static int finish(struct entry *cur, struct entry *def, const char *login, struct netrc_cred *out)
{
	int match = !login || !cur->c.login || !strcmp(cur->c.login, login);

	if (cur->kind == E_HOST && match) {
		*out = cur->c;
	} else if (cur->kind == E_DEFAULT && match && def->kind == E_NONE) {
		*def = *cur;
	} else {
		netrc_cred_free(&cur->c);
	}
	match = cur->kind == E_HOST && match;
	*cur = (struct entry){0};
	return match;
}

/* Replace *field by a copy of the next token: 1, 0 at the end, -1 (ENOMEM). */
static int take_value(struct lexer *lx, char **field)
{
	int r = lex_next(lx);
	char *v;

	if (r <= 0)
		return r;
	v = strdup(tok(lx));
	if (!v)
		return -1;
	wipe_free(*field);
	*field = v;
	return 1;
}

/* Handle one keyword token; returns like lex_next. */
static int keyword(struct lexer *lx, struct entry *cur, const char *host)
{
	const char *t = tok(lx);
	int r = 1;

	if (!lx->quoted && t[0] == '#')
		skip_line(lx);
	else if (!strcmp(t, "machine") && (r = lex_next(lx)) > 0)
		cur->kind = strcasecmp(tok(lx), host) ? E_OTHER : E_HOST;
	else if (!strcmp(t, "default"))
		cur->kind = E_DEFAULT;
	else if (!strcmp(t, "login"))
		r = take_value(lx, &cur->c.login);
	else if (!strcmp(t, "password"))
		r = take_value(lx, &cur->c.password);
	else if (!strcmp(t, "account"))
		r = take_value(lx, &cur->c.account);
	else if (!strcmp(t, "macdef") && (r = lex_next(lx)) > 0)
		skip_macdef(lx);
	return r;
}

int netrc_lookup(const char *text, size_t len, const char *host, const char *login,
		 struct netrc_cred *out)
{
	struct lexer lx = {text, text + len, BUF_INIT, 0};
	struct entry cur = {0}, def = {0};
	int r, found = 0;

	*out = (struct netrc_cred){0};
	while (!found && (r = lex_next(&lx)) > 0) {
		const char *t = tok(&lx);

		if (!strcmp(t, "machine") || !strcmp(t, "default"))
			found = finish(&cur, &def, login, out);
		if (!found)
			r = keyword(&lx, &cur, host);
		if (r < 0)
			break;
	}
	if (r >= 0 && !found)
		found = finish(&cur, &def, login, out);
	if (r >= 0 && !found && def.kind == E_DEFAULT) {
		*out = def.c;
		def.c = (struct netrc_cred){0};
		found = 1;
	}
	netrc_cred_free(&cur.c);
	netrc_cred_free(&def.c);
	buf_wipe_free(&lx.tok);
	if (r < 0 || !found)
		errno = r < 0 ? ENOMEM : ENOENT;
	return r >= 0 && found ? 0 : -1;
}

/* Split one line into at most max blank-separated fields; returns the field count (which
 * may exceed max: only the first max are stored). */
static size_t split_fields(const char *line, size_t len, const char **f, size_t *flen, size_t max)
{
	size_t n = 0, i = 0;

	while (i < len) {
		while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
			i++;
		if (i >= len)
			break;
		size_t s = i;
		while (i < len && line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			i++;
		if (n < max) {
			f[n] = line + s;
			flen[n] = i - s;
		}
		n++;
	}
	return n;
}

static int field_is(const char *f, size_t flen, const char *word)
{
	return flen == strlen(word) && !memcmp(f, word, flen);
}

char *netrc_first_login(const char *text, size_t len, const char *host)
{
	const char *f[4];
	size_t fl[4];

	while (len) {
		const char *nl = memchr(text, '\n', len);
		size_t l = nl ? (size_t)(nl - text) : len;

		if (split_fields(text, l, f, fl, 4) >= 4 && field_is(f[0], fl[0], "machine") &&
		    fl[1] == strlen(host) && !strncasecmp(f[1], host, fl[1]) &&
		    field_is(f[2], fl[2], "login"))
			return strndup(f[3], fl[3]);
		text += l + (nl ? 1 : 0);
		len -= l + (nl ? 1 : 0);
	}
	errno = ENOENT;
	return NULL;
}

/* Where the 6th field of a line to evaluate starts, or NULL when the line is not one. */
static const char *eval_start(const char *line, size_t len)
{
	const char *f[6];
	size_t fl[6];

	if (split_fields(line, len, f, fl, 6) < 6 || f[0][0] == '#' || f[5][0] != '$')
		return NULL;
	return f[5];
}

int netrc_needs_eval(const char *text, size_t len)
{
	while (len) {
		const char *nl = memchr(text, '\n', len);
		size_t l = nl ? (size_t)(nl - text) : len;

		if (eval_start(text, l))
			return 1;
		text += l + (nl ? 1 : 0);
		len -= l + (nl ? 1 : 0);
	}
	return 0;
}

/* In the child: make fd the descriptor want (keeping it across exec). */
static void child_fd(int fd, int want)
{
	if (fd == want)
		fcntl(fd, F_SETFD, 0);
	else if (dup2(fd, want) < 0)
		_exit(127);
}

/* Put the whole script into a new pipe before any shell exists, so a shell that dies early
 * cannot hit us with SIGPIPE and nothing can block: returns the read end, or -1 (E2BIG when
 * the script does not fit in the pipe). */
static int script_pipe(const char *expr, size_t len)
{
	static const char prologue[] = "f() { IFS=' '; printf '%s\\n' \"$*\"; }\nf ";
	int p[2];

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	if (io_write_all(p[1], prologue, sizeof(prologue) - 1) < 0 ||
	    io_write_all(p[1], expr, len) < 0 || io_write_all(p[1], "\n", 1) < 0) {
		if (errno == EAGAIN)
			errno = E2BIG;
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(p[1]);
	if (fcntl(p[0], F_SETFL, 0) < 0) {
		close(p[0]);
		return -1;
	}
	return p[0];
}

/* Run /bin/sh on the script in fd script; returns its pid with *from its standard output. */
static pid_t start_shell(int script, int *from)
{
	int res[2];
	pid_t pid;

	if (pipe2(res, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		child_fd(script, STDIN_FILENO);
		child_fd(res[1], STDOUT_FILENO);
		execl("/bin/sh", "sh", "-s", (char *)NULL);
		_exit(127);
	}
	close(res[1]);
	if (pid < 0) {
		close(res[0]);
		return -1;
	}
	*from = res[0];
	return pid;
}

/* Append what "echo EXPR" prints (without its newline) to out.  The expression goes to the
 * shell on a pipe, never in argv.  The words are joined by single spaces as echo joins them,
 * but printed with printf so that backslashes and a leading -n stay literal. */
static int shell_echo(const char *expr, size_t len, struct buf *out)
{
	int script = script_pipe(expr, len), from, status, ret = 0;
	size_t start = out->len;
	pid_t pid = script < 0 ? -1 : start_shell(script, &from);

	if (script >= 0)
		close(script);
	if (pid < 0)
		return -1;
	if (buf_read_fd(out, from, 1 << 20) < 0)
		ret = -1;
	close(from);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!ret && (!WIFEXITED(status) || WEXITSTATUS(status))) {
		errno = ECHILD;
		ret = -1;
	}
	if (out->len > start && out->data[out->len - 1] == '\n')
		out->data[--out->len] = '\0';
	return ret;
}

int netrc_eval(const char *text, size_t len, struct buf *out, size_t *bad_line)
{
	size_t lineno = 0;

	while (len) {
		const char *nl = memchr(text, '\n', len), *rest, *f[5];
		size_t l = nl ? (size_t)(nl - text) : len, fl[5];

		lineno++;
		rest = eval_start(text, l);
		if (!rest) {
			if (buf_add(out, text, l) < 0)
				goto fail;
		} else {
			split_fields(text, l, f, fl, 5);
			for (int i = 0; i < 5; i++)
				if (buf_add(out, f[i], fl[i]) < 0 || buf_addc(out, ' ') < 0)
					goto fail;
			if (shell_echo(rest, l - (size_t)(rest - text), out) < 0)
				goto fail;
		}
		if (nl && buf_addc(out, '\n') < 0)
			goto fail;
		text += l + (nl ? 1 : 0);
		len -= l + (nl ? 1 : 0);
	}
	return 0;
fail:
	*bad_line = lineno;
	return -1;
}

/* May the file behind fd be evaluated: owned by us, writable by nobody else? */
static int safe_to_eval(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return 0;
	return st.st_uid == geteuid() && !(st.st_mode & (S_IWGRP | S_IWOTH));
}

enum netrc_load_result netrc_load(const char *path, int eval, struct buf *out, size_t *bad_line)
{
	struct buf raw = BUF_INIT;
	enum netrc_load_result res = NETRC_OK;
	int fd = open(path, O_RDONLY | O_CLOEXEC), saved;

	buf_reset(out);
	if (fd < 0)
		return NETRC_EOPEN;
	if (buf_read_fd(&raw, fd, 1 << 20) < 0)
		res = NETRC_EOPEN;
	else if (!eval || !netrc_needs_eval(raw.data, raw.len))
		res = buf_add(out, raw.data ? raw.data : "", raw.len) < 0 ? NETRC_EOPEN : NETRC_OK;
	else if (!safe_to_eval(fd))
		res = NETRC_EUNSAFE;
	else if (netrc_eval(raw.data, raw.len, out, bad_line) < 0)
		res = NETRC_EEVAL;
	saved = errno;
	close(fd);
	buf_wipe_free(&raw);
	errno = saved;
	return res;
}

/* Is LINE (LEN bytes) a one-line entry "machine HOST ..."? */
static int entry_for(const char *line, size_t len, const char *host)
{
	size_t i = 0, hl = strlen(host);

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (len - i < 8 + hl || strncmp(line + i, "machine", 7) ||
	    (line[i + 7] != ' ' && line[i + 7] != '\t'))
		return 0;
	for (i += 7; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	return len - i >= hl && !strncmp(line + i, host, hl) &&
	       (len - i == hl || line[i + hl] == ' ' || line[i + hl] == '\t');
}

int netrc_replace(const char *path, const char *host, const char *line)
{
	struct buf old = BUF_INIT, out = BUF_INIT;
	char *tmp = NULL;
	int fd, removed = 0, rc = -1, saved, ok;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0) {
		if (buf_read_fd(&old, fd, 1 << 20) < 0) {
			saved = errno;
			close(fd);
			return errno = saved, -1;
		}
		close(fd);
	} else if (errno != ENOENT) {
		return -1;
	}
	for (size_t i = 0; i < old.len;) {
		const char *l = old.data + i, *nl = memchr(l, '\n', old.len - i);
		size_t n = nl ? (size_t)(nl - l) + 1 : old.len - i;
		if (entry_for(l, nl ? n - 1 : n, host))
			removed = 1;
		else if (buf_add(&out, l, n) < 0 || (!nl && buf_addc(&out, '\n') < 0))
			goto out;
		i += n;
	}
	if (line && buf_printf(&out, "%s\n", line) < 0)
		goto out;
	if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		tmp = NULL;
		goto out;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		goto out;
	ok = io_write_all(fd, out.data ? out.data : "", out.len) == 0 && fsync(fd) == 0;
	if (close(fd) < 0)
		ok = 0;
	if (ok && rename(tmp, path) == 0)
		rc = removed;
out:
	saved = errno;
	if (tmp && rc < 0)
		unlink(tmp);
	free(tmp);
	if (out.data)
		explicit_bzero(out.data, out.len);
	if (old.data)
		explicit_bzero(old.data, old.len);
	buf_free(&out);
	buf_free(&old);
	errno = saved;
	return rc;
}
