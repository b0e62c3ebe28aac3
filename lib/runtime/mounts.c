/* mounts: execute enroot fstab entries (spec §7.4). Targets are resolved inside the root by
 * resolve_in_root, then opened with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS) and
 * mounted on through /proc/self/fd/N, so a symlink swapped in after the resolution cannot
 * redirect a mount (PITFALLS §3.5, runc CVE-2021-30465). After a mount the target is opened
 * again, so that remounts and propagation changes reach the new mount, not the one under it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/buf.h"
#include "runtime/mounts.h"
#include "runtime/resolve.h"

/* The state of one entry being applied. */
struct job {
	int rootfd;
	const char *rootpath;
	const struct fstab_entry *e;
	struct fstab_opts o;
	char rel[PATH_MAX];	   /* target, relative to the root */
	char abs[PATH_MAX * 2];	   /* target, absolute on the host, for messages */
	char fdpath[PATH_MAX * 2]; /* how mount(2) is told the target: see open_target */
	struct mounts_report *rep;
};

/* Record a failure "fmt: strerror(errno)"; with nofail it becomes a warning (or nothing,
 * if silent) and the entry counts as done. */
static int fail(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct job *j, const char *fmt, ...)
{
	struct mounts_report *r = j->rep;
	int err = errno;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	n = strlen(r->msg);
	snprintf(r->msg + n, sizeof(r->msg) - n, ": %s", strerror(err));
	r->errnum = err;
	if (!j->o.nofail)
		return -1;
	if (!j->o.quiet && r->warn)
		r->warn(r->arg, r->msg);
	r->msg[0] = '\0';
	r->errnum = 0;
	return 1;
}

/* Read a uid_map or gid_map and say whether it is the identity "0 0 4294967295". */
static int identity_map(const char *path)
{
	char buf[256];
	unsigned long a, b, c;
	int fd = open(path, O_RDONLY | O_CLOEXEC), n;
	ssize_t len;

	if (fd < 0)
		return 1;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	if (sscanf(buf, "%lu %lu %lu%n", &a, &b, &c, &n) != 3)
		return 0;
	return a == 0 && b == 0 && c == 4294967295UL && strspn(buf + n, " \n") == strlen(buf + n);
}

int mounts_in_userns(void)
{
	static int known = -1;
	char buf[16] = "";
	int fd;

	if (known >= 0)
		return known;
	known = !identity_map("/proc/self/uid_map") || !identity_map("/proc/self/gid_map");
	fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) > 0 && !strncmp(buf, "deny", 4))
			known = 1;
		close(fd);
	}
	return known;
}

/* Create a placeholder for the target (x-create): parents as directories with mode 0755
 * (less the umask), then the last component as a directory or an empty regular file with
 * mode 0000. Each parent is opened without following symlinks before going on. EEXIST is
 * not an error. */
static int create_target(struct job *j, int as_dir)
{
	char path[PATH_MAX];
	char *name = path, *slash;
	int dfd = j->rootfd, rc;

	if (!j->rel[0])
		return 0;
	strcpy(path, j->rel);
	while ((slash = strchr(name, '/'))) {
		int nfd;
		*slash = '\0';
		if (mkdirat(dfd, name, 0755) < 0 && errno != EEXIST)
			break;
		nfd = resolve_open(dfd, name, O_DIRECTORY);
		if (dfd != j->rootfd)
			close(dfd);
		if ((dfd = nfd) < 0)
			return -1;
		name = slash + 1;
	}
	if (slash)
		rc = -1;
	else if (as_dir)
		rc = mkdirat(dfd, name, 0000);
	else
		rc = mknodat(dfd, name, S_IFREG | 0000, 0);
	if (rc < 0 && errno == EEXIST)
		rc = 0;
	if (dfd != j->rootfd) {
		int saved = errno;
		close(dfd);
		errno = saved;
	}
	return rc;
}

/* x-create: "auto" is a directory, except for a bind of a source that is no directory; when
 * that source cannot be stat'ed, nothing is created (the mount will report it). */
static int apply_create(struct job *j)
{
	int as_dir = j->o.create != FSTAB_CREATE_FILE;
	struct stat st;

	if (j->o.create == FSTAB_CREATE_AUTO && (j->o.flags & MS_BIND)) {
		if (stat(j->e->source, &st) < 0)
			return 0;
		as_dir = S_ISDIR(st.st_mode);
	}
	if (create_target(j, as_dir) < 0)
		return fail(j, "failed to create %s: %s", as_dir ? "directory" : "file", j->abs);
	return 0;
}

/* The per-mount flags locked on an existing mount, as statvfs reports them. In a user
 * namespace a remount or bind must keep them, or the kernel refuses with EPERM. */
static unsigned long locked_flags(const struct statvfs *sv)
{
	static const struct {
		unsigned long st, ms;
	} map[] = {
	    {ST_NOSUID, MS_NOSUID},	{ST_NODEV, MS_NODEV},	  {ST_NOEXEC, MS_NOEXEC},
	    {ST_RDONLY, MS_RDONLY},	{ST_NOATIME, MS_NOATIME}, {ST_NODIRATIME, MS_NODIRATIME},
	    {ST_RELATIME, MS_RELATIME},
	};
	unsigned long flags = 0;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (sv->f_flag & map[i].st)
			flags |= map[i].ms;
	return flags;
}

/* Open the resolved target and name it by fd: j->fdpath gets "/proc/self/fd/N", or the absolute
 * path when no procfs is mounted (then a symlink swap is no longer caught). */
static int open_target(struct job *j)
{
	static int have_proc = -1;
	int fd = resolve_open(j->rootfd, j->rel, 0);

	if (have_proc < 0)
		have_proc = access("/proc/self/fd", F_OK) == 0;
	if (fd >= 0 && have_proc)
		snprintf(j->fdpath, sizeof(j->fdpath), "/proc/self/fd/%d", fd);
	else if (fd >= 0)
		snprintf(j->fdpath, sizeof(j->fdpath), "%s", j->abs);
	return fd;
}

static void close_keep_errno(int fd)
{
	int saved = errno;

	if (fd >= 0)
		close(fd);
	errno = saved;
}

/* x-detach: lazily unmount the target instead of mounting. */
static int detach(struct job *j)
{
	int fd = open_target(j), rc = -1;

	if (fd >= 0)
		rc = umount2(j->fdpath, MNT_DETACH);
	close_keep_errno(fd);
	return rc < 0 ? fail(j, "failed to unmount: %s at %s", j->e->source, j->abs) : 0;
}

/* The flags of the mount call: the options' flags (MS_REC only from rbind), plus, for a
 * remount or a bind inside a user namespace, the flags locked on the mount of the target
 * (remount) or of the source (bind). */
static int mount_flags(struct job *j, int fd, unsigned long *flags)
{
	struct statvfs sv;

	*flags = j->o.flags;
	if (!(*flags & (MS_REMOUNT | MS_BIND)) || !mounts_in_userns())
		return 0;
	if ((*flags & MS_REMOUNT) ? fstatvfs(fd, &sv) : statvfs(j->e->source, &sv))
		return -1;
	*flags |= locked_flags(&sv);
	return 0;
}

/* The "generic" mount of §7.4 step 3, with the second remount a bind needs for its flags. */
static int generic_mount(struct job *j)
{
	const char *data = j->o.data[0] ? j->o.data : NULL;
	unsigned long flags = 0;
	int fd, rc;

	if (j->o.detach)
		return detach(j);
	fd = open_target(j);
	if (fd < 0 || mount_flags(j, fd, &flags) < 0 ||
	    mount(j->e->source, j->fdpath, j->e->type, flags, data) < 0) {
		close_keep_errno(fd);
		return fail(j, "failed to mount: %s at %s", j->e->source, j->abs);
	}
	close(fd);
	if (!(flags & MS_BIND) || (flags & MS_REMOUNT) || (!(flags & ~(MS_BIND | MS_REC)) && !data))
		return 0;
	/* A bind ignores flags and data: remount the new mount (opened anew) to apply them. */
	fd = open_target(j);
	rc = fd < 0 ? -1 : mount(NULL, j->fdpath, NULL, flags | MS_REMOUNT, data);
	close_keep_errno(fd);
	return rc < 0 ? fail(j, "failed to mount: %s at %s", j->e->source, j->abs) : 0;
}

/* §7.4 step 4: one mount(2) call per propagation type given, in a fixed order. */
static int propagate(struct job *j)
{
	int fd = -1, rc = 0;

	for (int i = 0; i < FSTAB_PROPS && rc == 0; i++) {
		if (!j->o.propagation[i])
			continue;
		if (fd < 0 && (fd = open_target(j)) < 0) {
			rc = -1;
			break;
		}
		rc = mount(NULL, j->fdpath, NULL, j->o.propagation[i] | (j->o.flags & MS_SILENT),
			   NULL);
	}
	close_keep_errno(fd);
	return rc < 0 ? fail(j, "failed to set mount propagation: %s", j->abs) : 0;
}

/* A generic mount is needed for a real type or any flag beyond recursion and silence. */
static int is_generic(const struct job *j)
{
	return (*j->e->type && strcmp(j->e->type, "none")) ||
	       (j->o.flags & ~(unsigned long)(MS_REC | MS_SILENT)) || j->o.detach;
}

static void join_path(char *out, size_t size, const char *root, const char *rel)
{
	int top = !strcmp(root, "/");

	snprintf(out, size, "%s%s%s", top ? "" : root, *rel || top ? "/" : "", rel);
}

/* One entry (spec §7.4; mount(2), mount_namespaces(7)):
 *  1. resolve TARGET inside the root (resolve_in_root: symlinks followed inside, ".."
 *     above the root is EXDEV);
 *  2. parse the options and create the placeholder for x-create;
 *  3. the generic mount: umount2(MNT_DETACH) for x-detach, else mount(2) with the locked
 *     flags ORed in for a bind or remount inside a user namespace, then for a bind with
 *     flags or data a second mount(MS_REMOUNT|MS_BIND) on the new mount (a bind ignores
 *     them, see mount(2) "Creating a bind mount");
 *  4. one mount(NULL, target, NULL, MS_SHARED|MS_SLAVE|MS_PRIVATE|MS_UNBINDABLE [|MS_REC])
 *     per propagation type given (mount_namespaces(7)).
 * Each mount(2) names the target as /proc/self/fd/N of an O_PATH fd opened beneath the root
 * without following symlinks, and the fd is opened again after step 3. */
int mounts_apply_entry(int rootfd, const char *rootpath, const struct fstab_entry *e,
		       struct mounts_report *rep)
{
	struct job j = {.rootfd = rootfd, .rootpath = rootpath, .e = e, .rep = rep};
	int rc;

	rep->msg[0] = '\0';
	rep->errnum = 0;
	if (fstab_parse_options(e->options, &j.o) < 0) {
		rep->errnum = errno;
		snprintf(rep->msg, sizeof(rep->msg), "invalid mount options: %s", e->options);
		return -1;
	}
	join_path(j.abs, sizeof(j.abs), rootpath, e->target[0] == '/' ? e->target + 1 : e->target);
	if (resolve_in_root(rootfd, e->target, j.rel, sizeof(j.rel)) < 0)
		return fail(&j, "failed to resolve path: %s", j.abs) < 0 ? -1 : 0;
	join_path(j.abs, sizeof(j.abs), rootpath, j.rel);
	if (j.o.create && (rc = apply_create(&j)))
		return rc < 0 ? -1 : 0;
	if (is_generic(&j) && (rc = generic_mount(&j)))
		return rc < 0 ? -1 : 0;
	return propagate(&j) < 0 ? -1 : 0;
}

static int invalid_entry(struct mounts_report *rep, const char *line, size_t n, const char *origin)
{
	rep->errnum = 0;
	snprintf(rep->msg, sizeof(rep->msg), "invalid fstab entry: \"%.*s\" at %s", (int)n, line,
		 origin);
	return -1;
}

/* Lex, filter by pass, complete and apply one line of n bytes. */
static int apply_line(int rootfd, const char *rootpath, int pass, const char *line, size_t n,
		      const char *origin, struct mounts_report *rep)
{
	struct fstab_entry e;
	int rc = fstab_parse_line(line, n, &e);

	if (rc == 0)
		return 0;
	if (rc < 0)
		return invalid_entry(rep, line, n, origin);
	if (e.pass != pass)
		return 0;
	if (fstab_complete(&e) < 0)
		return invalid_entry(rep, line, n, origin);
	if (mounts_apply_entry(rootfd, rootpath, &e, rep) < 0) {
		if (rep->errnum == EINVAL && !strncmp(rep->msg, "invalid mount options", 21))
			return invalid_entry(rep, line, n, origin);
		return -1;
	}
	return 0;
}

int mounts_apply(const char *root, int pass, const char *text, size_t len, const char *origin,
		 struct mounts_report *rep)
{
	char rootpath[PATH_MAX];
	int rootfd = -1, rc = 0;

	rep->msg[0] = '\0';
	rep->errnum = 0;
	if (!realpath(root, rootpath) ||
	    (rootfd = open(rootpath, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rep->errnum = errno;
		snprintf(rep->msg, sizeof(rep->msg), "failed to resolve path: %s: %s", root,
			 strerror(errno));
		return -1;
	}
	while (len > 0 && rc == 0) {
		const char *nl = memchr(text, '\n', len);
		size_t n = nl ? (size_t)(nl - text) : len;
		/* A line longer than the limit silently ends the file (§7.1). */
		if (n > FSTAB_LINE_MAX - 1)
			break;
		rc = apply_line(rootfd, rootpath, pass, text, n, origin, rep);
		text += n + (nl != NULL);
		len -= n + (nl != NULL);
	}
	close(rootfd);
	return rc;
}

/* fstab files are small; this bounds a runaway input. */
#define MOUNTS_FILE_MAX (16 << 20)

int mounts_apply_file(const char *root, int pass, const char *path, struct mounts_report *rep)
{
	struct buf b = BUF_INIT;
	int is_stdin = !strcmp(path, "-");
	int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC), rc = -1;

	if (fd < 0 || buf_read_fd(&b, fd, MOUNTS_FILE_MAX) < 0) {
		rep->errnum = errno;
		snprintf(rep->msg, sizeof(rep->msg), "failed to %s: %s: %s",
			 fd < 0 ? "open" : "read", path, strerror(errno));
	} else {
		rc = mounts_apply(root, pass, b.data ? b.data : "", b.len,
				  is_stdin ? "/dev/stdin" : path, rep);
	}
	if (fd >= 0 && !is_stdin)
		close(fd);
	buf_free(&b);
	return rc;
}
