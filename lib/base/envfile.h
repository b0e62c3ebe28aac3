/* envfile: build enroot's environment file (spec §8.4): ${NAME} substitution, formatting of
 * NAME=VALUE lines, and merging so that the last occurrence of a name wins. */
#ifndef ENVFILE_H
#define ENVFILE_H

#include <stddef.h>

#include "base/buf.h"

/* Append in to out with every ${NAME} (NAME = [A-Za-z_][A-Za-z0-9_]*) replaced by getenv(NAME)
 * or nothing when unset.  Substituted text is not rescanned; $NAME, ${NAME:-x}, ${} are kept.
 * Returns 0, or -1 with errno ENOMEM. */
int envfile_subst(const char *in, size_t len, struct buf *out);

/* Append the formatted lines of text to out, each as "NAME=VALUE\n": leading blanks stripped,
 * blank, '#', non-NAME= and ENROOT_* lines dropped, one pair of surrounding quotes removed.
 * With subst, ${NAME} is substituted first (a value holding a newline starts a new line, as in
 * enroot).  Returns 0, or -1 with errno ENOMEM. */
int envfile_format(const char *text, size_t len, int subst, struct buf *out);

/* Format one line (the same rules; len excludes any newline). */
int envfile_format_line(const char *line, size_t len, int subst, struct buf *out);

/* Append the formatted lines of text (as envfile_format writes them) to out keeping only the
 * last occurrence of each name, at the position of that last occurrence.  Lines that are
 * not NAME=VALUE are dropped.  Returns 0, or -1 with errno ENOMEM. */
int envfile_merge(const char *text, size_t len, struct buf *out);

#endif
