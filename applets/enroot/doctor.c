/* cmd_doctor: `enroot doctor [--json]`, the preflight a site admin or a user runs when
 * something fails (PITFALLS §3.5 "clear errors"). Each check is a small function adding one
 * result: ok, warn (something optional is missing or risky) or fail (something create, start
 * or import needs does not work), with a detail and, for warn and fail, one line saying what
 * to change. The namespace probes try the real thing in a forked child (unshare, maps,
 * mounts) whose mount namespace dies with it, so nothing is left behind. Exit 1 when a check
 * fails. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/child.h"
#include "base/config.h"
#include "base/io.h"
#include "base/json.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/xwrap.h"
#include "cmd.h"
#include "image/store.h"
#include "runtime/fstab.h"
#include "runtime/userns.h"

const char cmd_doctor_usage[] =
    "Usage: enroot doctor [options]\n"
    "\n"
    "Check that this machine and this configuration can run containers: user\n"
    "namespaces, overlay and FUSE mounts in them, squashfuse, squashfs-tools, each\n"
    "ENROOT_*_PATH, the configuration files and hooks. Prints ok, warn or fail per\n"
    "check, with what to change; exits 1 when a check fails.\n"
    "\n"
    " Options:\n"
    "   -j, --json  Print the results as a JSON array of {check, status, detail, hint}\n";

enum status { OK, WARN, FAIL };

struct result {
	char *check, *detail, *hint; /* hint: NULL for ok */
	enum status status;
};

struct report {
	struct result *v;
	size_t n, cap;
};

/* Add a result; hint (a format without arguments, or NULL) is only kept for warn and fail. */
static void __attribute__((format(printf, 5, 6)))
add(struct report *r, const char *check, enum status st, const char *hint, const char *fmt, ...)
{
	va_list ap;
	char *detail;

	va_start(ap, fmt);
	if (vasprintf(&detail, fmt, ap) < 0)
		die("failed to allocate memory:");
	va_end(ap);
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 32;
		if (!(r->v = realloc(r->v, r->cap * sizeof(*r->v))))
			die("failed to allocate memory:");
	}
	r->v[r->n++] =
	    (struct result){xstrdup(check), detail, st != OK && hint ? xstrdup(hint) : NULL, st};
}

/* --- Small helpers. */

static int read_long(const char *path, long *v)
{
	FILE *f = fopen(path, "re");
	int ok = f && fscanf(f, "%ld", v) == 1;

	if (f)
		fclose(f);
	return ok ? 0 : -1;
}

/* The full path of prog on PATH (malloc'd), or NULL. */
static char *which(const char *prog)
{
	char *c = child_which(prog);

	if (!c && errno == ENOMEM)
		die("failed to allocate memory:");
	return c;
}

static const char *human(unsigned long long b, char *out, size_t size)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)b;
	int u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(out, size, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
	return out;
}

/* --- User, mount, overlay and FUSE namespaces: one child tries them all. */

enum { P_USERNS, P_MOUNT, P_OVERLAY, P_FUSE, NPROBE };

struct probe {
	int err[NPROBE]; /* 0 worked, an errno, or -1 when not tried */
};

/* 1.+2. the user namespace as unsharens makes it (userns_create_user: uid and gid mapped to
 * themselves, setgroups denied, ambient capabilities) and a mount namespace in it, 3. make /
 * private and mount a tmpfs on /tmp,
 * 4. mount an overlay there, 5. mount FUSE on an opened /dev/fuse (no daemon needed for
 * mount(2) to succeed; the kernel's INIT request is never answered). Everything dies with
 * the child's namespaces. */
static void probe_child(int out)
{
	struct probe p = {{-1, -1, -1, -1}};
	unsigned uid = (unsigned)geteuid(), gid = (unsigned)getegid(); /* unmapped after unshare */
	char opts[128];
	int fuse;

	alarm(10);
	if (userns_create_user(USERNS_USER) != USERNS_OK ||
	    userns_unshare(USERNS_USER | USERNS_MOUNT) != USERNS_OK) {
		p.err[P_USERNS] = errno;
		goto out;
	}
	p.err[P_USERNS] = 0;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", "/tmp", "tmpfs", 0, "size=1m,mode=0700") < 0) {
		p.err[P_MOUNT] = errno;
		goto out;
	}
	p.err[P_MOUNT] = 0;
	if (mkdir("/tmp/l", 0700) || mkdir("/tmp/u", 0700) || mkdir("/tmp/w", 0700) ||
	    mkdir("/tmp/o", 0700) || mkdir("/tmp/f", 0700))
		goto out;
	p.err[P_OVERLAY] = mount("overlay", "/tmp/o", "overlay", 0,
				 "lowerdir=/tmp/l,upperdir=/tmp/u,workdir=/tmp/w,xino=off")
			       ? errno
			       : 0;
	/* Opened in the namespace: FUSE refuses a device opened in another user namespace. */
	if ((fuse = open("/dev/fuse", O_RDWR | O_CLOEXEC)) < 0) {
		p.err[P_FUSE] = errno;
		goto out;
	}
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=%u,group_id=%u", fuse, uid, gid);
	p.err[P_FUSE] =
	    mount("enroot-doctor", "/tmp/f", "fuse", MS_NOSUID | MS_NODEV, opts) ? errno : 0;
	if (!p.err[P_FUSE])
		umount2("/tmp/f", MNT_DETACH);
out:
	if (io_write_all(out, &p, sizeof(p)) < 0)
		_exit(1);
	_exit(0);
}

static void run_probe(struct probe *p)
{
	int fds[2], status;
	pid_t pid;

	for (int i = 0; i < NPROBE; i++)
		p->err[i] = -1;
	if (pipe2(fds, O_CLOEXEC) < 0 || (pid = fork()) < 0)
		return;
	if (pid == 0) {
		close(fds[0]);
		probe_child(fds[1]);
	}
	close(fds[1]);
	if (read(fds[0], p, sizeof(*p)) != (ssize_t)sizeof(*p))
		for (int i = 0; i < NPROBE; i++)
			p->err[i] = -1;
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

/* Why an unprivileged user namespace cannot be made, from the sysctls that forbid it. */
static const char *sysctl_hint(int err)
{
	long v;

	if (read_long("/proc/sys/user/max_user_namespaces", &v) == 0 && v == 0)
		return "user.max_user_namespaces is 0: as root, sysctl -w "
		       "user.max_user_namespaces=15000 (and set it in /etc/sysctl.d)";
	if (read_long("/proc/sys/kernel/unprivileged_userns_clone", &v) == 0 && v == 0)
		return "kernel.unprivileged_userns_clone is 0: as root, sysctl -w "
		       "kernel.unprivileged_userns_clone=1 (and set it in /etc/sysctl.d)";
	if (read_long("/proc/sys/user/max_mnt_namespaces", &v) == 0 && v == 0)
		return "user.max_mnt_namespaces is 0: as root, sysctl -w "
		       "user.max_mnt_namespaces=15000 (and set it in /etc/sysctl.d)";
	if (err == ENOSPC)
		return "user.max_user_namespaces or user.max_mnt_namespaces is used up: raise "
		       "them (sysctl -w user.max_user_namespaces=15000)";
	return "unprivileged user namespaces are denied here (a seccomp policy, or a container "
	       "runtime around this shell): ask the administrator to allow them";
}

static int apparmor_restricts(void)
{
	long v;

	return read_long("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", &v) == 0 &&
	       v == 1;
}

static const char apparmor_hint[] =
    "kernel.apparmor_restrict_unprivileged_userns is 1 (Ubuntu 23.10+): load an AppArmor "
    "profile that allows userns for enroot, or sysctl -w "
    "kernel.apparmor_restrict_unprivileged_userns=0";

static void check_userns(struct report *r, const struct probe *p)
{
	struct utsname u;
	const char *k = uname(&u) == 0 ? u.release : "?";
	int e = p->err[P_USERNS], m = p->err[P_MOUNT];

	if (e == -1)
		add(r, "user namespaces", FAIL, "run enroot doctor again; see dmesg",
		    "the probe process did not report (Linux %s)", k);
	else if (e)
		add(r, "user namespaces", FAIL,
		    apparmor_restricts() ? apparmor_hint : sysctl_hint(e),
		    "cannot create one: %s (Linux %s)", strerror(e), k);
	else if (m)
		add(r, "user namespaces", FAIL,
		    apparmor_restricts() ? apparmor_hint
					 : "mounts in a user namespace are denied: a kernel or "
					   "security module setting; ask the administrator",
		    "created, but a tmpfs mount in it fails: %s (Linux %s)", strerror(m), k);
	else
		add(r, "user namespaces", OK, NULL,
		    "unshare, uid and gid maps and a tmpfs mount work (Linux %s)", k);
}

static void check_overlay(struct report *r, const struct probe *p)
{
	int e = p->err[P_OVERLAY], native = config_enabled("ENROOT_NATIVE_OVERLAYFS");

	if (e == 0)
		add(r, "overlay", OK, NULL, "kernel overlayfs mounts in a user namespace");
	else if (e == -1)
		add(r, "overlay", WARN, "fix the user namespace check first", "not probed");
	else if (!native)
		add(r, "overlay", OK, NULL,
		    "kernel overlayfs fails in a user namespace (%s); not used: "
		    "ENROOT_NATIVE_OVERLAYFS is off",
		    strerror(e));
	else
		add(r, "overlay", WARN,
		    "Linux 5.11+ mounts overlayfs in a user namespace; else set "
		    "ENROOT_NATIVE_OVERLAYFS=n to use fuse-overlayfs for .sqsh starts",
		    "kernel overlayfs fails in a user namespace: %s (starting .sqsh files needs "
		    "it)",
		    strerror(e));
}

static void check_fuse(struct report *r, const struct probe *p)
{
	struct stat st;
	int e = p->err[P_FUSE];

	if (stat("/dev/fuse", &st) < 0 || !S_ISCHR(st.st_mode))
		add(r, "/dev/fuse", WARN,
		    "as root, modprobe fuse (and pass /dev/fuse into this container, if any); "
		    "only starting .sqsh files directly needs it",
		    "missing");
	else if (access("/dev/fuse", R_OK | W_OK) < 0)
		add(r, "/dev/fuse", WARN,
		    "as root, chmod 0666 /dev/fuse (udev's default); only starting .sqsh "
		    "files directly needs it",
		    "mode %o: not readable and writable by you", (unsigned)(st.st_mode & 07777));
	else if (e)
		add(r, "/dev/fuse", WARN,
		    e == -1 ? "fix the user namespace check first"
			    : "Linux 4.18+ mounts FUSE in a user namespace; only starting .sqsh "
			      "files directly needs it",
		    "a FUSE mount in a user namespace fails: %s",
		    e == -1 ? "not probed" : strerror(e));
	else
		add(r, "/dev/fuse", OK, NULL, "FUSE mounts in a user namespace");
}

/* squashfuse always for .sqsh starts; fuse-overlayfs when the kernel overlay is not used. */
static void check_fuse_tools(struct report *r, const struct probe *p)
{
	char *sq = which("squashfuse"), *ov = which("fuse-overlayfs");
	int need_ov = !config_enabled("ENROOT_NATIVE_OVERLAYFS") || p->err[P_OVERLAY] > 0;

	if (sq)
		add(r, "squashfuse", OK, NULL, "%s", sq);
	else
		add(r, "squashfuse", WARN,
		    "install squashfuse to start .sqsh images directly (create and start of "
		    "a named container work without it)",
		    "not found on PATH");
	if (ov)
		add(r, "fuse-overlayfs", OK, NULL, "%s", ov);
	else
		add(r, "fuse-overlayfs", need_ov ? WARN : OK,
		    "install fuse-overlayfs, or use a kernel that mounts overlayfs in a user "
		    "namespace (5.11+), to start .sqsh images directly",
		    need_ov ? "not found on PATH, and the kernel overlay is not used"
			    : "not found on PATH; not needed (the kernel overlay is used)");
	free(sq);
	free(ov);
}

/* --- squashfs-tools. */

/* "unsquashfs version 4.5.1 (2022/03/17)" -> 40501. 0 when it does not run or says no
 * version. */
static int tool_version(const char *tool, char *text, size_t size)
{
	char *argv[] = {(char *)tool, "-version", NULL};
	struct buf out = BUF_INIT;
	int a = 0, b = 0, c = 0, v = 0;
	const char *p;

	text[0] = '\0';
	if (child_run(argv, -1, &out, 1) >= 0 && out.data && (p = strstr(out.data, "version "))) {
		if (sscanf(p + 8, "%d.%d.%d", &a, &b, &c) >= 2)
			v = a * 10000 + b * 100 + c;
		snprintf(text, size, "%.*s", (int)strcspn(p + 8, " \n"), p + 8);
	}
	buf_free(&out);
	return v;
}

static void check_squashfs_tools(struct report *r)
{
	char text[64], *path;
	int v;

	if (!(path = which("unsquashfs"))) {
		add(r, "unsquashfs", FAIL, "install squashfs-tools: enroot create needs unsquashfs",
		    "not found on PATH");
	} else if ((v = tool_version("unsquashfs", text, sizeof(text))) < 40400) {
		add(r, "unsquashfs", FAIL,
		    "install squashfs-tools 4.5.1 or later: create passes -user-xattrs (4.4+)",
		    "%s: version %s", path, *text ? text : "unknown");
	} else if (v < 40501) {
		add(r, "unsquashfs", WARN,
		    "install squashfs-tools 4.5.1 or later: older ones write outside the "
		    "destination on crafted images (CVE-2021-40153, CVE-2021-41072)",
		    "%s: version %s", path, text);
	} else {
		add(r, "unsquashfs", OK, NULL, "%s: version %s", path, text);
	}
	free(path);
	if (!(path = which("mksquashfs"))) {
		add(r, "mksquashfs", WARN,
		    "install squashfs-tools: export, and import with options the one-pass "
		    "writer does not honour, need mksquashfs",
		    "not found on PATH");
	} else {
		v = tool_version("mksquashfs", text, sizeof(text));
		add(r, "mksquashfs", v ? OK : WARN, "check that mksquashfs -version runs",
		    "%s: version %s", path, *text ? text : "unknown");
	}
	free(path);
}

/* --- The ENROOT_*_PATH settings. */

/* What enroot does with a path, hence what breaks it. */
static const struct path_role {
	const char *name;
	int made;		 /* the configuration load makes it (mkdir -p) */
	int written;		 /* enroot writes in it: writable, with room */
	int own;		 /* should be the caller's */
	int optional;		 /* checked only when it exists (a later feature's path) */
	enum status noexec;	 /* how bad noexec is there (OK: it does not matter) */
	const char *noexec_why;	 /* ... and why */
	const char *network_why; /* why a network file system is a risk there, or NULL */
} roles[] = {
    /* Every start mounts a private tmpfs over it: it only has to be there, on a local file
     * system (a hung server would hang every start). */
    {"ENROOT_RUNTIME_PATH", 1, 0, 0, 0, OK, NULL, "a hung server hangs every start"},
    {"ENROOT_CONFIG_PATH", 0, 0, 1, 0, OK, NULL, NULL},
    {"ENROOT_CACHE_PATH", 1, 1, 1, 0, OK, NULL, NULL},
    {"ENROOT_DATA_PATH", 1, 1, 1, 0, FAIL, "containers cannot run their programs",
     "root squash and missing user xattrs break create, and starts are slow"},
    {"ENROOT_TEMP_PATH", 0, 1, 0, 0, WARN, "bundles extracted there cannot run", NULL},
    /* The node image store (enroot store): checked once its directory exists. */
    {"ENROOT_STORE_PATH", 0, 1, 0, 1, OK, NULL, NULL},
};

static const struct fstype {
	unsigned long magic;
	const char *name;
	int network;
} fstypes[] = {
    {0xEF53, "ext4", 0},       {0x58465342, "xfs", 0},	   {0x9123683E, "btrfs", 0},
    {0x01021994, "tmpfs", 0},  {0x794c7630, "overlay", 0}, {0x2FC12FC1, "zfs", 0},
    {0x858458f6, "ramfs", 0},  {0x65735546, "fuse", 0},	   {0x6969, "nfs", 1},
    {0x0BD00BD0, "lustre", 1}, {0x47504653, "gpfs", 1},	   {0xFF534D42, "cifs", 1},
    {0xFE534D42, "smb2", 1},   {0x00C36400, "ceph", 1},	   {0x19830326, "beegfs", 1},
    {0x01021997, "9p", 1},     {0x5346414F, "afs", 1},	   {0xAAD7AAEA, "panfs", 1},
};

static const struct fstype *fstype_of(const struct statfs *sf)
{
	static struct fstype unknown;

	for (size_t i = 0; i < sizeof(fstypes) / sizeof(fstypes[0]); i++)
		if ((unsigned long)sf->f_type == fstypes[i].magic)
			return &fstypes[i];
	unknown.magic = (unsigned long)sf->f_type;
	unknown.name = NULL;
	return &unknown;
}

/* The nearest existing ancestor of path (path itself when it exists), malloc'd. */
static char *existing_ancestor(const char *path)
{
	char *p = xstrdup(path), *slash;
	struct stat st;

	while (stat(p, &st) < 0 && (slash = strrchr(p, '/'))) {
		if (slash == p) {
			p[1] = '\0';
			break;
		}
		*slash = '\0';
	}
	return p;
}

/* A path that cannot be looked at (err): missing and makeable, missing, or hidden. */
static void check_missing_path(struct report *r, const struct path_role *ro, const char *path,
			       int err)
{
	char *anc = existing_ancestor(path), *hint = NULL;

	if (err != ENOENT) {
		hint = xasprintf("let yourself search its parent directories, or point %s "
				 "elsewhere",
				 ro->name);
		add(r, ro->name, FAIL, hint, "%s: %s", path, strerror(err));
	} else if (ro->made && access(anc, W_OK | X_OK) == 0) {
		add(r, ro->name, OK, NULL, "%s: does not exist; enroot makes it in %s", path, anc);
	} else if (ro->made) {
		hint = xasprintf("create it for yourself, or point %s at a directory you can "
				 "create",
				 ro->name);
		add(r, ro->name, FAIL, hint, "%s: does not exist and cannot be made in %s: %s",
		    path, anc, strerror(errno));
	} else if (ro->written) {
		hint = xasprintf("create it, or point %s at an existing directory", ro->name);
		add(r, ro->name, FAIL, hint, "%s: does not exist", path);
	} else {
		add(r, ro->name, OK, NULL, "%s: does not exist (nothing configured there)", path);
	}
	free(hint);
	free(anc);
}

/* Is the existing directory unusable? Sets *why and *hint (malloc'd) and returns FAIL. */
static enum status path_broken(const struct path_role *ro, const char *path, const struct stat *st,
			       const struct statvfs *sv, char **why, char **hint)
{
	unsigned long long avail = (unsigned long long)sv->f_bavail * sv->f_frsize;
	char h[32];

	if (!S_ISDIR(st->st_mode)) {
		*why = xstrdup("not a directory");
		*hint = xasprintf("point %s at a directory", ro->name);
	} else if (ro->written && ((sv->f_flag & ST_RDONLY) || access(path, W_OK | X_OK) < 0)) {
		*why = xstrdup(sv->f_flag & ST_RDONLY ? "read-only file system" : "not writable");
		*hint = xasprintf("make it writable by you, or point %s at a directory that is",
				  ro->name);
	} else if (ro->noexec == FAIL && (sv->f_flag & ST_NOEXEC)) {
		*why = xasprintf("mounted noexec: %s", ro->noexec_why);
		*hint = xasprintf("remount it without noexec, or point %s at a file system "
				  "that allows exec",
				  ro->name);
	} else if (ro->written && avail < (16ULL << 20)) {
		*why = xasprintf("%s free", human(avail, h, sizeof(h)));
		*hint = xstrdup("free some space (enroot remove, or clear the cache)");
	} else {
		return OK;
	}
	return FAIL;
}

/* Is the usable directory at risk? Sets *why and *hint (malloc'd) and returns WARN. */
static enum status path_risky(const struct path_role *ro, const struct stat *st,
			      const struct statvfs *sv, const struct fstype *ft, char **why,
			      char **hint)
{
	unsigned long long avail = (unsigned long long)sv->f_bavail * sv->f_frsize;
	char h[32];

	if (ro->network_why && ft->network) {
		*why = xasprintf("on %s, a network file system: %s", ft->name, ro->network_why);
		*hint = xasprintf("point %s at a local file system", ro->name);
	} else if (ro->noexec == WARN && (sv->f_flag & ST_NOEXEC)) {
		*why = xasprintf("mounted noexec: %s", ro->noexec_why);
		*hint = xasprintf("point %s at a file system that allows exec", ro->name);
	} else if (ro->own && st->st_uid != geteuid()) {
		*why = xasprintf("owned by uid %u, not you", (unsigned)st->st_uid);
		*hint = xasprintf("give %s a directory of your own", ro->name);
	} else if (ro->written && avail < (1ULL << 30)) {
		*why = xasprintf("only %s free", human(avail, h, sizeof(h)));
		*hint = xstrdup("free some space: images and containers need room");
	} else {
		return OK;
	}
	return WARN;
}

/* The path of a role (malloc'd), or NULL when unset; the store has its default. */
static char *role_path(const struct path_role *ro)
{
	const char *v = getenv(ro->name);

	if (!strcmp(ro->name, "ENROOT_STORE_PATH"))
		return store_default_dir();
	return v && *v ? xstrdup(v) : NULL;
}

static void check_path(struct report *r, const struct path_role *ro)
{
	char *path = role_path(ro);
	const struct fstype *ft;
	struct statvfs sv;
	struct statfs sf;
	struct stat st;
	char *why = NULL, *hint = NULL, h[32], type[32];
	enum status s;

	if (!path) {
		if (!ro->optional)
			add(r, ro->name, FAIL, "set it in enroot.conf", "not set");
		return;
	}
	if (stat(path, &st) < 0 || statvfs(path, &sv) < 0 || statfs(path, &sf) < 0) {
		if (!ro->optional || errno != ENOENT)
			check_missing_path(r, ro, path, errno);
		free(path);
		return;
	}
	ft = fstype_of(&sf);
	if (ft->name)
		snprintf(type, sizeof(type), "%s", ft->name);
	else
		snprintf(type, sizeof(type), "type 0x%lx", ft->magic);
	if ((s = path_broken(ro, path, &st, &sv, &why, &hint)) == OK)
		s = path_risky(ro, &st, &sv, ft, &why, &hint);
	add(r, ro->name, s, hint, "%s: %s%s%s%s, %s free%s%s", path, type,
	    sv.f_flag & ST_RDONLY ? ", ro" : "", sv.f_flag & ST_NOSUID ? ", nosuid" : "",
	    sv.f_flag & ST_NOEXEC ? ", noexec" : "",
	    human((unsigned long long)sv.f_bavail * sv.f_frsize, h, sizeof(h)), why ? ": " : "",
	    why ? why : "");
	free(why);
	free(hint);
	free(path);
}

/* --- Configuration files and hooks. */

static void check_config(struct report *r, enum config_result rc, const char *bad, int err)
{
	char *conf = xasprintf("%s/enroot.conf", config_sysconf_dir());

	if (rc == CONFIG_INVALID) {
		char *hint = xasprintf("fix the shell syntax: bash -n %s shows where", bad);
		add(r, "configuration", FAIL, hint, "Invalid configuration file: %s", bad);
		free(hint);
	} else if (rc == CONFIG_ERRNO && bad &&
		   !strncmp(bad, config_sysconf_dir(), strlen(config_sysconf_dir()))) {
		add(r, "configuration", FAIL, "make the file readable", "%s: %s", bad,
		    strerror(err));
	} else {
		add(r, "configuration", OK, NULL, "%s%s", conf,
		    access(conf, R_OK) ? " (none: defaults)" : "");
	}
	free(conf);
}

/* The files SUB/<name>.EXT of the system, then the user, configuration directory. */
static void config_files(const char *sub, const char *ext, glob_t *g)
{
	char *user = getenv("ENROOT_CONFIG_PATH");
	char *a = xasprintf("%s/%s/*.%s", config_sysconf_dir(), sub, ext);

	if (glob(a, 0, NULL, g) != 0)
		g->gl_pathc = 0;
	free(a);
	if (user && *user) {
		a = xasprintf("%s/%s/*.%s", user, sub, ext);
		glob(a, g->gl_pathc ? GLOB_APPEND : 0, NULL, g);
		free(a);
	}
}

/* Hooks must be executable (start skips the others silently) and parse as bash. */
static void check_hooks(struct report *r)
{
	glob_t g = {0};
	size_t n = 0;
	char *bash = which("bash");

	config_files("hooks.d", "sh", &g);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *h = g.gl_pathv[i];
		char *argv[] = {"bash", "-n", (char *)h, NULL};
		if (access(h, X_OK) < 0) {
			add(r, "hooks", WARN, "chmod +x it, or remove it",
			    "%s: not executable: start "
			    "skips it",
			    h);
			goto done;
		}
		if (bash && child_run(argv, -1, CHILD_DEVNULL, 1) != 0) {
			char *hint = xasprintf("fix it: bash -n %s shows where", h);
			add(r, "hooks", FAIL, hint, "%s: does not parse as bash", h);
			free(hint);
			goto done;
		}
		n++;
	}
	if (!bash && n)
		add(r, "hooks", WARN, "install bash: hooks other than the standard ones need it",
		    "%zu hooks, bash not found on PATH", n);
	else
		add(r, "hooks", OK, NULL, "%zu hooks, executable%s", n, bash ? " and parsing" : "");
done:
	free(bash);
	if (g.gl_pathc)
		globfree(&g);
}

/* The first invalid entry of an fstab file, as mountat would report it, or 0. */
static int bad_fstab_line(const char *path, char **why)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int bad = 0;

	if (!f) {
		*why = xasprintf("%s: %s", path, strerror(errno));
		return 1;
	}
	while (!bad && (len = getline(&line, &cap, f)) >= 0) {
		struct fstab_entry e;
		struct fstab_opts o;
		int rc;
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		rc = fstab_parse_line(line, (size_t)len, &e);
		if (rc < 0 || (rc == 1 && (fstab_complete(&e) < 0 ||
					   fstab_parse_options(e.options, &o) < 0))) {
			*why = xasprintf("invalid fstab entry: \"%s\" at %s", line, path);
			bad = 1;
		}
	}
	free(line);
	fclose(f);
	return bad;
}

static void check_mounts(struct report *r)
{
	glob_t g = {0};
	char *why = NULL;
	size_t i;

	config_files("mounts.d", "fstab", &g);
	for (i = 0; i < g.gl_pathc && !bad_fstab_line(g.gl_pathv[i], &why); i++)
		;
	if (why)
		add(r, "mounts.d", FAIL, "fix or remove that line (see mountat(1) for the format)",
		    "%s", why);
	else
		add(r, "mounts.d", OK, NULL, "%zu fstab files, every entry valid", g.gl_pathc);
	free(why);
	if (g.gl_pathc)
		globfree(&g);
}

static void check_environ(struct report *r)
{
	glob_t g = {0};
	size_t i;

	config_files("environ.d", "env", &g);
	for (i = 0; i < g.gl_pathc && access(g.gl_pathv[i], R_OK) == 0; i++)
		;
	if (i < g.gl_pathc)
		add(r, "environ.d", FAIL, "make it readable, or remove it", "%s: %s", g.gl_pathv[i],
		    strerror(errno));
	else
		add(r, "environ.d", OK, NULL, "%zu environment files, readable", g.gl_pathc);
	if (g.gl_pathc)
		globfree(&g);
}

/* .credentials: others must not write it (its $(...) entries are then refused) nor read it
 * (it holds passwords and tokens). */
static void check_credentials(struct report *r)
{
	char *path = config_credentials_path();
	unsigned mode;
	struct stat st;

	if (!path || stat(path, &st) < 0) {
		add(r, "credentials", OK, NULL, "%s: none", path ? path : "?");
		free(path);
		return;
	}
	mode = (unsigned)(st.st_mode & 07777);
	if (st.st_uid != geteuid() || (mode & 022))
		add(r, "credentials", WARN,
		    "chown it to yourself and chmod 600 it: entries that need the shell are "
		    "refused otherwise",
		    "%s: mode %o, uid %u: others can change it", path, mode, (unsigned)st.st_uid);
	else if (mode & 044)
		add(r, "credentials", WARN, "chmod 600 it",
		    "%s: mode %o: others can read its passwords", path, mode);
	else
		add(r, "credentials", OK, NULL, "%s: mode %o", path, mode);
	free(path);
}

/* --- Sizes. */

static unsigned long long du_bytes, du_files;
static struct stat du_skip; /* a directory left out (the store, in the cache) */
static int du_skipped;

static int du_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (flag == FTW_D && st->st_dev == du_skip.st_dev && st->st_ino == du_skip.st_ino) {
		du_skipped = 1;
		return FTW_SKIP_SUBTREE;
	}
	if (flag == FTW_F) {
		du_bytes += (unsigned long long)st->st_blocks * 512;
		du_files++;
	}
	return FTW_CONTINUE;
}

/* The size of the cache, and of the node image store ("no store" until its directory
 * exists), each counted once: the store is left out of the cache it sits in by default. */
static void check_sizes(struct report *r)
{
	char *paths[2] = {NULL, store_default_dir()}, h[32];
	const char *check[2] = {"cache size", "store size"}, *none[2] = {"no cache", "no store"};
	const char *cache = getenv("ENROOT_CACHE_PATH");
	struct stat st[2];
	int there[2];

	paths[0] = cache && *cache ? xstrdup(cache) : NULL;
	for (int i = 0; i < 2; i++)
		there[i] = paths[i] && stat(paths[i], &st[i]) == 0;
	for (int i = 0; i < 2; i++) {
		if (!there[i]) {
			add(r, check[i], OK, NULL, "%s", none[i]);
			continue;
		}
		du_bytes = du_files = 0;
		du_skipped = 0;
		memset(&du_skip, 0, sizeof(du_skip));
		if (i == 0 && there[1])
			du_skip = st[1];
		nftw(paths[i], du_one, 32, FTW_PHYS | FTW_MOUNT | FTW_ACTIONRETVAL);
		add(r, check[i], OK, NULL, "%s: %s in %llu files%s", paths[i],
		    human(du_bytes, h, sizeof(h)), du_files,
		    du_skipped ? " (the store not counted)" : "");
	}
	free(paths[0]);
	free(paths[1]);
}

/* --- Output. */

static const char *const status_word[] = {"ok", "warn", "fail"};

static void print_json(const struct report *r)
{
	struct buf o = {0};
	int rc = buf_addc(&o, '[');

	for (size_t i = 0; !rc && i < r->n; i++) {
		const struct result *v = &r->v[i];
		rc = buf_printf(&o, "%s\n  {\"check\": ", i ? "," : "") ||
		     json_write_string(&o, v->check) ||
		     buf_printf(&o, ", \"status\": \"%s\", \"detail\": ", status_word[v->status]) ||
		     json_write_string(&o, v->detail) || buf_adds(&o, ", \"hint\": ") ||
		     (v->hint ? json_write_string(&o, v->hint) : buf_adds(&o, "null")) ||
		     buf_addc(&o, '}');
	}
	if (rc || buf_adds(&o, "\n]\n"))
		die("failed to allocate memory:");
	fwrite(o.data, 1, o.len, stdout);
	buf_free(&o);
}

/* "STATUS  CHECK  detail", the check names aligned, each hint on a line under its detail. */
static void print_plain(const struct report *r)
{
	int w = 0;

	for (size_t i = 0; i < r->n; i++)
		if ((int)strlen(r->v[i].check) > w)
			w = (int)strlen(r->v[i].check);
	for (size_t i = 0; i < r->n; i++) {
		printf("%-4s  %-*s  %s\n", status_word[r->v[i].status], w, r->v[i].check,
		       r->v[i].detail);
		if (r->v[i].hint)
			printf("%-4s  %-*s  -> %s\n", "", w, "", r->v[i].hint);
	}
}

static void run_checks(struct report *r, enum config_result rc, const char *bad, int err)
{
	struct probe p;

	check_config(r, rc, bad, err);
	run_probe(&p);
	check_userns(r, &p);
	check_overlay(r, &p);
	check_fuse(r, &p);
	check_fuse_tools(r, &p);
	check_squashfs_tools(r);
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		check_path(r, &roles[i]);
	check_hooks(r);
	check_mounts(r);
	check_environ(r);
	check_credentials(r);
	check_sizes(r);
}

int cmd_doctor(int argc, char **argv)
{
	static const struct opt opts[] = {{"json", 'j', 0, 'j'}, {0}};
	struct report r = {0};
	struct optparse p;
	enum config_result rc;
	char *bad = NULL;
	int json = 0, o, failed = 0, err;

	opt_init(&p, argc, argv);
	while ((o = opt_next(&p, opts)) != OPT_DONE) {
		if (o == OPT_HELP)
			usage_exit(cmd_doctor_usage, 0);
		if (o == OPT_BAD)
			opt_fail(&p, cmd_doctor_usage);
		json = 1;
	}
	if (p.ind != argc)
		usage_exit(cmd_doctor_usage, 1);
	/* The configuration is loaded here, not by the dispatcher: a broken one is a finding. */
	rc = config_load(&bad);
	err = errno;
	if (rc != CONFIG_OK)
		config_defaults();
	run_checks(&r, rc, bad, err);
	if (json)
		print_json(&r);
	else
		print_plain(&r);
	for (size_t i = 0; i < r.n; i++) {
		failed |= r.v[i].status == FAIL;
		free(r.v[i].check);
		free(r.v[i].detail);
		free(r.v[i].hint);
	}
	free(r.v);
	free(bad);
	return fflush(stdout) || failed ? 1 : 0;
}
