/* overlaydir: merge a separately unpacked layer onto the root tree (see overlaydir.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/safepath.h"
#include "image/overlaydir.h"

/* One overlaydir_merge call. */
struct ovl {
	int root;
	struct overlaydir_layer *l;
	struct layer_error *err;
	struct pathset fix; /* directories whose mode (and times) are set at the end */
	size_t deferred;    /* parents over a symlink whose target is not there (yet) */
};

int overlaydir_record(void *ctx, enum layer_record what, const char *path, const char *target)
{
	struct overlaydir_layer *l = ctx;
	struct overlaydir_rec *r;

	if (what == LAYER_REC_DIR)
		return pathset_add(&l->dirs, path) ? 0 : -1;
	if (l->nrecs == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct overlaydir_rec *n = realloc(l->recs, cap * sizeof(*n));

		if (!n)
			return -1;
		l->recs = n;
		l->cap = cap;
	}
	r = &l->recs[l->nrecs];
	r->what = what;
	r->path = strdup(path);
	r->target = target ? strdup(target) : NULL;
	if (!r->path || (target && !r->target)) {
		free(r->path);
		free(r->target);
		return errno = ENOMEM, -1;
	}
	l->nrecs++;
	return 0;
}

void overlaydir_layer_free(struct overlaydir_layer *l)
{
	for (size_t i = 0; i < l->nrecs; i++) {
		free(l->recs[i].path);
		free(l->recs[i].target);
	}
	free(l->recs);
	pathset_free(&l->dirs);
	memset(l, 0, sizeof(*l));
}

/* Fill in the error message ("failed to VERB: PATH[: strerror]"), keep errno, return -1. */
static int fail(struct ovl *o, const char *fmt, ...)
{
	int saved = errno;
	size_t len = sizeof(o->err->msg);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->err->msg, len, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < len && fmt[strlen(fmt) - 1] == ':')
		snprintf(o->err->msg + n, len - (size_t)n, " %s", strerror(saved));
	errno = saved ? saved : EIO;
	return -1;
}

static const char *shown(const char *path)
{
	return *path ? path : ".";
}

/* Give the directory FD u+rwx while we work in it; when it is the root tree's (PATH set),
 * remember its mode for the end unless something else is remembered already. */
static int open_up(struct ovl *o, int fd, const char *path)
{
	struct pathent *pe;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return fail(o, "failed to stat: %s:", path ? shown(path) : "layer directory");
	if ((st.st_mode & 0700) == 0700)
		return 0;
	if (path) {
		if (!(pe = pathset_add(&o->fix, path)))
			return fail(o, "failed to record: %s:", shown(path));
		if (!(pe->flags & PATHSET_MODE)) {
			pe->flags |= PATHSET_MODE;
			pe->mode = st.st_mode & 07777;
		}
	}
	if (safepath_fchmod(fd, (st.st_mode & 07777) | 0700) < 0)
		return fail(o,
			    "failed to change mode: %s:", path ? shown(path) : "layer directory");
	return 0;
}

/* Open the directory NAME in DFD for reading, without following a symlink, given u+rwx (see
 * open_up; PATH is its path in the root tree, NULL in a layer tree).  -1 with errno ENOTDIR,
 * ELOOP or ENOENT when it is no directory, with an error message otherwise. */
static int open_dir_at(struct ovl *o, int dfd, const char *name, const char *path)
{
	int p = openat(dfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), fd;

	if (p < 0 || open_up(o, p, path) < 0) {
		if (p >= 0)
			close(p);
		return -1;
	}
	fd = openat(p, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		fail(o, "failed to open directory: %s:", path ? shown(path) : name);
	close(p);
	return fd;
}

/* Open the directory one more component down a route: a name the layer makes a directory
 * itself is opened as it is (the layer replaces a symlink there), any other is resolved
 * inside the root, following symlinks as layer_apply does. */
static int route_step(struct ovl *o, int fd, const char *prefix)
{
	const char *base = strrchr(prefix, '/') ? strrchr(prefix, '/') + 1 : prefix;
	int p, next;

	if (pathset_get(&o->l->dirs, prefix))
		return open_dir_at(o, fd, base, prefix);
	p = safepath_open(o->root, prefix, O_PATH | O_DIRECTORY);
	if (p < 0)
		return -1;
	next = open_up(o, p, prefix) < 0 ? -1 : openat(p, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (next < 0 && !o->err->msg[0])
		fail(o, "failed to open directory: %s:", prefix);
	close(p);
	return next;
}

/* Open the directory at PATH (a path in the layer) in the root tree, where the layer's
 * entries under PATH go.  Returns an fd, -2 when there is no directory there, -1 on error. */
static int resolve(struct ovl *o, const char *path)
{
	char buf[PATH_MAX];
	size_t i = 0, n = strlen(path);
	int fd = open_dir_at(o, o->root, ".", ""), next;

	while (fd >= 0 && i < n) {
		i += strcspn(path + i, "/");
		memcpy(buf, path, i);
		buf[i] = '\0';
		next = route_step(o, fd, buf);
		close(fd);
		fd = next;
		i += path[i] == '/';
	}
	if (fd >= 0 || o->err->msg[0])
		return fd;
	if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP || errno == EXDEV)
		return -2;
	return fail(o, "failed to open directory: %s:", shown(path));
}

/* Remove every entry of the directory FD. */
static int empty_dir(struct ovl *o, int fd, const char *path)
{
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0), ret = 0;
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return fail(o, "failed to open directory: %s:", shown(path));
	}
	while (!ret && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    safepath_remove(dirfd(d), de->d_name) < 0 && errno != ENOENT)
			ret = fail(o, "failed to remove: %s/%s:", shown(path), de->d_name);
	closedir(d);
	return ret;
}

/* Step 1: remove from the root tree what the layer's whiteouts and opaque markers hide. */
static int hide(struct ovl *o)
{
	char dir[PATH_MAX];
	const char *base;
	int fd, ret = 0;

	for (size_t i = 0; !ret && i < o->l->nrecs; i++) {
		struct overlaydir_rec *r = &o->l->recs[i];

		if (r->what == LAYER_REC_HARDLINK)
			continue;
		if (r->what == LAYER_REC_OPAQUE)
			snprintf(dir, sizeof(dir), "%s", r->path);
		else
			safepath_split(r->path, dir, &base);
		if ((fd = resolve(o, dir)) == -1)
			return -1;
		if (fd < 0)
			continue; /* nothing there to hide */
		if (r->what == LAYER_REC_OPAQUE)
			ret = empty_dir(o, fd, dir);
		else if (safepath_remove(fd, base) < 0 && errno != ENOENT)
			ret = fail(o, "failed to remove: %s:", r->path);
		close(fd);
	}
	return ret;
}

/* Rename NAME from the layer directory LFD into the root directory RFD (replacing a
 * non-directory there).  Moving a directory to another parent needs write permission on it
 * (its ".." changes): lend it u+w when it lacks it. */
static int move(struct ovl *o, int lfd, int rfd, const char *name, const struct stat *ls,
		const char *path)
{
	int fd, ret;

	if (renameat(lfd, name, rfd, name) == 0)
		return 0;
	if (errno != EACCES || !S_ISDIR(ls->st_mode))
		return fail(o, "failed to move: %s:", path);
	fd = openat(lfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || safepath_fchmod(fd, (ls->st_mode & 07777) | 0200) < 0) {
		if (fd >= 0)
			close(fd);
		return fail(o, "failed to move: %s:", path);
	}
	ret = renameat(lfd, name, rfd, name);
	if (ret < 0)
		fail(o, "failed to move: %s:", path);
	if (safepath_fchmod(fd, ls->st_mode & 07777) < 0 && !ret)
		ret = fail(o, "failed to change mode: %s:", path);
	close(fd);
	return ret;
}

/* Copy the user.* extended attributes of directory FROM onto TO (added, as layer_apply does). */
static void copy_xattrs(int from, int to)
{
	char names[4096], value[4096];
	ssize_t len = flistxattr(from, names, sizeof(names)), v;

	for (char *n = names; len > 0 && n < names + len; n += strlen(n) + 1)
		if (!strncmp(n, "user.", 5) && (v = fgetxattr(from, n, value, sizeof(value))) >= 0)
			(void)fsetxattr(to, n, value, (size_t)v, 0);
}

/* The layer names the merged directory PATH itself: it takes the layer's metadata, the mode
 * and times at the end (LS: the layer directory's, taken before it was opened up). */
static int take_meta(struct ovl *o, int lfd, int rfd, const struct stat *ls, const char *path)
{
	struct pathent *pe = pathset_add(&o->fix, path);

	if (!pe)
		return fail(o, "failed to record: %s:", shown(path));
	copy_xattrs(lfd, rfd);
	pe->flags |= PATHSET_MODE | PATHSET_TIMES;
	pe->mode = ls->st_mode & 07777;
	pe->ts[0] = ls->st_atim;
	pe->ts[1] = ls->st_mtim;
	return 0;
}

static int merge_dir(struct ovl *o, int lfd, int rfd, char *path);

/* Merge the layer directory NAME in LFD into the root's directory RSUB (consumed). */
static int merge_into(struct ovl *o, int lfd, const char *name, int rsub, const struct stat *ls,
		      char *path)
{
	int lsub = open_dir_at(o, lfd, name, NULL), ret;

	if (lsub < 0) {
		close(rsub);
		return o->err->msg[0] ? -1 : fail(o, "failed to open directory: %s:", path);
	}
	ret = merge_dir(o, lsub, rsub, path);
	if (!ret && pathset_get(&o->l->dirs, path))
		ret = take_meta(o, lsub, rsub, ls, path);
	close(lsub);
	close(rsub);
	return ret;
}

/* Merge the entry NAME of the layer directory LFD into the root directory RFD (PATH: its path
 * in the layer).  Returns 0 or -1. */
static int merge_entry(struct ovl *o, int lfd, int rfd, const char *name, char *path)
{
	struct stat ls, rs;
	int rsub;

	if (fstatat(lfd, name, &ls, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(o, "failed to stat: %s:", path);
	if (fstatat(rfd, name, &rs, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? move(o, lfd, rfd, name, &ls, path)
				       : fail(o, "failed to stat: %s:", path);
	if (S_ISDIR(ls.st_mode) && S_ISDIR(rs.st_mode)) {
		if ((rsub = open_dir_at(o, rfd, name, path)) < 0)
			return o->err->msg[0] ? -1 : fail(o, "failed to open directory: %s:", path);
		return merge_into(o, lfd, name, rsub, &ls, path);
	}
	if (S_ISDIR(ls.st_mode) && !pathset_get(&o->l->dirs, path)) {
		/* Only a parent in the layer: layer_apply would have gone through a symlink here
		 * and skipped the entries below anything else. */
		if (!S_ISLNK(rs.st_mode))
			return 0;
		/* The target may be made by another entry of this layer (in the tar, an earlier
		 * one): retried after the rest of the layer is in (see overlaydir_merge). */
		if ((rsub = resolve(o, path)) == -2)
			return o->deferred++, 0;
		return rsub < 0 ? -1 : merge_into(o, lfd, name, rsub, &ls, path);
	}
	if ((S_ISDIR(ls.st_mode) || S_ISDIR(rs.st_mode)) && safepath_remove(rfd, name) < 0)
		return fail(o, "failed to replace: %s:", path);
	return move(o, lfd, rfd, name, &ls, path);
}

/* Merge every entry of the layer directory LFD into the root directory RFD; PATH (a PATH_MAX
 * buffer) holds the directory's path in the layer and is restored on return. */
static int merge_dir(struct ovl *o, int lfd, int rfd, char *path)
{
	int dup_fd = fcntl(lfd, F_DUPFD_CLOEXEC, 0), ret = 0;
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	size_t len = strlen(path);
	struct dirent *de;

	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return fail(o, "failed to open directory: %s:", shown(path));
	}
	rewinddir(d); /* the fd is a dup of LFD: its offset is shared with earlier passes */
	while (!ret && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (len + 1 + strlen(de->d_name) >= PATH_MAX) {
			errno = ENAMETOOLONG;
			ret = fail(o, "failed to merge: %s/%s:", shown(path), de->d_name);
			break;
		}
		snprintf(path + len, PATH_MAX - len, "%s%s", len ? "/" : "", de->d_name);
		ret = merge_entry(o, dirfd(d), rfd, de->d_name, path);
		path[len] = '\0';
	}
	closedir(d);
	return ret;
}

/* Step 3: hard links of this layer to files of lower layers, resolved inside the root. */
static int link_one(struct ovl *o, const struct overlaydir_rec *r)
{
	char tdir[PATH_MAX], dir[PATH_MAX];
	const char *tbase, *base;
	struct stat st;
	int tfd, pfd = -2, ret = 0;

	safepath_split(r->target, tdir, &tbase);
	safepath_split(r->path, dir, &base);
	tfd = safepath_open(o->root, tdir, O_PATH | O_DIRECTORY);
	if (tfd >= 0 && !fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) && !S_ISDIR(st.st_mode))
		pfd = resolve(o, dir);
	if (pfd == -1)
		ret = -1;
	else if (pfd == -2)
		o->l->skipped++;
	else if ((safepath_remove(pfd, base) < 0 && errno != ENOENT) ||
		 linkat(tfd, tbase, pfd, base, 0) < 0)
		ret = fail(o, "failed to link: %s:", r->path);
	if (pfd >= 0)
		close(pfd);
	if (tfd >= 0)
		close(tfd);
	return ret;
}

static size_t depth(const char *path)
{
	size_t d = *path ? 1 : 0;

	for (; *path; path++)
		d += *path == '/';
	return d;
}

static int by_depth_desc(const void *a, const void *b)
{
	size_t da = depth((*(struct pathent *const *)a)->path);
	size_t db = depth((*(struct pathent *const *)b)->path);

	return da < db ? 1 : da > db ? -1 : 0;
}

/* Give one directory its mode (and times); it may be gone or replaced by now. */
static int fix_dir(struct ovl *o, const struct pathent *pe)
{
	char proc[32];
	struct stat st;
	int fd = safepath_open(o->root, pe->path, O_PATH | O_NOFOLLOW), ret = 0;

	if (fd < 0)
		return 0;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))
		ret = 0;
	else if ((pe->flags & PATHSET_MODE) && safepath_fchmod(fd, pe->mode) < 0)
		ret = fail(o, "failed to change mode: %s:", shown(pe->path));
	else if ((pe->flags & PATHSET_TIMES) && utimensat(AT_FDCWD, proc, pe->ts, 0) < 0)
		ret = fail(o, "failed to set times: %s:", shown(pe->path));
	close(fd);
	return ret;
}

/* Set the modes and times recorded while merging, deepest directories first. */
static int fix_dirs(struct ovl *o)
{
	struct pathent **list = malloc((o->fix.len + 1) * sizeof(*list));
	size_t n = 0;
	int ret = 0;

	if (!list)
		return fail(o, "failed to restore directory modes:");
	for (size_t i = 0; i < o->fix.cap; i++)
		if (o->fix.tab[i].path)
			list[n++] = &o->fix.tab[i];
	qsort(list, n, sizeof(*list), by_depth_desc);
	for (size_t i = 0; i < n && !ret; i++)
		ret = fix_dir(o, list[i]);
	free(list);
	return ret;
}

/* Merge the layer tree LFD into the root RFD; again while that lets parents deferred over a
 * symlink through (its target made by another entry of the layer), so the result does not
 * depend on the order readdir returns names in.  What moved in is gone from the layer tree,
 * so a later pass only visits what is left. */
static int merge_again(struct ovl *o, int lfd, int rfd, char *path)
{
	size_t before;

	do {
		before = o->deferred;
		o->deferred = 0;
		if (merge_dir(o, lfd, rfd, path) < 0)
			return -1;
	} while (o->deferred && (!before || o->deferred < before));
	return 0;
}

int overlaydir_merge(int root_fd, int layer_fd, struct overlaydir_layer *l, struct layer_error *err)
{
	struct ovl o = {.root = root_fd, .l = l, .err = err};
	char path[PATH_MAX] = "";
	int lfd = -1, rfd = -1, ret = -1;
	struct stat ls;

	err->msg[0] = '\0';
	if (fstat(layer_fd, &ls) < 0) {
		fail(&o, "failed to stat: layer directory:");
		goto out;
	}
	if (hide(&o) < 0 || (lfd = open_dir_at(&o, layer_fd, ".", NULL)) < 0 ||
	    (rfd = open_dir_at(&o, root_fd, ".", "")) < 0 || merge_again(&o, lfd, rfd, path) < 0)
		goto out;
	if (pathset_get(&l->dirs, "") && take_meta(&o, lfd, rfd, &ls, "") < 0)
		goto out;
	ret = 0;
	for (size_t i = 0; !ret && i < l->nrecs; i++)
		if (l->recs[i].what == LAYER_REC_HARDLINK)
			ret = link_one(&o, &l->recs[i]);
out:
	if (fix_dirs(&o) < 0)
		ret = -1;
	if (lfd >= 0)
		close(lfd);
	if (rfd >= 0)
		close(rfd);
	pathset_free(&o.fix);
	if (ret < 0 && !err->msg[0])
		fail(&o, "failed to merge layer:");
	return ret;
}
