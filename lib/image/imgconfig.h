/* imgconfig: an image configuration (OCI/Docker config JSON, or `docker inspect` output with
 * the top-level keys lower-cased) turned into the files enroot puts in every image: /etc/rc,
 * /etc/rc.local, /etc/fstab and /etc/environment (spec §4.7).
 *
 * Rendering is pure (text in memory, for tests and the fuzzer); writing places the files and
 * the WorkingDir and Volume directories into a rootfs, confined to it (openat2
 * RESOLVE_IN_ROOT), replacing what the image had at those four paths. */
#ifndef IMGCONFIG_H
#define IMGCONFIG_H

#include <stddef.h>

#include "base/buf.h"
#include "base/json.h"

struct imgconfig {
	struct buf rc;		/* /etc/rc */
	struct buf rclocal;	/* /etc/rc.local */
	struct buf fstab;	/* /etc/fstab */
	struct buf environment; /* /etc/environment */
	char *workdir;		/* WorkingDir, "/" when unset */
	char **volumes;		/* .config.Volumes keys, sorted, NULL-terminated */
	char *arch;		/* .architecture (or .Architecture), NULL when absent */
	long long created;	/* .created in seconds since the epoch; 0: absent or invalid */
};

/* Render everything from CFG; URI is recorded in /etc/rc as the provenance.  Returns 0, or -1
 * with errno ENOMEM (IC is then freed). */
int imgconfig_render(json_t cfg, const char *uri, struct imgconfig *ic);
void imgconfig_free(struct imgconfig *ic);

/* -1 with the warning enroot prints in WHY when the image is not for WANT (no check when
 * WANT is NULL); 0 when it is. */
int imgconfig_check_arch(const struct imgconfig *ic, const char *want, char *why, size_t len);

/* An RFC 3339 time (2024-05-01T12:00:00.123Z, offsets allowed) in seconds since the epoch;
 * -1 when S is not one. */
long long imgconfig_time(const char *s);

/* Append WORD to B quoted as bash's ${WORD@Q} does in a UTF-8 locale: '' for the empty word,
 * 'WORD' with ' written '\'' (a lone ' is \'), or $'...' with C escapes when WORD holds a
 * non-printable character or invalid UTF-8.  -1 with ENOMEM. */
int imgconfig_quote(struct buf *b, const char *word);

/* Append S fstab-escaped (\040 space, \011 tab, \012 newline, \134 backslash). */
int imgconfig_fstab_escape(struct buf *b, const char *s);

/* Write the files, the WorkingDir and missing Volume directories (mode 0755, so that the
 * volume bind at start gives a usable directory) into the tree under ROOT_FD.  Returns 0, or
 * -1 with errno set and BAD (BADLEN bytes) naming the path at fault. */
int imgconfig_write(int root_fd, const struct imgconfig *ic, char *bad, size_t badlen);

/* The image-config step of every tree the project makes (load, the extract path of import,
 * daemon imports): render CFG (URI recorded as the provenance) and write it over the tree
 * ROOT_FD.  0; 1 when done but the image is not for ARCH (WHY holds the warning); -1 with
 * errno and the error in WHY. */
int imgconfig_apply(int root_fd, json_t cfg, const char *uri, const char *arch, char *why,
		    size_t len);

#endif
