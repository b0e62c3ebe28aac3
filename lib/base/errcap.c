/* errcap: a tool's stderr held in a memfd (see errcap.h). */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/errcap.h"
#include "base/io.h"

/* Only the start of a long text is looked at and replayed. */
#define ERRCAP_MAX 65536

int errcap_open(void)
{
	return memfd_create("errcap", MFD_CLOEXEC);
}

/* Read up to ERRCAP_MAX - 1 bytes from the start into buf, NUL-terminated. */
static size_t errcap_read(int fd, char *buf)
{
	ssize_t n, got = 0;

	while (got < ERRCAP_MAX - 1) {
		n = pread(fd, buf + got, (size_t)(ERRCAP_MAX - 1 - got), got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	buf[got] = '\0';
	return (size_t)got;
}

int errcap_contains(int fd, const char *needle)
{
	char buf[ERRCAP_MAX];

	if (fd < 0)
		return 0;
	errcap_read(fd, buf);
	return strstr(buf, needle) != NULL;
}

int errcap_errno(int fd)
{
	if (errcap_contains(fd, strerror(ENOSPC)))
		return ENOSPC;
	if (errcap_contains(fd, strerror(EDQUOT)))
		return EDQUOT;
	return 0;
}

void errcap_replay(int fd, int to)
{
	char buf[ERRCAP_MAX];
	size_t n = fd < 0 ? 0 : errcap_read(fd, buf);
	(void)io_write_all(to, buf, n);
}
