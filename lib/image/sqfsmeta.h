/* sqfsmeta: a squashfs metadata stream (inode, directory, fragment, id and xattr tables)
 * built in memory: 8 KiB blocks, each compressed when that makes it smaller, behind a 16-bit
 * header (bit 15 set: stored).  Memory grows with the entry count, not with file data. */
#ifndef SQFSMETA_H
#define SQFSMETA_H

#include <stddef.h>
#include <stdint.h>

#include "image/sqfscomp.h"

#define SQFSMETA_BLOCK 8192

struct sqfsmeta {
	struct sqfscomp *comp; /* NULL: store every block */
	unsigned char blk[SQFSMETA_BLOCK];
	size_t blen;	    /* bytes in blk */
	unsigned char *out; /* finished blocks, headers included */
	size_t len, cap;    /* bytes in out */
	uint64_t *starts;   /* offset in out of each finished block */
	size_t nstarts, scap;
};

void sqfsmeta_init(struct sqfsmeta *m, struct sqfscomp *comp);
void sqfsmeta_free(struct sqfsmeta *m);

/* The reference of the next byte: (start of its block in the table << 16) | offset. */
uint64_t sqfsmeta_ref(const struct sqfsmeta *m);

/* Append N bytes; -1 with errno on failure. */
int sqfsmeta_add(struct sqfsmeta *m, const void *data, size_t n);

/* Finish the last, partial block. */
int sqfsmeta_flush(struct sqfsmeta *m);

#endif
