/* shadow: the rules of a layered image (see shadow.h). */
#include "image/shadow.h"

enum shadow_class shadow_class(enum tar_kind k)
{
	switch (k) {
	case TAR_DIR:
	case TAR_ROOT:
		return SHADOW_DIR;
	case TAR_WHITEOUT:
		return SHADOW_WHITEOUT;
	case TAR_OPAQUE:
		return SHADOW_OPAQUE;
	default:
		return SHADOW_LEAF;
	}
}

enum shadow_fate shadow_at(enum shadow_class upper, enum shadow_class lower)
{
	switch (upper) {
	case SHADOW_DIR:
		return lower == SHADOW_DIR ? SHADOW_MERGE : SHADOW_HIDE;
	case SHADOW_OPAQUE:
		return SHADOW_KEEP;
	default: /* a leaf or a whiteout */
		return SHADOW_HIDE;
	}
}

int shadow_below(enum shadow_class upper)
{
	return upper != SHADOW_DIR;
}

int shadow_own_layer(enum shadow_class c)
{
	return c == SHADOW_LEAF || c == SHADOW_DIR;
}

enum shadow_fate shadow_fate(const int top[SHADOW_NCLASS], int layer, enum shadow_class lower)
{
	enum shadow_fate f = SHADOW_KEEP, g;

	for (int c = 0; c < SHADOW_NCLASS; c++)
		if (top[c] > layer && (g = shadow_at((enum shadow_class)c, lower)) > f)
			f = g;
	return f;
}

int shadow_hides_below(const int top[SHADOW_NCLASS], int layer)
{
	for (int c = 0; c < SHADOW_NCLASS; c++)
		if (top[c] > layer && shadow_below((enum shadow_class)c))
			return 1;
	return 0;
}
