/* sqfs: write a squashfs 4.0 image in one pass, as `mksquashfs -all-root` would lay it out
 * (spec §4.8; the format as the kernel's fs/squashfs and squashfs-tools 4.5 read it).
 *
 * File data streams through: each file's blocks are written as they fill (compressed unless
 * -noD, all-zero blocks stored as sparse), its tail packed into a fragment block.  Inodes and
 * directories are kept in memory (bounded by the entry count) and the tables are written by
 * sqfs_finish: inode table, directory table, fragment table, id table (one id: 0, everything
 * is owned by root) and the user.* xattr table.  No export table, no deduplication of
 * identical files (as `-no-exports -no-duplicates`).  Not thread-safe: one writer, one thread. */
#ifndef SQFS_H
#define SQFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "image/sqfscomp.h"

/* What an ENROOT_SQUASH_OPTIONS string asks for, when we can honour all of it. */
struct sqfs_opts {
	enum sqfscomp_id comp;
	int level;	     /* -Xcompression-level; 0: the compressor's default */
	unsigned block_size; /* -b, a power of two from 4 KiB to 1 MiB; default 128 KiB */
	int no_data, no_inodes, no_frags, no_xattr_comp; /* -noD -noI -noF -noX */
	int no_fragments, no_xattrs;			 /* -no-fragments -no-xattrs */
	int have_mkfs_time, have_all_time;
	uint32_t mkfs_time, all_time; /* -mkfs-time, -all-time (or SOURCE_DATE_EPOCH) */
};

/* Parse OPTIONS (mksquashfs words, NULL: SQUASH_DEFAULT_OPTIONS) and EPOCH (SOURCE_DATE_EPOCH,
 * or NULL) into O.  Returns 0, or -1 with WHY (LEN bytes) naming the first option we cannot
 * honour, for a fall back to mksquashfs. */
int sqfs_opts_parse(const char *options, const char *epoch, struct sqfs_opts *o, char *why,
		    size_t len);

enum sqfs_type { SQFS_DIR = 1, SQFS_FILE = 2, SQFS_SYMLINK = 3, SQFS_FIFO = 6, SQFS_SOCKET = 7 };

struct sqfs_xattr {
	char *name; /* "user.NAME" */
	void *value;
	size_t len;
};

struct sqfs_dirent {
	char *name;
	struct sqfs_inode *ino;
};

struct sqfs_inode {
	enum sqfs_type type;
	mode_t mode; /* permission bits only */
	uint32_t mtime;
	/* regular files: filled by sqfs_file_* */
	uint64_t size, start, sparse;
	uint32_t *blocks, frag, fragoff;
	size_t nblocks, bcap;
	char *target;		  /* symlinks */
	struct sqfs_dirent *ents; /* directories, any order: sorted by sqfs_finish */
	size_t nents, ecap;
	struct sqfs_xattr *xattrs;
	size_t nxattrs;
	struct sqfs_inode *alias; /* when set, this inode is that one (sqfs_link follows it) */
	/* sqfs_finish's bookkeeping */
	uint32_t nlink, ino, parent, xidx, dsize;
	uint64_t ref, dref;
	int written;
};

struct sqfs;

/* Start an image on FD (empty, seekable, written from offset 0).  NULL with errno. */
struct sqfs *sqfs_new(int fd, const struct sqfs_opts *o);
/* Free the writer and every inode it made. */
void sqfs_free(struct sqfs *w);

/* A new inode owned by the writer; NULL with errno.  TARGET is copied (symlinks). */
struct sqfs_inode *sqfs_inode(struct sqfs *w, enum sqfs_type type, mode_t mode, uint32_t mtime,
			      const char *target);
/* Add the user.* xattr NAME=VALUE to INO (copied); others are ignored.  -1 with ENOMEM. */
int sqfs_xattr(struct sqfs *w, struct sqfs_inode *ino, const char *name, const void *value,
	       size_t len);
/* Add NAME (copied) pointing at CHILD to the directory DIR.  -1 with ENOMEM. */
int sqfs_link(struct sqfs_inode *dir, const char *name, struct sqfs_inode *child);

/* Write a regular file's data: begin, then bytes in order (OFF may skip ahead over a hole,
 * never back), then end with its SIZE (a trailing hole).  One file at a time.  -1 with errno. */
int sqfs_file_begin(struct sqfs *w, struct sqfs_inode *ino);
int sqfs_file_write(struct sqfs *w, const void *data, size_t len, uint64_t off);
int sqfs_file_end(struct sqfs *w, uint64_t size);

/* Write the tables and the superblock with ROOT as the root directory; the image is then
 * complete (not fsync'ed).  -1 with errno. */
int sqfs_finish(struct sqfs *w, struct sqfs_inode *root);

#endif
