/* errcap: hold a tool's stderr (mksquashfs, unsquashfs) in an anonymous memory file, so that
 * its failure can be told in one line of ours ("No space left on device") instead of the
 * tool's several, and its text still shown when we cannot say better. */
#ifndef ERRCAP_H
#define ERRCAP_H

/* A memfd (O_CLOEXEC) to dup2 onto the tool's stderr.  -1 with errno. */
int errcap_open(void);

/* 1 when the captured text contains needle, else 0. */
int errcap_contains(int fd, const char *needle);

/* The errno a disk-full or quota failure of the tool stands for (ENOSPC, EDQUOT), or 0. */
int errcap_errno(int fd);

/* Copy the captured text to the file descriptor to (best effort). */
void errcap_replay(int fd, int to);

#endif
