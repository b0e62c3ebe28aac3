/* buf: a growable byte buffer, always NUL-terminated. */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT                                                                                   \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

/* These return -1 with errno ENOMEM on failure; the buffer stays valid. */
int buf_add(struct buf *b, const void *data, size_t len);
int buf_addc(struct buf *b, char c);
int buf_adds(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Read a whole fd into the buffer; fails with EFBIG past max bytes. */
int buf_read_fd(struct buf *b, int fd, size_t max);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

#endif
