/* squash: build a squashfs image from a directory with mksquashfs (spec §4.8, §11.2;
 * PITFALLS.md §3.4: check the exit status, fsync before the rename, never clobber). */
#ifndef SQUASH_H
#define SQUASH_H

#include <sys/types.h>

#define SQUASH_DEFAULT_OPTIONS "-comp lzo -noD -exit-on-error"

struct squash_opts {
	const char *options;   /* ENROOT_SQUASH_OPTIONS, split on blanks; NULL: the default */
	long processors;       /* -processors; <= 0: the number of online CPUs */
	const char *epoch;     /* SOURCE_DATE_EPOCH (-mkfs-time and -all-time), or NULL */
	int progress;	       /* show mksquashfs's progress and summary on stderr */
	char *const *excludes; /* NULL-terminated paths relative to DIR for `-e`, or NULL */
};

/* Run `mksquashfs DIR TMP -noappend -all-root ...` (as root of a new user namespace when one
 * can be made, so files and directories the owner cannot read, such as a mode-0000
 * /etc/shadow, are still read; modes are kept), check its status, fsync TMP and rename it to
 * OUT without replacing anything.  TMP may exist (it is overwritten) and is removed on
 * failure.  Returns 0, or -1 with errno set: EEXIST when OUT exists, ECHILD when mksquashfs
 * failed (*status then holds its wait status; it printed why), ENOSPC or EDQUOT when it
 * failed because the disk was full (its own messages are then withheld), or the errno of the
 * step. */
/* Become root of a new user namespace mapping only uid and gid ("0 UID 1"), so files the
 * owner cannot read (mode 0000) can be read.  Failure leaves the caller as it was. */
void squash_userns(uid_t uid, gid_t gid);

int squash_create(const char *dir, const char *tmp, const char *out, const struct squash_opts *o,
		  int *status);

/* Publish an image written elsewhere (lib/image/sqfs.h) as squash_create does: fsync TMP, rename it
 * to OUT without replacing anything (EEXIST), fsync the directory; TMP is removed on failure. */
int squash_publish(const char *tmp, const char *out);

/* The one-line message for a squash_create failure with errno ERR (and mksquashfs's wait
 * STATUS when ERR is ECHILD), as "File already exists: OUT" or "failed to create squashfs: ...". */
void squash_describe(int err, int status, const char *out, char *buf, size_t len);

#endif
