/* enroot: the driver. Parses the command line, loads the configuration and runs one command,
 * composing the other applets through exec chains (spec §1, §2; DESIGN.md "How data flows").
 *
 * APPLET(enroot, 0)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/applet.h"
#include "base/config.h"
#include "base/msg.h"
#include "base/version.h"
#include "enroot/cmd.h"
#include "enroot/import.h"

static const char usage[] = "Usage: enroot COMMAND [ARG...]\n"
			    "\n"
			    "Command line utility for manipulating container sandboxes.\n"
			    "\n"
			    " Commands:\n"
			    "   batch [--] CONFIG [COMMAND] [ARG...]\n"
			    "   bundle [options] [--] IMAGE\n"
			    "   catalog [--] [USER@]REGISTRY\n"
			    "   clone [--] SRC NEW\n"
			    "   create [options] [--] IMAGE\n"
			    "   digest [options] [--] URI\n"
			    "   doctor [options]\n"
			    "   exec [options] [--] PID COMMAND [ARG...]\n"
			    "   export [options] [--] NAME\n"
			    "   import [options] [--] URI\n"
			    "   info\n"
			    "   inspect [options] [--] URI\n"
			    "   list [options]\n"
			    "   load [options] [--] URI\n"
			    "   login [options] [--] REGISTRY\n"
			    "   logout [--] REGISTRY\n"
			    "   protect [--] NAME...\n"
			    "   remove [options] [--] NAME...\n"
			    "   rename [--] OLD NEW\n"
			    "   start [options] [--] NAME|IMAGE [COMMAND] [ARG...]\n"
			    "   store get|release|list|gc [options]\n"
			    "   tags [--] URI\n"
			    "   unprotect [--] NAME...\n"
			    "   verify [options] [IMAGE.sqsh | --cache | --store]\n"
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

/* Load the configuration (spec §2.1) before a command that uses it. */
static void load_config(void)
{
	char *bad = NULL;
	enum config_result rc = config_load(&bad);

	if (rc == CONFIG_INVALID) {
		/* enroot prints this one on stdout. */
		printf("Invalid configuration file: %s\n", bad);
		fflush(stdout);
		exit(1);
	}
	if (rc != CONFIG_OK)
		die("failed to load configuration: %s:", bad ? bad : "");
	if (config_note())
		msg_debug("%s", config_note());
}

/* config: 1 when the command needs the configuration loaded first. One command a line. */
/* clang-format off */
static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	int config;
} commands[] = {
	{"batch", cmd_batch, 1},
	{"bundle", cmd_bundle, 1},
	{"catalog", cmd_catalog, 1},
	{"clone", cmd_clone, 1},
	{"create", cmd_create, 1},
	{"digest", digest_main, 0},
	{"doctor", cmd_doctor, 0},
	{"exec", cmd_exec, 1},
	{"export", cmd_export, 1},
	{"help", cmd_help, 0},
	{"import", import_main, 1},
	{"info", cmd_info, 1},
	{"inspect", cmd_inspect, 1},
	{"list", cmd_list, 1},
	{"load", load_main, 1},
	{"login", cmd_login, 1},
	{"logout", cmd_logout, 1},
	{"protect", cmd_protect, 1},
	{"remove", cmd_remove, 1},
	{"rename", cmd_rename, 1},
	{"start", cmd_start, 1},
	{"store", cmd_store, 1},
	{"tags", cmd_tags, 1},
	{"unprotect", cmd_unprotect, 1},
	{"verify", cmd_verify, 1},
	{"version", cmd_version, 0},
};
/* clang-format on */

int enroot_main(int argc, char **argv)
{
	msg_style = MSG_ENROOT;
	if (argc < 2) {
		fputs(usage, stderr);
		return 1;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name)) {
			if (commands[i].config)
				load_config();
			return commands[i].run(argc - 1, argv + 1);
		}
	fputs(usage, stderr);
	return 1;
}
