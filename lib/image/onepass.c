/* onepass: configuration, layers top-down, squashfs (see onepass.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/dl.h"
#include "image/merge.h"
#include "image/onepass.h"
#include "image/sqfs.h"

/* RC with WHAT (and ARG, when not NULL) as the message. */
static int fail(struct onepass *p, int rc, const char *what, const char *arg)
{
	int err = errno;

	snprintf(p->err.msg, sizeof(p->err.msg), "%s%s%s", what, arg ? ": " : "", arg ? arg : "");
	errno = err;
	return rc;
}

int onepass_open(struct onepass *p, int fd, size_t nlayers, uint32_t created)
{
	struct sqfs_opts o;
	char why[256];
	mode_t mask = umask(0);

	umask(mask);
	memset(p, 0, sizeof(*p));
	p->fd = fd;
	if (sqfs_opts_parse(getenv("ENROOT_SQUASH_OPTIONS"), getenv("SOURCE_DATE_EPOCH"), &o, why,
			    sizeof(why)) < 0)
		return fail(p, MERGE_FALLBACK, why, NULL);
	if (!o.have_mkfs_time) {
		o.have_mkfs_time = 1;
		o.mkfs_time = created;
	}
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		return fail(p, -1, "failed to truncate the image", strerror(errno));
	if (!(p->w = sqfs_new(fd, &o)))
		return fail(p, MERGE_FALLBACK, "compressor",
			    errno == ELIBACC ? dl_error() : strerror(errno));
	if (!(p->m =
		  merge_new(p->w, nlayers, o.have_all_time ? o.all_time : created, 0755 & ~mask))) {
		errno = ENOMEM;
		return fail(p, -1, "out of memory", NULL);
	}
	return 0;
}

int onepass_config(struct onepass *p, const struct imgconfig *ic)
{
	static const char *const names[] = {"etc/rc", "etc/rc.local", "etc/fstab",
					    "etc/environment"};
	const struct buf *bufs[] = {&ic->rc, &ic->rclocal, &ic->fstab, &ic->environment};
	int rc = 0;

	for (size_t i = 0; !rc && i < 4; i++)
		rc = merge_file(p->m, names[i], bufs[i]->data ? bufs[i]->data : "", bufs[i]->len,
				0644, &p->err);
	if (!rc)
		rc = merge_mkdir(p->m, ic->workdir, &p->err);
	for (size_t i = 0; !rc && ic->volumes && ic->volumes[i]; i++)
		rc = merge_mkdir(p->m, ic->volumes[i], &p->err);
	return rc;
}

static void warn_none(void *ctx, const char *path, const char *reason)
{
	(void)ctx, (void)path, (void)reason;
}

int onepass_layer(struct onepass *p, int fd, const char *media_type, unsigned long long max,
		  int *bad)
{
	int comp = media_type ? layer_media_type(media_type) : -1;
	struct layer_opts o = {
	    .compression = comp < 0 ? LAYER_AUTO : (enum layer_compression)comp,
	    .max_size = max,
	    .warn = p->warn ? p->warn : warn_none,
	};
	struct layer_stats st;
	int rc = merge_layer(p->m, fd, &o, &st, &p->err);

	*bad = rc == -1 && (errno == EINVAL || errno == EIO || errno == EFBIG);
	return rc;
}

int onepass_finish(struct onepass *p)
{
	return merge_finish(p->m, &p->err);
}

void onepass_close(struct onepass *p)
{
	merge_free(p->m);
	sqfs_free(p->w);
	p->m = NULL;
	p->w = NULL;
}
