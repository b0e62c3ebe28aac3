/* main: the multicall entry point. Dispatch on basename(argv[0]) through the generated
 * applet table (build/applets.h, made from the APPLET( and ALIAS( lines of applets/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "base/applet.h"
#include "base/msg.h"
#include "base/xwrap.h"

struct applet {
	const char *name;
	int (*main)(int, char **);
	int alias;
};

static const struct applet applets[] = {
#define APPLET(name, func, alias) {name, func, alias},
#include "applets.h"
#undef APPLET
};

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static const struct applet *find_applet(const char *name)
{
	size_t lo = 0, hi = sizeof(applets) / sizeof(applets[0]);

	/* The table is sorted by the generator (LC_ALL=C), so strcmp order matches. */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(name, applets[mid].name);
		if (!c)
			return &applets[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Did the kernel load this binary itself (with its interpreter)? Not when a loader was run
 * on it (`ld.so --library-path DIR enroot`, as bundles do): /proc/self/exe is then the
 * loader, and AT_BASE, the interpreter's address, is 0. */
static int exe_is_self(void)
{
	return getauxval(AT_BASE) != 0;
}

_Noreturn void applet_exec(char *const argv[])
{
	if (!strchr(argv[0], '/') && find_applet(argv[0]) && exe_is_self())
		xexecv("/proc/self/exe", argv);
	xexecvp(argv);
}

const char *applet_name(size_t i)
{
	return i < sizeof(applets) / sizeof(applets[0]) ? applets[i].name : NULL;
}

static int list_applets(void)
{
	for (size_t i = 0; i < sizeof(applets) / sizeof(applets[0]); i++)
		printf("%s\n", applets[i].name);
	return fflush(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *name = argc > 0 && argv[0] ? base_name(argv[0]) : "enroot";
	const struct applet *a;
	const char *style;

	if (!strcmp(name, "enroot") && argc == 2 && !strcmp(argv[1], "--applets"))
		return list_applets();
	a = find_applet(name);
	if (!a) {
		fprintf(stderr, "%s: applet not found\n", name);
		return 127;
	}
	msg_prog = a->name;
	/* The applets of `enroot start`'s chain speak as the driver did (ENROOT_MSG_STYLE is
	 * set by it), so the user sees "[ERROR] ..." whichever step fails. */
	if ((style = getenv("ENROOT_MSG_STYLE")) && !strcmp(style, "enroot"))
		msg_style = MSG_ENROOT;
	return a->main(argc, argv);
}
