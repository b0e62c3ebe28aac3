/* xwrap: x-functions succeed or exit with a message. Use them where failure ends the applet. */
#ifndef XWRAP_H
#define XWRAP_H

#include <stddef.h>
#include <sys/types.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int xopen(const char *path, int flags, mode_t mode);
void xclose(int fd);
void xwrite_all(int fd, const void *buf, size_t len, const char *what);
void xsetenv(const char *name, const char *value);
pid_t xfork(void);
void xpipe(int fds[2]);
void xdup2(int from, int to);

/* exec argv[0] with PATH lookup; on failure exit 126, or 127 when it was not found. */
_Noreturn void xexecvp(char *const argv[]);
/* The same, but exec a fixed path (argv[0] stays what the caller set). */
_Noreturn void xexecv(const char *path, char *const argv[]);

#endif
