/* environ: clear the environment and load NAME=value lines (spec §6.6). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/environ.h"

/* Environment files are small; this bounds a hostile or mistaken one. */
#define ENVIRON_MAX (64u << 20)

static int is_alpha_(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

size_t environ_name_len(const char *line, size_t len)
{
	size_t i;

	if (!len || !is_alpha_(line[0]))
		return 0;
	for (i = 1; i < len && (is_alpha_(line[i]) || (line[i] >= '0' && line[i] <= '9')); i++)
		;
	return i < len && line[i] == '=' ? i : 0;
}

/* setenv one line (without its newline) when it is valid. */
static int load_line(const char *line, size_t len)
{
	size_t n = environ_name_len(line, len);
	char *copy;
	int rc;

	if (!n)
		return 0;
	copy = strndup(line, len);
	if (!copy)
		return -1;
	copy[n] = '\0';
	rc = setenv(copy, copy + n + 1, 1);
	free(copy);
	return rc;
}

int environ_load_buf(const char *buf, size_t len)
{
	size_t i = 0;

	if (clearenv())
		return -1;
	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - buf) : len;

		if (load_line(buf + i, end - i))
			return -1;
		i = end + 1;
	}
	return 0;
}

int environ_load_fd(int fd)
{
	struct buf b = BUF_INIT;
	int rc = -1;

	if (buf_read_fd(&b, fd, ENVIRON_MAX) == 0)
		rc = environ_load_buf(b.data ? b.data : "", b.len);
	buf_free(&b);
	return rc;
}

int environ_load_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc, saved;

	if (fd < 0)
		return -1;
	rc = environ_load_fd(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}
