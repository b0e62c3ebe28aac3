/* imgconfig: render and write the image configuration files of spec §4.7. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>
#include <wctype.h>

#include "base/io.h"
#include "base/safepath.h"
#include "image/imgconfig.h"

static locale_t utf8_loc;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void utf8_init(void)
{
	utf8_loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* Decode one UTF-8 character by hand (used when no UTF-8 locale exists): its length and value,
 * or 0 for an invalid, overlong, surrogate or truncated sequence. */
static size_t utf8_decode(const unsigned char *s, wchar_t *wc)
{
	static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
	unsigned v;

	if (!n || s[0] > 0xf4)
		return 0;
	v = s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*wc = (wchar_t)v;
	return n;
}

/* Length of the printable multibyte character starting at S (a byte >= 0x80), or 0 when the
 * bytes there are invalid or not printable: what bash's mbrtowc+iswprint test decides. */
static size_t mb_printable(const char *s)
{
	mbstate_t st;
	wchar_t wc = 0;
	size_t n;
	locale_t old;

	pthread_once(&utf8_once, utf8_init);
	if (!utf8_loc) {
		n = utf8_decode((const unsigned char *)s, &wc);
		return n && wc >= 0xa0 ? n : 0;
	}
	memset(&st, 0, sizeof(st));
	old = uselocale(utf8_loc);
	n = mbrtowc(&wc, s, strnlen(s, MB_LEN_MAX), &st);
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0 || !iswprint(wc))
		n = 0;
	uselocale(old);
	return n;
}

static int ascii_print(unsigned char c)
{
	return c >= 0x20 && c < 0x7f;
}

/* Does bash's @Q need the $'...' form for S? */
static int needs_ansic(const char *s)
{
	while (*s) {
		unsigned char c = (unsigned char)*s;
		size_t n = 1;

		if (c >= 0x80 && !(n = mb_printable(s)))
			return 1;
		if (c < 0x80 && !ascii_print(c))
			return 1;
		s += n;
	}
	return 0;
}

/* The escape letter bash's $'...' uses for C, or 0. */
static char ansic_letter(unsigned char c)
{
	static const char from[] = "\033\a\v\b\f\n\r\t\\'", to[] = "Eavbfnrt\\'";
	const char *p = c ? strchr(from, c) : NULL;

	return p ? to[p - from] : 0;
}

static int quote_ansic(struct buf *b, const char *s)
{
	int rc = buf_adds(b, "$'");

	while (!rc && *s) {
		unsigned char c = (unsigned char)*s;
		size_t n = c >= 0x80 ? mb_printable(s) : 0;
		char e = ansic_letter(c);

		if (e)
			rc = buf_printf(b, "\\%c", e);
		else if (ascii_print(c))
			rc = buf_addc(b, (char)c);
		else if (n)
			rc = buf_add(b, s, n);
		else
			rc = buf_printf(b, "\\%03o", c);
		s += n ? n : 1;
	}
	return rc ? rc : buf_addc(b, '\'');
}

int imgconfig_quote(struct buf *b, const char *word)
{
	int rc;

	if (needs_ansic(word))
		return quote_ansic(b, word);
	if (!strcmp(word, "'"))
		return buf_adds(b, "\\'"); /* bash's special case for a lone quote */
	rc = buf_addc(b, '\'');
	for (const char *p = word; !rc && *p; p++)
		rc = *p == '\'' ? buf_adds(b, "'\\''") : buf_addc(b, *p);
	return rc ? rc : buf_addc(b, '\'');
}

int imgconfig_fstab_escape(struct buf *b, const char *s)
{
	int rc = 0;

	for (; !rc && *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\\')
			rc = buf_printf(b, "\\%03o", (unsigned char)*s);
		else
			rc = buf_addc(b, *s);
	}
	return rc;
}

/* A JSON scalar as jq -r prints it, for the types images use (strings, integers). */
static const char *scalar(json_t v, char *tmp, size_t len)
{
	long long n;

	if (json_string(v))
		return json_string(v);
	if (json_integer(v, &n) == 0) {
		snprintf(tmp, len, "%lld", n);
		return tmp;
	}
	return NULL;
}

/* Append S with every newline turned into a space (one comment line per label). */
static int add_oneline(struct buf *b, const char *s)
{
	int rc = 0;

	for (; !rc && *s; s++)
		rc = buf_addc(b, *s == '\n' || *s == '\r' ? ' ' : *s);
	return rc;
}

/* Append S for use inside double quotes in sh: \ " $ ` escaped. */
static int add_dquoted(struct buf *b, const char *s)
{
	int rc = buf_addc(b, '"');

	for (; !rc && *s; s++) {
		if (strchr("\\\"$`", *s))
			rc = buf_addc(b, '\\');
		if (!rc)
			rc = buf_addc(b, *s);
	}
	return rc ? rc : buf_addc(b, '"');
}

/* The "config" object: "config" in image configs and lower-cased inspect output. */
static json_t config_obj(json_t cfg)
{
	json_t c = json_get(cfg, "config");

	return c ? c : json_get(cfg, "Config");
}

/* The comment block: provenance, then one line per label, then a blank line. */
static int render_comments(json_t labels, const char *uri, struct buf *b)
{
	char tmp[32];
	int rc = buf_adds(b, "# enroot-provenance: ");

	rc = rc ? rc : add_oneline(b, uri ? uri : "");
	rc = rc ? rc : buf_addc(b, '\n');
	for (size_t i = 0; !rc && i < json_object_len(labels); i++) {
		const char *v = scalar(json_object_value(labels, i), tmp, sizeof(tmp));

		if (!v)
			continue;
		rc = buf_adds(b, "# ");
		rc = rc ? rc : add_oneline(b, json_object_key(labels, i));
		rc = rc ? rc : buf_addc(b, ' ');
		rc = rc ? rc : add_oneline(b, v);
		rc = rc ? rc : buf_addc(b, '\n');
	}
	return rc ? rc : buf_addc(b, '\n');
}

/* Append the quoted string elements of the JSON array ARR, separated by spaces, as bash
 * expands ${ARR[@]@Q} in a here-document. */
static int render_words(json_t arr, struct buf *b)
{
	char tmp[32];
	int rc = 0, first = 1;

	for (size_t i = 0; !rc && i < json_array_len(arr); i++) {
		const char *w = scalar(json_array_at(arr, i), tmp, sizeof(tmp));

		if (!w)
			continue;
		rc = first ? 0 : buf_addc(b, ' ');
		rc = rc ? rc : imgconfig_quote(b, w);
		first = 0;
	}
	return rc ? rc : buf_add(b, "", 0);
}

/* /etc/rc: comments, cd to the WorkingDir, source rc.local, exec entrypoint + command.  The
 * exec lines keep enroot's spacing: "exec EP \"$@\"" and "exec EP CMD", EP or CMD empty. */
static int render_rc(json_t c, const char *uri, const char *workdir, struct buf *b)
{
	struct buf ep = BUF_INIT, cmd = BUF_INIT;
	int rc = render_comments(json_get(c, "Labels"), uri, b);

	rc = rc ? rc : render_words(json_get(c, "Entrypoint"), &ep);
	rc = rc ? rc : render_words(json_get(c, "Cmd"), &cmd);
	if (!rc && !ep.len && !cmd.len)
		rc = buf_adds(&cmd, "'/bin/sh'");
	rc = rc ? rc : buf_adds(b, "mkdir -p ");
	rc = rc ? rc : add_dquoted(b, workdir);
	rc = rc ? rc : buf_adds(b, " 2> /dev/null\ncd ");
	rc = rc ? rc : add_dquoted(b, workdir);
	rc = rc ? rc
		: buf_adds(b, " && unset OLDPWD || exit 1\n\n"
			      "if [ -s /etc/rc.local ]; then\n    . /etc/rc.local\nfi\n\n");
	rc = rc ? rc
		: buf_printf(
		      b, "if [ $# -gt 0 ]; then\n    exec %s \"$@\"\nelse\n    exec %s %s\nfi\n",
		      ep.data, ep.data, cmd.data);
	buf_free(&ep);
	buf_free(&cmd);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The Volumes keys, sorted as jq's `keys` sorts them (by code point = by UTF-8 bytes). */
static int render_volumes(json_t vols, struct imgconfig *ic)
{
	size_t n = json_object_len(vols), k = 0;
	int rc = 0;

	ic->volumes = calloc(n + 1, sizeof(char *));
	if (!ic->volumes)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!(ic->volumes[k++] = strdup(json_object_key(vols, i))))
			return -1;
	qsort(ic->volumes, k, sizeof(char *), cmp_str);
	for (size_t i = 0; !rc && i < k; i++) {
		rc = buf_adds(&ic->fstab, "${ENROOT_ROOTFS}");
		rc = rc ? rc : imgconfig_fstab_escape(&ic->fstab, ic->volumes[i]);
		rc = rc ? rc : buf_addc(&ic->fstab, ' ');
		rc = rc ? rc : imgconfig_fstab_escape(&ic->fstab, ic->volumes[i]);
		rc = rc ? rc : buf_adds(&ic->fstab, " none x-create=dir,bind,rw,nosuid,nodev\n");
	}
	return rc;
}

static int render_env(json_t env, struct buf *b)
{
	char tmp[32];
	int rc = 0;

	for (size_t i = 0; !rc && i < json_array_len(env); i++) {
		const char *v = scalar(json_array_at(env, i), tmp, sizeof(tmp));

		if (v)
			rc = buf_printf(b, "%s\n", v);
	}
	return rc;
}

static const char rclocal_text[] =
    "# This file is sourced by /etc/rc when the container starts.\n"
    "# It can be used to manipulate the entrypoint or the command of the container.\n";

long long imgconfig_time(const char *s)
{
	struct tm tm = {0};
	int off = 0, n = 0;
	long long t;
	char *end;

	if (!s || !(end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
		return -1;
	if (*end == '.')
		for (end++; *end >= '0' && *end <= '9'; end++)
			n++;
	if (end[-1] == '.' && !n)
		return -1;
	if (*end == '+' || *end == '-') {
		int h, m;
		if (sscanf(end + 1, "%2d:%2d", &h, &m) != 2 || strlen(end) != 6)
			return -1;
		off = (*end == '-' ? -1 : 1) * (h * 3600 + m * 60);
	} else if (strcmp(end, "Z") && strcmp(end, "z")) {
		return -1;
	}
	t = (long long)timegm(&tm) - off;
	return t < 0 ? -1 : t;
}

int imgconfig_render(json_t cfg, const char *uri, struct imgconfig *ic)
{
	json_t c = config_obj(cfg);
	const char *wd = json_string(json_get(c, "WorkingDir"));
	const char *arch = json_string(json_get(cfg, "architecture"));
	int rc;

	memset(ic, 0, sizeof(*ic));
	if (!arch)
		arch = json_string(json_get(cfg, "Architecture"));
	ic->workdir = strdup(wd && *wd ? wd : "/");
	ic->arch = arch ? strdup(arch) : NULL;
	ic->created = imgconfig_time(json_string(json_get(cfg, "created")));
	if (ic->created < 0)
		ic->created = 0;
	rc = !ic->workdir || (arch && !ic->arch) ? -1 : 0;
	rc = rc ? rc : render_rc(c, uri, ic->workdir, &ic->rc);
	rc = rc ? rc : buf_adds(&ic->rclocal, rclocal_text);
	rc = rc ? rc : render_volumes(json_get(c, "Volumes"), ic);
	rc = rc ? rc : render_env(json_get(c, "Env"), &ic->environment);
	/* Empty files still exist: make the buffers non-NULL. */
	rc = rc ? rc : buf_add(&ic->fstab, "", 0);
	rc = rc ? rc : buf_add(&ic->environment, "", 0);
	if (rc) {
		imgconfig_free(ic);
		errno = ENOMEM;
	}
	return rc;
}

void imgconfig_free(struct imgconfig *ic)
{
	buf_free(&ic->rc);
	buf_free(&ic->rclocal);
	buf_free(&ic->fstab);
	buf_free(&ic->environment);
	for (size_t i = 0; ic->volumes && ic->volumes[i]; i++)
		free(ic->volumes[i]);
	free(ic->volumes);
	free(ic->workdir);
	free(ic->arch);
	memset(ic, 0, sizeof(*ic));
}

/* Give the directory FD u+rwx while we write into it; *SAVED gets the mode to put back, or
 * (mode_t)-1 when nothing changed. */
static int dir_unlock(int fd, mode_t *saved)
{
	struct stat st;

	*saved = (mode_t)-1;
	if (fstat(fd, &st) < 0)
		return -1;
	if ((st.st_mode & 0700) == 0700)
		return 0;
	if (safepath_fchmod(fd, (st.st_mode & 07777) | 0700) < 0)
		return -1;
	*saved = st.st_mode & 07777;
	return 0;
}

static void dir_relock(int fd, mode_t saved)
{
	if (saved != (mode_t)-1)
		(void)safepath_fchmod(fd, saved);
}

/* Create directory NAME (mode 0755) in the directory PARENT, unlocking PARENT if needed. */
static int mkdir_in(int parent, const char *name)
{
	mode_t saved;
	int rc;

	if (!mkdirat(parent, name, 0755))
		return fchmodat(parent, name, 0755, 0);
	if (errno == EEXIST)
		return 0;
	if (errno != EACCES || dir_unlock(parent, &saved) < 0)
		return -1;
	rc = mkdirat(parent, name, 0755);
	if (!rc)
		rc = fchmodat(parent, name, 0755, 0);
	else if (errno == EEXIST)
		rc = 0;
	dir_relock(parent, saved);
	return rc;
}

/* Open the directory PATH (any form; ".." cannot climb out) under ROOT_FD as O_PATH, creating
 * the missing components with mode 0755, like `mkdir -p` run inside the root. */
static int mkdir_p(int root_fd, const char *path)
{
	char norm[PATH_MAX], dir[PATH_MAX];
	const char *base;
	int fd, pfd;

	if (safepath_norm_clamped(path, norm, sizeof(norm)) < 0)
		return -1;
	fd = safepath_open(root_fd, norm, O_PATH | O_DIRECTORY);
	if (fd >= 0 || errno != ENOENT || !*norm)
		return fd;
	safepath_split(norm, dir, &base);
	pfd = mkdir_p(root_fd, dir);
	if (pfd < 0)
		return -1;
	fd = mkdir_in(pfd, base) < 0 ? -1 : safepath_open(root_fd, norm, O_PATH | O_DIRECTORY);
	close(pfd);
	return fd;
}

/* Replace whatever is at NAME in DIR (never followed) by a regular file holding B. */
/* Write NAME in DIR; its times become T (the image's created time) when T > 0. */
static int put_file(int dir, const char *name, const struct buf *b, long long t)
{
	struct timespec ts[2] = {{(time_t)t, 0}, {(time_t)t, 0}};
	int fd, rc = 0;

	if (safepath_remove(dir, name) < 0)
		return -1;
	fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	rc = io_write_all(fd, b->data, b->len);
	if (!rc)
		rc = fchmod(fd, 0644);
	if (!rc && t > 0)
		rc = futimens(fd, ts);
	if (close(fd) < 0)
		rc = -1;
	return rc;
}

static int set_bad(char *bad, size_t badlen, const char *what)
{
	int saved = errno;

	if (bad && badlen)
		snprintf(bad, badlen, "%s", what);
	errno = saved;
	return -1;
}

/* Write the four files into etc/ (made if missing). */
static int write_etc(int root_fd, const struct imgconfig *ic, char *bad, size_t badlen)
{
	static const char *const names[] = {"rc", "rc.local", "fstab", "environment"};
	const struct buf *bufs[] = {&ic->rc, &ic->rclocal, &ic->fstab, &ic->environment};
	int etc = mkdir_p(root_fd, "etc"), rc = 0;
	char path[32];
	mode_t saved;

	if (etc < 0)
		return set_bad(bad, badlen, "/etc");
	if (dir_unlock(etc, &saved) < 0) {
		close(etc);
		return set_bad(bad, badlen, "/etc");
	}
	for (size_t i = 0; !rc && i < 4; i++) {
		rc = put_file(etc, names[i], bufs[i], ic->created);
		if (rc) {
			snprintf(path, sizeof(path), "/etc/%s", names[i]);
			set_bad(bad, badlen, path);
		}
	}
	dir_relock(etc, saved);
	close(etc);
	return rc;
}

int imgconfig_write(int root_fd, const struct imgconfig *ic, char *bad, size_t badlen)
{
	int fd;

	if (write_etc(root_fd, ic, bad, badlen) < 0)
		return -1;
	fd = mkdir_p(root_fd, ic->workdir);
	if (fd < 0)
		return set_bad(bad, badlen, ic->workdir);
	close(fd);
	/* Best effort: a volume that cannot be made here is made (mode 0000) at start. */
	for (size_t i = 0; ic->volumes && ic->volumes[i]; i++)
		if ((fd = mkdir_p(root_fd, ic->volumes[i])) >= 0)
			close(fd);
	return 0;
}

int imgconfig_check_arch(const struct imgconfig *ic, const char *want, char *why, size_t len)
{
	if (!want || (ic->arch && !strcmp(ic->arch, want)))
		return 0;
	snprintf(why, len, "Image architecture doesn't match the requested one: %s != %s",
		 ic->arch ? ic->arch : "", want);
	return -1;
}

int imgconfig_apply(int root_fd, json_t cfg, const char *uri, const char *arch, char *why,
		    size_t len)
{
	struct imgconfig ic;
	char bad[PATH_MAX] = "";
	int saved, warn;

	if (imgconfig_render(cfg, uri, &ic) < 0) {
		snprintf(why, len, "failed to render image configuration: %s", strerror(errno));
		return -1;
	}
	if (imgconfig_write(root_fd, &ic, bad, sizeof(bad)) < 0) {
		saved = errno;
		snprintf(why, len, "failed to write image configuration: %s: %s", bad,
			 strerror(saved));
		imgconfig_free(&ic);
		errno = saved;
		return -1;
	}
	warn = imgconfig_check_arch(&ic, arch, why, len) < 0;
	imgconfig_free(&ic);
	return warn;
}
