/* dl: load a heavy library on first use instead of at exec time.
 *
 * Linking libcurl and libarchive into the binary makes every exec of it pay for ~45 shared
 * objects (measured: 17 ms against 1.9 ms for a plain exec), and `enroot start` execs the
 * binary several times.  So only http.c and the layer code use them, through dl_load. */
#ifndef DL_H
#define DL_H

#include <stddef.h>

/* Open the first loadable of the NULL-terminated sonames and resolve every name in syms into
 * ptrs (same order).  Returns 0, or -1 with errno set (ELIBACC) and a reason in dl_error(). */
int dl_load(const char *const sonames[], const char *const syms[], void **ptrs, size_t n);
const char *dl_error(void);

#endif
