/* hooks: the standard hooks of spec §10 without a shell. Each one appends to
 * $ENROOT_MOUNTS / $ENROOT_ENVIRON or edits files under $ENROOT_ROOTFS, like enroot's. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/child.h"
#include "base/config.h"
#include "base/io.h"
#include "runtime/hooks.h"
#include "runtime/mlx.h"
#include "runtime/mounts.h"

char hooks_error[1024];

static const char *const standard[] = {"aptfix",    "cgroups", "devices", "home",
				       "localtime", "shadow",  "nvidia",  "mellanox"};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	int err = errno;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(hooks_error, sizeof(hooks_error), fmt, ap);
	va_end(ap);
	n = strlen(hooks_error);
	if (n && hooks_error[n - 1] == ':')
		snprintf(hooks_error + n, sizeof(hooks_error) - n, " %s", strerror(err));
	errno = err;
	return -1;
}

const char *hooks_stub(const char *name)
{
	static char stub[256];

	snprintf(stub, sizeof(stub),
		 "#!/bin/sh\n"
		 "# Standard enroot hook: `enroot start` runs it in-process, see enroot-hook(1).\n"
		 "exec enroot-hook %s\n",
		 name);
	return stub;
}

int hooks_known(const char *name)
{
	for (size_t i = 0; i < sizeof(standard) / sizeof(standard[0]); i++)
		if (!strcmp(name, standard[i]))
			return 1;
	return 0;
}

const char *hooks_builtin(const char *path)
{
	char buf[512];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	for (size_t i = 0; i < sizeof(standard) / sizeof(standard[0]); i++)
		if (!strcmp(buf, hooks_stub(standard[i])))
			return standard[i];
	return NULL;
}

/* Open rel under the rootfs, never leaving it (symlinks resolve inside it). */
static int root_open(const char *rel, int flags, mode_t mode)
{
	const char *rootfs = getenv("ENROOT_ROOTFS");
	struct open_how how = {.flags = (unsigned)flags | O_CLOEXEC,
			       .mode = mode,
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	int root, fd;

	if (!rootfs || (root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	fd = (int)syscall(SYS_openat2, root, rel, &how, sizeof(how));
	int err = errno;
	close(root);
	errno = err;
	return fd;
}

/* mkdir one directory rel (its parent must exist) under the rootfs; EEXIST is fine. */
static int root_mkdir(const char *rel, mode_t mode)
{
	char *copy = strdup(rel), *slash;
	int pfd, rc;

	if (!copy)
		return -1;
	slash = strrchr(copy, '/');
	if (slash)
		*slash = '\0';
	pfd = root_open(slash && slash != copy ? copy : "/", O_PATH | O_DIRECTORY, 0);
	rc = pfd < 0 ? -1 : mkdirat(pfd, slash ? slash + 1 : copy, mode);
	if (rc < 0 && errno == EEXIST)
		rc = 0;
	if (pfd >= 0)
		close(pfd);
	free(copy);
	return rc;
}

/* mkdir -p rel under the rootfs: parents 0755, the last one mode. */
static int root_mkdirs(const char *rel, mode_t mode)
{
	char *p = strdup(rel), *s = p;
	int rc = 0;

	while (rc == 0 && p && (s = strchr(s + 1, '/'))) {
		*s = '\0';
		rc = root_mkdir(p, 0755);
		*s = '/';
	}
	if (rc == 0 && p)
		rc = root_mkdir(p, mode);
	free(p);
	return p ? rc : -1;
}

/* Write (or append) text to rel under the rootfs. */
static int root_write(const char *rel, const char *text, size_t len, int append, mode_t mode)
{
	int fd = root_open(rel, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), mode);

	if (fd < 0)
		return -1;
	int rc = io_write_all(fd, text, len), err = errno;
	close(fd);
	errno = err;
	return rc;
}

/* Append text to the file named by the environment variable var (ENROOT_MOUNTS/ENVIRON). */
static int append_to(const char *var, const char *text, size_t len)
{
	const char *path = getenv(var);
	int fd = path ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600) : -1;

	if (fd < 0)
		return fail("failed to open: %s:", path ? path : var);
	int rc = io_write_all(fd, text, len), err = errno;
	close(fd);
	errno = err;
	return rc < 0 ? fail("failed to write: %s:", path) : 0;
}

/* Append path to b with the fstab escapes. */
static void add_escaped(struct buf *b, const char *path)
{
	for (const char *p = path; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\\')
			buf_printf(b, "\\%03o", (unsigned char)*p);
		else
			buf_addc(b, *p);
	}
}

/* Append one fstab line SRC DST TYPE OPTS to b. */
static void add_mount(struct buf *b, const char *src, const char *dst, const char *type,
		      const char *opts)
{
	add_escaped(b, src);
	buf_addc(b, ' ');
	add_escaped(b, dst);
	buf_printf(b, " %s %s\n", type, opts);
}

/* The host id of our uid (or gid): from the first line "IN OUT COUNT" of
 * /proc/self/{uid,gid}_map, OUT + (our id - IN); on the host this is our own id. */
static unsigned long outer_id(const char *map)
{
	int gid = strcmp(map, "uid_map") != 0;
	unsigned long me = gid ? getgid() : getuid(), in = 0, out = me, count = 0;
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/%s", map);
	f = fopen(path, "re");
	if (f && fscanf(f, "%lu %lu %lu", &in, &out, &count) == 3 && me >= in && me - in < count)
		out += me - in;
	else
		out = me;
	if (f)
		fclose(f);
	return out;
}

static unsigned long overflow_id(const char *what)
{
	char path[64];
	unsigned long v = 65534;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/kernel/%s", what);
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 65534;
		fclose(f);
	}
	return v;
}

/* Read rel under the rootfs into b (missing: empty). */
static void root_read(const char *rel, struct buf *b)
{
	int fd = root_open(rel, O_RDONLY, 0);

	if (fd >= 0) {
		buf_read_fd(b, fd, 16u << 20);
		close(fd);
	}
}

/* Value of KEY in a KEY=VALUE / "KEY VALUE" file under the rootfs (last wins), or dflt. */
static char *root_setting(const char *rel, const char *key, const char *dflt)
{
	struct buf b = BUF_INIT;
	char *val = NULL, *line, *save = NULL;
	size_t n = strlen(key);

	root_read(rel, &b);
	for (line = b.data ? strtok_r(b.data, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " \t");
		if (strncmp(line, key, n) || !strchr(" \t=", line[n]) || !line[n])
			continue;
		line += n + strspn(line + n, " \t=");
		free(val);
		val = strndup(line + (*line == '"'), strcspn(line + (*line == '"'), "\" \t"));
	}
	buf_free(&b);
	return val ? val : (dflt ? strdup(dflt) : NULL);
}

/* The shell for the generated entries: the host's if usable in the rootfs, else useradd's
 * SHELL, else /bin/sh. */
static char *pick_shell(const char *host_shell)
{
	const char *rootfs = getenv("ENROOT_ROOTFS");
	char *p = NULL;

	if (host_shell && *host_shell && asprintf(&p, "%s%s", rootfs, host_shell) >= 0 &&
	    access(p, X_OK) == 0) {
		free(p);
		return strdup(host_shell);
	}
	free(p);
	return root_setting("etc/default/useradd", "SHELL", "/bin/sh");
}

/* Keep the lines of text whose first ':' field is none of the names; out gets them. */
static void keep_lines(const char *text, const char *const names[], int n, struct buf *out)
{
	for (const char *l = text; l && *l;) {
		size_t len = strcspn(l, "\n"), name = strcspn(l, ":\n");
		int drop = 0;
		for (int i = 0; i < n && !drop; i++)
			drop = names[i] && strlen(names[i]) == name && !strncmp(l, names[i], name);
		if (!drop && len)
			buf_add(out, l, len), buf_addc(out, '\n');
		l += len + (l[len] == '\n');
	}
}

/* Copy one regular file name from the directory sfd to dfd. */
static int copy_file_at(int sfd, int dfd, const char *name, mode_t mode)
{
	int in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), out = -1, rc = -1;
	char chunk[8192];
	ssize_t n;

	if (in >= 0)
		out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	while (out >= 0 && (n = read(in, chunk, sizeof(chunk))) >= 0) {
		if (n == 0) {
			rc = 0;
			break;
		}
		if (write(out, chunk, (size_t)n) != n)
			break;
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

/* Copy the tree open as sfd into dfd (skeleton files; never follows symlinks). */
static int copy_tree(int sfd, int dfd, int depth)
{
	DIR *d = fdopendir(dup(sfd));
	struct dirent *de;
	struct stat st;
	int rc = 0;

	while (d && depth < 16 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    fstatat(sfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode)) {
			rc |= copy_file_at(sfd, dfd, de->d_name, st.st_mode & 07777);
		} else if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t n = readlinkat(sfd, de->d_name, target, sizeof(target) - 1);
			if (n > 0 && (target[n] = '\0', symlinkat(target, dfd, de->d_name) < 0))
				rc = -1;
		} else if (S_ISDIR(st.st_mode) &&
			   mkdirat(dfd, de->d_name, st.st_mode & 07777) == 0) {
			int s2 = openat(sfd, de->d_name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int d2 = openat(dfd, de->d_name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (s2 >= 0 && d2 >= 0)
				rc |= copy_tree(s2, d2, depth + 1);
			if (s2 >= 0)
				close(s2);
			if (d2 >= 0)
				close(d2);
		}
	}
	if (d)
		closedir(d);
	return rc;
}

/* Create the user's home (login.defs CREATE_HOME, UMASK) when it is missing, filled from
 * the skeleton (useradd's SKEL, else /etc/skel); and the mail spool with CREATE_MAIL_SPOOL. */
static void make_home(const char *home, const char *user)
{
	char *create = root_setting("etc/login.defs", "CREATE_HOME", "yes");
	char *umask_s = root_setting("etc/login.defs", "UMASK", "077");
	char *skel = root_setting("etc/default/useradd", "SKEL", "/etc/skel");
	char *spool = root_setting("etc/default/useradd", "CREATE_MAIL_SPOOL", "no");
	mode_t um = (mode_t)strtoul(umask_s, NULL, 8) & 0777;
	int fd = root_open(home, O_PATH, 0), sfd, dfd;

	if (fd >= 0) {
		close(fd);
	} else if (*home == '/' && home[1] && strcasecmp(create, "no") &&
		   root_mkdirs(home + 1, 0777 & ~um) == 0) {
		sfd = root_open(skel, O_RDONLY | O_DIRECTORY, 0);
		dfd = root_open(home, O_RDONLY | O_DIRECTORY, 0);
		if (sfd >= 0 && dfd >= 0)
			(void)copy_tree(sfd, dfd, 0);
		if (sfd >= 0)
			close(sfd);
		if (dfd >= 0)
			close(dfd);
	}
	if (!strcasecmp(spool, "yes")) {
		char *dir = root_setting("etc/login.defs", "MAIL_DIR", "/var/mail"), *box = NULL;
		if (asprintf(&box, "%s/%s", dir + (*dir == '/'), user) >= 0 &&
		    (fd = root_open(box, O_WRONLY | O_CREAT, 0660)) >= 0)
			close(fd);
		free(box);
		free(dir);
	}
	free(create);
	free(umask_s);
	free(skel);
	free(spool);
}

/* Do a and b hold the same bytes? (A file already as wanted is not rewritten: a named
 * container is started many times, and each rewrite is a write to its filesystem.) */
static int same(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && (a->len == 0 || !memcmp(a->data, b->data, a->len));
}

/* 10-shadow: root, nobody and the host user first in passwd; root, nogroup and the host
 * group first in group; earlier entries of those names (and _apt) dropped. */
static int hook_shadow(void)
{
	uid_t uid = (uid_t)outer_id("uid_map");
	gid_t gid = (gid_t)outer_id("gid_map");
	struct passwd *pw = getpwuid(uid);
	struct group *gr = getgrgid(gid);
	char ubuf[32], gbuf[32];
	struct buf in = BUF_INIT, out = BUF_INIT;
	char *shell;
	int rc = 0;

	snprintf(ubuf, sizeof(ubuf), "%u", (unsigned)uid);
	snprintf(gbuf, sizeof(gbuf), "%u", (unsigned)gid);
	const char *user = pw ? pw->pw_name : ubuf, *group = gr ? gr->gr_name : gbuf;
	const char *home = pw && pw->pw_dir ? pw->pw_dir : "/";
	shell = pick_shell(pw ? pw->pw_shell : NULL);
	const char *pnames[] = {"root", "nobody", user, "_apt"};
	const char *gnames[] = {"root", "nogroup", group, "_apt"};

	buf_printf(&out, "root:x:0:0:root:/root:%s\n", shell);
	buf_printf(&out, "nobody:x:%lu:%lu:nobody:/:/sbin/nologin\n", overflow_id("overflowuid"),
		   overflow_id("overflowgid"));
	if (uid != 0)
		buf_printf(&out, "%s:x:%u:%u:%s:%s:%s\n", user, (unsigned)uid, (unsigned)gid,
			   pw && pw->pw_gecos ? pw->pw_gecos : "", home, shell);
	root_read("etc/passwd", &in);
	keep_lines(in.data, pnames, 4, &out);
	if (!same(&in, &out) && (root_mkdirs("etc", 0755) < 0 ||
				 root_write("etc/passwd", out.data, out.len, 0, 0644) < 0))
		rc = fail("failed to write: %s/etc/passwd:", getenv("ENROOT_ROOTFS"));
	buf_reset(&in);
	buf_reset(&out);
	buf_printf(&out, "root:x:0:\nnogroup:x:%lu:\n", overflow_id("overflowgid"));
	if (gid != 0)
		buf_printf(&out, "%s:x:%u:\n", group, (unsigned)gid);
	root_read("etc/group", &in);
	keep_lines(in.data, gnames, 4, &out);
	if (rc == 0 && !same(&in, &out) && root_write("etc/group", out.data, out.len, 0, 0644) < 0)
		rc = fail("failed to write: %s/etc/group:", getenv("ENROOT_ROOTFS"));
	if (rc == 0)
		make_home(uid != 0 ? home : "/root", uid != 0 ? user : "root");
	free(shell);
	buf_free(&in);
	buf_free(&out);
	return rc;
}

/* Field k of a mountinfo line (0-based, before " - "), or after the separator when k < 0
 * (-1 fstype, -2 source, -3 super options). */
static char *mi_get(const char *line, int k)
{
	const char *p = line;

	if (k < 0) {
		p = strstr(line, " - ");
		if (!p)
			return NULL;
		p += 3;
		k = -k - 1;
	}
	for (int i = 0; i < k && p; i++)
		if ((p = strchr(p, ' ')))
			p++;
	return p ? strndup(p, strcspn(p, " \n")) : NULL;
}

/* Is ctl one of the comma-separated words of list? */
static int has_word(const char *list, const char *ctl)
{
	size_t n = strlen(ctl);

	for (const char *p = list; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ','))
		if (strcspn(p, ",") == n && !strncmp(p, ctl, n))
			return 1;
	return 0;
}

/* The cgroup mount line of /proc/self/mountinfo (in mi) for a controller list. */
static const char *find_cgroup_mount(const char *mi, const char *ctls)
{
	for (const char *l = mi; l && *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] == '\n')) {
		char *type = mi_get(l, -1), *sopts = mi_get(l, -3);
		int match = 0;
		if (type && !*ctls)
			match = !strcmp(type, "cgroup2");
		else if (type && !strcmp(type, "cgroup")) {
			char *c = strdup(ctls), *save = NULL;
			match = 1;
			for (char *w = strtok_r(c, ",", &save); w; w = strtok_r(NULL, ",", &save))
				match &= has_word(sopts, w);
			free(c);
		}
		free(type);
		free(sopts);
		if (match)
			return l;
	}
	return NULL;
}

/* 10-cgroups: bind each of our cgroups read-only onto its hierarchy's mountpoint (the
 * mountinfo fields are already escaped the way fstab wants them). */
static int hook_cgroups(void)
{
	struct buf cg = BUF_INIT, mi = BUF_INIT, out = BUF_INIT;
	const char *step = getenv("SLURM_STEP_ID");
	int fd, rc;

	if ((fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC)) >= 0)
		buf_read_fd(&cg, fd, 1 << 20), close(fd);
	if ((fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC)) >= 0)
		buf_read_fd(&mi, fd, 16 << 20), close(fd);
	for (char *l = cg.data, *save = NULL; (l = strtok_r(l, "\n", &save)); l = NULL) {
		char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		const char *m = find_cgroup_mount(mi.data, c1 + 1), *path = c2 + 1;
		if (!m)
			continue;
		char *root = mi_get(m, 3), *mp = mi_get(m, 4);
		size_t n = root && strcmp(root, "/") ? strlen(root) : 0;
		if (n && strncmp(path, root, n))
			n = 0;
		/* A hierarchy the rootfs cannot show (a fresh sysfs under --net) is skipped. */
		int tfd = mp ? root_open(mp, O_PATH | O_DIRECTORY, 0) : -1;
		if (tfd < 0) {
			free(root);
			free(mp);
			continue;
		}
		close(tfd);
		buf_printf(&out, "%s%s%s %s none x-create=dir,rbind,ro,nosuid,noexec,nodev\n", mp,
			   path + n, step ? "/.." : "", mp);
		free(root);
		free(mp);
	}
	buf_adds(&out, "none /sys/fs/cgroup none remount,rbind,ro,rslave,nofail,silent\n");
	rc = append_to("ENROOT_MOUNTS", out.data, out.len);
	buf_free(&cg);
	buf_free(&mi);
	buf_free(&out);
	return rc;
}

/* Copy the host file src to rel in the rootfs (parents created). */
static int copy_in(const char *src, const char *rel)
{
	struct buf b = BUF_INIT;
	char *dir = strdup(rel), *slash = dir ? strrchr(dir, '/') : NULL;
	int fd = open(src, O_RDONLY | O_CLOEXEC), rc = -1;

	if (fd >= 0 && buf_read_fd(&b, fd, 64u << 20) == 0) {
		if (slash)
			*slash = '\0';
		if (!slash || root_mkdirs(dir, 0755) == 0)
			rc = root_write(rel, b.data ? b.data : "", b.len, 0, 0644);
	}
	if (fd >= 0)
		close(fd);
	free(dir);
	buf_free(&b);
	return rc;
}

/* 10-localtime: copy the host's /etc/localtime symlink, and its zoneinfo file if missing. */
static int hook_localtime(void)
{
	char target[4096], *real;
	int rfd, fd;
	ssize_t n = readlink("/etc/localtime", target, sizeof(target) - 1);

	if (n <= 0)
		return 0;
	target[n] = '\0';
	if ((rfd = root_open("etc", O_PATH | O_DIRECTORY, 0)) < 0)
		return 0;
	/* Already the host's link (every start after the first): no rewrite. */
	char old[4096];
	ssize_t k = readlinkat(rfd, "localtime", old, sizeof(old));
	int stale = k != n || memcmp(old, target, (size_t)n) != 0;
	if (stale && ((unlinkat(rfd, "localtime", 0) < 0 && errno != ENOENT) ||
		      symlinkat(target, rfd, "localtime") < 0)) {
		close(rfd);
		return fail("failed to replace: %s/etc/localtime:", getenv("ENROOT_ROOTFS"));
	}
	close(rfd);
	real = realpath("/etc/localtime", NULL);
	if (real && (fd = root_open(real, O_PATH, 0)) >= 0)
		close(fd);
	else if (real && copy_in(real, real + 1) < 0)
		fd = fail("failed to copy: %s:", real);
	else
		fd = 0;
	free(real);
	return fd < 0 ? -1 : 0;
}

/* 10-home: with ENROOT_MOUNT_HOME, bind $HOME (or the passwd home) at the same path, or at
 * /root under remap-root, and set HOME. */
static int hook_home(void)
{
	const char *home = getenv("HOME");
	int remap = config_enabled("ENROOT_REMAP_ROOT");
	struct buf m = BUF_INIT, e = BUF_INIT;
	struct passwd *pw;
	int rc;

	if (!config_enabled("ENROOT_MOUNT_HOME"))
		return 0;
	if ((!home || !*home) && (pw = getpwuid((uid_t)outer_id("uid_map"))))
		home = pw->pw_dir;
	if (!home || !*home)
		return fail("failed to find the home directory");
	add_mount(&m, home, remap ? "/root" : home, "none", "x-create=dir,bind,rw,nosuid");
	buf_printf(&e, "HOME=%s\n", remap ? "/root" : home);
	rc = append_to("ENROOT_MOUNTS", m.data, m.len);
	if (rc == 0)
		rc = append_to("ENROOT_ENVIRON", e.data, e.len);
	buf_free(&m);
	buf_free(&e);
	return rc;
}

/* 10-aptfix: under remap-root on Debian-family images, apt must not drop to _apt. */
static int hook_aptfix(void)
{
	static const char conf[] = "APT::Sandbox::User \"root\";\n";
	int fd = root_open("etc/debian_version", O_PATH, 0);

	if (fd < 0 || !config_enabled("ENROOT_REMAP_ROOT")) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	close(fd);
	if (root_mkdirs("etc/apt/apt.conf.d", 0755) < 0 ||
	    root_write("etc/apt/apt.conf.d/enroot", conf, sizeof(conf) - 1, 0, 0644) < 0)
		return fail("failed to write: %s/etc/apt/apt.conf.d/enroot:",
			    getenv("ENROOT_ROOTFS"));
	return 0;
}

static void mount_report(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "[WARN] %s\n", msg);
}

/* Mount fstab text under the rootfs now (what `enroot-mount --root ROOTFS -` does). */
static int mount_now(const struct buf *b, const char *origin)
{
	struct mounts_report rep = {.warn = mount_report};

	if (mounts_apply(getenv("ENROOT_ROOTFS"), 0, b->data, b->len, origin, &rep) < 0)
		return fail("%s", rep.msg);
	return 0;
}

/* 10-devices: with ENROOT_RESTRICT_DEV or ENROOT_UNSHARE_IPC, a minimal /dev. */
static int hook_devices(void)
{
	static const char *const devs[] = {"zero", "null", "full", "urandom", "random", "tty"};
	int ipc = config_enabled("ENROOT_UNSHARE_IPC");
	struct buf b = BUF_INIT;
	int rc;

	if (!config_enabled("ENROOT_RESTRICT_DEV") && !ipc)
		return 0;
	buf_adds(&b, "none /dev none x-detach,nofail,silent\n"
		     "tmpfs /dev tmpfs x-create=dir,rw,nosuid,noexec,mode=755,slave\n");
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++)
		buf_printf(&b, "/dev/%s /dev/%s none x-create=file,bind,rw,nosuid,noexec,private\n",
			   devs[i], devs[i]);
	buf_adds(&b, "devpts /dev/pts devpts x-create=dir,newinstance,ptmxmode=0666,mode=620,"
		     "nosuid,noexec\n");
	if (ipc)
		buf_adds(&b, "tmpfs /dev/shm tmpfs x-create=dir,rw,nosuid,nodev,noexec,mode=1777\n"
			     "mqueue /dev/mqueue mqueue "
			     "x-create=dir,rw,nosuid,nodev,noexec,nofail,silent\n");
	else
		buf_adds(&b,
			 "/dev/shm /dev/shm none x-create=dir,bind,rw,nosuid,nodev,noexec,rslave\n"
			 "/dev/mqueue /dev/mqueue none x-create=dir,bind,rw,nosuid,nodev,noexec,"
			 "rslave,nofail,silent\n");
	buf_adds(
	    &b, "/dev/hugepages /dev/hugepages none x-create=dir,rbind,rw,nosuid,nodev,noexec,"
		"rslave,nofail,silent\n"
		"/dev/log /dev/log none x-create=file,bind,rw,nosuid,nodev,noexec,nofail,silent\n");
	if (isatty(STDIN_FILENO) && ttyname(STDIN_FILENO)) {
		add_mount(&b, ttyname(STDIN_FILENO), "/dev/console", "none",
			  "x-create=file,bind,rw,nosuid,noexec,private");
	}
	rc = mount_now(&b, "10-devices");
	int rfd = rc == 0 ? root_open("dev", O_PATH | O_DIRECTORY, 0) : -1;
	if (rfd >= 0) {
		(void)!symlinkat("/proc/self/fd", rfd, "fd");
		(void)!symlinkat("/dev/pts/ptmx", rfd, "ptmx");
		(void)!symlinkat("/proc/self/fd/0", rfd, "stdin");
		(void)!symlinkat("/proc/self/fd/1", rfd, "stdout");
		(void)!symlinkat("/proc/self/fd/2", rfd, "stderr");
		close(rfd);
	}
	buf_free(&b);
	return rc;
}

/* A variable for the GPU/IB hooks: the host environment wins, else the last NAME= line of
 * $ENROOT_ENVIRON. Returns a new string or NULL. */
static char *hook_var(const char *name)
{
	const char *v = getenv(name), *path = getenv("ENROOT_ENVIRON");
	struct buf b = BUF_INIT;
	size_t n = strlen(name);
	char *r = NULL;
	int fd;

	if (v)
		return strdup(v);
	if (path && (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		buf_read_fd(&b, fd, 16u << 20);
		close(fd);
	}
	for (const char *l = b.data; l && *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] == '\n'))
		if (!strncmp(l, name, n) && l[n] == '=') {
			free(r);
			r = strndup(l + n + 1, strcspn(l + n + 1, "\n"));
		}
	buf_free(&b);
	return r;
}

/* --compute etc. from NVIDIA_DRIVER_CAPABILITIES (default utility). */
static int add_caps(struct buf *args)
{
	static const char *const all[] = {"compute",  "compat32", "display",
					  "graphics", "utility",  "video"};
	char *caps = hook_var("NVIDIA_DRIVER_CAPABILITIES"), *save = NULL;
	int rc = 0;

	for (char *w = strtok_r(caps && *caps ? caps : "utility", ",", &save); w && !rc;
	     w = strtok_r(NULL, ",", &save)) {
		size_t i;
		for (i = 0; i < 6 && strcmp(w, all[i]); i++)
			;
		if (!strcmp(w, "all"))
			for (i = 0; i < 6; i++)
				buf_printf(args, "--%s%c", all[i], '\0');
		else if (i < 6)
			buf_printf(args, "--%s%c", w, '\0');
		else
			rc = fail("Unknown NVIDIA driver capability: %s", w);
	}
	free(caps);
	return rc;
}

/* Run nvidia-container-cli with NUL-separated args (its own stdout discarded). */
static int run_nvcli(struct buf *args)
{
	const char *rootfs = getenv("ENROOT_ROOTFS"), *path = getenv("PATH");
	char *newpath = NULL, **argv;
	size_t k = 0, n = 1;
	int status;

	for (size_t off = 0; off < args->len; off += strlen(args->data + off) + 1)
		n++;
	if (!(argv = calloc(n, sizeof(*argv))) ||
	    asprintf(&newpath, "%s:%s/usr/bin:%s/usr/local/bin", path ? path : "/usr/bin", rootfs,
		     rootfs) < 0) {
		free(argv);
		return fail("failed to allocate memory:");
	}
	for (size_t off = 0; off < args->len; off += strlen(args->data + off) + 1)
		argv[k++] = args->data + off;
	setenv("PATH", newpath, 1);
	status = child_run(argv, -1, CHILD_DEVNULL, 0);
	setenv("PATH", path ? path : "", 1);
	free(newpath);
	free(argv);
	if (status == 127 << 8)
		return fail("Command not found: nvidia-container-cli");
	return status ? fail("nvidia-container-cli exited with return code %d", child_code(status))
		      : 0;
}

/* The host's ldconfig for --ldconfig=@: ldconfig.real, else ldconfig, each looked up on the
 * host PATH (before the rootfs directories are added) and then in /sbin and /usr/sbin. */
static char *host_ldconfig(void)
{
	static const char *const names[] = {"ldconfig.real", "ldconfig"};
	const char *path = getenv("PATH");
	char *dirs = NULL, *r = NULL;

	if (asprintf(&dirs, "%s:/sbin:/usr/sbin", path ? path : "") < 0)
		return NULL;
	for (size_t i = 0; i < 2 && !r; i++) {
		char *copy = strdup(dirs), *save = NULL;
		for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d && !r;
		     d = strtok_r(NULL, ":", &save)) {
			if (*d != '/' || asprintf(&r, "%s/%s", d, names[i]) < 0) {
				r = NULL;
				continue;
			}
			if (access(r, X_OK) < 0) {
				free(r);
				r = NULL;
			}
		}
		free(copy);
	}
	free(dirs);
	return r ? r : strdup("/sbin/ldconfig");
}

/* qsort comparator for an array of strings. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add NAME to the array of names unless it is there already. */
static int add_name(char ***names, size_t *n, const char *name, size_t len)
{
	char **grown;

	for (size_t i = 0; i < *n; i++)
		if (strlen((*names)[i]) == len && !strncmp((*names)[i], name, len))
			return 0;
	if (!(grown = realloc(*names, (*n + 1) * sizeof(*grown))))
		return -1;
	*names = grown;
	if (!(grown[*n] = strndup(name, len)))
		return -1;
	(*n)++;
	return 0;
}

/* --require=VALUE for each NVIDIA_REQUIRE_* of the host environment or of $ENROOT_ENVIRON
 * (the host value wins), in name order as bash's compgen -e lists them. */
static int add_requires(struct buf *args)
{
	extern char **environ;
	const char *path = getenv("ENROOT_ENVIRON");
	struct buf b = BUF_INIT;
	char **names = NULL;
	size_t n = 0;
	int fd, rc = 0;

	for (char **e = environ; *e && !rc; e++)
		if (!strncmp(*e, "NVIDIA_REQUIRE_", 15) && strchr(*e, '='))
			rc = add_name(&names, &n, *e, strcspn(*e, "="));
	if (path && (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		buf_read_fd(&b, fd, 16u << 20);
		close(fd);
	}
	for (const char *l = b.data; l && *l && !rc;
	     l += strcspn(l, "\n") + (l[strcspn(l, "\n")] == '\n'))
		if (!strncmp(l, "NVIDIA_REQUIRE_", 15) && strcspn(l, "=") < strcspn(l, "\n"))
			rc = add_name(&names, &n, l, strcspn(l, "="));
	buf_free(&b);
	if (rc)
		rc = fail("failed to allocate memory:");
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		char *v = rc ? NULL : hook_var(names[i]);
		if (v)
			buf_printf(args, "--require=%s%c", v, 0);
		free(v);
		free(names[i]);
	}
	free(names);
	return rc;
}

/* 98-nvidia: nvidia-container-cli configure, unless no GPU was asked for. */
static int hook_nvidia(void)
{
	char *dev = hook_var("NVIDIA_VISIBLE_DEVICES"), *v, *dbg = hook_var("NVIDIA_DEBUG_LOG");
	char *ldconfig = NULL;
	struct buf a = BUF_INIT;
	int rc = 0;

	if (!dev || !*dev || !strcmp(dev, "void")) {
		free(dev);
		free(dbg);
		return 0;
	}
	if (!(ldconfig = host_ldconfig()))
		rc = fail("failed to allocate memory:");
	buf_printf(&a, "nvidia-container-cli%c--user%c", 0, 0);
	if (dbg && *dbg)
		buf_printf(&a, "--debug=/dev/stderr%c", 0);
	buf_printf(&a, "configure%c--no-cgroups%c--ldconfig=@%s%c", 0, 0, ldconfig ? ldconfig : "",
		   0);
	if (strcmp(dev, "none"))
		buf_printf(&a, "--device=%s%c", dev, 0);
	if ((v = hook_var("NVIDIA_MIG_CONFIG_DEVICES")) && *v)
		buf_printf(&a, "--mig-config=%s%c", v, 0);
	free(v);
	if ((v = hook_var("NVIDIA_MIG_MONITOR_DEVICES")) && *v)
		buf_printf(&a, "--mig-monitor=%s%c", v, 0);
	free(v);
	v = NULL;
	if (!rc)
		rc = add_caps(&a);
	/* Set and non-empty disables, whatever the word (the script tests -z). */
	if (!rc && (!(v = hook_var("NVIDIA_DISABLE_REQUIRE")) || !*v))
		rc = add_requires(&a);
	free(v);
	buf_printf(&a, "%s%c", getenv("ENROOT_ROOTFS"), 0);
	if (!rc)
		rc = run_nvcli(&a);
	buf_free(&a);
	free(ldconfig);
	free(dev);
	free(dbg);
	return rc;
}

/* Create each "LINK TARGET" line of text as a symlink under the rootfs. */
static int make_links(char *text)
{
	for (char *l = text, *save = NULL; (l = strtok_r(l, "\n", &save)); l = NULL) {
		char *target = strchr(l, ' '), *name;
		int dfd;
		if (!target)
			continue;
		*target++ = '\0';
		name = strrchr(l, '/');
		*name++ = '\0';
		dfd = root_open(l, O_PATH | O_DIRECTORY, 0);
		if (dfd < 0 || (symlinkat(target, dfd, name) < 0 && errno != EEXIST)) {
			int err = errno;
			if (dfd >= 0)
				close(dfd);
			errno = err;
			return fail("failed to create symlink: %s/%s/%s:", getenv("ENROOT_ROOTFS"),
				    l, name);
		}
		close(dfd);
	}
	return 0;
}

/* Mask the InfiniBand sysfs classes, then expose the chosen devices (spec §10). */
static int mlx_expose(const struct mlx_dev *devs, size_t n, const unsigned char *chosen)
{
	int su = config_enabled("ENROOT_ALLOW_SUPERUSER") && getuid() == 0;
	struct buf mounts = BUF_INIT, links = BUF_INIT;
	int rc;

	if (mlx_fstab("/sys", "/dev", devs, n, chosen, su, &mounts) < 0 ||
	    mlx_links("/sys", devs, n, chosen, su, &links) < 0)
		rc = fail("failed to read: /sys/class/infiniband:");
	else if ((rc = mount_now(&mounts, "99-mellanox")) == 0 && links.data)
		rc = make_links(links.data);
	buf_free(&mounts);
	buf_free(&links);
	return rc;
}

/* 99-mellanox: MELLANOX_VISIBLE_DEVICES (host, else the environment file) selects mlx4/mlx5
 * devices by index; unset, empty, void or none: nothing to do. Without any InfiniBand class
 * on the host there is nothing to hide either. */
static int hook_mellanox(void)
{
	char *spec = hook_var("MELLANOX_VISIBLE_DEVICES"), *bad = NULL;
	struct mlx_dev *devs = NULL;
	unsigned char *chosen = NULL;
	size_t n = 0;
	int rc = 0;

	if (!spec || !*spec || !strcmp(spec, "void") || !strcmp(spec, "none")) {
		free(spec);
		return 0;
	}
	if (mlx_enumerate("/sys", &devs, &n) < 0)
		rc = fail("failed to read: /sys/bus/pci/drivers:");
	else if (!(chosen = calloc(n + 1, 1)))
		rc = fail("failed to allocate memory:");
	else if (mlx_select(spec, n, chosen, &bad) < 0)
		rc = fail("Unknown MELLANOX device id: %s", bad);
	else if (n > 0 || access("/sys/class/infiniband", F_OK) == 0)
		rc = mlx_expose(devs, n, chosen);
	mlx_free(devs, n);
	free(chosen);
	free(bad);
	free(spec);
	return rc;
}

int hooks_run(const char *name)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} table[] = {{"aptfix", hook_aptfix},	    {"cgroups", hook_cgroups},
		     {"devices", hook_devices},	    {"home", hook_home},
		     {"localtime", hook_localtime}, {"shadow", hook_shadow},
		     {"nvidia", hook_nvidia},	    {"mellanox", hook_mellanox}};

	hooks_error[0] = '\0';
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(name, table[i].name))
			return table[i].fn();
	errno = EINVAL;
	return fail("unknown standard hook: %s", name);
}
