/* cmd_info: `enroot info` (spec §1.2): version, config file, exported ENROOT_* settings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "base/msg.h"
#include "base/version.h"
#include "cmd.h"

extern char **environ;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int cmd_info(int argc, char **argv)
{
	size_t n = 0, k = 0;
	char **v;

	if (argc > 1)
		usage_exit("Usage: enroot info\n", 1);
	for (char **e = environ; *e; e++)
		n++;
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		die("failed to allocate memory:");
	for (char **e = environ; *e; e++)
		if (!strncmp(*e, "ENROOT_", 7))
			v[k++] = *e;
	qsort(v, k, sizeof(*v), cmp_str);
	printf("Enroot version: %s\n", ENROOT_VERSION);
	printf("Config file: %s/enroot.conf\n\n", config_sysconf_dir());
	printf("Environment variables:\n");
	for (size_t i = 0; i < k; i++)
		printf("  %s\n", v[i]);
	free(v);
	return fflush(stdout) ? 1 : 0;
}
