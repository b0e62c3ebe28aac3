/* merge: layers merged top-down into a squashfs image (see merge.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/safepath.h"
#include "image/merge.h"
#include "image/shadow.h"
#include "image/tarwalk.h"

enum kind { K_DIR, K_LEAF, K_WH };

/* One path of the merged tree, as the layers read so far (the upper ones) define it. */
struct node {
	char *path; /* normalized, "" for the root */
	struct node *parent, *kids, *next;
	struct sqfs_inode *ino; /* K_LEAF: its inode; K_DIR: made when the directory is real */
	int top[SHADOW_NCLASS]; /* per class, the uppermost layer with an entry of it here; -1 */
	int layer;		/* the layer that created this node */
	/* The lowest layer so far that wrote below this path (EARLY), or put a whiteout or an
	 * opaque marker below it (WEARLY), before an entry of its own at the path replaced or
	 * removed what the layers below have here: what it wrote went into their object, so a
	 * lower leaf here (a symbolic link, for WEARLY) needs the extract path.  -1: none. */
	int early, wearly;
	int own;     /* the lowest layer so far that wrote below this path; -1 */
	int settled; /* the layer that settled the upper layers' early writes (settle); -1 */
	int ulink;   /* the layer of a hidden hard link here to a target of the lower layers; -1 */
	unsigned char kind, real; /* real: in the image (not only a holder of shadows) */
};

/* A hash map from paths (owned copies) to pointers. */
struct hent {
	char *key;
	void *val;
};

struct hmap {
	struct hent *tab;
	size_t cap, len;
};

/* A hard link's target in a lower layer, to be filled when that layer is read. */
struct pend {
	struct sqfs_inode *ino;
	int layer; /* the uppermost layer with a link waiting for it */
	int low;   /* the lowest one, plus one (0: none yet) */
};

/* A regular file of this layer an upper layer shadows: where to find it again, should one of
 * this layer's hard links need it (the layer is then read a second time). */
struct shadow {
	long index;
	struct sqfs_inode *ino; /* the link's inode, to fill on the second read; NULL: none yet */
};

struct merge {
	struct sqfs *w;
	struct hmap nodes;   /* path -> struct node */
	struct hmap here;    /* this layer's entries: path -> inode, SHADOWED, DIRMARK, ULINK */
	struct hmap took;    /* this layer's pending targets filled: path -> the inode */
	struct hmap pend;    /* hard link targets in lower layers: path -> struct pend */
	struct hmap shad;    /* this layer's shadowed files: path -> struct shadow */
	struct shadow *reqs; /* shadowed files this layer's hard links need: read again */
	size_t nreqs, reqcap;
	struct node *root;
	int cur; /* the layer being merged */
	int hid; /* the layer whose entry hid the last walk's path (walk) */
	uint32_t now;
	mode_t dirmode, curmode; /* mode of directories made by the merge (this layer) */
	/* per layer */
	const struct layer_opts *o;
	struct layer_stats *st;
	struct layer_error *err;
	struct tarwalk *t;
	const struct tar_entry *e; /* the entry being merged: the walker's, or top */
	struct tar_entry top;	   /* the configuration layer's file or directory */
};

static char shadowed_mark, dir_mark;
#define SHADOWED ((void *)&shadowed_mark)
#define DIRMARK	 ((void *)&dir_mark)
/* A hidden hard link to a target not known yet: whether it is there depends on lower layers. */
static char ulink_mark;
#define ULINK ((void *)&ulink_mark)

static size_t hash(const char *s)
{
	size_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static struct hent *hfind(const struct hmap *h, const char *key)
{
	if (!h->cap)
		return NULL;
	for (size_t i = hash(key) & (h->cap - 1);; i = (i + 1) & (h->cap - 1))
		if (!h->tab[i].key || !strcmp(h->tab[i].key, key))
			return &h->tab[i];
}

static void *hget(const struct hmap *h, const char *key)
{
	struct hent *e = hfind(h, key);

	return e && e->key ? e->val : NULL;
}

static int hgrow(struct hmap *h)
{
	struct hmap n = {calloc(h->cap ? h->cap * 2 : 256, sizeof(struct hent)),
			 h->cap ? h->cap * 2 : 256, h->len};

	if (!n.tab)
		return -1;
	for (size_t i = 0; i < h->cap; i++)
		if (h->tab[i].key)
			*hfind(&n, h->tab[i].key) = h->tab[i];
	free(h->tab);
	*h = n;
	return 0;
}

/* Set KEY to VAL (the key is copied when new).  -1 with ENOMEM. */
static int hput(struct hmap *h, const char *key, void *val)
{
	struct hent *e;

	if ((h->len + 1) * 2 > h->cap && hgrow(h) < 0)
		return -1;
	e = hfind(h, key);
	if (!e->key) {
		if (!(e->key = strdup(key)))
			return -1;
		h->len++;
	}
	e->val = val;
	return 0;
}

/* Remove every key; FREE_VAL frees the values when set. */
static void hclear(struct hmap *h, int free_val)
{
	for (size_t i = 0; i < h->cap; i++) {
		if (free_val)
			free(h->tab[i].val);
		free(h->tab[i].key);
	}
	free(h->tab);
	memset(h, 0, sizeof(*h));
}

/* Fill in the error message, keep errno, return RC. */
#define fail(m, rc, ...) tarwalk_fail((m)->err, rc, __VA_ARGS__)
#define FALLBACK(m, ...) fail(m, MERGE_FALLBACK, __VA_ARGS__)

/* Report a skipped entry and count it; the layer goes on. */
static int skip(struct merge *m, const char *reason)
{
	return tarwalk_skip(m->t, reason);
}

/* The inode INO stands for in the end (hard links make aliases). */
static struct sqfs_inode *resolve(struct sqfs_inode *ino)
{
	while (ino->alias)
		ino = ino->alias;
	return ino;
}

/* A new node at PATH under PARENT. */
static struct node *node_new(struct merge *m, struct node *parent, const char *path, enum kind kind)
{
	struct node *n = calloc(1, sizeof(*n));

	if (!n || !(n->path = strdup(path)) || hput(&m->nodes, path, n) < 0) {
		if (n)
			free(n->path);
		free(n);
		return NULL;
	}
	n->kind = (unsigned char)kind;
	n->layer = m->cur;
	for (int c = 0; c < SHADOW_NCLASS; c++)
		n->top[c] = -1;
	n->early = n->wearly = n->own = n->settled = n->ulink = -1;
	n->parent = parent;
	if (parent) {
		n->next = parent->kids;
		parent->kids = n;
	}
	return n;
}

/* Layer L has an entry of class C at the node N. */
static void record(struct node *n, enum shadow_class c, int L)
{
	if (n->top[c] < L)
		n->top[c] = L;
}

/* Layer L's entry at N replaces or removes what the lower layers have there: the upper
 * layers' early writes below N went into that, not into a lower layer's object. */
static void settle(struct node *n, int L)
{
	if (n->early > L || n->wearly > L)
		n->settled = L;
	if (n->early > L)
		n->early = -1;
	if (n->wearly > L)
		n->wearly = -1;
}

/* Make the directory node N part of the image, with the merge's metadata until a layer
 * gives it its own. */
static int make_real(struct merge *m, struct node *n)
{
	if (!n->ino && !(n->ino = sqfs_inode(m->w, SQFS_DIR, m->curmode, m->now, NULL)))
		return -1;
	n->real = 1;
	return 0;
}

enum { WALK_OK, WALK_HIDDEN, WALK_SKIP };

/* One directory N on the way to an entry of layer L (GHOST: a whiteout's or an opaque
 * marker's; FRESH: an earlier entry of this layer emptied a directory above N of what the
 * lower layers have): WALK_OK to go on, WALK_HIDDEN, WALK_SKIP or MERGE_FALLBACK. */
static int walk_node(struct merge *m, struct node *n, int ghost, int fresh)
{
	int L = m->cur, mine = n->top[SHADOW_DIR] == L || n->top[SHADOW_WHITEOUT] == L;

	if (shadow_fate(n->top, L, SHADOW_DIR) == SHADOW_HIDE) {
		if (!fresh && !mine)
			n->wearly = L; /* into what the lower layers have here, maybe a symlink */
		return m->hid = n->top[SHADOW_WHITEOUT] > n->top[SHADOW_LEAF]
				    ? n->top[SHADOW_WHITEOUT]
				    : n->top[SHADOW_LEAF],
		       WALK_HIDDEN; /* an upper whiteout or leaf replaced the directory */
	}
	if (n->kind == K_WH) { /* this layer removed it... */
		if (ghost)
			return m->hid = L, WALK_HIDDEN;
		n->kind = K_DIR;	/* ... and puts entries under it */
	} else if (n->kind == K_LEAF) { /* this layer's own leaf */
		if (resolve(n->ino)->type == SQFS_SYMLINK)
			return FALLBACK(m, "a symbolic link as a parent in the same layer: %s",
					n->path);
		return ghost ? (m->hid = L, WALK_HIDDEN) : WALK_SKIP;
	}
	if (!ghost && n->ulink >= L)
		return FALLBACK(m, "an entry under a hidden hard link to a lower file: %s",
				n->path);
	if (!ghost && !n->real && make_real(m, n) < 0)
		return fail(m, -1, "failed to record: %s:", n->path);
	if (!ghost)
		n->own = L;
	if (!fresh && !mine) {
		if (ghost)
			n->wearly = L;
		else
			n->early = L;
	}
	if (!shadow_hides_below(n->top, L))
		return WALK_OK;
	m->hid = -1;
	for (int c = 0; c < SHADOW_NCLASS; c++)
		if (shadow_below((enum shadow_class)c) && n->top[c] > m->hid)
			m->hid = n->top[c];
	return WALK_HIDDEN;
}

/* Walk the directories of PATH (PATH included) from the root for layer m->cur: create the
 * missing ones (as real directories, or GHOST holders of shadows), and say whether an upper
 * layer hides what this layer puts there (WALK_HIDDEN, m->hid: the uppermost layer hiding it
 * there), or this layer has a non-directory there (WALK_SKIP).  *OUT gets PATH's node.  R_*,
 * -1 or MERGE_FALLBACK. */
static int walk(struct merge *m, const char *path, int ghost, struct node **out)
{
	char buf[PATH_MAX];
	struct node *n = m->root, *c;
	size_t i = 0, len = strlen(path);
	int r, fresh = 0, L = m->cur;

	while ((r = walk_node(m, n, ghost, fresh)) == WALK_OK && i < len) {
		fresh |= n->top[SHADOW_OPAQUE] == L || n->top[SHADOW_WHITEOUT] == L;
		i += strcspn(path + i, "/");
		memcpy(buf, path, i);
		buf[i] = '\0';
		c = hget(&m->nodes, buf);
		if (!c && (!(c = node_new(m, n, buf, K_DIR)) || (!ghost && make_real(m, c) < 0)))
			return fail(m, -1, "failed to record: %s:", buf);
		n = c;
		i += path[i] == '/';
	}
	*out = n;
	return r;
}

/* Whether the leaf (SYMLINK: a symbolic link) this layer defines at the node N is hidden by
 * an upper layer (WALK_HIDDEN), replaces N (WALK_OK), or needs the extract path. */
static int leaf_fate(struct merge *m, struct node *n, int symlink)
{
	int L = m->cur;

	if (n->own == L)
		return FALLBACK(m, "a directory replaced within one layer: %s", n->path);
	if (n->early > L)
		return FALLBACK(m, "an upper layer writes under a lower non-directory: %s",
				n->path);
	if (symlink && n->wearly > L)
		return FALLBACK(m, "whiteouts under a lower symbolic link: %s", n->path);
	if (n->settled == L) /* then this leaf came, after what settled them */
		return FALLBACK(m, "an upper layer writes under a lower non-directory: %s",
				n->path);
	if (shadow_fate(n->top, L, SHADOW_LEAF) == SHADOW_HIDE)
		return WALK_HIDDEN;
	if (n->kind != K_DIR)
		return WALK_OK; /* this layer's own leaf or whiteout: the last entry wins */
	if (n->top[SHADOW_DIR] == L || n->layer == L)
		return FALLBACK(m, "a directory replaced within one layer: %s", n->path);
	if (n->real)
		return FALLBACK(m, "an upper layer writes under a lower non-directory: %s",
				n->path);
	return WALK_OK; /* a holder of upper whiteouts only */
}

/* The current entry, at the node N, is hidden by what an upper layer put above it; but an
 * upper layer also wrote below N before defining it, and the tree keeps what it wrote into
 * (this entry's object, if nothing removed it in between): the extract path must decide. */
static int hidden_early(struct merge *m, const struct node *n)
{
	if (n->early > m->cur && m->hid >= n->early)
		return FALLBACK(m, "an upper layer writes into a directory it empties: %s",
				n->path);
	return WALK_HIDDEN;
}

/* Any pending hard link target (of a link in an upper layer) at PATH (EXACT) or below it
 * (BELOW) is no longer what its link saw: the extract path must decide. */
static int pend_check(struct merge *m, const char *path, int exact, int below)
{
	size_t n = strlen(path);

	for (size_t i = 0; m->pend.len && i < m->pend.cap; i++) {
		const char *k = m->pend.tab[i].key;

		if (!k || !m->pend.tab[i].val ||
		    ((struct pend *)m->pend.tab[i].val)->layer <= m->cur)
			continue;
		if ((exact && !strcmp(k, path)) ||
		    (below && !strncmp(k, path, n) && (n ? k[n] == '/' : *k != '\0')))
			return FALLBACK(m, "a hard link across a change of its target: %s", k);
	}
	return 0;
}

static uint32_t entry_mtime(struct merge *m)
{
	time_t t = m->e->mtime.tv_sec;

	return t < 0 ? 0 : t > (time_t)0xffffffff ? 0xffffffffu : (uint32_t)t;
}

struct xattr_ctx {
	struct merge *m;
	struct sqfs_inode *ino;
};

static int add_xattr(void *ctx, const char *name, const void *value, size_t len)
{
	struct xattr_ctx *x = ctx;

	return sqfs_xattr(x->m->w, x->ino, name, value, len);
}

static int add_xattrs(struct merge *m, struct sqfs_inode *ino)
{
	struct xattr_ctx x = {m, ino};

	return m->t ? tarwalk_xattrs(m->t, add_xattr, &x) : 0;
}

/* Stream the current entry's data into INO. */
static int write_data(struct merge *m, struct sqfs_inode *ino)
{
	const void *buf;
	size_t len;
	uint64_t off;
	int r;

	sqfs_file_begin(m->w, ino);
	while ((r = tarwalk_block(m->t, &buf, &len, &off)) > 0)
		if (len && sqfs_file_write(m->w, buf, len, off) < 0)
			return fail(m, -1, "failed to write: %s:", m->e->path);
	if (r < 0)
		return -1;
	if (sqfs_file_end(m->w, m->e->size) < 0)
		return fail(m, -1, "failed to write: %s:", m->e->path);
	return 0;
}

/* The inode of the current entry (a regular file, symbolic link or FIFO), its data written;
 * into INO when given (a hard link's placeholder).  NULL with the error filled in. */
static struct sqfs_inode *leaf_inode(struct merge *m, struct sqfs_inode *ino)
{
	enum tar_kind k = m->e->kind;
	enum sqfs_type type = k == TAR_SYMLINK ? SQFS_SYMLINK
			      : k == TAR_FIFO  ? SQFS_FIFO
					       : SQFS_FILE;
	const char *target = type == SQFS_SYMLINK ? m->e->symlink : NULL;
	/* A symbolic link's mode is 0777 on Linux whatever the tar header says, as the extract
	 * path (symlinkat) and mksquashfs give it. */
	mode_t mode = type == SQFS_SYMLINK ? 0777 : m->e->mode;

	if (!ino)
		ino = sqfs_inode(m->w, type, mode, entry_mtime(m), target);
	else if ((ino->type = type, ino->mode = mode, ino->mtime = entry_mtime(m), target) &&
		 !(ino->target = strdup(target)))
		ino = NULL;
	if (!ino || add_xattrs(m, ino) < 0)
		return fail(m, -1, "failed to record: %s:", m->e->path), NULL;
	if (type == SQFS_FILE && write_data(m, ino) < 0)
		return NULL;
	return ino;
}

/* The directories from the root down to DIR (DIR included) as this layer's earlier entries
 * left them: 0 when none is a leaf of this layer, 1 when one is (what is below it is not in a
 * directory: the tree skips it), or MERGE_FALLBACK when one is a symbolic link of this layer
 * (the tree follows it) or a hidden hard link whose target is not known yet. */
static int own_parent(struct merge *m, const char *dir)
{
	char buf[PATH_MAX];
	size_t i = 0, len = strlen(dir);
	void *v;

	while (m->here.len && i < len) {
		i += strcspn(dir + i, "/");
		memcpy(buf, dir, i);
		buf[i] = '\0';
		v = hget(&m->here, buf);
		if (v == ULINK)
			return FALLBACK(m, "an entry under a hidden hard link to a lower file: %s",
					buf);
		if (v && v != DIRMARK && v != SHADOWED && resolve(v)->type == SQFS_SYMLINK)
			return FALLBACK(m, "a symbolic link as a parent in the same layer: %s",
					buf);
		if (v && v != DIRMARK)
			return 1;
		i += dir[i] == '/';
	}
	return 0;
}

/* Whether an earlier entry of this layer removed TARGET from what the lower layers leave:
 * a whiteout of it or of a directory above it, an opaque marker above it, a leaf of its own in
 * its way; or made it a directory by writing under it.  1 (skip the link), 0, or
 * MERGE_FALLBACK (see own_parent). */
static int own_removed(struct merge *m, const char *target)
{
	char buf[PATH_MAX], dir[PATH_MAX];
	const char *base;
	struct node *n = m->root;
	size_t i = 0, len = strlen(target);
	int L = m->cur, r;

	safepath_split(target, dir, &base);
	if ((r = own_parent(m, dir)))
		return r;
	for (;;) {
		if (n->top[SHADOW_WHITEOUT] == L)
			return 1;
		if (i >= len)
			return n->own == L;
		if (n->top[SHADOW_OPAQUE] == L)
			return 1;
		i += strcspn(target + i, "/");
		memcpy(buf, target, i);
		buf[i] = '\0';
		if (!(n = hget(&m->nodes, buf)))
			return 0;
		i += target[i] == '/';
	}
}

/* Whether this layer's hard link to TARGET is skipped (1), as the tree does when the target
 * is a directory or gone when the link is read; 0, or MERGE_FALLBACK. */
static int link_skipped(struct merge *m, const char *target)
{
	void *v = hget(&m->here, target);
	int r;

	if (v == ULINK)
		return FALLBACK(m, "a hard link to a hidden hard link: %s", target);
	if (v == DIRMARK || (!v && (r = own_removed(m, target)) == 1))
		return skip(m, "hard link target missing or a directory"), 1;
	return v ? 0 : r;
}

/* The pending target TARGET, which a lower layer is to define: its inode, to fill then. */
static struct pend *pend_new(struct merge *m, const char *target)
{
	struct pend *p = hget(&m->pend, target);

	if (!p &&
	    (!(p = calloc(1, sizeof(*p))) || !(p->ino = sqfs_inode(m->w, SQFS_FILE, 0, 0, NULL)) ||
	     hput(&m->pend, target, p) < 0)) {
		free(p);
		return fail(m, -1, "failed to record: %s:", m->e->path), NULL;
	}
	if (!p->low)
		p->layer = m->cur;
	p->low = m->cur + 1;
	return p;
}

/* Ask for the shadowed file SH to be read again into a new inode for a hard link. */
static struct sqfs_inode *reread_request(struct merge *m, struct shadow *sh)
{
	struct shadow *q;

	if (sh->ino)
		return sh->ino;
	if (m->nreqs == m->reqcap) {
		size_t cap = m->reqcap ? m->reqcap * 2 : 16;

		if (!(q = realloc(m->reqs, cap * sizeof(*q))))
			return NULL;
		m->reqs = q;
		m->reqcap = cap;
	}
	if (!(sh->ino = sqfs_inode(m->w, SQFS_FILE, 0, 0, NULL)))
		return NULL;
	m->reqs[m->nreqs++] = *sh;
	return sh->ino;
}

/* The inode a hard link to TARGET (normalized) in this layer gets: the one this layer gave
 * TARGET, or a placeholder filled when a lower layer defines TARGET.  NULL with *RC set. */
static struct sqfs_inode *link_target(struct merge *m, const char *target, int *rc)
{
	void *v = hget(&m->here, target);
	struct sqfs_inode *ino;
	struct pend *p;

	*rc = 0;
	if (v == SHADOWED) {
		struct shadow *sh = hget(&m->shad, target);

		if (!sh)
			return *rc = FALLBACK(m, "a hard link to a shadowed hard link: %s", target),
			       NULL;
		if (!(ino = reread_request(m, sh)))
			*rc = fail(m, -1, "failed to record: %s:", m->e->path);
		return ino;
	}
	if (v)
		return v;
	if (!(p = pend_new(m, target)))
		*rc = -1;
	return p ? p->ino : NULL;
}

/* Remember what this layer has at PATH, for its hard links. */
static int remember(struct merge *m, void *what)
{
	return hput(&m->here, m->e->path, what) < 0
		   ? fail(m, -1, "failed to record: %s:", m->e->path)
		   : 0;
}

/* A leaf shadowed by an upper layer: keep what a hard link to it would need. */
static int shadowed(struct merge *m)
{
	struct sqfs_inode *ino;

	if (m->e->kind == TAR_HARDLINK)
		return remember(m, SHADOWED);
	if (m->e->kind == TAR_FILE && m->e->size > 0) {
		struct shadow *sh = calloc(1, sizeof(*sh)), *old = hget(&m->shad, m->e->path);

		if (!sh || hput(&m->shad, m->e->path, sh) < 0) {
			free(sh);
			return fail(m, -1, "failed to record: %s:", m->e->path);
		}
		free(old); /* an earlier entry's request, if any, is in m->reqs */
		sh->index = m->e->index;
		return remember(m, SHADOWED);
	}
	ino = leaf_inode(m, NULL);
	return ino ? remember(m, ino) : -1;
}

/* The pending target being read is itself a hard link: make the placeholder INO an alias of
 * what it links to (resolved like any of this layer's links). */
static struct sqfs_inode *link_chain(struct merge *m, struct sqfs_inode *ino, int *rc)
{
	struct sqfs_inode *real;

	if (!(real = link_target(m, m->e->target, rc)))
		return *rc ? NULL
			   : (*rc = FALLBACK(m, "a hard link to a bad hard link: %s", m->e->path),
			      NULL);
	if (resolve(real) != ino)
		ino->alias = real;
	return real;
}

/* This entry is at a pending target an earlier entry of this layer filled (PH): the last
 * entry at a path is what the layers below see, so PH now stands for this one. */
static struct sqfs_inode *retake(struct merge *m, struct sqfs_inode *ph, int *rc)
{
	struct sqfs_inode *ino;

	if (m->e->kind == TAR_HARDLINK)
		ino = link_target(m, m->e->target, rc);
	else if (!(ino = leaf_inode(m, NULL)))
		*rc = -1;
	if (ino && resolve(ino) != resolve(ph))
		resolve(ph)->alias = ino;
	return ino ? ph : NULL;
}

/* A hard link of an upper layer waits for this entry: its inode is this entry's.  (One of
 * this layer waits for a lower layer: it was read before this entry came.) */
static struct sqfs_inode *take_pending(struct merge *m, int *rc)
{
	struct hent *e = hfind(&m->pend, m->e->path);
	struct pend *p = e && e->key ? e->val : NULL;
	struct sqfs_inode *ino = hget(&m->took, m->e->path);

	*rc = 0;
	if (ino)
		return retake(m, ino, rc);
	if (!p || p->layer == m->cur)
		return NULL; /* this layer's links were read before this entry: a lower one's */
	if (p->low == m->cur + 1)
		return *rc = FALLBACK(m, "hard links of two layers to one target: %s", m->e->path),
		       NULL;
	ino = p->ino;
	free(p);
	e->val = NULL;
	if (hput(&m->took, m->e->path, ino) < 0)
		return *rc = fail(m, -1, "failed to record: %s:", m->e->path), NULL;
	if (m->e->kind == TAR_HARDLINK) /* a link to a link: the same inode as its own target */
		return link_chain(m, ino, rc);
	if (!leaf_inode(m, ino))
		*rc = -1;
	return ino;
}

/* A regular file, symbolic link, FIFO or hard link. */
static int add_leaf(struct merge *m)
{
	const char *link = m->e->kind == TAR_HARDLINK ? m->e->target : NULL;
	struct sqfs_inode *ino;
	struct node *parent, *n;
	int r, w, L = m->cur;

	if (link && (r = link_skipped(m, link)))
		return r < 0 ? r : 0;
	if ((r = own_parent(m, m->e->dir)))
		return r < 0 ? r : skip(m, "parent is not a directory inside the root");
	if ((w = walk(m, m->e->dir, 0, &parent)) < 0)
		return w;
	if (w == WALK_SKIP)
		return skip(m, "parent is not a directory inside the root");
	if (!(ino = take_pending(m, &r)) && r < 0)
		return r;
	r = w;
	n = hget(&m->nodes, m->e->path);
	if (r == WALK_HIDDEN && n && (r = hidden_early(m, n)) < 0)
		return r;
	if (r == WALK_OK && n && (r = leaf_fate(m, n, m->e->kind == TAR_SYMLINK)) == WALK_HIDDEN) {
		if (link && !ino && !hget(&m->here, link))
			n->ulink = L; /* whether it is there depends on the layers below */
		else
			record(n, SHADOW_LEAF, L); /* it replaced what the lower layers have */
	}
	if (r < 0 || pend_check(m, m->e->path, 0, 1) < 0)
		return r < 0 ? r : MERGE_FALLBACK;
	if (r == WALK_HIDDEN && link && !ino && !hget(&m->here, link))
		return remember(m, ULINK);
	if (r == WALK_HIDDEN)
		return ino ? remember(m, ino) : shadowed(m);
	if (!ino && link && !(ino = link_target(m, link, &r)))
		return r;
	if (!ino && !(ino = leaf_inode(m, NULL)))
		return -1;
	if (!n && !(n = node_new(m, parent, m->e->path, K_LEAF)))
		return fail(m, -1, "failed to record: %s:", m->e->path);
	n->kind = K_LEAF;
	n->layer = L;
	n->ino = ino;
	record(n, SHADOW_LEAF, L);
	return remember(m, ino);
}

/* The current directory entry's metadata goes to the node N. */
static int dir_meta(struct merge *m, struct node *n)
{
	struct sqfs_inode *ino = sqfs_inode(m->w, SQFS_DIR, m->e->mode, entry_mtime(m), NULL);

	if (!ino || add_xattrs(m, ino) < 0)
		return fail(m, -1, "failed to record: %s:", m->e->path);
	n->ino = ino; /* a replaced one stays unreachable, freed with the writer */
	record(n, SHADOW_DIR, m->cur);
	n->real = 1;
	return 0;
}

static int add_dir(struct merge *m)
{
	struct node *parent, *n;
	int r, L = m->cur;

	if ((r = own_parent(m, m->e->dir)))
		return r < 0 ? r : skip(m, "parent is not a directory inside the root");
	if (hget(&m->took, m->e->path))
		return FALLBACK(m, "a hard link's target replaced by a directory: %s", m->e->path);
	if ((r = pend_check(m, m->e->path, 1, 0)) < 0 || (r = walk(m, m->e->dir, 0, &parent)) < 0)
		return r;
	if (r == WALK_SKIP)
		return skip(m, "parent is not a directory inside the root");
	n = hget(&m->nodes, m->e->path);
	if (r == WALK_HIDDEN && n && (r = hidden_early(m, n)) < 0)
		return r;
	if (remember(m, DIRMARK) < 0 || r == WALK_HIDDEN)
		return r == WALK_HIDDEN ? 0 : -1;
	if (!n) {
		if (!(n = node_new(m, parent, m->e->path, K_DIR)))
			return fail(m, -1, "failed to record: %s:", m->e->path);
		return dir_meta(m, n);
	}
	settle(n, L);
	if (shadow_fate(n->top, L, SHADOW_DIR) != SHADOW_KEEP)
		return 0; /* removed, or its metadata is an upper layer's */
	n->kind = K_DIR;  /* also over this layer's own leaf or whiteout */
	return dir_meta(m, n);
}

/* The root entry ("/" or "./"): only its metadata counts. */
static int root_entry(struct merge *m)
{
	if (shadow_fate(m->root->top, m->cur, SHADOW_DIR) != SHADOW_KEEP)
		return 0;
	return dir_meta(m, m->root);
}

/* Whether the directory node N is this layer's: it names it, or writes under it. */
static int own_dir(const struct node *n, int L)
{
	return n->top[SHADOW_DIR] == L || n->top[SHADOW_WHITEOUT] == L || n->own == L;
}

/* `.wh.NAME` or `.wh..wh..opq`: shadows for the lower layers. */
static int whiteout(struct merge *m)
{
	const struct tar_entry *e = m->e;
	int opaque = e->kind == TAR_OPAQUE, r, L = m->cur;
	struct node *d, *n;

	if ((r = own_parent(m, opaque ? e->path : e->dir)) ||
	    (r = walk(m, opaque ? e->path : e->dir, 1, &d)) != WALK_OK)
		return r < 0 ? r : 0; /* a leaf of this layer in the way: nothing to remove */
	if ((r = pend_check(m, e->path, !opaque, 1)) < 0)
		return r;
	if (opaque) {
		record(d, SHADOW_OPAQUE, L);
		return 0;
	}
	if (!(n = hget(&m->nodes, e->path))) {
		if (!(n = node_new(m, d, e->path, K_WH)))
			return fail(m, -1, "failed to record: %s:", e->path);
		record(n, SHADOW_WHITEOUT, L);
		return 0;
	}
	settle(n, L);
	/* Over this layer's own directory, only the lower layers' contents go (shadow.h). */
	if (n->kind == K_DIR)
		record(n, own_dir(n, L) ? SHADOW_OPAQUE : SHADOW_WHITEOUT, L);
	return 0;
}

static int apply_entry(struct merge *m)
{
	switch (m->e->kind) {
	case TAR_ROOT:
		return root_entry(m);
	case TAR_WHITEOUT:
	case TAR_OPAQUE:
		return whiteout(m);
	case TAR_DIR:
		return add_dir(m);
	default:
		return add_leaf(m);
	}
}

static int read_all(struct merge *m)
{
	int r, rc = 0;

	while (rc == 0 && (r = tarwalk_next(m->t, &m->e)) > 0)
		rc = apply_entry(m);
	return rc ? rc : r;
}

static int by_index(const void *a, const void *b)
{
	long x = ((const struct shadow *)a)->index, y = ((const struct shadow *)b)->index;

	return x < y ? -1 : x > y;
}

/* Read the layer again for the shadowed files its hard links need, and write their data.
 * Quietly: its skipped entries were reported the first time. */
static int reread(struct merge *m, int fd)
{
	struct layer_opts quiet = *m->o;
	struct layer_stats st;
	size_t done = 0;
	int r = 1, rc = 0;

	quiet.warn = NULL;
	qsort(m->reqs, m->nreqs, sizeof(*m->reqs), by_index);
	if (lseek(fd, 0, SEEK_SET) < 0)
		return fail(m, -1, "failed to read layer:");
	if (!(m->t = tarwalk_open(fd, &quiet, &st, m->err)))
		return -1;
	while (!rc && done < m->nreqs && (r = tarwalk_next(m->t, &m->e)) > 0)
		if (m->e->index == m->reqs[done].index)
			rc = leaf_inode(m, m->reqs[done++].ino) ? 0 : -1;
	tarwalk_close(m->t);
	m->t = NULL;
	m->st->bytes += st.bytes;
	if (!rc && r < 0)
		rc = -1;
	if (!rc && done < m->nreqs)
		rc = fail(m, -1, "failed to read layer: shadowed files not found again");
	return rc;
}

int merge_layer(struct merge *m, int fd, const struct layer_opts *o, struct layer_stats *st,
		struct layer_error *err)
{
	int rc = -1;

	m->o = o, m->st = st, m->err = err;
	m->cur--;
	m->curmode = m->dirmode;
	if ((m->t = tarwalk_open(fd, o, st, err))) {
		rc = read_all(m);
		tarwalk_close(m->t);
		m->t = NULL;
	}
	if (rc == 0 && m->nreqs)
		rc = reread(m, fd);
	m->nreqs = 0;
	hclear(&m->shad, 1);
	hclear(&m->here, 0);
	hclear(&m->took, 0);
	m->o = NULL;
	return rc;
}

struct merge *merge_new(struct sqfs *w, size_t nlayers, uint32_t now, mode_t dirmode)
{
	struct merge *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->w = w;
	m->cur = (int)nlayers; /* the configuration files' layer, above the others */
	m->now = now;
	m->dirmode = m->curmode = dirmode;
	if (!(m->root = node_new(m, NULL, "", K_DIR)) || make_real(m, m->root) < 0) {
		merge_free(m);
		return errno = ENOMEM, NULL;
	}
	m->curmode = 0755; /* imgconfig's mkdir -p */
	return m;
}

void merge_free(struct merge *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nodes.cap; i++)
		if (m->nodes.tab[i].key)
			free(((struct node *)m->nodes.tab[i].val)->path);
	hclear(&m->nodes, 1);
	hclear(&m->here, 0);
	hclear(&m->took, 0);
	hclear(&m->pend, 1);
	hclear(&m->shad, 1);
	free(m->reqs);
	free(m);
}

/* The configuration layer's own entry context (no archive entry): PATH normalized into
 * m->top (-1 when it leaves the root). */
static int top_ctx(struct merge *m, struct layer_error *err, struct layer_stats *st,
		   const char *path)
{
	memset(st, 0, sizeof(*st));
	err->msg[0] = '\0';
	m->err = err;
	m->st = st;
	m->t = NULL;
	m->e = &m->top;
	if (safepath_norm(path, m->top.path, sizeof(m->top.path)) < 0)
		return -1;
	if (*m->top.path)
		safepath_split(m->top.path, m->top.dir, &m->top.base);
	return 0;
}

int merge_file(struct merge *m, const char *path, const void *data, size_t len, mode_t mode,
	       struct layer_error *err)
{
	struct layer_stats st;
	struct sqfs_inode *ino;
	struct node *parent, *n;
	int r;

	if (top_ctx(m, err, &st, path) < 0 || !*m->top.path)
		return FALLBACK(m, "a configuration file outside the root: %s", path);
	if ((r = walk(m, m->top.dir, 0, &parent)) != WALK_OK)
		return r < 0 ? r : FALLBACK(m, "a configuration file shadowed: %s", path);
	if (!(ino = sqfs_inode(m->w, SQFS_FILE, mode, m->now, NULL)) ||
	    sqfs_file_begin(m->w, ino) < 0 || sqfs_file_write(m->w, data, len, 0) < 0 ||
	    sqfs_file_end(m->w, len) < 0)
		return fail(m, -1, "failed to write: %s:", path);
	if (!(n = hget(&m->nodes, m->top.path)) && !(n = node_new(m, parent, m->top.path, K_LEAF)))
		return fail(m, -1, "failed to record: %s:", path);
	n->kind = K_LEAF;
	n->layer = m->cur;
	n->ino = ino;
	record(n, SHADOW_LEAF, m->cur);
	return 0;
}

int merge_mkdir(struct merge *m, const char *path, struct layer_error *err)
{
	struct layer_stats st;
	struct node *n;
	int r;

	if (top_ctx(m, err, &st, path) < 0)
		return FALLBACK(m, "a configuration directory outside the root: %s", path);
	if ((r = walk(m, m->top.path, 0, &n)) != WALK_OK)
		return r < 0 ? r : FALLBACK(m, "a configuration directory shadowed: %s", path);
	return 0;
}

/* Link the directory node D's visible children into its inode, recursively. */
static int build(struct merge *m, struct node *d)
{
	for (struct node *k = d->kids; k; k = k->next) {
		const char *name = strrchr(k->path, '/') ? strrchr(k->path, '/') + 1 : k->path;

		if (k->kind == K_WH || (k->kind == K_DIR && !k->real))
			continue;
		if (sqfs_link(d->ino, name, k->ino) < 0)
			return fail(m, -1, "failed to record: %s:", k->path);
		if (k->kind == K_DIR && build(m, k) < 0)
			return -1;
	}
	return 0;
}

int merge_finish(struct merge *m, struct layer_error *err)
{
	struct layer_stats st;

	top_ctx(m, err, &st, "");
	for (size_t i = 0; i < m->pend.cap; i++)
		if (m->pend.tab[i].key && m->pend.tab[i].val)
			return FALLBACK(m, "a hard link to a target no layer defines: %s",
					m->pend.tab[i].key);
	if (build(m, m->root) < 0)
		return -1;
	if (sqfs_finish(m->w, m->root->ino) < 0)
		return fail(m, -1, "failed to write the image:");
	return 0;
}
