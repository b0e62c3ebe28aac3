/* logindefs: parse /etc/login.defs the way shadow's getdef does (spec §8.8 step 2). */
#ifndef LOGINDEFS_H
#define LOGINDEFS_H

#include <stddef.h>

struct logindefs {
	char **keys;
	char **vals;
	size_t n;
};

#define LOGINDEFS_INIT                                                                             \
	{                                                                                          \
		NULL, NULL, 0                                                                      \
	}

/* Add every definition in BUF (LEN bytes) to D. Lines are "KEY VALUE" or "KEY=VALUE"; a line
 * whose first non-blank is '#' is a comment; the value loses leading blanks, '=' and quotes and is
 * cut at the first blank or quote; a later definition of a key replaces the earlier one.
 * -1/ENOMEM (D stays valid, to be freed). */
int logindefs_parse(struct logindefs *d, const char *buf, size_t len);
/* Parse the file at PATH; a missing file is an empty one. -1/errno. */
int logindefs_load(struct logindefs *d, const char *path);
/* The value of KEY, or NULL when it is not defined. */
const char *logindefs_get(const struct logindefs *d, const char *key);
/* 1 when KEY is defined as "yes" (any case), else 0. */
int logindefs_yes(const struct logindefs *d, const char *key);
void logindefs_free(struct logindefs *d);

#endif
