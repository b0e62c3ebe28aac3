/* pyxis-importer: pyxis's importer interface over the node image store, so that the tasks
 * of a job share one import per node:
 *   plugstack.conf:  required spank_pyxis.so importer=/usr/local/bin/pyxis-importer
 * `get URI` prints the path of a squashfs for URI (nothing else on stdout) and leases it to
 * this job step; `release` drops the step's lease (pyxis calls it twice).  Each execs the
 * driver (chain loading: the PID, and so the lease holder, stays pyxis's child).
 *
 * APPLET(pyxis-importer, 0)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/applet.h"
#include "base/msg.h"
#include "base/xwrap.h"

static const char usage[] =
    "usage: pyxis-importer get URI\n"
    "       pyxis-importer release\n"
    "\n"
    "The importer pyxis runs (plugstack.conf: required spank_pyxis.so\n"
    "importer=/path/to/pyxis-importer) instead of enroot import:\n"
    "  get URI   print the path of the squashfs image of URI (docker://...) from the node\n"
    "            image store, importing it once per node; it is leased to the job step\n"
    "            $SLURM_JOB_ID.$SLURM_STEP_ID while the calling process lives\n"
    "  release   drop the job step's lease (idempotent)\n"
    "Runs `enroot store get --lease` and `enroot store release`; see enroot(1).\n";

/* "JOB.STEP" from the Slurm environment, or NULL outside a job. */
static char *lease_name(void)
{
	const char *job = getenv("SLURM_JOB_ID"), *step = getenv("SLURM_STEP_ID");

	if (!job || !*job)
		return NULL;
	return xasprintf("%s.%s", job, step && *step ? step : "0");
}

int pyxis_importer_main(int argc, char **argv)
{
	char *lease = lease_name();

	if (argc == 3 && !strcmp(argv[1], "get")) {
		char *get[] = {"enroot", "store", "get", "--lease", lease, "--", argv[2], NULL};
		if (!lease)
			get[3] = "--", get[4] = argv[2], get[5] = NULL;
		applet_exec(get);
	}
	if (argc == 2 && !strcmp(argv[1], "release")) {
		char *release[] = {"enroot", "store", "release", lease, NULL};
		if (!lease) /* nothing was leased outside a job */
			return 0;
		applet_exec(release);
	}
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		usage_exit(usage, 0);
	usage_exit(usage, 1);
}
