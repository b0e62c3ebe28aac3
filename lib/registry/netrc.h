/* netrc: find credentials in a netrc file (ftp(1)/curl syntax), with enroot's evaluation of
 * "$..." lines (spec §4.3) and its rule for the default USER (spec §4.1). */
#ifndef NETRC_H
#define NETRC_H

#include <stddef.h>

#include "base/buf.h"

struct netrc_cred {
	char *login;	/* NULL when the entry has none */
	char *password; /* NULL when the entry has none */
	char *account;	/* NULL when the entry has none */
};

/* Find the first "machine HOST" entry (host compared case-insensitively) whose login equals
 * login (when login is not NULL; an entry without a login matches any), else the first
 * "default" entry under the same login rule.  Tokens: machine NAME, default, login X,
 * password X, account X, macdef NAME (its body, up to the next blank line, is skipped);
 * unknown words are skipped.  A token is a run of non-blank bytes or a "quoted string" with
 * backslash escapes.  Returns 0 and fills out (free it with netrc_cred_free), or -1 with
 * errno ENOENT (no entry) or ENOMEM. */
int netrc_lookup(const char *text, size_t len, const char *host, const char *login,
		 struct netrc_cred *out);

/* Wipe and free the strings of c. */
void netrc_cred_free(struct netrc_cred *c);

/* The login X of the first line "machine HOST login X ..." (spec §4.1: USER defaults to it),
 * as a new string, or NULL with errno ENOENT (no such line) or ENOMEM. */
char *netrc_first_login(const char *text, size_t len, const char *host);

/* Does a line of text need evaluation: at least 6 blank-separated fields, the 6th starting
 * with '$'? */
int netrc_needs_eval(const char *text, size_t len);

/* Append text to out with enroot's evaluation: on every line that needs it (see above), the
 * fields after the 5th are replaced by the output of the shell command "echo REST", run by
 * /bin/sh with the script on its standard input (never in argv) and the caller's environment
 * and privileges; the line becomes the first 5 fields, a space and that output.  Returns 0,
 * or -1 with errno set and *bad_line the 1-based number of the line that failed. */
int netrc_eval(const char *text, size_t len, struct buf *out, size_t *bad_line);

enum netrc_load_result {
	NETRC_OK,
	NETRC_EOPEN,   /* open or read failed: errno */
	NETRC_EUNSAFE, /* evaluation needed but the file is not owned by the caller or is group-
			* or world-writable */
	NETRC_EEVAL,   /* evaluation of line *bad_line failed: errno */
};

/* Read path into out (replacing its contents), evaluating it when eval is set and a line
 * needs it.  Refuses to evaluate a file that anyone but the caller could have written. */
enum netrc_load_result netrc_load(const char *path, int eval, struct buf *out, size_t *bad_line);

/* Rewrite the credentials file PATH without the one-line entries for machine HOST, and with
 * LINE ("machine HOST login USER password PASS", or NULL to only remove) appended: a 0600
 * temporary beside it renamed over it, other entries kept byte for byte.  1 when an entry
 * was removed, 0 when none was, -1 with errno. */
int netrc_replace(const char *path, const char *host, const char *line);

#endif
