/* sqfs: a one-pass squashfs 4.0 writer (see sqfs.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/io.h"
#include "image/sqfs.h"
#include "image/sqfsbuf.h"
#include "image/sqfsmeta.h"
#include "image/squash.h"

#define SB_SIZE	     96
#define WBUF_SIZE    (1 << 20)
#define UNCOMP_BLOCK (1u << 24) /* in a data or fragment block size: stored as is */
#define NO_FRAG	     0xffffffffu
#define NO_TABLE     0xffffffffffffffffull

/* Superblock flags. */
enum {
	F_NOI = 0x1,
	F_NOD = 0x2,
	F_NOF = 0x8,
	F_NO_FRAGS = 0x10,
	F_NOX = 0x100,
	F_NO_XATTRS = 0x200,
	F_COMP_OPT = 0x400,
};

struct frag {
	uint64_t start;
	uint32_t size;
};

struct xid {
	uint64_t ref;
	uint32_t count, size;
};

struct sqfs {
	int fd;
	struct sqfs_opts o;
	struct sqfscomp comp;
	uint64_t pos; /* the next byte of the image */
	unsigned char *wbuf, *blk, *zbuf, *frag;
	size_t wlen, blen, flen, zcap;
	struct frag *frags;
	size_t nfrags, fcap;
	struct sqfs_inode **all;
	size_t nall, acap;
	struct sqfs_inode *cur; /* the file being written */
	struct sqfsmeta itab, dtab, xkv;
	struct xid *xids;
	size_t nxids, xcap;
	uint32_t ninodes;
};

/* Parse "-b SIZE": bytes, or with a K or M suffix; a power of two from 4 KiB to 1 MiB. */
static int parse_block(const char *s, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (end == s)
		return -1;
	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	if (*end || v < 4096 || v > (1ul << 20) || (v & (v - 1)))
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_time(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v > 0xffffffffull)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* Options that take a value we accept but have no effect on our writer. */
static int ignored_with_value(const char *w)
{
	return !strcmp(w, "-processors") || !strcmp(w, "-mem");
}

static int ignored(const char *w)
{
	static const char *const words[] = {"-exit-on-error",
					    "-all-root",
					    "-root-owned",
					    "-noappend",
					    "-no-progress",
					    "-quiet",
					    "-no-exports",
					    "-no-duplicates",
					    "-xattrs",
					    "-no-recovery",
					    "-progress",
					    "-info",
					    NULL};

	for (size_t i = 0; words[i]; i++)
		if (!strcmp(w, words[i]))
			return 1;
	return 0;
}

/* One option word W (with its value V, which it may consume: *USED); 0, or -1 unsupported. */
static int parse_word(struct sqfs_opts *o, const char *w, const char *v, int *used)
{
	*used = 0;
	if (ignored(w))
		return 0;
	if (!strcmp(w, "-noD") || !strcmp(w, "-noDataCompression"))
		return o->no_data = 1, 0;
	if (!strcmp(w, "-noI") || !strcmp(w, "-noInodeCompression"))
		return o->no_inodes = 1, 0;
	if (!strcmp(w, "-noF") || !strcmp(w, "-noFragmentCompression"))
		return o->no_frags = 1, 0;
	if (!strcmp(w, "-noX") || !strcmp(w, "-noXattrCompression"))
		return o->no_xattr_comp = 1, 0;
	if (!strcmp(w, "-no-fragments"))
		return o->no_fragments = 1, 0;
	if (!strcmp(w, "-no-xattrs"))
		return o->no_xattrs = 1, 0;
	if (!v)
		return -1;
	*used = 1;
	if (ignored_with_value(w))
		return 0;
	if (!strcmp(w, "-comp")) {
		int id = sqfscomp_by_name(v);
		return id < 0 ? -1 : (o->comp = (enum sqfscomp_id)id, 0);
	}
	if (!strcmp(w, "-b"))
		return parse_block(v, &o->block_size);
	if (!strcmp(w, "-Xcompression-level"))
		return (o->level = atoi(v)) > 0 ? 0 : -1;
	if (!strcmp(w, "-Xalgorithm"))
		return strcmp(v, "lzo1x_1") ? -1 : 0;
	if (!strcmp(w, "-mkfs-time"))
		return o->have_mkfs_time = 1, parse_time(v, &o->mkfs_time);
	if (!strcmp(w, "-all-time"))
		return o->have_all_time = 1, parse_time(v, &o->all_time);
	return -1;
}

int sqfs_opts_parse(const char *options, const char *epoch, struct sqfs_opts *o, char *why,
		    size_t len)
{
	char *copy = strdup(options ? options : SQUASH_DEFAULT_OPTIONS), *save = NULL;
	char *w = copy ? strtok_r(copy, " \t\n", &save) : NULL, *v;
	int used, rc = copy ? 0 : -1;

	memset(o, 0, sizeof(*o));
	o->comp = SQFSCOMP_GZIP; /* mksquashfs's default compressor */
	o->block_size = 128 * 1024;
	if (!copy)
		snprintf(why, len, "out of memory");
	for (; w && !rc; w = v && used ? strtok_r(NULL, " \t\n", &save) : v) {
		v = strtok_r(NULL, " \t\n", &save);
		if ((rc = parse_word(o, w, v, &used)) < 0)
			snprintf(why, len, "option %s%s%s", w, v && used ? " " : "",
				 v && used ? v : "");
	}
	if (!rc && o->level && o->comp == SQFSCOMP_LZO)
		rc = -1, snprintf(why, len, "option -Xcompression-level with lzo1x_1");
	if (!rc && epoch && *epoch) {
		if (parse_time(epoch, &o->mkfs_time) < 0)
			rc = -1, snprintf(why, len, "SOURCE_DATE_EPOCH %s", epoch);
		o->all_time = o->mkfs_time;
		o->have_mkfs_time = o->have_all_time = 1;
	}
	free(copy);
	return rc;
}

/* Room for a compressed block (lzo may expand incompressible data slightly). */
static size_t zroom(size_t n)
{
	return n + n / 16 + 64 + 3;
}

struct sqfs *sqfs_new(int fd, const struct sqfs_opts *o)
{
	struct sqfs *w = calloc(1, sizeof(*w));
	unsigned char opt[16];
	size_t optlen;

	if (!w)
		return NULL;
	w->fd = fd;
	w->o = *o;
	w->zcap = zroom(o->block_size);
	w->wbuf = malloc(WBUF_SIZE);
	w->blk = malloc(o->block_size);
	w->frag = malloc(o->block_size);
	w->zbuf = malloc(w->zcap);
	if (!w->wbuf || !w->blk || !w->frag || !w->zbuf ||
	    sqfscomp_init(&w->comp, o->comp, o->level) < 0) {
		int saved = errno;
		sqfs_free(w);
		errno = saved;
		return NULL;
	}
	sqfsmeta_init(&w->itab, o->no_inodes ? NULL : &w->comp);
	sqfsmeta_init(&w->dtab, o->no_inodes ? NULL : &w->comp);
	sqfsmeta_init(&w->xkv, o->no_xattr_comp ? NULL : &w->comp);
	/* Room for the superblock (written last), then the compressor options as one stored
	 * metadata block. */
	memset(w->wbuf, 0, SB_SIZE);
	w->pos = w->wlen = SB_SIZE;
	if ((optlen = sqfscomp_options(&w->comp, opt))) {
		sqfsbuf_le16(w->wbuf + SB_SIZE, (unsigned)optlen | 0x8000);
		memcpy(w->wbuf + SB_SIZE + 2, opt, optlen);
		w->wlen += optlen + 2;
		w->pos += optlen + 2;
	}
	return w;
}

void sqfs_free(struct sqfs *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->nall; i++) {
		struct sqfs_inode *n = w->all[i];

		for (size_t j = 0; j < n->nxattrs; j++) {
			free(n->xattrs[j].name);
			free(n->xattrs[j].value);
		}
		for (size_t j = 0; j < n->nents; j++)
			free(n->ents[j].name);
		free(n->xattrs);
		free(n->ents);
		free(n->blocks);
		free(n->target);
		free(n);
	}
	free(w->all);
	free(w->frags);
	free(w->xids);
	free(w->wbuf);
	free(w->blk);
	free(w->frag);
	free(w->zbuf);
	sqfsmeta_free(&w->itab);
	sqfsmeta_free(&w->dtab);
	sqfsmeta_free(&w->xkv);
	sqfscomp_free(&w->comp);
	free(w);
}

struct sqfs_inode *sqfs_inode(struct sqfs *w, enum sqfs_type type, mode_t mode, uint32_t mtime,
			      const char *target)
{
	struct sqfs_inode *n;

	if (sqfsbuf_grow((void **)&w->all, &w->acap, w->nall + 1, sizeof(*w->all)) < 0 ||
	    !(n = calloc(1, sizeof(*n))))
		return NULL;
	n->type = type;
	n->mode = mode & 07777;
	n->mtime = mtime;
	n->frag = NO_FRAG;
	if (target && !(n->target = strdup(target))) {
		free(n);
		return NULL;
	}
	w->all[w->nall++] = n;
	return n;
}

int sqfs_xattr(struct sqfs *w, struct sqfs_inode *ino, const char *name, const void *value,
	       size_t len)
{
	struct sqfs_xattr *x;

	if (w->o.no_xattrs || strncmp(name, "user.", 5) || !name[5])
		return 0;
	x = realloc(ino->xattrs, (ino->nxattrs + 1) * sizeof(*x));
	if (!x)
		return -1;
	ino->xattrs = x;
	x += ino->nxattrs;
	x->name = strdup(name);
	x->value = malloc(len ? len : 1);
	x->len = len;
	if (!x->name || !x->value) {
		free(x->name);
		free(x->value);
		return errno = ENOMEM, -1;
	}
	memcpy(x->value, value, len);
	ino->nxattrs++;
	return 0;
}

int sqfs_link(struct sqfs_inode *dir, const char *name, struct sqfs_inode *child)
{
	char *copy;

	while (child->alias)
		child = child->alias;
	if (sqfsbuf_grow((void **)&dir->ents, &dir->ecap, dir->nents + 1, sizeof(*dir->ents)) < 0 ||
	    !(copy = strdup(name)))
		return -1;
	dir->ents[dir->nents].name = copy;
	dir->ents[dir->nents++].ino = child;
	return 0;
}

/* Write out the buffered bytes. */
static int wflush(struct sqfs *w)
{
	if (io_write_all(w->fd, w->wbuf, w->wlen) < 0)
		return -1;
	w->wlen = 0;
	return 0;
}

/* Append N bytes to the image. */
static int emit(struct sqfs *w, const void *data, size_t n)
{
	const unsigned char *p = data;

	if (!n)
		return 0;
	w->pos += n;
	if (n >= WBUF_SIZE) {
		if (wflush(w) < 0)
			return -1;
		w->wlen = n; /* write straight from the caller's buffer */
		unsigned char *saved = w->wbuf;
		w->wbuf = (unsigned char *)p;
		int rc = wflush(w);
		w->wbuf = saved;
		return rc;
	}
	if (w->wlen + n > WBUF_SIZE && wflush(w) < 0)
		return -1;
	memcpy(w->wbuf + w->wlen, p, n);
	w->wlen += n;
	return 0;
}

/* Write block DATA (N bytes), compressed unless STORE or not worth it; its size word. */
static int emit_block(struct sqfs *w, const void *data, size_t n, int store, uint32_t *size)
{
	long z = store ? 0 : sqfscomp_compress(&w->comp, data, n, w->zbuf, w->zcap);

	if (z < 0)
		return -1;
	*size = z > 0 ? (uint32_t)z : (uint32_t)n | UNCOMP_BLOCK;
	return emit(w, z > 0 ? w->zbuf : data, z > 0 ? (size_t)z : n);
}

static int all_zero(const unsigned char *p, size_t n)
{
	return !n || (!p[0] && !memcmp(p, p + 1, n - 1));
}

static int add_block(struct sqfs_inode *f, uint32_t size)
{
	if (sqfsbuf_grow((void **)&f->blocks, &f->bcap, f->nblocks + 1, sizeof(uint32_t)) < 0)
		return -1;
	f->blocks[f->nblocks++] = size;
	return 0;
}

/* The current file's block buffer is full (or holds its last block): write it. */
static int file_block(struct sqfs *w)
{
	uint32_t size = 0;

	if (all_zero(w->blk, w->blen)) {
		w->cur->sparse += w->blen; /* a hole: size 0 */
	} else if (emit_block(w, w->blk, w->blen, w->o.no_data, &size) < 0) {
		return -1;
	}
	w->blen = 0;
	return add_block(w->cur, size);
}

int sqfs_file_begin(struct sqfs *w, struct sqfs_inode *ino)
{
	w->cur = ino;
	w->blen = 0;
	ino->size = 0;
	ino->start = w->pos;
	return 0;
}

/* Append N zero bytes (a hole) to the current file. */
static int file_zeros(struct sqfs *w, uint64_t n)
{
	while (n) {
		size_t k = w->o.block_size - w->blen;

		if (!w->blen && n >= w->o.block_size) {
			w->cur->sparse += w->o.block_size;
			if (add_block(w->cur, 0) < 0)
				return -1;
			n -= w->o.block_size;
			w->cur->size += w->o.block_size;
			continue;
		}
		if (k > n)
			k = (size_t)n;
		memset(w->blk + w->blen, 0, k);
		w->blen += k;
		w->cur->size += k;
		n -= k;
		if (w->blen == w->o.block_size && file_block(w) < 0)
			return -1;
	}
	return 0;
}

int sqfs_file_write(struct sqfs *w, const void *data, size_t len, uint64_t off)
{
	const unsigned char *p = data;

	if (off < w->cur->size)
		return errno = EINVAL, -1;
	if (off > w->cur->size && file_zeros(w, off - w->cur->size) < 0)
		return -1;
	while (len) {
		size_t k = w->o.block_size - w->blen;

		if (k > len)
			k = len;
		memcpy(w->blk + w->blen, p, k);
		w->blen += k;
		w->cur->size += k;
		p += k;
		len -= k;
		if (w->blen == w->o.block_size && file_block(w) < 0)
			return -1;
	}
	return 0;
}

/* Write the fragment block being filled. */
static int frag_flush(struct sqfs *w)
{
	struct frag *f;

	if (!w->flen)
		return 0;
	if (sqfsbuf_grow((void **)&w->frags, &w->fcap, w->nfrags + 1, sizeof(*w->frags)) < 0)
		return -1;
	f = &w->frags[w->nfrags];
	f->start = w->pos;
	if (emit_block(w, w->frag, w->flen, w->o.no_frags, &f->size) < 0)
		return -1;
	w->nfrags++;
	w->flen = 0;
	return 0;
}

int sqfs_file_end(struct sqfs *w, uint64_t size)
{
	struct sqfs_inode *f = w->cur;

	if (size > f->size && file_zeros(w, size - f->size) < 0)
		return -1;
	w->cur = NULL;
	if (!w->blen)
		return 0;
	if (w->o.no_fragments) {
		uint32_t bs = 0;
		w->cur = f;
		if (emit_block(w, w->blk, w->blen, w->o.no_data, &bs) < 0 || add_block(f, bs) < 0)
			return -1;
		w->cur = NULL;
		w->blen = 0;
		return 0;
	}
	if (w->flen + w->blen > w->o.block_size && frag_flush(w) < 0)
		return -1;
	f->frag = (uint32_t)w->nfrags;
	f->fragoff = (uint32_t)w->flen;
	memcpy(w->frag + w->flen, w->blk, w->blen);
	w->flen += w->blen;
	w->blen = 0;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct sqfs_dirent *)a)->name, ((const struct sqfs_dirent *)b)->name);
}

/* Sort every directory, count links and number the inodes, children before their directory
 * (the order they are written in). */
static void number(struct sqfs *w, struct sqfs_inode *d)
{
	if (d->nents)
		qsort(d->ents, d->nents, sizeof(*d->ents), by_name);
	d->nlink = 2;
	for (size_t i = 0; i < d->nents; i++) {
		struct sqfs_inode *c = d->ents[i].ino;

		if (c->type == SQFS_DIR) {
			number(w, c);
			d->nlink++;
		} else if (!c->nlink++) {
			c->ino = ++w->ninodes;
		}
	}
	d->ino = ++w->ninodes;
	for (size_t i = 0; i < d->nents; i++)
		if (d->ents[i].ino->type == SQFS_DIR)
			d->ents[i].ino->parent = d->ino;
}

/* Store INO's xattrs as key/value pairs and give it an index in the xattr id table. */
static int write_xattrs(struct sqfs *w, struct sqfs_inode *n)
{
	struct xid *x;
	unsigned char h[8];

	if (sqfsbuf_grow((void **)&w->xids, &w->xcap, w->nxids + 1, sizeof(*w->xids)) < 0)
		return -1;
	x = &w->xids[w->nxids];
	x->ref = sqfsmeta_ref(&w->xkv);
	x->count = (uint32_t)n->nxattrs;
	x->size = 0;
	for (size_t i = 0; i < n->nxattrs; i++) {
		const char *name = n->xattrs[i].name + 5; /* without "user." (type 0) */
		size_t nl = strlen(name), vl = n->xattrs[i].len;

		sqfsbuf_le16(h, 0);
		sqfsbuf_le16(h + 2, (unsigned)nl);
		sqfsbuf_le32(h + 4, (uint32_t)vl);
		if (sqfsmeta_add(&w->xkv, h, 4) < 0 || sqfsmeta_add(&w->xkv, name, nl) < 0 ||
		    sqfsmeta_add(&w->xkv, h + 4, 4) < 0 ||
		    sqfsmeta_add(&w->xkv, n->xattrs[i].value, vl) < 0)
			return -1;
		x->size += (uint32_t)(5 + nl + 1 + vl);
	}
	n->xidx = (uint32_t)w->nxids++;
	return 0;
}

/* The common inode header. */
static size_t header(struct sqfs *w, unsigned char *p, const struct sqfs_inode *n, unsigned type)
{
	sqfsbuf_le16(p, type);
	sqfsbuf_le16(p + 2, (unsigned)n->mode);
	sqfsbuf_le16(p + 4, 0); /* uid index: root */
	sqfsbuf_le16(p + 6, 0); /* gid index: root */
	sqfsbuf_le32(p + 8, w->o.have_all_time ? w->o.all_time : n->mtime);
	sqfsbuf_le32(p + 12, n->ino);
	return 16;
}

/* Encode a regular file's inode (basic, or extended when it needs 64 bits, links or xattrs). */
static size_t file_inode(struct sqfs *w, unsigned char *p, const struct sqfs_inode *n, int xa)
{
	int ext = xa || n->nlink > 1 || n->size >= 0xffffffffull || n->start >= 0xffffffffull;
	size_t k = header(w, p, n, ext ? 9 : 2);

	if (ext) {
		sqfsbuf_le64(p + k, n->start);
		sqfsbuf_le64(p + k + 8, n->size);
		sqfsbuf_le64(p + k + 16, n->sparse);
		sqfsbuf_le32(p + k + 24, n->nlink);
		sqfsbuf_le32(p + k + 28, n->frag);
		sqfsbuf_le32(p + k + 32, n->fragoff);
		sqfsbuf_le32(p + k + 36, xa ? n->xidx : NO_FRAG);
		return k + 40;
	}
	sqfsbuf_le32(p + k, (uint32_t)n->start);
	sqfsbuf_le32(p + k + 4, n->frag);
	sqfsbuf_le32(p + k + 8, n->fragoff);
	sqfsbuf_le32(p + k + 12, (uint32_t)n->size);
	return k + 16;
}

/* Encode a directory's inode. */
static size_t dir_inode(struct sqfs *w, unsigned char *p, const struct sqfs_inode *n, int xa)
{
	uint32_t block = (uint32_t)(n->dref >> 16);
	unsigned off = (unsigned)(n->dref & 0xffff);
	size_t k;

	if (!xa && n->dsize <= 0xffff) {
		k = header(w, p, n, 1);
		sqfsbuf_le32(p + k, block);
		sqfsbuf_le32(p + k + 4, n->nlink);
		sqfsbuf_le16(p + k + 8, n->dsize);
		sqfsbuf_le16(p + k + 10, off);
		sqfsbuf_le32(p + k + 12, n->parent);
		return k + 16;
	}
	k = header(w, p, n, 8);
	sqfsbuf_le32(p + k, n->nlink);
	sqfsbuf_le32(p + k + 4, n->dsize);
	sqfsbuf_le32(p + k + 8, block);
	sqfsbuf_le32(p + k + 12, n->parent);
	sqfsbuf_le16(p + k + 16, 0); /* no directory index */
	sqfsbuf_le16(p + k + 18, off);
	sqfsbuf_le32(p + k + 20, xa ? n->xidx : NO_FRAG);
	return k + 24;
}

/* Write one inode into the inode table and remember its reference. */
static int write_inode(struct sqfs *w, struct sqfs_inode *n)
{
	unsigned char p[64];
	int xa = n->nxattrs > 0;
	size_t k;

	if (xa && write_xattrs(w, n) < 0)
		return -1;
	n->ref = sqfsmeta_ref(&w->itab);
	n->written = 1;
	if (n->type == SQFS_FILE) {
		k = file_inode(w, p, n, xa);
		unsigned char b[4];
		if (sqfsmeta_add(&w->itab, p, k) < 0)
			return -1;
		for (size_t i = 0; i < n->nblocks; i++)
			if (sqfsbuf_le32(b, n->blocks[i]), sqfsmeta_add(&w->itab, b, 4) < 0)
				return -1;
		return 0;
	}
	if (n->type == SQFS_DIR)
		return sqfsmeta_add(&w->itab, p, dir_inode(w, p, n, xa));
	k = header(w, p, n, n->type + (xa ? 7 : 0));
	sqfsbuf_le32(p + k, n->nlink);
	k += 4;
	if (n->type == SQFS_SYMLINK) {
		size_t tl = strlen(n->target);
		sqfsbuf_le32(p + k, (uint32_t)tl);
		if (sqfsmeta_add(&w->itab, p, k + 4) < 0 ||
		    sqfsmeta_add(&w->itab, n->target, tl) < 0)
			return -1;
		k = 0;
	}
	if (xa)
		sqfsbuf_le32(p + k, n->xidx), k += 4;
	return sqfsmeta_add(&w->itab, p, k);
}

/* How many entries from I on can share one directory header (same inode block, inode
 * numbers within a signed 16-bit delta, at most 256). */
static size_t run_length(const struct sqfs_inode *d, size_t i)
{
	const struct sqfs_inode *first = d->ents[i].ino;
	size_t n = 1;

	while (i + n < d->nents && n < 256) {
		const struct sqfs_inode *c = d->ents[i + n].ino;
		long delta = (long)c->ino - (long)first->ino;

		if ((c->ref >> 16) != (first->ref >> 16) || delta < -32768 || delta > 32767)
			break;
		n++;
	}
	return n;
}

/* Write D's listing into the directory table. */
static int write_listing(struct sqfs *w, struct sqfs_inode *d)
{
	unsigned char h[12];
	uint32_t bytes = 0;

	d->dref = sqfsmeta_ref(&w->dtab);
	for (size_t i = 0; i < d->nents;) {
		size_t n = run_length(d, i);
		const struct sqfs_inode *first = d->ents[i].ino;

		sqfsbuf_le32(h, (uint32_t)(n - 1));
		sqfsbuf_le32(h + 4, (uint32_t)(first->ref >> 16));
		sqfsbuf_le32(h + 8, first->ino);
		if (sqfsmeta_add(&w->dtab, h, 12) < 0)
			return -1;
		bytes += 12;
		for (size_t j = i; j < i + n; j++) {
			const struct sqfs_inode *c = d->ents[j].ino;
			size_t nl = strlen(d->ents[j].name);

			sqfsbuf_le16(h, (unsigned)(c->ref & 0xffff));
			sqfsbuf_le16(
			    h + 2, (unsigned)(uint16_t)(int16_t)((long)c->ino - (long)first->ino));
			sqfsbuf_le16(h + 4, c->type);
			sqfsbuf_le16(h + 6, (unsigned)(nl - 1));
			if (sqfsmeta_add(&w->dtab, h, 8) < 0 ||
			    sqfsmeta_add(&w->dtab, d->ents[j].name, nl) < 0)
				return -1;
			bytes += 8 + (uint32_t)nl;
		}
		i += n;
	}
	d->dsize = bytes + 3;
	return 0;
}

/* Write D's subtree, children first, then D's listing and inode. */
static int write_tree(struct sqfs *w, struct sqfs_inode *d)
{
	for (size_t i = 0; i < d->nents; i++) {
		struct sqfs_inode *c = d->ents[i].ino;

		if (c->type == SQFS_DIR ? write_tree(w, c) < 0
					: !c->written && write_inode(w, c) < 0)
			return -1;
	}
	return write_listing(w, d) < 0 ? -1 : write_inode(w, d);
}

/* Append a metadata stream to the image; *START gets its position. */
static int emit_meta(struct sqfs *w, struct sqfsmeta *m, uint64_t *start)
{
	if (sqfsmeta_flush(m) < 0)
		return -1;
	*start = w->pos;
	return emit(w, m->out, m->len);
}

/* Write a lookup table (fragment, id or xattr id): its entries as metadata blocks, then the
 * index of those blocks, whose position *INDEX gets. */
static int emit_table(struct sqfs *w, const void *data, size_t len, int store, uint64_t *index)
{
	struct sqfsmeta m;
	uint64_t start;
	unsigned char b[8];
	int rc;

	sqfsmeta_init(&m, store ? NULL : &w->comp);
	rc = sqfsmeta_add(&m, data, len) < 0 || emit_meta(w, &m, &start) < 0 ? -1 : 0;
	*index = w->pos;
	for (size_t i = 0; !rc && i < m.nstarts; i++) {
		sqfsbuf_le64(b, start + m.starts[i]);
		rc = emit(w, b, 8);
	}
	sqfsmeta_free(&m);
	return rc;
}

static int emit_frag_table(struct sqfs *w, uint64_t *index)
{
	unsigned char *t = calloc(w->nfrags ? w->nfrags : 1, 16);
	int rc;

	if (!t)
		return -1;
	for (size_t i = 0; i < w->nfrags; i++) {
		sqfsbuf_le64(t + 16 * i, w->frags[i].start);
		sqfsbuf_le32(t + 16 * i + 8, w->frags[i].size);
	}
	rc = emit_table(w, t, 16 * w->nfrags, w->o.no_frags, index);
	free(t);
	return rc;
}

/* The xattr key/value stream, its id table, and the header that points at both. */
static int emit_xattrs(struct sqfs *w, uint64_t *start)
{
	unsigned char *t = calloc(w->nxids, 16), h[16];
	uint64_t kv, index;
	int rc = -1;

	if (!t)
		return -1;
	for (size_t i = 0; i < w->nxids; i++) {
		sqfsbuf_le64(t + 16 * i, w->xids[i].ref);
		sqfsbuf_le32(t + 16 * i + 8, w->xids[i].count);
		sqfsbuf_le32(t + 16 * i + 12, w->xids[i].size);
	}
	if (emit_meta(w, &w->xkv, &kv) == 0) {
		struct sqfsmeta m;
		uint64_t ids;

		sqfsmeta_init(&m, w->o.no_xattr_comp ? NULL : &w->comp);
		if (sqfsmeta_add(&m, t, 16 * w->nxids) == 0 && emit_meta(w, &m, &ids) == 0) {
			*start = w->pos;
			sqfsbuf_le64(h, kv);
			sqfsbuf_le32(h + 8, (uint32_t)w->nxids);
			sqfsbuf_le32(h + 12, 0);
			rc = emit(w, h, 16);
			for (size_t i = 0; !rc && i < m.nstarts; i++)
				sqfsbuf_le64(h, ids + m.starts[i]), rc = emit(w, h, 8);
		}
		sqfsmeta_free(&m);
	}
	(void)index;
	free(t);
	return rc;
}

/* The superblock, written last at offset 0. */
static int write_super(struct sqfs *w, const uint64_t t[7], uint64_t root, uint64_t used)
{
	unsigned char sb[SB_SIZE];
	unsigned flags = (w->o.no_inodes ? F_NOI : 0) | (w->o.no_data ? F_NOD : 0) |
			 (w->o.no_frags ? F_NOF : 0) | (w->o.no_fragments ? F_NO_FRAGS : 0) |
			 (w->o.no_xattr_comp ? F_NOX : 0) | (w->o.no_xattrs ? F_NO_XATTRS : 0);
	unsigned char opt[16];
	unsigned log = 0;

	while ((1u << log) < w->o.block_size)
		log++;
	if (sqfscomp_options(&w->comp, opt))
		flags |= F_COMP_OPT;
	sqfsbuf_le32(sb, 0x73717368);
	sqfsbuf_le32(sb + 4, w->ninodes);
	sqfsbuf_le32(sb + 8, w->o.have_mkfs_time ? w->o.mkfs_time : (uint32_t)time(NULL));
	sqfsbuf_le32(sb + 12, w->o.block_size);
	sqfsbuf_le32(sb + 16, (uint32_t)w->nfrags);
	sqfsbuf_le16(sb + 20, w->o.comp);
	sqfsbuf_le16(sb + 22, log);
	sqfsbuf_le16(sb + 24, flags);
	sqfsbuf_le16(sb + 26, 1); /* ids */
	sqfsbuf_le16(sb + 28, 4);
	sqfsbuf_le16(sb + 30, 0);
	sqfsbuf_le64(sb + 32, root);
	sqfsbuf_le64(sb + 40, used);
	sqfsbuf_le64(sb + 48, t[4]);			   /* id table */
	sqfsbuf_le64(sb + 56, w->nxids ? t[5] : NO_TABLE); /* xattr ids */
	sqfsbuf_le64(sb + 64, t[0]);			   /* inode table */
	sqfsbuf_le64(sb + 72, t[1]);			   /* directory table */
	sqfsbuf_le64(sb + 80, t[2]);			   /* fragment table */
	sqfsbuf_le64(sb + 88, NO_TABLE);		   /* export table */
	return pwrite(w->fd, sb, SB_SIZE, 0) == SB_SIZE ? 0 : -1;
}

int sqfs_finish(struct sqfs *w, struct sqfs_inode *root)
{
	uint64_t t[7] = {0}, used;
	unsigned char id[4] = {0, 0, 0, 0}, pad[4096] = {0};

	if (w->cur || frag_flush(w) < 0)
		return w->cur ? (errno = EINVAL, -1) : -1;
	w->ninodes = 0;
	number(w, root);
	root->parent = w->ninodes + 1;
	if (write_tree(w, root) < 0 || emit_meta(w, &w->itab, &t[0]) < 0 ||
	    emit_meta(w, &w->dtab, &t[1]) < 0 || emit_frag_table(w, &t[2]) < 0 ||
	    emit_table(w, id, 4, w->o.no_inodes, &t[4]) < 0 ||
	    (w->nxids && emit_xattrs(w, &t[5]) < 0))
		return -1;
	used = w->pos;
	if ((used & 4095) && emit(w, pad, 4096 - (used & 4095)) < 0)
		return -1;
	if (wflush(w) < 0)
		return -1;
	return write_super(w, t, root->ref, used);
}
