/* store: the node image store, a directory of imported images shared by every caller of
 * `enroot store get` on a node (same user), keyed on what makes the image: the manifest
 * digest of the reference, the architecture and the squash options in effect.
 *
 *   STORE/KEY.sqsh      the image (appears by rename, complete)
 *   STORE/KEY.meta      what it is: reference, digest, arch, options, size, created, sha256;
 *                       its mtime is the entry's last use.  An entry is KEY.sqsh with a
 *                       KEY.meta written before it: a .sqsh without one is a broken import
 *   STORE/KEY.lock      flock: exclusive while an entry is made, checked or removed
 *   STORE/leases/NAME   "KEY PID START": NAME pins KEY while process PID (started at START,
 *                       /proc/PID/stat field 22) lives
 *   STORE/refs/HASH     "DIGEST NANOS": the last resolution of a reference (HASH of the
 *                       reference and the platform), under flock, so that callers that
 *                       asked while another was resolving it take its answer
 *
 * Functions return -1 with errno on failure (never print). */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <sys/types.h>

#define STORE_KEY_LEN 65 /* 64 hex + NUL */

struct store {
	char *dir;
	int fd;
};

struct store_meta {
	char *reference, *digest, *arch, *options, *sha256;
	long long size, created, used;
};

/* The store's directory: ENROOT_STORE_PATH, else ENROOT_CACHE_PATH/store (malloc'ed;
 * NULL with errno). */
char *store_default_dir(void);

/* Open (creating it, mode 0700, when CREATE) the store DIR. */
int store_open(struct store *s, const char *dir, int create);
void store_close(struct store *s);

/* The key of an image: the sha256 of "DIGEST\nARCH\nOPTIONS". */
void store_key(const char *digest, const char *arch, const char *options, char key[STORE_KEY_LEN]);

/* "DIR/KEY.sqsh" (malloc'ed). */
char *store_image_path(const struct store *s, const char *key);

/* Lock KEY (LOCK_EX, or LOCK_EX | LOCK_NB): the descriptor to close, or -1 (EWOULDBLOCK). */
int store_lock(struct store *s, const char *key, int how);

/* Read KEY's meta (ENOENT: no complete entry; EINVAL: a damaged one); free with
 * store_meta_free.  used is the meta's mtime. */
int store_meta_read(struct store *s, const char *key, struct store_meta *m);
/* Write KEY's meta atomically (a temporary renamed into place). */
int store_meta_write(struct store *s, const char *key, const struct store_meta *m);
void store_meta_free(struct store_meta *m);

/* Is KEY a complete entry (its .sqsh and its .meta both present)? */
int store_has(struct store *s, const char *key);
/* Mark KEY used now. */
int store_touch(struct store *s, const char *key);
/* Remove KEY's image and meta (the caller holds its lock). */
int store_remove(struct store *s, const char *key);

/* The keys of the complete entries (NULL-terminated, malloc'ed, sorted); free with
 * store_keys_free. */
char **store_keys(struct store *s);
void store_keys_free(char **keys);

/* Lease NAME ([A-Za-z0-9][A-Za-z0-9._-]*) on KEY for process PID: replaces a lease of that
 * name. */
int store_lease(struct store *s, const char *name, const char *key, pid_t pid);
/* Drop lease NAME; 0 when it does not exist. */
int store_release(struct store *s, const char *name);
/* Is lease NAME valid as a name? */
int store_lease_name_ok(const char *name);
/* The number of live leases on KEY (holders alive); stale leases found on the way are
 * removed when PRUNE.  NAMES (when not NULL) gets them, comma-separated, malloc'ed. */
int store_leases(struct store *s, const char *key, int prune, char **names);

/* Lock the resolution record of REF (any text naming the reference and the platform):
 * the descriptor, or -1.  Blocks while another caller resolves it. */
int store_ref_lock(struct store *s, const char *ref);
/* The digest in the record of FD when it was written at or after SINCE (CLOCK_REALTIME
 * nanoseconds): 1, else 0. */
int store_ref_read(int fd, long long since, char *digest, size_t len);
/* Record DIGEST as resolved now. */
int store_ref_write(int fd, const char *digest);

/* SHA-256 (hex) of the file at fd, read from the start. */
int store_hash_fd(int fd, char hex[STORE_KEY_LEN]);

#endif
