/* applet: prototypes of every applet entry point, from the generated table. */
#ifndef APPLET_H
#define APPLET_H

#define APPLET(name, func, alias) int func(int argc, char **argv);
#include "applets.h"
#undef APPLET

#endif
