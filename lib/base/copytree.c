/* copytree: a recursive copy through openat/mkdirat, one file system, no symlink followed
 * (see copytree.h). Metadata is applied bottom-up, in the order that keeps it: owner before
 * mode (chown clears setuid/setgid), mode before times, and a directory's mode and times
 * only once its entries are in (they would change its mtime, and a mode without u+w would
 * stop them). A directory its owner may not search keeps u+rwx until the whole tree is in,
 * so that later names of a hard link can still reach their first copy through it; those
 * modes are given last, deepest first. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/copytree.h"
#include "base/io.h"

/* One entry of the hard link map: a source inode and where its first copy went. */
struct link {
	dev_t dev;
	ino_t ino;
	char *rel; /* relative to the destination root; NULL marks a free slot */
};

/* A directory whose mode is given at the end (it lacks u+x). */
struct late_mode {
	char *rel;
	mode_t mode;
};

struct walk {
	int droot;	/* the destination root, for linkat of later names of an inode */
	dev_t dev;	/* the source's file system */
	struct buf rel; /* the current path relative to the roots */
	struct link *links;
	size_t nlinks, caplinks;
	struct late_mode *late; /* in the order the directories were finished: deepest first */
	size_t nlate, caplate;
	struct copytree_stats *st;
};

/* --- The hard link map: open addressing on (dev, ino), grown at half full. */

static size_t link_slot(const struct link *v, size_t cap, dev_t dev, ino_t ino)
{
	size_t h = (size_t)((ino * 0x9e3779b97f4a7c15ULL) ^ dev) & (cap - 1);

	while (v[h].rel && !(v[h].dev == dev && v[h].ino == ino))
		h = (h + 1) & (cap - 1);
	return h;
}

static int link_grow(struct walk *w)
{
	size_t cap = w->caplinks ? w->caplinks * 2 : 256;
	struct link *v = calloc(cap, sizeof(*v));

	if (!v)
		return -1;
	for (size_t i = 0; i < w->caplinks; i++)
		if (w->links[i].rel)
			v[link_slot(v, cap, w->links[i].dev, w->links[i].ino)] = w->links[i];
	free(w->links);
	w->links = v;
	w->caplinks = cap;
	return 0;
}

/* The first copy of (dev, ino), or NULL after remembering the current path for it. */
static const char *link_seen(struct walk *w, const struct stat *s)
{
	struct link *l;

	if (2 * (w->nlinks + 1) > w->caplinks && link_grow(w) < 0)
		return NULL;
	l = &w->links[link_slot(w->links, w->caplinks, s->st_dev, s->st_ino)];
	if (l->rel)
		return l->rel;
	if ((l->rel = strdup(w->rel.data)) != NULL) {
		l->dev = s->st_dev;
		l->ino = s->st_ino;
		w->nlinks++;
	}
	return NULL;
}

/* --- Metadata. */

/* Copy the user.* xattrs of sfd to dfd (other namespaces need privilege or mean nothing in
 * a copy). */
static int copy_xattrs(int sfd, int dfd)
{
	char names[65536], value[65536];
	ssize_t n = flistxattr(sfd, names, sizeof(names));

	if (n < 0)
		return errno == ENOTSUP ? 0 : -1;
	for (char *p = names; p < names + n; p += strlen(p) + 1) {
		ssize_t v;
		if (strncmp(p, "user.", 5))
			continue;
		if ((v = fgetxattr(sfd, p, value, sizeof(value))) < 0 ||
		    fsetxattr(dfd, p, value, (size_t)v, 0) < 0)
			return -1;
	}
	return 0;
}

/* Owner (when it differs and we may set it), then mode, then times, of fd. */
static int set_meta_mode(int fd, const struct stat *s, mode_t mode)
{
	struct timespec t[2] = {s->st_atim, s->st_mtim};
	struct stat d;

	if (fstat(fd, &d) < 0)
		return -1;
	if ((d.st_uid != s->st_uid || d.st_gid != s->st_gid) &&
	    fchown(fd, s->st_uid, s->st_gid) < 0 && errno != EPERM && errno != EINVAL)
		return -1;
	if (fchmod(fd, mode & 07777) < 0)
		return -1;
	return futimens(fd, t);
}

static int set_meta(int fd, const struct stat *s)
{
	return set_meta_mode(fd, s, s->st_mode);
}

/* A copied directory's metadata: all of it now, or, when its owner may not search it, all
 * but the mode, remembered for late_modes (a chmod leaves the times alone). */
static int set_dir_meta(struct walk *w, int fd, const struct stat *s)
{
	struct late_mode *v;

	if (s->st_mode & S_IXUSR)
		return set_meta(fd, s);
	if (w->nlate == w->caplate) {
		size_t cap = w->caplate ? w->caplate * 2 : 16;
		if (!(v = realloc(w->late, cap * sizeof(*v))))
			return -1;
		w->late = v;
		w->caplate = cap;
	}
	if (!(w->late[w->nlate].rel = strdup(w->rel.data)))
		return -1;
	w->late[w->nlate++].mode = s->st_mode;
	return set_meta_mode(fd, s, s->st_mode | S_IRWXU);
}

/* Give the directories their late modes, deepest first (each parent is still searchable). */
static int late_modes(struct walk *w)
{
	for (size_t i = 0; i < w->nlate; i++)
		if (fchmodat(w->droot, w->late[i].rel, w->late[i].mode & 07777, 0) < 0) {
			buf_reset(&w->rel);
			buf_adds(&w->rel, w->late[i].rel);
			return -1;
		}
	return 0;
}

/* The same for an entry that cannot be opened (a symlink, FIFO or socket): by name. */
static int set_meta_at(int dfd, const char *name, const struct stat *s)
{
	struct timespec t[2] = {s->st_atim, s->st_mtim};

	if (fchownat(dfd, name, s->st_uid, s->st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EPERM &&
	    errno != EINVAL)
		return -1;
	if (!S_ISLNK(s->st_mode) && fchmodat(dfd, name, s->st_mode & 07777, 0) < 0)
		return -1;
	return utimensat(dfd, name, t, AT_SYMLINK_NOFOLLOW);
}

/* Give a source entry its own mode back after open_src lent it u+r; a failure leaves it
 * readable to its owner, nothing worse. */
static void mode_back(int dfd, const char *name, mode_t mode)
{
	if (fchmodat(dfd, name, mode & 07777, 0) < 0)
		return;
}

/* Open name under dfd; an entry of ours that we may not read (or search) is given u+r
 * (u+rx) for the moment: *restore is set and the caller puts the mode back. */
static int open_src(int dfd, const char *name, const struct stat *s, int flags, int *restore)
{
	mode_t need = S_ISDIR(s->st_mode) ? S_IRUSR | S_IXUSR : S_IRUSR;
	int fd = openat(dfd, name, flags | O_NOFOLLOW | O_CLOEXEC);

	*restore = 0;
	if (fd >= 0 || errno != EACCES || s->st_uid != geteuid() || (s->st_mode & need) == need)
		return fd;
	if (fchmodat(dfd, name, (s->st_mode & 07777) | need, 0) < 0)
		return -1;
	*restore = 1;
	fd = openat(dfd, name, flags | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int saved = errno;
		mode_back(dfd, name, s->st_mode);
		errno = saved;
		*restore = 0;
	}
	return fd;
}

/* Close what open_src opened and the copy's descriptor DFD (if any), and give the source its
 * mode back when open_src lent it one; errno is kept for the caller's result. */
static void close_src(int sdir, const char *name, const struct stat *s, int restore, int sfd,
		      int dfd)
{
	int saved = errno;

	if (restore)
		mode_back(sdir, name, s->st_mode);
	close(sfd);
	if (dfd >= 0)
		close(dfd);
	errno = saved;
}

/* --- File data. */

/* Copy [off, end) of sfd to the same offsets of dfd: in the kernel, else through a buffer. */
static int copy_range(int sfd, int dfd, off_t off, off_t end)
{
	static char buf[1 << 17];
	int kernel = 1;

	while (off < end) {
		size_t want = (size_t)(end - off > (1 << 30) ? (1 << 30) : end - off);
		off_t so = off, dofs = off;
		ssize_t n = kernel ? copy_file_range(sfd, &so, dfd, &dofs, want, 0) : -1;

		if (n < 0 && kernel &&
		    (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
			kernel = 0;
			continue;
		}
		if (!kernel) {
			n = pread(sfd, buf, want < sizeof(buf) ? want : sizeof(buf), off);
			if (n > 0 && io_pwrite_all(dfd, buf, (size_t)n, off) < 0)
				return -1;
		}
		if (n < 0)
			return -1;
		if (n == 0) /* the file shrank under us: copy what there is */
			break;
		off += n;
	}
	return 0;
}

/* Copy the data of sfd (size bytes) to the empty dfd, holes kept. Returns the bytes of data. */
static long long copy_data(int sfd, int dfd, off_t size, int *cloned)
{
	off_t off = 0, data, hole;
	long long total = 0;

	*cloned = 0;
	if (size > 0 && ioctl(dfd, FICLONE, sfd) == 0) {
		*cloned = 1;
		return size;
	}
	while (off < size) {
		data = lseek(sfd, off, SEEK_DATA);
		if (data < 0 && errno == ENXIO) /* only a hole is left */
			break;
		if (data < 0) { /* no SEEK_DATA here: the whole file is data */
			data = off;
			hole = size;
		} else if ((hole = lseek(sfd, data, SEEK_HOLE)) < 0) {
			return -1;
		}
		if (hole > size)
			hole = size;
		if (copy_range(sfd, dfd, data, hole) < 0)
			return -1;
		total += hole - data;
		off = hole;
	}
	/* A trailing hole (and the size itself) comes from the length. */
	return ftruncate(dfd, size) < 0 ? -1 : total;
}

static int copy_file(struct walk *w, int sdir, int ddir, const char *name, const struct stat *s)
{
	int restore, cloned, rc = -1;
	int sfd = open_src(sdir, name, s, O_RDONLY | O_NONBLOCK, &restore), dfd = -1;
	long long n;

	if (sfd < 0)
		return -1;
	dfd = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (dfd >= 0 && (n = copy_data(sfd, dfd, s->st_size, &cloned)) >= 0 &&
	    copy_xattrs(sfd, dfd) == 0 && set_meta(dfd, s) == 0) {
		w->st->bytes += (unsigned long long)n;
		w->st->reflinked += (unsigned long long)cloned;
		rc = 0;
	}
	close_src(sdir, name, s, restore, sfd, dfd);
	return rc;
}

/* --- The walk. */

static int copy_dir(struct walk *w, int sfd, int dfd);

static int copy_subdir(struct walk *w, int sdir, int ddir, const char *name, const struct stat *s)
{
	int restore, rc = -1, sfd, dfd = -1;

	if (s->st_dev != w->dev)
		return errno = EXDEV, -1;
	if ((sfd = open_src(sdir, name, s, O_RDONLY | O_DIRECTORY, &restore)) < 0)
		return -1;
	if (mkdirat(ddir, name, 0700) == 0 &&
	    (dfd = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0 &&
	    copy_dir(w, sfd, dfd) == 0 && copy_xattrs(sfd, dfd) == 0 &&
	    set_dir_meta(w, dfd, s) == 0)
		rc = 0;
	close_src(sdir, name, s, restore, sfd, dfd);
	return rc;
}

/* A symlink, FIFO, socket or device node. */
static int copy_special(struct walk *w, int sdir, int ddir, const char *name, const struct stat *s)
{
	char target[4096];
	ssize_t n;

	if (S_ISLNK(s->st_mode)) {
		if ((n = readlinkat(sdir, name, target, sizeof(target))) < 0)
			return -1;
		if ((size_t)n == sizeof(target))
			return errno = ENAMETOOLONG, -1;
		target[n] = '\0';
		if (symlinkat(target, ddir, name) < 0)
			return -1;
	} else if (mknodat(ddir, name, s->st_mode & (S_IFMT | 07777), s->st_rdev) < 0) {
		if ((errno != EPERM && errno != EACCES) || S_ISFIFO(s->st_mode) ||
		    S_ISSOCK(s->st_mode))
			return -1;
		/* A device node without the privilege to make one: skipped, and counted. */
		if (!w->st->skipped++)
			w->st->first_skipped = strdup(w->rel.data);
		return 0;
	}
	return set_meta_at(ddir, name, s);
}

/* Copy one entry of sdir into ddir; w->rel names it. */
static int copy_entry(struct walk *w, int sdir, int ddir, const char *name)
{
	const char *first;
	struct stat s;

	if (fstatat(sdir, name, &s, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1; /* gone since readdir */
	if (S_ISDIR(s.st_mode))
		return copy_subdir(w, sdir, ddir, name, &s) < 0 ? -1 : (w->st->entries++, 0);
	if (s.st_nlink > 1 && (first = link_seen(w, &s))) {
		if (linkat(w->droot, first, ddir, name, 0) < 0)
			return -1;
		w->st->links++;
		return 0;
	}
	if (S_ISREG(s.st_mode) ? copy_file(w, sdir, ddir, name, &s) < 0
			       : copy_special(w, sdir, ddir, name, &s) < 0)
		return -1;
	w->st->entries++;
	return 0;
}

/* Copy the entries of the open directory sfd into dfd. On failure w->rel keeps the path of
 * the entry at fault. */
static int copy_dir(struct walk *w, int sfd, int dfd)
{
	int fd = dup(sfd), rc = 0;
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (rc == 0 && (errno = 0, e = readdir(d))) {
		size_t len = w->rel.len;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if ((len && buf_addc(&w->rel, '/') < 0) || buf_adds(&w->rel, e->d_name) < 0 ||
		    (rc = copy_entry(w, sfd, dfd, e->d_name)) < 0)
			break;
		w->rel.len = len;
		w->rel.data[len] = '\0';
	}
	if (rc == 0 && errno) /* readdir failed, or the path could not grow */
		rc = -1;
	int saved = errno;
	closedir(d);
	errno = saved;
	return rc;
}

int copytree(const char *src, const char *dst, struct copytree_stats *st, char **bad)
{
	struct copytree_stats dummy;
	struct walk w = {.droot = -1, .rel = BUF_INIT, .st = st ? st : &dummy};
	struct stat s;
	int sfd, rc = -1, saved;

	memset(w.st, 0, sizeof(*w.st));
	if (bad)
		*bad = NULL;
	buf_adds(&w.rel, "");
	sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd >= 0 && fstat(sfd, &s) == 0 && mkdir(dst, 0700) == 0 &&
	    (w.droot = open(dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		w.dev = s.st_dev;
		if (copy_dir(&w, sfd, w.droot) == 0 && late_modes(&w) == 0 &&
		    copy_xattrs(sfd, w.droot) == 0 && set_meta(w.droot, &s) == 0)
			rc = 0;
	}
	saved = errno;
	if (rc < 0 && bad)
		*bad = strdup(w.rel.data ? w.rel.data : "");
	if (rc == 0)
		w.st->entries++;
	if (sfd >= 0)
		close(sfd);
	if (w.droot >= 0)
		close(w.droot);
	for (size_t i = 0; i < w.caplinks; i++)
		free(w.links[i].rel);
	free(w.links);
	for (size_t i = 0; i < w.nlate; i++)
		free(w.late[i].rel);
	free(w.late);
	buf_free(&w.rel);
	if (!st)
		free(dummy.first_skipped);
	errno = saved;
	return rc;
}
