/* fstab: the enroot fstab dialect as pure functions: lexing, shorthand completion and
 * option parsing (spec §7.1-§7.3). Nothing here touches the file system. */
#ifndef FSTAB_H
#define FSTAB_H

#include <stddef.h>

/* A line (with its newline) is at most this long; a longer one stops the file (§7.1). */
#define FSTAB_LINE_MAX 4096

struct fstab_entry {
	/* Never NULL: "" when the field is missing. They point into buf or at constants. */
	const char *source, *target, *type, *options;
	int freq, pass;
	char buf[FSTAB_LINE_MAX + 8]; /* the decoded fields, NUL-separated */
};

enum fstab_create { FSTAB_CREATE_NONE, FSTAB_CREATE_DIR, FSTAB_CREATE_FILE, FSTAB_CREATE_AUTO };

/* Indexes of fstab_opts.propagation, in the order the calls are made (§7.4 step 4). */
enum {
	FSTAB_PROP_SHARED,
	FSTAB_PROP_SLAVE,
	FSTAB_PROP_PRIVATE,
	FSTAB_PROP_UNBINDABLE,
	FSTAB_PROPS
};

struct fstab_opts {
	unsigned long
	    flags; /* MS_* of the flag options (MS_REC only from rbind), MS_MOVE for x-move */
	unsigned long propagation[FSTAB_PROPS]; /* 0, or MS_SHARED etc. | MS_REC for r-variants */
	enum fstab_create create;		/* x-create= */
	int detach;				/* x-detach */
	int nofail;				/* errors become warnings */
	int quiet;				/* silent (last of silent/loud wins) */
	char data[FSTAB_LINE_MAX + 1];		/* unknown options, comma-joined, in order */
};

/* Lex one line (without its newline, len bytes, may lack a NUL). Returns 1 for an entry,
 * 0 for a blank or comment line, -1 with errno EINVAL for a FREQ or PASS that is not an
 * integer, or ENAMETOOLONG for a line longer than FSTAB_LINE_MAX - 1 bytes. */
int fstab_parse_line(const char *line, size_t len, struct fstab_entry *e);

struct buf;
/* Append one entry "SOURCE TARGET TYPE OPTIONS 0 0" to b, each field escaped so that it
 * lexes back to the same string (octal escapes for blanks, newlines, '#' and '\\').
 * Returns 0, or -1 with errno ENOMEM (b is then as before). */
int fstab_add_entry(struct buf *b, const char *source, const char *target, const char *type,
		    const char *options);

/* Decode \NNN (1-3 octal digits, non-zero value up to 0377) and \\ in place. */
void fstab_unescape(char *s);

/* Does s look like a mount option list: a comma in it, or a known option name (§7.2)? */
int fstab_looks_like_options(const char *s);

/* Apply the shorthand completion of §7.2 in order. Returns -1 with errno EINVAL when
 * SOURCE, TARGET or TYPE is still empty afterwards (an invalid entry). */
int fstab_complete(struct fstab_entry *e);

/* Parse an OPTIONS field (§7.3). Returns -1 with errno EINVAL for an x-create= value other
 * than dir, file or auto. */
int fstab_parse_options(const char *opts, struct fstab_opts *o);

#endif
