/* cmd_common: small pieces shared by the driver's subcommands. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/child.h"
#include "base/config.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/rmtree.h"
#include "base/xwrap.h"
#include "registry/imageref.h"
#include "registry/regquery.h"
#include "registry/registry.h"
#include "cmd.h"

int cmd_forced(int flag)
{
	return flag || config_enabled("ENROOT_FORCE_OVERRIDE");
}

int cmd_operands(int argc, char **argv, const char *usage, int min, int max)
{
	static const struct opt opts[] = {{0}};
	struct optparse p;
	int o;

	opt_init(&p, argc, argv);
	while ((o = opt_next(&p, opts)) != OPT_DONE) {
		if (o == OPT_HELP)
			usage_exit(usage, 0);
		opt_fail(&p, usage);
	}
	if (argc - p.ind < min || (max >= 0 && argc - p.ind > max))
		usage_exit(usage, 1);
	return p.ind;
}

int cmd_is_image(const char *path)
{
	char *argv[] = {"unsquashfs", "-s", (char *)path, NULL};
	struct stat st;
	int fd, status;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return 0;
	}
	close(fd);
	status = child_run(argv, -1, CHILD_DEVNULL, 1);
	if (status != 0) {
		errno = status == -1 ? errno : EINVAL;
		return 0;
	}
	return 1;
}

char *cmd_container_path(const char *name)
{
	const char *data = getenv("ENROOT_DATA_PATH");
	char *path = NULL, *real;
	struct stat st;

	if (!data || asprintf(&path, "%s/%s", data, name) < 0)
		return NULL;
	real = realpath(path, NULL);
	free(path);
	if (real && (stat(real, &st) < 0 || !S_ISDIR(st.st_mode))) {
		free(real);
		errno = ENOTDIR;
		return NULL;
	}
	return real;
}

int cmd_is_squashfs(const char *path)
{
	unsigned char sb[32];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ok = 0;

	if (fd < 0)
		return 0;
	/* Superblock: magic "hsqs", then at offset 28 the major version (4). */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && read(fd, sb, sizeof(sb)) == sizeof(sb))
		ok = !memcmp(sb, "hsqs", 4) && sb[28] == 4 && sb[29] == 0;
	close(fd);
	return ok;
}

char *cmd_output_path(const char *arg, int force)
{
	char *d = xstrdup(arg), *b = xstrdup(arg), *dir, *out, *bad = NULL;
	struct stat st;

	if (!(dir = realpath(dirname(d), NULL)))
		die("failed to resolve: %s:", arg);
	out = xasprintf("%s/%s", strcmp(dir, "/") ? dir : "", basename(b));
	free(dir);
	free(d);
	free(b);
	if (lstat(out, &st) == 0) {
		if (!force)
			die("File already exists: %s", out);
		if (rmtree(out, &bad) < 0)
			die("failed to remove: %s:", bad ? bad : out);
	}
	return out;
}

/* Open a client for URI (a docker:// reference); dies with enroot's messages. */
void cmd_registry_open(const char *uri, const char *arch, struct imageref *ref,
		       struct imageref_platform *plat, struct registry *r, char **creds)
{
	if (strncmp(uri, "docker://", 9) || imageref_parse(uri, ref) < 0)
		die("Invalid image reference: %s", uri);
	if (imageref_platform(arch, plat) < 0)
		die("Unsupported architecture: %s", arch ? arch : "(uname -m)");
	*creds = config_credentials_path();
	if (!*creds || imageref_default_user(ref, *creds) < 0)
		die("failed to read: %s:", *creds ? *creds : ".credentials");
	if (registry_open(r, ref, plat, *creds) < 0)
		die("%s", r->why);
}

void cmd_registry_list(const char *uri, int what)
{
	struct imageref_platform plat;
	struct imageref ref;
	struct registry r;
	struct buf out = BUF_INIT;
	char *creds;

	cmd_registry_open(uri, NULL, &ref, &plat, &r, &creds);
	if (regquery_list(&r, (enum regquery_list)what, &out) < 0)
		die("%s", r.why);
	if (out.len)
		fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
	registry_close(&r);
	imageref_free(&ref);
	free(creds);
}
