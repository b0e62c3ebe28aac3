/* io: whole-buffer writes, retried on EINTR and short counts. */
#ifndef IO_H
#define IO_H

#include <stddef.h>
#include <sys/types.h>

/* Write all LEN bytes of BUF to FD.  0, or -1 with errno (EIO for a write of 0 bytes). */
int io_write_all(int fd, const void *buf, size_t len);
/* The same with pwrite(2) at offset OFF. */
int io_pwrite_all(int fd, const void *buf, size_t len, off_t off);

#endif
