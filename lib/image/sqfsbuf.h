/* sqfsbuf: the buffer helpers the squashfs writer (sqfs.c) and its metadata streams
 * (sqfsmeta.c) share: little-endian stores, as every squashfs field is, and one growth rule
 * for their arrays. */
#ifndef SQFSBUF_H
#define SQFSBUF_H

#include <stddef.h>
#include <stdint.h>

/* Store V little-endian at P. */
static inline void sqfsbuf_le16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static inline void sqfsbuf_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline void sqfsbuf_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Make the array *P of *CAP elements of SIZE bytes hold at least NEED (doubling, from 16).
 * 0, or -1 with errno; *P stays valid. */
int sqfsbuf_grow(void **p, size_t *cap, size_t need, size_t size);

#endif
