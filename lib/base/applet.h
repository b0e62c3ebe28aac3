/* applet: prototypes of every applet entry point, from the generated table. */
#ifndef APPLET_H
#define APPLET_H

#include <stddef.h>

#define APPLET(name, func, alias) int func(int argc, char **argv);
#include "applets.h"
#undef APPLET

/* Chain loading: exec argv, and when argv[0] is the bare name of one of our applets, this very
 * binary as that applet (/proc/self/exe, argv[0] kept) instead of a PATH lookup, as busybox
 * does with its "prefer applets" setting: a chain built by the driver runs the applets of
 * the binary that built it, installed on PATH or not. Dies like xexecvp on failure. */
_Noreturn void applet_exec(char *const argv[]);

/* The name of applet I (the table's order), or NULL past the end. */
const char *applet_name(size_t i);

#endif
