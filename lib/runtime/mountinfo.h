/* mountinfo: /proc/self/mountinfo parsed once and cached (PITFALLS §3.5: parsing it for
 * every bind is O(N^2), bwrap#384). See proc_pid_mountinfo(5). */
#ifndef MOUNTINFO_H
#define MOUNTINFO_H

#include <stddef.h>

struct mountinfo_entry {
	int id, parent;
	unsigned major, minor;
	/* Decoded (\040 and friends) and NUL-terminated; never NULL. */
	char *root;	  /* field 4: the root of the mount within its file system */
	char *mountpoint; /* field 5 */
	char *options;	  /* field 6: per-mount options (rw,nosuid,...) */
	char *optional;	  /* the optional fields: "shared:1 master:2", "" when private */
	char *fstype;
	char *source;
	char *super_options; /* superblock options */
};

struct mountinfo {
	struct mountinfo_entry *e;
	size_t n;
	char *text; /* the file's bytes, which the entries point into */
};

/* Parse a mountinfo file (normally "/proc/self/mountinfo"). Returns -1 with errno set;
 * EINVAL for a malformed line. Free with mountinfo_free. */
int mountinfo_load(struct mountinfo *mi, const char *path);
/* Parse mountinfo text of len bytes (the buffer is copied). */
int mountinfo_parse(struct mountinfo *mi, const char *text, size_t len);
void mountinfo_free(struct mountinfo *mi);

/* The process-wide cached view of /proc/self/mountinfo, loaded on first use; NULL with errno
 * set on failure. Call mountinfo_invalidate after changing mounts to reload on next use. */
const struct mountinfo *mountinfo_self(void);
void mountinfo_invalidate(void);

/* The mount containing the canonical absolute path: the longest mountpoint that is path or
 * a parent of it; among mounts stacked on one point, the last listed (the top one). */
const struct mountinfo_entry *mountinfo_find(const struct mountinfo *mi, const char *path);

/* Propagation of a mount from its optional fields: "shared", "slave", "shared,slave" (both
 * shared:N and master:N), "unbindable" or "private". */
const char *mountinfo_propagation(const struct mountinfo_entry *e);

/* Is opt (e.g. "ro", "nosuid") one of the comma-separated words of list? */
int mountinfo_has_option(const char *list, const char *opt);

#endif
