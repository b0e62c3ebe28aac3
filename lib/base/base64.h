/* base64: the standard alphabet with padding (RFC 4648 §4), for HTTP Basic credentials. */
#ifndef BASE64_H
#define BASE64_H

#include <stddef.h>

#include "base/buf.h"

/* Append the encoding of len bytes to out.  -1 with ENOMEM. */
int base64_encode(const void *data, size_t len, struct buf *out);

#endif
