/* inflate: the gzip decoder of the layer reader (lib/image/tarwalk.c), streaming from a file
 * descriptor into one output buffer that the tar parser reads in place.
 *
 * Decoding is done by Intel ISA-L (isal_inflate, libisal.so.2), which inflates about 3.5x
 * faster than zlib on the machines we measured (tests/bench/RESULTS.md); where libisal cannot
 * be loaded, or the build had no <isa-l/igzip_lib.h>, by zlib (libz.so.1).  Both are
 * dlopen'ed on first use (lib/base/dl.h), so an exec of the binary maps neither.
 * ENROOT_NO_ISAL=1 (a debugging and test switch, not a configuration setting) takes zlib even
 * where ISA-L loads.
 *
 * The stream is one or more gzip members back to back (pigz, or cat of gzip files): each
 * member's CRC32 and ISIZE are checked, and bytes after the last member that do not begin
 * another one are ignored, as gzip(1) and libarchive do.  A stream that ends inside a member
 * is an error ("truncated gzip stream"), as are a damaged header, damaged deflate data and a
 * failed check. */
#ifndef INFLATE_H
#define INFLATE_H

#include <stddef.h>
#include <stdint.h>

struct inflate;

/* Decode the gzip stream on FD, whose first PRELEN bytes were already read into PRE (for
 * the magic bytes; copied).  NULL with errno set and the reason in WHY (ELIBACC: neither
 * libisal nor zlib loads; ENOMEM). */
struct inflate *inflate_open(int fd, const void *pre, size_t prelen, char *why, size_t whylen);

/* The next block of decoded data: 1 with *BUF (LEN bytes, valid until the next call), 0 at
 * the end of the stream, -1 with errno (EIO: damaged or truncated stream; or read(2)'s) and
 * the reason in inflate_error(). */
int inflate_read(struct inflate *z, const void **buf, size_t *len);

/* Why the last inflate_read failed ("truncated gzip stream", ...). */
const char *inflate_error(const struct inflate *z);

/* Bytes decoded so far, and gzip members finished so far. */
uint64_t inflate_total(const struct inflate *z);
unsigned long inflate_members(const struct inflate *z);

void inflate_close(struct inflate *z);

/* The decoder this process uses: "isa-l" or "zlib" (loading it if needed), or NULL when
 * neither loads. */
const char *inflate_impl(void);

#endif
