/* xwrap: die-on-error wrappers around libc. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/io.h"
#include "base/msg.h"
#include "base/xwrap.h"

static void *check_alloc(void *p)
{
	if (!p)
		die("failed to allocate memory:");
	return p;
}

void *xmalloc(size_t size)
{
	return check_alloc(malloc(size ? size : 1));
}

void *xcalloc(size_t n, size_t size)
{
	return check_alloc(calloc(n ? n : 1, size ? size : 1));
}

void *xrealloc(void *p, size_t size)
{
	return check_alloc(realloc(p, size ? size : 1));
}

char *xstrdup(const char *s)
{
	return check_alloc(strdup(s));
}

char *xstrndup(const char *s, size_t n)
{
	return check_alloc(strndup(s, n));
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		die("failed to allocate memory:");
	return s;
}

int xopen(const char *path, int flags, mode_t mode)
{
	int fd = open(path, flags | O_CLOEXEC, mode);

	if (fd < 0)
		die("failed to open: %s:", path);
	return fd;
}

void xclose(int fd)
{
	if (close(fd) < 0 && errno != EINTR)
		die("failed to close file descriptor %d:", fd);
}

void xwrite_all(int fd, const void *buf, size_t len, const char *what)
{
	if (io_write_all(fd, buf, len) < 0)
		die("failed to write: %s:", what);
}

void xsetenv(const char *name, const char *value)
{
	if (setenv(name, value, 1) < 0)
		die("failed to set environment variable: %s:", name);
}

pid_t xfork(void)
{
	pid_t pid = fork();

	if (pid < 0)
		die("failed to fork:");
	return pid;
}

void xpipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		die("failed to create pipe:");
}

void xdup2(int from, int to)
{
	if (dup2(from, to) < 0)
		die("failed to duplicate file descriptor %d:", from);
}

void xexecvp(char *const argv[])
{
	execvp(argv[0], argv);
	die_status(126 + (errno == ENOENT), "failed to execute: %s:", argv[0]);
}

void xexecv(const char *path, char *const argv[])
{
	execv(path, argv);
	die_status(126 + (errno == ENOENT), "failed to execute: %s:", path);
}
