/* enroot: the driver. Parses the command line, loads the configuration and runs one command,
 * composing the other applets through exec chains (spec §1, §2; DESIGN.md "How data flows").
 *
 * APPLET(enroot, 0)
 */
#include <stdio.h>
#include <string.h>

#include "applet.h"
#include "import.h"
#include "msg.h"
#include "version.h"

static const char usage[] =
	"Usage: enroot COMMAND [ARG...]\n"
	"\n"
	"Command line utility for manipulating container sandboxes.\n"
	"\n"
	" Commands:\n"
	"   import [options] [--] URI\n"
	"   load [options] [--] URI\n"
	"   version\n"
	"   help\n";

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("%s\n", ENROOT_VERSION);
	return fflush(stdout) ? 1 : 0;
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs(usage, stdout);
	return fflush(stdout) ? 1 : 0;
}

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{"help", cmd_help},
	{"import", import_main},
	{"load", load_main},
	{"version", cmd_version},
};

int enroot_main(int argc, char **argv)
{
	msg_style = MSG_ENROOT;
	if (argc < 2) {
		fputs(usage, stderr);
		return 1;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fputs(usage, stderr);
	return 1;
}
