/* digest: print the registry digest of an image, as pyxis's caching importer expects
 * (`enroot digest URI`, then `enroot import URI@DIGEST`; spec §4.9, §13 item 8). */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"
#include "base/msg.h"
#include "base/opt.h"
#include "registry/imageref.h"
#include "registry/registry.h"
#include "cmd.h"

const char digest_usage[] =
    "Usage: enroot digest [options] [--] URI\n"
    "\n"
    "Print the registry digest (sha256:...) of a container image manifest.\n"
    "\n"
    " Options:\n"
    "   -a, --arch   Architecture of the image (defaults to host architecture)\n";

/* Parse the options; returns the URI operand. */
static const char *parse_args(int argc, char **argv, const char **arch)
{
	static const struct opt opts[] = {{"arch", 'a', 1, 'a'}, {NULL, 0, 0, 0}};
	struct optparse p;
	int id;

	opt_init(&p, argc, argv);
	while ((id = opt_next(&p, opts)) != OPT_DONE) {
		if (id == OPT_HELP)
			usage_exit(digest_usage, 0);
		if (id == OPT_BAD)
			opt_fail(&p, digest_usage);
		*arch = p.arg;
	}
	if (argc - p.ind != 1)
		usage_exit(digest_usage, 1);
	return argv[p.ind];
}

int digest_main(int argc, char **argv)
{
	const char *arch = NULL, *uri = parse_args(argc, argv, &arch);
	struct imageref_platform platform;
	char digest[REGISTRY_DIGEST_LEN], *creds;
	struct imageref ref;
	struct registry r;
	int ret = 0;

	if (imageref_parse(uri, &ref) < 0)
		die(errno == EINVAL ? "Invalid image reference: %s" : "failed to parse: %s:", uri);
	if (imageref_platform(arch, &platform) < 0)
		die("Unsupported architecture: %s", arch ? arch : "(uname)");
	creds = config_credentials_path();
	if (!creds || imageref_default_user(&ref, creds) < 0)
		die("failed to read: %s:", creds ? creds : ".credentials");
	if (registry_open(&r, &ref, &platform, creds) < 0 || registry_digest(&r, digest) < 0) {
		msg_error("%s", r.why);
		ret = 1;
	} else {
		printf("%s\n", digest);
		ret = fflush(stdout) ? 1 : 0;
	}
	registry_close(&r);
	imageref_free(&ref);
	free(creds);
	return ret;
}
