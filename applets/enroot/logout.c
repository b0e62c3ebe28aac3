/* logout: `enroot logout REGISTRY`, remove a registry's entry from the credentials file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/xwrap.h"
#include "registry/netrc.h"
#include "cmd.h"

const char logout_usage[] = "Usage: enroot logout [--] REGISTRY\n"
			    "\n"
			    "Remove the registry's entry from the credentials file.\n";

static const struct opt no_opts[] = {{NULL, 0, 0, 0}};

int cmd_logout(int argc, char **argv)
{
	struct optparse p;
	char *path, *host, *colon;
	int id, rc;

	opt_init(&p, argc, argv);
	while ((id = opt_next(&p, no_opts)) != OPT_DONE) {
		if (id == OPT_HELP)
			usage_exit(logout_usage, 0);
		opt_fail(&p, logout_usage);
	}
	if (argc - p.ind != 1)
		usage_exit(logout_usage, 1);
	if (!*argv[p.ind] || strpbrk(argv[p.ind], "/# \t"))
		die("Invalid registry: %s", argv[p.ind]);
	host = xstrdup(argv[p.ind]);
	if ((colon = strrchr(host, ':')) && !strchr(host, ']'))
		*colon = '\0';
	if (!(path = config_credentials_path()))
		die("out of memory");
	if ((rc = netrc_replace(path, host, NULL)) < 0 && errno != ENOENT)
		die("failed to write: %s:", path);
	if (rc > 0)
		msg_info("Removed the credentials of %s from %s", host, path);
	else
		msg_info("No credentials of %s in %s", host, path);
	free(path);
	free(host);
	return 0;
}
