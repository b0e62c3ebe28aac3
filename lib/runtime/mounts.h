/* mounts: execute enroot fstab entries under a root directory (spec §7.4), the engine of
 * mountat(1), callable in-process by the driver. */
#ifndef MOUNTS_H
#define MOUNTS_H

#include <stddef.h>

#include "runtime/fstab.h"

struct mounts_report {
	/* Called with a message for each error of a nofail entry that is not silent; may be
	 * NULL to drop them. The message reads like msg (below), without a prefix. */
	void (*warn)(void *arg, const char *msg);
	void *arg;
	/* Set when mounts_apply fails: a message ready for msg_error("%s", msg), e.g.
	 * "failed to mount: /src at /root/dst: No such file or directory" or
	 * "invalid fstab entry: \"<line>\" at <origin>", and the errno (0 for an invalid entry). */
	int errnum;
	char msg[4 * FSTAB_LINE_MAX + 256];
};

/* Apply every entry of the fstab text (len bytes) whose pass equals pass, in order, with
 * targets confined to root. SOURCE paths are host paths relative to the current directory.
 * origin names the text in messages (a file name). Stops silently at a line longer than
 * FSTAB_LINE_MAX bytes. Returns 0, or -1 with rep->msg and rep->errnum set at the first
 * error of an entry without nofail. Needs CAP_SYS_ADMIN over the mount namespace. */
int mounts_apply(const char *root, int pass, const char *text, size_t len, const char *origin,
		 struct mounts_report *rep);

/* mounts_apply on the contents of a file ("-" reads stdin, named /dev/stdin in messages).
 * An unreadable file fails with "failed to open: PATH: strerror" (or "failed to read"). */
int mounts_apply_file(const char *root, int pass, const char *path, struct mounts_report *rep);

/* Apply one completed entry under root (opened as rootfd; rootpath is its realpath, for
 * messages). Same result convention as mounts_apply; an invalid option list fails with
 * errnum EINVAL and a message naming the options. */
int mounts_apply_entry(int rootfd, const char *rootpath, const struct fstab_entry *e,
		       struct mounts_report *rep);

/* Are we inside a user namespace? True when uid_map or gid_map is not the identity
 * "0 0 4294967295", or setgroups reads "deny" (spec §7.4 step 3). Cached. */
int mounts_in_userns(void);

#endif
