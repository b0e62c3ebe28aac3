/* Unit tests for the seeds' era names: configuration aliases (lib/base/config.c) and the
 * fstab spelling create=dir|file (lib/runtime/fstab.c). */
#include <errno.h>
#include <stdlib.h>
#include <sys/mount.h>

#include "base/config.h"
#include "runtime/fstab.h"
#include "unit.h"

static struct fstab_opts o;

/* Complete one line and show it as SOURCE|TARGET|TYPE|OPTIONS ("invalid" on failure). */
static const char *complete(const char *line)
{
	static struct fstab_entry e;
	static char out[FSTAB_LINE_MAX * 2];

	if (fstab_parse_line(line, strlen(line), &e) != 1 || fstab_complete(&e) < 0)
		return "invalid";
	snprintf(out, sizeof(out), "%s|%s|%s|%s", e.source, e.target, e.type, e.options);
	return out;
}

int main(void)
{
	CHECK_STR(config_alias("ENROOT_SQUASH_OPTS"), "ENROOT_SQUASH_OPTIONS");
	CHECK_STR(config_alias("ENROOT_ROOTFS_RW"), "ENROOT_ROOTFS_WRITABLE");
	CHECK_STR(config_alias("ENROOT_GZIP_PROG"), "ENROOT_GZIP_PROGRAM");
	CHECK(config_alias("ENROOT_SQUASH_OPTIONS") == NULL);
	CHECK(config_alias("ENROOT_INIT_SHELL") == NULL);

	CHECK(fstab_parse_options("create=dir", &o) == 0 && o.create == FSTAB_CREATE_DIR);
	CHECK(fstab_parse_options("create=file,bind", &o) == 0 && o.create == FSTAB_CREATE_FILE);
	CHECK(o.flags == MS_BIND && !strcmp(o.data, ""));
	CHECK(fstab_parse_options("x-create=file,create=dir", &o) == 0 &&
	      o.create == FSTAB_CREATE_DIR);
	/* Not ours: other create= values stay mount data, as before. */
	CHECK(fstab_parse_options("create=auto", &o) == 0 && o.create == FSTAB_CREATE_NONE);
	CHECK_STR(o.data, "create=auto");
	CHECK(fstab_parse_options("create=dirs", &o) == 0 && o.create == FSTAB_CREATE_NONE);
	CHECK(fstab_looks_like_options("create=dir") && fstab_looks_like_options("create=file"));
	CHECK(!fstab_looks_like_options("create=auto"));
	CHECK_STR(complete("/src /dst create=dir"), "/src|/dst|none|create=dir");
	CHECK_STR(complete("tmpfs /dst create=dir"), "tmpfs|/dst|tmpfs|create=dir");
	CHECK_STR(complete("/src tmp/.X11-unix"), "/src|tmp/.X11-unix|none|rbind,x-create=auto");
	return unit_done();
}
