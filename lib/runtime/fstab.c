/* fstab: lex enroot fstab lines, complete their shorthands and parse their options
 * (spec §7.1-§7.3). Pure functions: no allocation, no I/O. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "base/buf.h"
#include "runtime/fstab.h"

#ifndef MS_LAZYTIME
#define MS_LAZYTIME (1 << 25)
#endif

enum opt_kind { K_FLAG, K_CLEAR, K_PROP, K_IGNORE, K_NOFAIL, K_MOVE, K_DETACH };

static const struct known_opt {
	const char *name;
	enum opt_kind kind;
	unsigned long flag; /* the MS_* flag set or cleared, or the propagation flag */
	int prop_index;	    /* for K_PROP */
} known[] = {
    {"ro", K_FLAG, MS_RDONLY, 0},
    {"rw", K_CLEAR, MS_RDONLY, 0},
    {"nosuid", K_FLAG, MS_NOSUID, 0},
    {"suid", K_CLEAR, MS_NOSUID, 0},
    {"nodev", K_FLAG, MS_NODEV, 0},
    {"dev", K_CLEAR, MS_NODEV, 0},
    {"noexec", K_FLAG, MS_NOEXEC, 0},
    {"exec", K_CLEAR, MS_NOEXEC, 0},
    {"sync", K_FLAG, MS_SYNCHRONOUS, 0},
    {"async", K_CLEAR, MS_SYNCHRONOUS, 0},
    {"dirsync", K_FLAG, MS_DIRSYNC, 0},
    {"mand", K_FLAG, MS_MANDLOCK, 0},
    {"nomand", K_CLEAR, MS_MANDLOCK, 0},
    {"noatime", K_FLAG, MS_NOATIME, 0},
    {"atime", K_CLEAR, MS_NOATIME, 0},
    {"nodiratime", K_FLAG, MS_NODIRATIME, 0},
    {"diratime", K_CLEAR, MS_NODIRATIME, 0},
    {"relatime", K_FLAG, MS_RELATIME, 0},
    {"norelatime", K_CLEAR, MS_RELATIME, 0},
    {"strictatime", K_FLAG, MS_STRICTATIME, 0},
    {"nostrictatime", K_CLEAR, MS_STRICTATIME, 0},
    {"iversion", K_FLAG, MS_I_VERSION, 0},
    {"noiversion", K_CLEAR, MS_I_VERSION, 0},
    {"lazytime", K_FLAG, MS_LAZYTIME, 0},
    {"nolazytime", K_CLEAR, MS_LAZYTIME, 0},
    {"silent", K_FLAG, MS_SILENT, 0},
    {"loud", K_CLEAR, MS_SILENT, 0},
    {"remount", K_FLAG, MS_REMOUNT, 0},
    {"bind", K_FLAG, MS_BIND, 0},
    {"rbind", K_FLAG, MS_BIND | MS_REC, 0},
    {"shared", K_PROP, MS_SHARED, FSTAB_PROP_SHARED},
    {"rshared", K_PROP, MS_SHARED | MS_REC, FSTAB_PROP_SHARED},
    {"slave", K_PROP, MS_SLAVE, FSTAB_PROP_SLAVE},
    {"rslave", K_PROP, MS_SLAVE | MS_REC, FSTAB_PROP_SLAVE},
    {"private", K_PROP, MS_PRIVATE, FSTAB_PROP_PRIVATE},
    {"rprivate", K_PROP, MS_PRIVATE | MS_REC, FSTAB_PROP_PRIVATE},
    {"unbindable", K_PROP, MS_UNBINDABLE, FSTAB_PROP_UNBINDABLE},
    {"runbindable", K_PROP, MS_UNBINDABLE | MS_REC, FSTAB_PROP_UNBINDABLE},
    {"defaults", K_IGNORE, 0, 0},
    {"auto", K_IGNORE, 0, 0},
    {"noauto", K_IGNORE, 0, 0},
    {"user", K_IGNORE, 0, 0},
    {"nouser", K_IGNORE, 0, 0},
    {"users", K_IGNORE, 0, 0},
    {"nousers", K_IGNORE, 0, 0},
    {"owner", K_IGNORE, 0, 0},
    {"noowner", K_IGNORE, 0, 0},
    {"group", K_IGNORE, 0, 0},
    {"nogroup", K_IGNORE, 0, 0},
    {"nofail", K_NOFAIL, 0, 0},
    {"x-move", K_MOVE, MS_MOVE, 0},
    {"x-detach", K_DETACH, 0, 0},
};

static const struct known_opt *find_known(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i].name) == len && !memcmp(known[i].name, name, len))
			return &known[i];
	return NULL;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* One field and a blank, with what would split or end it (blanks, newlines, '#', '\\')
 * as \NNN. */
static int add_field(struct buf *b, const char *f)
{
	int rc = 0;

	for (; *f; f++) {
		unsigned char c = (unsigned char)*f;
		if (c == '\\' || c == '#' || c == '\n' || is_blank((char)c))
			rc |= buf_printf(b, "\\%03o", c);
		else
			rc |= buf_addc(b, (char)c);
	}
	return rc | buf_addc(b, ' ');
}

int fstab_add_entry(struct buf *b, const char *source, const char *target, const char *type,
		    const char *options)
{
	size_t len = b->len;

	if (add_field(b, source) | add_field(b, target) | add_field(b, type) |
	    add_field(b, options) | buf_adds(b, "0 0\n")) {
		b->len = len;
		if (b->data)
			b->data[len] = '\0';
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void fstab_unescape(char *s)
{
	char *out = s;

	while (*s) {
		if (s[0] == '\\' && s[1] == '\\') {
			*out++ = '\\';
			s += 2;
			continue;
		}
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7') {
			unsigned v = 0;
			int n = 0;
			while (n < 3 && s[1 + n] >= '0' && s[1 + n] <= '7')
				v = v * 8 + (unsigned)(s[1 + n++] - '0');
			if (v != 0 && v <= 0377) {
				*out++ = (char)v;
				s += 1 + n;
				continue;
			}
		}
		*out++ = *s++;
	}
	*out = '\0';
}

/* Parse a FREQ or PASS field: a decimal int with an optional sign, nothing else. */
static int parse_int(const char *s, int *v)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (end == s || *end || errno || n < INT_MIN || n > INT_MAX) {
		errno = EINVAL;
		return -1;
	}
	*v = (int)n;
	return 0;
}

/* Split the line into at most six fields copied NUL-terminated into e->buf. */
static int split_fields(const char *line, size_t len, struct fstab_entry *e, const char *f[6])
{
	size_t i = 0, o = 0;
	int n = 0;

	while (n < 6) {
		while (i < len && is_blank(line[i]))
			i++;
		if (i >= len || !line[i])
			break;
		f[n++] = e->buf + o;
		while (i < len && line[i] && !is_blank(line[i]))
			e->buf[o++] = line[i++];
		e->buf[o++] = '\0';
	}
	return n;
}

int fstab_parse_line(const char *line, size_t len, struct fstab_entry *e)
{
	const char *f[6] = {"", "", "", "", "", ""};
	int n;

	memset(e, 0, offsetof(struct fstab_entry, buf));
	e->source = e->target = e->type = e->options = "";
	if (len > FSTAB_LINE_MAX - 1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	n = split_fields(line, len, e, f);
	if (n == 0 || f[0][0] == '#')
		return 0;
	for (int i = 0; i < 4 && i < n; i++)
		fstab_unescape((char *)f[i]);
	e->source = f[0];
	e->target = f[1];
	e->type = f[2];
	e->options = f[3];
	if ((n > 4 && parse_int(f[4], &e->freq) < 0) || (n > 5 && parse_int(f[5], &e->pass) < 0))
		return -1;
	if (e->freq != 0 && e->pass == 0)
		e->pass = e->freq;
	return 1;
}

/* The seeds' era spelling of x-create=dir and x-create=file. Other create= values are not
 * ours: they go to mount(2) as data, as before. */
static int old_create(const char *w, size_t len)
{
	return (len == 10 && !memcmp(w, "create=dir", 10)) ||
	       (len == 11 && !memcmp(w, "create=file", 11));
}

int fstab_looks_like_options(const char *s)
{
	if (strchr(s, ','))
		return 1;
	if (!strncmp(s, "x-create=", 9) || old_create(s, strlen(s)))
		return 1;
	return find_known(s, strlen(s)) != NULL;
}

int fstab_complete(struct fstab_entry *e)
{
	/* 1. "SRC opts": the options sit in TARGET. */
	if (*e->target && !*e->type && !*e->options && fstab_looks_like_options(e->target)) {
		e->options = e->target;
		e->type = "none";
		e->target = "";
	}
	/* 2. "SRC DST opts" (pyxis's 3-field form). */
	if (*e->type && !*e->options && fstab_looks_like_options(e->type)) {
		e->options = e->type;
		e->type = "none";
		if (!strcmp(e->target, "none"))
			e->target = "";
	}
	/* 3. tmpfs, 4. any other source: a recursive bind by default. */
	if (!strcmp(e->source, "tmpfs") && (!*e->type || !strcmp(e->type, "none"))) {
		e->type = "tmpfs";
	} else if (*e->source) {
		if (!*e->target)
			e->target = e->source;
		if (!*e->type || !strcmp(e->type, "none")) {
			e->type = "none";
			if (!*e->options)
				e->options = "rbind,x-create=auto";
		}
	}
	/* 5. Anything still missing is an invalid entry. */
	if (!*e->source || !*e->target || !*e->type) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static int parse_create(const char *v, size_t len, struct fstab_opts *o)
{
	if (len == 3 && !memcmp(v, "dir", 3))
		o->create = FSTAB_CREATE_DIR;
	else if (len == 4 && !memcmp(v, "file", 4))
		o->create = FSTAB_CREATE_FILE;
	else if (len == 4 && !memcmp(v, "auto", 4))
		o->create = FSTAB_CREATE_AUTO;
	else
		return -1;
	return 0;
}

/* Apply one option word of length len to o; unknown words are appended to the data. */
static int apply_option(const char *w, size_t len, struct fstab_opts *o, size_t *dlen)
{
	const struct known_opt *k = find_known(w, len);

	if (len >= 9 && !memcmp(w, "x-create=", 9))
		return parse_create(w + 9, len - 9, o);
	if (old_create(w, len))
		return parse_create(w + 7, len - 7, o);
	if (!k) {
		if (*dlen)
			o->data[(*dlen)++] = ',';
		memcpy(o->data + *dlen, w, len);
		*dlen += len;
		o->data[*dlen] = '\0';
		return 0;
	}
	switch (k->kind) {
	case K_FLAG:
	case K_MOVE:
		o->flags |= k->flag;
		break;
	case K_CLEAR:
		o->flags &= ~k->flag;
		break;
	case K_PROP:
		o->propagation[k->prop_index] = k->flag;
		break;
	case K_NOFAIL:
		o->nofail = 1;
		break;
	case K_DETACH:
		o->detach = 1;
		break;
	case K_IGNORE:
		break;
	}
	if (k->flag == MS_SILENT)
		o->quiet = k->kind == K_FLAG;
	return 0;
}

int fstab_parse_options(const char *opts, struct fstab_opts *o)
{
	size_t dlen = 0;

	memset(o, 0, offsetof(struct fstab_opts, data));
	o->data[0] = '\0';
	while (*opts) {
		size_t len = strcspn(opts, ",");
		/* The data can never outgrow the options, but guard the fixed buffer anyway. */
		if (dlen + len + 2 > sizeof(o->data)) {
			errno = E2BIG;
			return -1;
		}
		if (len && apply_option(opts, len, o, &dlen) < 0) {
			errno = EINVAL;
			return -1;
		}
		opts += len;
		if (*opts == ',')
			opts++;
	}
	return 0;
}
