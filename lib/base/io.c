/* io: whole-buffer writes (see io.h). */
#include <errno.h>
#include <unistd.h>

#include "base/io.h"

int io_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -1 : (errno = EIO, -1);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int io_pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -1 : (errno = EIO, -1);
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}
