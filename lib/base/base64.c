/* base64: encode three bytes into four characters, padding the last group with '='. */
#include "base/base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_encode(const void *data, size_t len, struct buf *out)
{
	const unsigned char *p = data;
	char q[4];

	for (size_t i = 0; i < len; i += 3) {
		unsigned long v = (unsigned long)p[i] << 16;

		if (i + 1 < len)
			v |= (unsigned long)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		q[0] = alphabet[(v >> 18) & 63];
		q[1] = alphabet[(v >> 12) & 63];
		q[2] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
		q[3] = i + 2 < len ? alphabet[v & 63] : '=';
		if (buf_add(out, q, 4) < 0)
			return -1;
	}
	if (!len)
		return buf_add(out, "", 0);
	return 0;
}
