/* sqfsmeta: squashfs metadata blocks in memory (see sqfsmeta.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/sqfsbuf.h"
#include "image/sqfsmeta.h"

void sqfsmeta_init(struct sqfsmeta *m, struct sqfscomp *comp)
{
	memset(m, 0, sizeof(*m));
	m->comp = comp;
}

void sqfsmeta_free(struct sqfsmeta *m)
{
	free(m->out);
	free(m->starts);
	m->out = NULL;
	m->starts = NULL;
}

uint64_t sqfsmeta_ref(const struct sqfsmeta *m)
{
	return ((uint64_t)m->len << 16) | m->blen;
}

/* Compress (or store) the current block and append it to out. */
static int emit(struct sqfsmeta *m)
{
	unsigned char tmp[SQFSMETA_BLOCK + SQFSMETA_BLOCK / 16 + 128];
	long z = 0;
	size_t n;

	if (!m->blen)
		return 0;
	if (m->comp && (z = sqfscomp_compress(m->comp, m->blk, m->blen, tmp, sizeof(tmp))) < 0)
		return -1;
	n = z > 0 ? (size_t)z : m->blen;
	if (sqfsbuf_grow((void **)&m->out, &m->cap, m->len + n + 2, 1) < 0 ||
	    sqfsbuf_grow((void **)&m->starts, &m->scap, m->nstarts + 1, sizeof(uint64_t)) < 0)
		return -1;
	m->starts[m->nstarts++] = m->len;
	sqfsbuf_le16(m->out + m->len, (unsigned)n | (z > 0 ? 0 : 0x8000));
	memcpy(m->out + m->len + 2, z > 0 ? tmp : m->blk, n);
	m->len += n + 2;
	m->blen = 0;
	return 0;
}

int sqfsmeta_add(struct sqfsmeta *m, const void *data, size_t n)
{
	const unsigned char *p = data;

	while (n) {
		size_t k = SQFSMETA_BLOCK - m->blen;

		if (k > n)
			k = n;
		memcpy(m->blk + m->blen, p, k);
		m->blen += k;
		p += k;
		n -= k;
		if (m->blen == SQFSMETA_BLOCK && emit(m) < 0)
			return -1;
	}
	return 0;
}

int sqfsmeta_flush(struct sqfsmeta *m)
{
	return emit(m);
}
