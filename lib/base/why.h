/* why: the message-ready reason a library function leaves for its caller. */
#ifndef WHY_H
#define WHY_H

#include <stddef.h>

/* Format the reason into WHY (WHYLEN bytes), set errno to ERR and return -1. */
int why_set(char *why, size_t whylen, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
