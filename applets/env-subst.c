/* env-subst: substitute ${NAME} in environment files and format them as enroot does.
 * Implements spec §8.4 (environment file construction) for the loader of spec §6.6;
 * see environ(7).
 *
 * APPLET(env-subst, 0)
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/applet.h"
#include "base/buf.h"
#include "base/envfile.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/xwrap.h"

static const char usage[] =
    "usage: env-subst [-m] [-z] [-n|-s] [FILE|-]...\n"
    "\n"
    "Read environment files (stdin for '-' or when no FILE is given), substitute ${NAME}\n"
    "from the current environment, and write the formatted NAME=VALUE lines to stdout:\n"
    "leading blanks stripped; blank, '#', non-NAME= and ENROOT_* lines dropped; one pair of\n"
    "surrounding quotes removed. Options apply to the files that follow them.\n"
    "\n"
    "  -n, --no-subst   do not substitute ${NAME} in the files that follow\n"
    "  -s, --subst      substitute again in the files that follow (the default)\n"
    "  -m, --merge      one line per name: the last occurrence wins, at its own position\n"
    "  -z, --null       end each output line with NUL instead of a newline\n"
    "  -h, --help       show this help\n"
    "\n"
    "Nothing is written unless every file could be read. Exit status: 0 ok, 1 error.\n";

enum { O_NOSUBST = 1, O_SUBST, O_MERGE, O_NULL };

static const struct opt opts[] = {
    {"no-subst", 'n', 0, O_NOSUBST},
    {"subst", 's', 0, O_SUBST},
    {"merge", 'm', 0, O_MERGE},
    {"null", 'z', 0, O_NULL},
    {NULL, 0, 0, 0},
};

#define MAX_FILE (64u << 20)

/* Read one file (or stdin for "-") and append its formatted lines to out, or die. */
static void add_file(const char *path, int subst, struct buf *out)
{
	struct buf in = BUF_INIT;
	int fd = STDIN_FILENO;

	if (strcmp(path, "-")) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die("failed to open: %s:", path);
	}
	if (buf_read_fd(&in, fd, MAX_FILE) < 0)
		die("failed to read: %s:", path);
	if (fd != STDIN_FILENO)
		close(fd);
	if (envfile_format(in.data ? in.data : "", in.len, subst, out) < 0)
		die("failed to format: %s:", path);
	buf_free(&in);
}

/* Write the result, with NUL terminators if asked; values never hold a newline. */
static void emit(struct buf *out, int nul)
{
	if (nul)
		for (size_t i = 0; i < out->len; i++)
			if (out->data[i] == '\n')
				out->data[i] = '\0';
	xwrite_all(STDOUT_FILENO, out->data, out->len, "standard output");
}

int env_subst_main(int argc, char **argv)
{
	struct optparse p;
	struct buf out = BUF_INIT, merged = BUF_INIT;
	int subst = 1, merge = 0, nul = 0, files = 0, id, dashdash = 0;

	opt_init(&p, argc, argv);
	for (;;) {
		if (!dashdash && p.ind < argc && !strcmp(argv[p.ind], "--")) {
			dashdash = 1;
			p.ind++;
			continue;
		}
		id = dashdash ? OPT_DONE : opt_next(&p, opts);
		switch (id) {
		case O_NOSUBST:
			subst = 0;
			continue;
		case O_SUBST:
			subst = 1;
			continue;
		case O_MERGE:
			merge = 1;
			continue;
		case O_NULL:
			nul = 1;
			continue;
		case OPT_HELP:
			usage_exit(usage, 0);
		case OPT_DONE:
			break;
		default:
			opt_fail(&p, usage);
		}
		if (p.ind >= argc)
			break;
		add_file(argv[p.ind++], subst, &out);
		files++;
	}
	if (!files)
		add_file("-", subst, &out);
	if (merge && envfile_merge(out.data ? out.data : "", out.len, &merged) < 0)
		die("failed to merge:");
	emit(merge ? &merged : &out, nul);
	buf_free(&out);
	buf_free(&merged);
	return 0;
}
