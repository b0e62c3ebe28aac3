/* copytree: copy a directory tree faithfully, for `enroot clone`: every type but device
 * nodes (which need privilege), modes with setuid/setgid/sticky, owners where the caller may
 * set them (as create keeps them: files come out the caller's), hard links (a (dev,ino)
 * map), user.* xattrs, symlinks, and access and modification times. File data is reflinked
 * (FICLONE) where the file system can share extents, else copied in the kernel
 * (copy_file_range), else read and written; holes stay holes (SEEK_DATA/SEEK_HOLE).
 * Entries the owner cannot read or search are made readable for the copy and given their
 * mode back. The walk stays on one file system and never follows a symlink. */
#ifndef COPYTREE_H
#define COPYTREE_H

struct copytree_stats {
	unsigned long long entries;   /* everything created, the root included */
	unsigned long long bytes;     /* file data copied or shared (holes not counted) */
	unsigned long long reflinked; /* files shared whole with FICLONE */
	unsigned long long links;     /* hard links made to an inode copied already */
	unsigned long long skipped;   /* device nodes that could not be made */
	char *first_skipped;	      /* the first of them, relative to the root (malloc'd) */
};

/* Copy the directory SRC to DST, which must not exist. Returns 0, or -1 with errno (EXDEV
 * for a mount point below SRC) and, when bad is not NULL, *bad set to a malloc'd path
 * (relative to SRC, "" for SRC itself) of the entry that failed. What was made of DST is left
 * for the caller to remove. st (may be NULL) gets the counts; free st->first_skipped. */
int copytree(const char *src, const char *dst, struct copytree_stats *st, char **bad);

#endif
