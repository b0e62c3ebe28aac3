/* msg: the one message formatter. Every diagnostic goes out in a single write(2). */
#ifndef MSG_H
#define MSG_H

#include <stdarg.h>

/* How diagnostics are prefixed: "applet: text" (helpers) or "[ERROR] text" (the driver). */
enum msg_style { MSG_APPLET, MSG_ENROOT };

extern const char *msg_prog;
extern enum msg_style msg_style;

/* A format ending in ':' gets ": strerror(errno)" appended, as in sbase's eprintf. */
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void die_status(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print "usage: ..." text to stderr and exit 1 (usage errors), or to stdout and exit 0 (--help). */
_Noreturn void usage_exit(const char *usage, int status);

/* The one formatter behind them all, exposed for callers that need va_list. */
void msg_vprint(int level, const char *fmt, va_list ap);

enum { MSG_LVL_ERROR, MSG_LVL_WARN, MSG_LVL_INFO, MSG_LVL_DEBUG };

#endif
