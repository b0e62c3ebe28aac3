/* envfile: ${NAME} substitution, formatting and merging of environment files (spec §8.4).
 * Formatting matches enroot's sed pass line for line; substitution matches its awk pass. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "base/envfile.h"

static int is_name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

/* Blanks as sed's [[:space:]] sees them inside one line. */
static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Length of the NAME at s (0 when s does not start with one). */
static size_t name_len(const char *s, size_t len)
{
	size_t i = 0;

	if (!len || !is_name_start(s[0]))
		return 0;
	while (i < len && is_name_char(s[i]))
		i++;
	return i;
}

/* If in[i] starts "${NAME}", return the NAME length and set *end past the '}'; else 0. */
static size_t braced_name(const char *in, size_t len, size_t i, size_t *end)
{
	size_t n;

	if (len - i < 4 || in[i] != '$' || in[i + 1] != '{')
		return 0;
	n = name_len(in + i + 2, len - i - 2);
	if (!n || i + 2 + n >= len || in[i + 2 + n] != '}')
		return 0;
	*end = i + 3 + n;
	return n;
}

int envfile_subst(const char *in, size_t len, struct buf *out)
{
	size_t i = 0, start = 0, end, n;

	while (i < len) {
		n = braced_name(in, len, i, &end);
		if (!n) {
			i++;
			continue;
		}
		char *name = strndup(in + i + 2, n);
		if (!name)
			return -1;
		const char *val = getenv(name);
		free(name);
		if (buf_add(out, in + start, i - start) < 0 || (val && buf_adds(out, val) < 0))
			return -1;
		i = start = end;
	}
	return buf_add(out, in + start, len - start);
}

/* The value with one pair of quotes removed: VALUE is <q>X<q>[blanks], <q> one of " '. */
static void unquote(const char **val, size_t *vlen)
{
	const char *v = *val;
	size_t n = *vlen;

	while (n && is_blank(v[n - 1]))
		n--;
	if (n < 2 || (v[0] != '"' && v[0] != '\'') || (v[n - 1] != '"' && v[n - 1] != '\''))
		return;
	*val = v + 1;
	*vlen = n - 2;
}

/* Format one line that has already been substituted. */
static int format_plain(const char *line, size_t len, struct buf *out)
{
	size_t n;
	const char *val;
	size_t vlen;

	while (len && is_blank(*line)) {
		line++;
		len--;
	}
	n = name_len(line, len);
	if (!n || n == len || line[n] != '=')
		return 0;
	if (n >= 7 && !strncmp(line, "ENROOT_", 7))
		return 0;
	val = line + n + 1;
	vlen = len - n - 1;
	unquote(&val, &vlen);
	if (buf_add(out, line, n + 1) < 0 || buf_add(out, val, vlen) < 0)
		return -1;
	return buf_addc(out, '\n');
}

/* Format every line of text, which is already substituted. */
static int format_text(const char *text, size_t len, struct buf *out)
{
	while (len) {
		const char *nl = memchr(text, '\n', len);
		size_t n = nl ? (size_t)(nl - text) : len;

		if (format_plain(text, n, out) < 0)
			return -1;
		if (!nl)
			break;
		text += n + 1;
		len -= n + 1;
	}
	return 0;
}

int envfile_format(const char *text, size_t len, int subst, struct buf *out)
{
	struct buf tmp = BUF_INIT;
	int ret;

	if (!subst)
		return format_text(text, len, out);
	if (envfile_subst(text, len, &tmp) < 0) {
		buf_free(&tmp);
		return -1;
	}
	ret = format_text(tmp.data, tmp.len, out);
	buf_free(&tmp);
	return ret;
}

int envfile_format_line(const char *line, size_t len, int subst, struct buf *out)
{
	return envfile_format(line, len, subst, out);
}

struct entry {
	const char *line;
	size_t len;  /* without the newline */
	size_t name; /* length of NAME */
	size_t idx;
	int keep;
};

/* Order by name, then by position, so each name's last occurrence ends its group. */
static int by_name(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	size_t n = x->name < y->name ? x->name : y->name;
	int c = memcmp(x->line, y->line, n);

	if (c)
		return c;
	if (x->name != y->name)
		return x->name < y->name ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int same_name(const struct entry *x, const struct entry *y)
{
	return x->name == y->name && !memcmp(x->line, y->line, x->name);
}

static int by_idx(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Split text into NAME=VALUE entries; returns the count, or -1 (ENOMEM). */
static ssize_t split_entries(const char *text, size_t len, struct entry **out)
{
	struct entry *e = NULL, *grown;
	size_t n = 0, cap = 0;

	while (len) {
		const char *nl = memchr(text, '\n', len);
		size_t l = nl ? (size_t)(nl - text) : len, nm = name_len(text, l);

		if (nm && nm < l && text[nm] == '=') {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				grown = realloc(e, cap * sizeof(*e));
				if (!grown) {
					free(e);
					return -1;
				}
				e = grown;
			}
			e[n] = (struct entry){text, l, nm, n, 0};
			n++;
		}
		text += l + (nl ? 1 : 0);
		len -= l + (nl ? 1 : 0);
	}
	*out = e;
	return (ssize_t)n;
}

int envfile_merge(const char *text, size_t len, struct buf *out)
{
	struct entry *e = NULL;
	ssize_t n = split_entries(text, len, &e);
	int ret = 0;

	if (n < 0)
		return -1;
	if (n > 1)
		qsort(e, (size_t)n, sizeof(*e), by_name);
	for (ssize_t i = 0; i < n; i++)
		e[i].keep = i + 1 == n || !same_name(&e[i], &e[i + 1]);
	if (n > 1)
		qsort(e, (size_t)n, sizeof(*e), by_idx);
	for (ssize_t i = 0; i < n && !ret; i++)
		if (e[i].keep && (buf_add(out, e[i].line, e[i].len) < 0 || buf_addc(out, '\n') < 0))
			ret = -1;
	free(e);
	return ret;
}
