/* pathset: open-addressing hash map of paths (see pathset.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/pathset.h"

static size_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

static struct pathent *slot(struct pathent *tab, size_t cap, const char *path)
{
	size_t i = hash(path) & (cap - 1);

	while (tab[i].path && strcmp(tab[i].path, path))
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

struct pathent *pathset_get(const struct pathset *s, const char *path)
{
	struct pathent *e;

	if (!s->cap)
		return NULL;
	e = slot(s->tab, s->cap, path);
	return e->path ? e : NULL;
}

/* Double the table (keeping the load under one half) and move every entry over. */
static int grow(struct pathset *s)
{
	size_t cap = s->cap ? s->cap * 2 : 64;
	struct pathent *tab = calloc(cap, sizeof(*tab));

	if (!tab)
		return -1;
	for (size_t i = 0; i < s->cap; i++)
		if (s->tab[i].path)
			*slot(tab, cap, s->tab[i].path) = s->tab[i];
	free(s->tab);
	s->tab = tab;
	s->cap = cap;
	return 0;
}

struct pathent *pathset_add(struct pathset *s, const char *path)
{
	struct pathent *e;

	if ((s->len + 1) * 2 > s->cap && grow(s) < 0)
		return NULL;
	e = slot(s->tab, s->cap, path);
	if (e->path)
		return e;
	memset(e, 0, sizeof(*e));
	e->path = strdup(path);
	if (!e->path)
		return NULL;
	s->len++;
	return e;
}

void pathset_free(struct pathset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->tab[i].path);
	free(s->tab);
	s->tab = NULL;
	s->cap = s->len = 0;
}
