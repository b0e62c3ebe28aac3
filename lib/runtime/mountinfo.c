/* mountinfo: parse /proc/self/mountinfo lines of the form (proc_pid_mountinfo(5))
 *   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 * into entries pointing into one copy of the text. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "runtime/mountinfo.h"

/* mountinfo can be large on busy hosts; bound it anyway. */
#define MOUNTINFO_MAX (64 << 20)

static struct mountinfo cached;
static int cached_ok;

/* Decode the \NNN octal escapes the kernel writes for space, tab, newline and backslash. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* Cut the next space-separated field off *p. */
static char *field(char **p)
{
	char *s = *p, *sp;

	if (!s)
		return NULL;
	sp = strchr(s, ' ');
	if (sp) {
		*sp = '\0';
		*p = sp + 1;
	} else {
		*p = NULL;
	}
	return s;
}

static int parse_line(char *line, struct mountinfo_entry *e)
{
	char *p = line, *f[6], *sep;

	for (int i = 0; i < 6; i++)
		if (!(f[i] = field(&p)))
			return -1;
	if (!p || sscanf(f[0], "%d", &e->id) != 1 || sscanf(f[1], "%d", &e->parent) != 1 ||
	    sscanf(f[2], "%u:%u", &e->major, &e->minor) != 2)
		return -1;
	/* The optional fields end at a lone "-". */
	sep = !strncmp(p, "- ", 2) ? p : strstr(p, " - ");
	if (!sep)
		return -1;
	e->optional = p;
	if (sep == p) {
		e->optional = "";
		p += 2;
	} else {
		*sep = '\0';
		p = sep + 3;
	}
	e->root = f[3];
	e->mountpoint = f[4];
	e->options = f[5];
	if (!(e->fstype = field(&p)) || !(e->source = field(&p)))
		return -1;
	e->super_options = p ? p : "";
	unescape(e->root);
	unescape(e->mountpoint);
	unescape(e->source);
	return 0;
}

int mountinfo_parse(struct mountinfo *mi, const char *text, size_t len)
{
	size_t cap = 0;
	char *line, *next;

	memset(mi, 0, sizeof(*mi));
	if (!(mi->text = malloc(len + 1)))
		return -1;
	memcpy(mi->text, text, len);
	mi->text[len] = '\0';
	for (line = mi->text; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (mi->n == cap) {
			void *p = realloc(mi->e, (cap = cap ? cap * 2 : 64) * sizeof(*mi->e));
			if (!p)
				goto err;
			mi->e = p;
		}
		if (parse_line(line, &mi->e[mi->n]) < 0) {
			errno = EINVAL;
			goto err;
		}
		mi->n++;
	}
	return 0;
err:
	mountinfo_free(mi);
	return -1;
}

int mountinfo_load(struct mountinfo *mi, const char *path)
{
	struct buf b = BUF_INIT;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

	if (fd < 0)
		return -1;
	if (buf_read_fd(&b, fd, MOUNTINFO_MAX) == 0)
		rc = mountinfo_parse(mi, b.data ? b.data : "", b.len);
	close(fd);
	buf_free(&b);
	return rc;
}

void mountinfo_free(struct mountinfo *mi)
{
	free(mi->e);
	free(mi->text);
	memset(mi, 0, sizeof(*mi));
}

const struct mountinfo *mountinfo_self(void)
{
	if (!cached_ok) {
		if (mountinfo_load(&cached, "/proc/self/mountinfo") < 0)
			return NULL;
		cached_ok = 1;
	}
	return &cached;
}

void mountinfo_invalidate(void)
{
	if (cached_ok)
		mountinfo_free(&cached);
	cached_ok = 0;
}

/* Is mountpoint mp equal to path or one of its parent directories? */
static size_t prefix_len(const char *mp, const char *path)
{
	size_t n = strlen(mp);

	if (!strcmp(mp, "/"))
		return 1;
	if (strncmp(mp, path, n) || (path[n] != '\0' && path[n] != '/'))
		return 0;
	return n;
}

const struct mountinfo_entry *mountinfo_find(const struct mountinfo *mi, const char *path)
{
	const struct mountinfo_entry *best = NULL;
	size_t best_len = 0;

	for (size_t i = 0; i < mi->n; i++) {
		size_t n = prefix_len(mi->e[i].mountpoint, path);
		if (n && n >= best_len) {
			best = &mi->e[i];
			best_len = n;
		}
	}
	return best;
}

int mountinfo_has_option(const char *list, const char *opt)
{
	size_t n = strlen(opt);

	while (*list) {
		size_t len = strcspn(list, ",");
		if (len == n && !strncmp(list, opt, n))
			return 1;
		list += len + (list[len] == ',');
	}
	return 0;
}

/* Does the space-separated optional field list contain a tag "tag:..." or "tag"? */
static int has_tag(const char *opt, const char *tag)
{
	size_t n = strlen(tag);

	for (const char *p = opt; (p = strstr(p, tag)); p += n)
		if ((p == opt || p[-1] == ' ') && (p[n] == ':' || p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

const char *mountinfo_propagation(const struct mountinfo_entry *e)
{
	int shared = has_tag(e->optional, "shared"), slave = has_tag(e->optional, "master");

	if (shared && slave)
		return "shared,slave";
	if (shared)
		return "shared";
	if (slave)
		return "slave";
	if (has_tag(e->optional, "unbindable"))
		return "unbindable";
	return "private";
}
