/* store: entries, locks and leases of the node image store (see store.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/config.h"
#include "base/io.h"
#include "base/sha256.h"
#include "image/store.h"

char *store_default_dir(void)
{
	const char *v = getenv("ENROOT_STORE_PATH");
	char *cache, *dir;

	if (v && *v)
		return strdup(v);
	if (!(cache = config_path("ENROOT_CACHE_PATH")))
		return NULL;
	if (asprintf(&dir, "%s/store", cache) < 0)
		dir = NULL;
	free(cache);
	return dir;
}

int store_open(struct store *s, const char *dir, int create)
{
	s->fd = -1;
	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -1;
	if ((s->fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	if (create && ((mkdirat(s->fd, "leases", 0700) < 0 && errno != EEXIST) ||
		       (mkdirat(s->fd, "refs", 0700) < 0 && errno != EEXIST))) {
		close(s->fd);
		return -1;
	}
	if (!(s->dir = strdup(dir))) {
		close(s->fd);
		return errno = ENOMEM, -1;
	}
	return 0;
}

void store_close(struct store *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->dir);
	s->dir = NULL;
	s->fd = -1;
}

void store_key(const char *digest, const char *arch, const char *options, char key[STORE_KEY_LEN])
{
	struct sha256 h;
	unsigned char d[SHA256_LEN];

	sha256_init(&h);
	sha256_update(&h, digest, strlen(digest));
	sha256_update(&h, "\n", 1);
	sha256_update(&h, arch, strlen(arch));
	sha256_update(&h, "\n", 1);
	sha256_update(&h, options, strlen(options));
	sha256_final(&h, d);
	sha256_tohex(d, key);
}

/* NAME of KEY with SUFFIX into BUF. */
static const char *name_of(char *buf, size_t len, const char *key, const char *suffix)
{
	snprintf(buf, len, "%s%s", key, suffix);
	return buf;
}

char *store_image_path(const struct store *s, const char *key)
{
	char *p;

	return asprintf(&p, "%s/%s.sqsh", s->dir, key) < 0 ? NULL : p;
}

int store_lock(struct store *s, const char *key, int how)
{
	char name[96];
	int fd = openat(s->fd, name_of(name, sizeof(name), key, ".lock"),
			O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return -1;
	while (flock(fd, how) < 0) {
		if (errno != EINTR) {
			int saved = errno;
			close(fd);
			return errno = saved, -1;
		}
	}
	return fd;
}

/* One "NAME VALUE" line of a meta file into M. */
static void meta_line(struct store_meta *m, char *line)
{
	char *v = strchr(line, ' ');
	char **str = NULL;
	long long *num = NULL;

	if (!v)
		return;
	*v++ = '\0';
	if (!strcmp(line, "reference"))
		str = &m->reference;
	else if (!strcmp(line, "digest"))
		str = &m->digest;
	else if (!strcmp(line, "arch"))
		str = &m->arch;
	else if (!strcmp(line, "options"))
		str = &m->options;
	else if (!strcmp(line, "sha256"))
		str = &m->sha256;
	else if (!strcmp(line, "size"))
		num = &m->size;
	else if (!strcmp(line, "created"))
		num = &m->created;
	if (str && !*str)
		*str = strdup(v);
	if (num)
		*num = strtoll(v, NULL, 10);
}

int store_meta_read(struct store *s, const char *key, struct store_meta *m)
{
	char name[96];
	struct buf b = BUF_INIT;
	struct stat st;
	int fd;

	memset(m, 0, sizeof(*m));
	fd = openat(s->fd, name_of(name, sizeof(name), key, ".meta"),
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || buf_read_fd(&b, fd, 65536) < 0) {
		int saved = errno;
		close(fd);
		buf_free(&b);
		return errno = saved, -1;
	}
	close(fd);
	m->used = st.st_mtime;
	for (char *save = NULL, *l = strtok_r(b.data ? b.data : "", "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save))
		meta_line(m, l);
	buf_free(&b);
	if (!m->reference || !m->digest || !m->arch || !m->options || !m->sha256) {
		store_meta_free(m);
		return errno = EINVAL, -1;
	}
	return 0;
}

/* Append "NAME VALUE\n" to B with newlines in VALUE made spaces. */
static int meta_put(struct buf *b, const char *name, const char *value)
{
	size_t start = b->len;

	if (buf_printf(b, "%s %s\n", name, value) < 0)
		return -1;
	for (size_t i = start + strlen(name) + 1; i + 1 < b->len; i++)
		if (b->data[i] == '\n' || b->data[i] == '\r')
			b->data[i] = ' ';
	return 0;
}

int store_meta_write(struct store *s, const char *key, const struct store_meta *m)
{
	char tmp[128], name[96];
	struct buf b = BUF_INIT;
	int fd, rc = -1, saved;

	if (meta_put(&b, "reference", m->reference) < 0 || meta_put(&b, "digest", m->digest) < 0 ||
	    meta_put(&b, "arch", m->arch) < 0 || meta_put(&b, "options", m->options) < 0 ||
	    meta_put(&b, "sha256", m->sha256) < 0 ||
	    buf_printf(&b, "size %lld\ncreated %lld\n", m->size, m->created) < 0) {
		buf_free(&b);
		return errno = ENOMEM, -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.meta.tmp.%ld", key, (long)getpid());
	fd = openat(s->fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0 && io_write_all(fd, b.data, b.len) == 0 && fsync(fd) == 0 &&
	    renameat(s->fd, tmp, s->fd, name_of(name, sizeof(name), key, ".meta")) == 0)
		rc = 0;
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlinkat(s->fd, tmp, 0);
	buf_free(&b);
	return errno = saved, rc;
}

void store_meta_free(struct store_meta *m)
{
	free(m->reference);
	free(m->digest);
	free(m->arch);
	free(m->options);
	free(m->sha256);
	memset(m, 0, sizeof(*m));
}

int store_has(struct store *s, const char *key)
{
	char name[96];
	struct stat st;

	return fstatat(s->fd, name_of(name, sizeof(name), key, ".sqsh"), &st,
		       AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode) &&
	       fstatat(s->fd, name_of(name, sizeof(name), key, ".meta"), &st,
		       AT_SYMLINK_NOFOLLOW) == 0;
}

int store_touch(struct store *s, const char *key)
{
	char name[96];

	return utimensat(s->fd, name_of(name, sizeof(name), key, ".meta"), NULL,
			 AT_SYMLINK_NOFOLLOW);
}

int store_remove(struct store *s, const char *key)
{
	char name[96];
	int rc = 0;

	/* The image first: a meta without an image is no entry; the reverse would be one. */
	if (unlinkat(s->fd, name_of(name, sizeof(name), key, ".sqsh"), 0) < 0 && errno != ENOENT)
		rc = -1;
	if (unlinkat(s->fd, name_of(name, sizeof(name), key, ".meta"), 0) < 0 && errno != ENOENT)
		rc = -1;
	return rc;
}

static int is_key(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return n == STORE_KEY_LEN - 1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **store_keys(struct store *s)
{
	int fd = openat(s->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	char **keys = calloc(1, sizeof(char *));
	size_t n = 0;
	struct dirent *de;

	if (!d || !keys) {
		if (fd >= 0 && !d)
			close(fd);
		free(keys);
		return NULL;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char **more;
		if (len != STORE_KEY_LEN - 1 + 5 || strcmp(de->d_name + len - 5, ".meta") ||
		    !is_key(de->d_name, len - 5))
			continue;
		if (!(more = realloc(keys, (n + 2) * sizeof(char *))))
			break;
		keys = more;
		if (!(keys[n] = strndup(de->d_name, len - 5)))
			break;
		keys[++n] = NULL;
	}
	closedir(d);
	qsort(keys, n, sizeof(char *), cmp_str);
	return keys;
}

void store_keys_free(char **keys)
{
	for (size_t i = 0; keys && keys[i]; i++)
		free(keys[i]);
	free(keys);
}

int store_lease_name_ok(const char *name)
{
	if (!isalnum((unsigned char)*name) || strlen(name) > 200)
		return 0;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return 0;
	return 1;
}

/* The start time of PID (clock ticks since boot, /proc/PID/stat field 22); 0 when gone. */
static unsigned long long start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long t = 0;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (!(p = strrchr(buf, ')'))) /* the name may hold spaces and parentheses */
		return 0;
	for (field = 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	if (field == 22)
		t = strtoull(p, NULL, 10);
	return t;
}

int store_lease(struct store *s, const char *name, const char *key, pid_t pid)
{
	char path[256], tmp[280], line[160];
	unsigned long long st = start_time(pid);
	int fd, n, rc = -1, saved;

	if (!store_lease_name_ok(name))
		return errno = EINVAL, -1;
	if (!st)
		return errno = ESRCH, -1;
	snprintf(path, sizeof(path), "leases/%s", name);
	snprintf(tmp, sizeof(tmp), "leases/.%s.tmp.%ld", name, (long)getpid());
	n = snprintf(line, sizeof(line), "%s %ld %llu\n", key, (long)pid, st);
	fd = openat(s->fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0 && io_write_all(fd, line, (size_t)n) == 0 &&
	    renameat(s->fd, tmp, s->fd, path) == 0)
		rc = 0;
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlinkat(s->fd, tmp, 0);
	return errno = saved, rc;
}

int store_release(struct store *s, const char *name)
{
	char path[256];

	if (!store_lease_name_ok(name))
		return errno = EINVAL, -1;
	snprintf(path, sizeof(path), "leases/%s", name);
	return unlinkat(s->fd, path, 0) < 0 && errno != ENOENT ? -1 : 0;
}

/* Lease NAME's key and whether its holder lives: 1 live, 0 stale, -1 unreadable. */
static int lease_read(int dirfd, const char *name, char key[STORE_KEY_LEN])
{
	char buf[256];
	long pid = 0;
	unsigned long long st = 0;
	ssize_t n;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (sscanf(buf, "%64s %ld %llu", key, &pid, &st) != 3 || pid <= 0)
		return -1;
	return start_time((pid_t)pid) == st;
}

/* Append NAME to the comma-separated list *NAMES. */
static void add_name(char **names, const char *name)
{
	char *more;

	if (!names)
		return;
	if (asprintf(&more, "%s%s%s", *names ? *names : "", *names ? "," : "", name) < 0)
		return;
	free(*names);
	*names = more;
}

int store_leases(struct store *s, const char *key, int prune, char **names)
{
	int fd = openat(s->fd, "leases", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	char k[STORE_KEY_LEN];
	struct dirent *de;
	int live = 0;

	if (names)
		*names = NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return errno == ENOENT ? 0 : -1;
	}
	while ((de = readdir(d))) {
		int r;
		if (de->d_name[0] == '.')
			continue;
		r = lease_read(dirfd(d), de->d_name, k);
		if (r == 0 && prune)
			unlinkat(dirfd(d), de->d_name, 0);
		if (r == 1 && (!key || !strcmp(k, key))) {
			live++;
			add_name(names, de->d_name);
		}
	}
	closedir(d);
	return live;
}

int store_hash_fd(int fd, char hex[STORE_KEY_LEN])
{
	static unsigned char buf[1 << 20];
	unsigned char d[SHA256_LEN];
	struct sha256 h;
	off_t off = 0;
	ssize_t n;

	sha256_init(&h);
	while ((n = pread(fd, buf, sizeof(buf), off)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		sha256_update(&h, buf, (size_t)n);
		off += n;
	}
	sha256_final(&h, d);
	sha256_tohex(d, hex);
	return 0;
}

int store_ref_lock(struct store *s, const char *ref)
{
	char hex[SHA256_HEX], path[96];
	int fd;

	sha256_hex(ref, strlen(ref), hex);
	snprintf(path, sizeof(path), "refs/%s", hex);
	if ((fd = openat(s->fd, path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return -1;
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			int saved = errno;
			close(fd);
			return errno = saved, -1;
		}
	return fd;
}

int store_ref_read(int fd, long long since, char *digest, size_t len)
{
	char buf[160], d[100];
	long long when;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%99s %lld", d, &when) != 2 || when < since || strlen(d) >= len)
		return 0;
	snprintf(digest, len, "%s", d);
	return 1;
}

int store_ref_write(int fd, const char *digest)
{
	struct timespec now;
	char line[160];
	int n;

	clock_gettime(CLOCK_REALTIME, &now);
	n = snprintf(line, sizeof(line), "%s %lld\n", digest,
		     (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
	if (ftruncate(fd, 0) < 0 || io_pwrite_all(fd, line, (size_t)n, 0) < 0)
		return -1;
	return 0;
}
