/* blobcache: registry blobs stored by digest, verified before they become visible (spec §4.5,
 * PITFALLS §3.3, §3.4).
 *
 * Layout: $ENROOT_CACHE_PATH/blobs/sha256/<hex> holds the raw blob exactly as the registry
 * served it (enroot stores re-compressed zstd under $ENROOT_CACHE_PATH/<hex>; the separate
 * directory keeps the two from mistaking each other's files).  Beside each blob:
 *   <hex>.lock           the per-digest lock (flock): one writer per digest at a time
 *   <hex>.tmp.XXXXXX     a download in progress (0600), renamed to <hex> (0640) once its
 *                        sha256 matched and it was fsync'ed
 * Trust: a file can only appear under its final name through that rename, so a cache hit is
 * checked for type and size only (re-hashing every hit would cost as much as decompressing the
 * layer); blobcache_verify re-hashes on demand.  Temporaries whose digest lock is free (their
 * writer died, even of SIGKILL) are removed under that lock on open and before a download of
 * the digest; any older than an hour are removed on open. */
#ifndef BLOBCACHE_H
#define BLOBCACHE_H

#include <stddef.h>

struct blobcache {
	char *dir; /* .../blobs/sha256 */
	int dirfd;
};

/* The fetcher blobcache_get calls on a miss: stream the blob into sink (rewound by reset
 * before a retry).  Returns 0, or -1 with errno set and a message in why. */
typedef int (*blobcache_fetch_fn)(void *arg, const char *digest,
				  int (*sink)(void *ctx, const void *data, size_t len),
				  int (*reset)(void *ctx), void *ctx, char *why, size_t whylen);

/* Create (0700) and open the cache under cache_path.  -1 with errno. */
int blobcache_open(struct blobcache *c, const char *cache_path);
void blobcache_close(struct blobcache *c);

/* 1 when digest ("sha256:<hex>") is cached (a regular file, of size bytes unless size < 0),
 * 0 when not, -1 with errno on another error. */
int blobcache_has(struct blobcache *c, const char *digest, long long size);

enum blobcache_result { BLOBCACHE_HIT = 0, BLOBCACHE_FETCHED = 1 };

/* Make digest present: a hit, or (under the per-digest lock, so concurrent callers fetch it
 * once and the others wait and then hit) a fetch verified against the digest and, when
 * size >= 0, the size.  Returns BLOBCACHE_HIT or BLOBCACHE_FETCHED, or -1 with errno and a
 * message in why ("Checksum mismatch: <hex>" for a corrupted download; nothing is cached). */
int blobcache_get(struct blobcache *c, const char *digest, long long size, blobcache_fetch_fn fetch,
		  void *arg, char *why, size_t whylen);

/* Open a cached blob for reading (O_CLOEXEC).  -1 with errno (ENOENT when absent). */
int blobcache_open_blob(struct blobcache *c, const char *digest);

/* The path of a blob's file (present or not), malloc'ed; NULL on ENOMEM. */
char *blobcache_path(const struct blobcache *c, const char *digest);

/* Remove a cached blob that verified but cannot be used (a layer that does not unpack), under
 * its lock, so the next import fetches it again rather than failing on the same file.
 * Returns 0 (also when it was not cached) or -1 with errno. */
int blobcache_evict(struct blobcache *c, const char *digest);

/* Re-hash a cached blob: 0 when it matches, -1 with EBADMSG when not (the file is then
 * removed) or another errno. */
int blobcache_verify(struct blobcache *c, const char *digest);

#endif
