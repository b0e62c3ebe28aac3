/* environ: the environment-file loader of nsenter and switchroot (spec §6.6). */
#ifndef ENVIRON_H
#define ENVIRON_H

#include <stddef.h>

/* Length of the NAME in LINE when LINE matches ^[A-Za-z_][A-Za-z0-9_]*= (so LINE[n] is '='),
 * else 0. LINE need not be NUL-terminated: LEN bounds it. */
size_t environ_name_len(const char *line, size_t len);

/* Clear the whole environment, then setenv (overwriting) every valid line of BUF, whose value is
 * everything after the first '=', literal. Invalid lines are skipped silently. -1/errno (ENOMEM).
 */
int environ_load_buf(const char *buf, size_t len);
/* The same, reading the file at PATH, or the fd FD (read from its current offset; not closed). */
int environ_load_path(const char *path);
int environ_load_fd(int fd);

#endif
