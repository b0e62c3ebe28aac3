/* msg: format diagnostics as "applet: message[: strerror]" or enroot's "[ERROR] message". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/msg.h"

const char *msg_prog = "enroot";
enum msg_style msg_style = MSG_APPLET;

static const char *const tags[] = {"ERROR", "WARN", "INFO", "DEBUG"};
static const char *const colours[] = {"\033[1;31m", "\033[1;33m", "\033[1;34m", "\033[1;90m"};

/* Colour only on a terminal that is not "dumb", and never when NO_COLOR is set. */
static int use_colour(void)
{
	const char *term = getenv("TERM");

	return isatty(STDERR_FILENO) && term && strcmp(term, "dumb") && !getenv("NO_COLOR");
}

static size_t add_prefix(char *buf, size_t size, int level)
{
	int n;

	if (msg_style == MSG_APPLET)
		n = snprintf(buf, size, "%s: ", msg_prog);
	else if (use_colour())
		n = snprintf(buf, size, "%s[%s]\033[0m ", colours[level], tags[level]);
	else
		n = snprintf(buf, size, "[%s] ", tags[level]);
	return n < 0 ? 0 : (size_t)n;
}

void msg_vprint(int level, const char *fmt, va_list ap)
{
	char buf[4096];
	int saved = errno;
	size_t len = add_prefix(buf, sizeof(buf) - 2, level);
	size_t flen = strlen(fmt);
	int n;

	n = vsnprintf(buf + len, sizeof(buf) - 2 - len, fmt, ap);
	if (n > 0)
		len += (size_t)n < sizeof(buf) - 2 - len ? (size_t)n : sizeof(buf) - 3 - len;
	if (flen && fmt[flen - 1] == ':') {
		n = snprintf(buf + len, sizeof(buf) - 2 - len, " %s", strerror(saved));
		if (n > 0)
			len +=
			    (size_t)n < sizeof(buf) - 2 - len ? (size_t)n : sizeof(buf) - 3 - len;
	}
	buf[len++] = '\n';
	/* One write so that parallel children never interleave within a line. */
	if (write(STDERR_FILENO, buf, len) < 0)
		(void)0;
	errno = saved;
}

#define DEFINE_MSG(name, level)                                                                    \
	void name(const char *fmt, ...)                                                            \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		msg_vprint(level, fmt, ap);                                                        \
		va_end(ap);                                                                        \
	}

DEFINE_MSG(msg_error, MSG_LVL_ERROR)
DEFINE_MSG(msg_warn, MSG_LVL_WARN)
DEFINE_MSG(msg_info, MSG_LVL_INFO)

void msg_debug(const char *fmt, ...)
{
	va_list ap;
	const char *d = getenv("ENROOT_DEBUG");

	if (!d || !*d)
		return;
	va_start(ap, fmt);
	msg_vprint(MSG_LVL_DEBUG, fmt, ap);
	va_end(ap);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vprint(MSG_LVL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}

void die_status(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vprint(MSG_LVL_ERROR, fmt, ap);
	va_end(ap);
	exit(status);
}

void usage_exit(const char *usage, int status)
{
	FILE *f = status ? stderr : stdout;

	if (status) {
		/* A usage error shows only the first line: the synopsis. */
		const char *nl = strchr(usage, '\n');
		fprintf(f, "%.*s\n", nl ? (int)(nl - usage) : (int)strlen(usage), usage);
	} else {
		fputs(usage, f);
	}
	fflush(f);
	exit(status);
}
