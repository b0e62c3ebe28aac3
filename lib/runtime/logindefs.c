/* logindefs: a small KEY VALUE store read from login.defs(5). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/buf.h"
#include "runtime/logindefs.h"

#define LOGINDEFS_MAX (1u << 20)

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Store KEY=VAL, replacing an earlier definition. Takes ownership of both. */
static int put(struct logindefs *d, char *key, char *val)
{
	char **k, **v;

	for (size_t i = 0; i < d->n; i++) {
		if (!strcmp(d->keys[i], key)) {
			free(key);
			free(d->vals[i]);
			d->vals[i] = val;
			return 0;
		}
	}
	k = realloc(d->keys, (d->n + 1) * sizeof(*k));
	if (k)
		d->keys = k;
	v = k ? realloc(d->vals, (d->n + 1) * sizeof(*v)) : NULL;
	if (v)
		d->vals = v;
	if (!k || !v) {
		free(key);
		free(val);
		errno = ENOMEM;
		return -1;
	}
	d->keys[d->n] = key;
	d->vals[d->n++] = val;
	return 0;
}

/* Parse one line of S..E (no newline). */
static int parse_line(struct logindefs *d, const char *s, const char *e)
{
	const char *k, *v;
	char *key, *val;

	while (s < e && is_blank(*s))
		s++;
	if (s == e || *s == '#')
		return 0;
	for (k = s; s < e && !is_blank(*s) && *s != '='; s++)
		;
	key = strndup(k, (size_t)(s - k));
	while (s < e && (is_blank(*s) || *s == '=' || *s == '"'))
		s++;
	for (v = s; s < e && !is_blank(*s) && *s != '"'; s++)
		;
	val = strndup(v, (size_t)(s - v));
	if (!key || !val) {
		free(key);
		free(val);
		errno = ENOMEM;
		return -1;
	}
	return put(d, key, val);
}

int logindefs_parse(struct logindefs *d, const char *buf, size_t len)
{
	const char *s = buf, *end = buf + len;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;

		if (parse_line(d, s, e))
			return -1;
		s = e + 1;
	}
	return 0;
}

int logindefs_load(struct logindefs *d, const char *path)
{
	struct buf b = BUF_INIT;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1, saved;

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (buf_read_fd(&b, fd, LOGINDEFS_MAX) == 0)
		rc = logindefs_parse(d, b.data ? b.data : "", b.len);
	saved = errno;
	close(fd);
	buf_free(&b);
	errno = saved;
	return rc;
}

const char *logindefs_get(const struct logindefs *d, const char *key)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->keys[i], key))
			return d->vals[i];
	return NULL;
}

int logindefs_yes(const struct logindefs *d, const char *key)
{
	const char *v = logindefs_get(d, key);

	return v && !strcasecmp(v, "yes");
}

void logindefs_free(struct logindefs *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->keys[i]);
		free(d->vals[i]);
	}
	free(d->keys);
	free(d->vals);
	d->keys = d->vals = NULL;
	d->n = 0;
}
