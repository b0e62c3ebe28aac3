/* cmd_bundle: `enroot bundle` (spec §12): a squashfs image into a self-extracting `.run`
 * file that runs on a host without enroot. The image is unsquashed (create's extraction), the
 * runtime is added in /.enroot (this very binary with its loader and shared libraries, so the
 * host's libraries do not matter; the hooks, mounts and environment files; with --all the
 * user's too and the exported ENROOT_* settings), and the tree is archived with tar, compressed
 * like the image's data, behind the POSIX sh header $ENROOT_LIBRARY_PATH/bundle.sh. The
 * output is built beside its final name and renamed into place (nothing half-done is visible).
 * The header is ours rather than makeself's (enroot's choice): makeself's header parses its
 * own options (--info, --target, --keep, --noexec, ...), which collide with the bundle's.
 *
 * Layout of /.enroot in the bundle:
 *   bin/enroot           sh wrapper: exec lib/LOADER --library-path lib --argv0 NAME
 *                        libexec/enroot "$@"; bin/enroot-{mount,nsenter,switchroot,hook}
 *                        are symlinks to it (the binary dispatches on argv[0])
 *   libexec/enroot       the binary that ran `enroot bundle`
 *   lib/                 its loader and every shared library ldd lists for it
 *   etc/system/          hooks.d, mounts.d, environ.d of ENROOT_SYSCONF_PATH
 *   etc/user/, etc/config  (--all) the user's directories, and the settings as sh exports */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/applet.h"
#include "base/buf.h"
#include "base/child.h"
#include "base/config.h"
#include "base/guard.h"
#include "base/msg.h"
#include "base/opt.h"
#include "base/sha256.h"
#include "base/version.h"
#include "base/xwrap.h"
#include "cmd.h"

const char cmd_bundle_usage[] =
    "Usage: enroot bundle [options] [--] IMAGE\n"
    "\n"
    "Create a self-extracting bundle from a container image.\n"
    "\n"
    " Options:\n"
    "   -a, --all            Include user configuration files in the bundle\n"
    "   -c, --checksum       Generate an embedded checksum\n"
    "   -d, --desc TEXT      Provide a description of the bundle contents\n"
    "   -o, --output BUNDLE  Name of the output bundle file (defaults to \"IMAGE.run\")\n"
    "   -t, --target DIR     Target directory used by --keep (defaults to \"$PWD/BUNDLE\")\n"
    "   -f, --force          Overwrite an existing bundle\n";

#define SKIP_WIDTH 20

struct bundle {
	char *image, *out, *tmpout, *tmpdir, *root, *target;
	const char *desc;
	const char *comp;    /* the header's name for the compression */
	const char *program; /* its compressor, NULL for none */
	int all, checksum;
};

/* §12 step 2: the image's data compression (none when it was built with -noD). */
static void compression_of(struct bundle *b)
{
	static const char *const names[] = {NULL, "gzip", "xz", "lzo", "xz", "lz4", "zstd"};
	static const char *const programs[] = {NULL, "gzip", "xz", "lzop", "xz", "lz4", "zstd"};
	unsigned char sb[32];
	int fd = xopen(b->image, O_RDONLY | O_CLOEXEC, 0);
	unsigned id, flags;

	if (read(fd, sb, sizeof(sb)) != (ssize_t)sizeof(sb))
		die("Invalid image format: %s", b->image);
	close(fd);
	id = sb[20] | (unsigned)sb[21] << 8;
	flags = sb[24] | (unsigned)sb[25] << 8;
	b->comp = "none";
	/* Superblock flag 0x0002: data blocks stored uncompressed. (lzma, id 2, becomes xz.) */
	if (!(flags & 0x0002) && id >= 1 && id <= 6) {
		b->comp = names[id];
		b->program = programs[id];
	}
}

/* basename(path) with one trailing suffix removed, then add appended. */
static char *rebase(const char *path, const char *suffix, const char *add)
{
	char *copy = xstrdup(path), *base = basename(copy), *r;
	size_t n = strlen(base), s = strlen(suffix);

	if (n > s && !strcmp(base + n - s, suffix))
		base[n - s] = '\0';
	r = xasprintf("%s%s", base, add);
	free(copy);
	return r;
}

/* Copy the file at src (followed) to a new file dst with mode. */
static void copy_file(const char *src, const char *dst, mode_t mode)
{
	int in = xopen(src, O_RDONLY | O_CLOEXEC, 0);
	int out = xopen(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	char buf[65536];
	ssize_t n;

	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("failed to read: %s:", src);
		xwrite_all(out, buf, (size_t)n, dst);
	}
	if (fchmod(out, mode) < 0)
		die("failed to change mode: %s:", dst);
	close(in);
	xclose(out);
}

static void make_dir(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die("failed to create directory: %s:", path);
}

/* Copy the directory src (if it exists) to dst with `cp -R -L -p`. */
static void copy_dir(const char *src, const char *dst)
{
	char *argv[] = {"cp", "-R", "-L", "-p", "--", (char *)src, (char *)dst, NULL};
	struct stat st;

	if (stat(src, &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	if (child_run(argv, -1, NULL, 0) != 0)
		die("failed to copy: %s", src);
}

/* One line of ldd's output: copy the library it names into libdir; *loader gets the name
 * of the dynamic loader's line ("\t/lib64/ld-linux-x86-64.so.2 (0x...)"). */
static void add_library(char *line, const char *libdir, char **loader)
{
	char *arrow = strstr(line, " => "), *name, *path, *dst;

	line += strspn(line, " \t");
	if (arrow) {
		*arrow = '\0';
		name = line;
		path = arrow + 4;
	} else if (*line == '/') {
		path = line;
		name = NULL;
	} else {
		return; /* linux-vdso.so.1: in the kernel */
	}
	path[strcspn(path, " \t(")] = '\0';
	if (*path != '/')
		die("failed to find the library %s of: enroot", name ? name : path);
	if (!name) {
		name = strrchr(path, '/') + 1;
		free(*loader);
		*loader = xstrdup(name);
	}
	dst = xasprintf("%s/%s", libdir, name);
	copy_file(path, dst, 0755);
	free(dst);
}

/* bin/enroot: run libexec/enroot through the bundled loader and libraries, under the name
 * it was called by (the binary dispatches on argv[0]). */
static void write_wrapper(const char *dir, const char *loader)
{
	char *p;
	int fd;

	p = xasprintf("%s/bin/enroot", dir);
	fd = xopen(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (dprintf(fd,
		    "#!/bin/sh\n"
		    "# enroot through its own loader and libraries: none of the host's is used.\n"
		    "d=${0%%/*}\n"
		    "exec \"$d/../lib/%s\" --library-path \"$d/../lib\" --argv0 \"${0##*/}\" "
		    "\"$d/../libexec/enroot\" \"$@\"\n",
		    loader) < 0)
		die("failed to write: %s:", p);
	xclose(fd);
	free(p);
}

/* The runtime binary (this one), its loader and libraries, the wrapper and one link per
 * applet (the start chain finds its applets on the bundle's PATH: under the loader,
 * /proc/self/exe is the loader, see applet_exec). */
static void add_binary(const char *dir)
{
	const char *name;
	char *exe = realpath("/proc/self/exe", NULL), *p, *loader = NULL;
	char *argv[] = {"ldd", exe, NULL};
	struct buf out = BUF_INIT;

	if (!exe)
		die("failed to resolve: /proc/self/exe:");
	p = xasprintf("%s/libexec/enroot", dir);
	copy_file(exe, p, 0755);
	free(p);
	if (child_run(argv, -1, &out, 1) != 0)
		die("failed to list the libraries of: %s (ldd failed)", exe);
	p = xasprintf("%s/lib", dir);
	for (char *l = out.data, *save = NULL; (l = strtok_r(l, "\n", &save)); l = NULL)
		add_library(l, p, &loader);
	free(p);
	if (!loader)
		die("failed to find the dynamic loader of: %s", exe);
	write_wrapper(dir, loader);
	for (size_t i = 0; (name = applet_name(i)); i++) {
		if (!strcmp(name, "enroot"))
			continue;
		p = xasprintf("%s/bin/%s", dir, name);
		if (symlink("enroot", p) < 0)
			die("failed to create symlink: %s:", p);
		free(p);
	}
	buf_free(&out);
	free(loader);
	free(exe);
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append s to b in single quotes, each ' written as '\''. */
static void sh_quote(struct buf *b, const char *s)
{
	buf_addc(b, '\'');
	for (; *s; s++)
		if (*s == '\'')
			buf_adds(b, "'\\''");
		else
			buf_addc(b, *s);
	buf_addc(b, '\'');
}

/* Is NAME=VALUE a setting --all carries: ^ENROOT_[A-Z_]+$ (enroot's configuration keys, so
 * sh can read the export) and not a *_PATH one? */
static int carried_setting(const char *env)
{
	const char *eq = strchr(env, '=');
	size_t n = eq ? (size_t)(eq - env) : 0;

	if (n <= 7 || strncmp(env, "ENROOT_", 7))
		return 0;
	if (strspn(env + 7, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != n - 7)
		return 0;
	return !(n >= 5 && !strncmp(eq - 5, "_PATH", 5));
}

/* --all: every exported ENROOT_* setting but the *_PATH ones, as sh exports, sorted. */
static void write_settings(const char *path)
{
	extern char **environ;
	struct buf b = BUF_INIT;
	size_t n = 0, k = 0;
	char **v;
	int fd;

	while (environ[n])
		n++;
	v = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		if (!carried_setting(environ[i]))
			continue;
		v[k++] = environ[i];
	}
	qsort(v, k, sizeof(char *), by_string);
	for (size_t i = 0; i < k; i++) {
		const char *eq = strchr(v[i], '=');
		buf_printf(&b, "export %.*s=", (int)(eq - v[i]), v[i]);
		sh_quote(&b, eq + 1);
		buf_addc(&b, '\n');
	}
	fd = xopen(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	xwrite_all(fd, b.data ? b.data : "", b.len, path);
	xclose(fd);
	buf_free(&b);
	free(v);
}

/* §12 step 3: /.enroot with the runtime and the configuration. */
static void add_runtime(struct bundle *b)
{
	static const char *const subs[] = {"hooks.d", "mounts.d", "environ.d"};
	static const char *const dirs[] = {"", "/bin", "/lib", "/libexec", "/etc", "/etc/system"};
	const char *user = getenv("ENROOT_CONFIG_PATH");
	char *dir = xasprintf("%s/.enroot", b->root), *p, *q;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		p = xasprintf("%s%s", dir, dirs[i]);
		make_dir(p);
		free(p);
	}
	add_binary(dir);
	if (b->all) {
		p = xasprintf("%s/etc/user", dir);
		make_dir(p);
		free(p);
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		p = xasprintf("%s/%s", config_sysconf_dir(), subs[i]);
		q = xasprintf("%s/etc/system/%s", dir, subs[i]);
		copy_dir(p, q);
		free(p);
		free(q);
		if (!b->all || !user || !*user)
			continue;
		p = xasprintf("%s/%s", user, subs[i]);
		q = xasprintf("%s/etc/user/%s", dir, subs[i]);
		copy_dir(p, q);
		free(p);
		free(q);
	}
	if (b->all) {
		p = xasprintf("%s/etc/config", dir);
		write_settings(p);
		free(p);
	}
	free(dir);
}

/* nftw has no user argument: the size being summed, in KiB, counting every entry in whole
 * 4 KiB blocks (what most filesystems use; st_blocks would make the header, and so the
 * bundle, differ from one build to the next). */
static uintmax_t tree_kb;

static int add_size(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)path;
	(void)type;
	(void)f;
	tree_kb += S_ISREG(st->st_mode) ? ((uintmax_t)st->st_size + 4095) / 4096 * 4 : 4;
	return 0;
}

/* Append the value of the header field NAME; -1 when NAME is no field. */
static int render_field(struct bundle *b, const char *name, struct buf *h, size_t *skip_at,
			size_t *sum_at)
{
	if (!strcmp(name, "SKIP")) {
		*skip_at = h->len;
		buf_printf(h, "%*s", SKIP_WIDTH, "");
	} else if (!strcmp(name, "SHA256")) {
		*sum_at = h->len;
		buf_printf(h, "%*s", SHA256_HEX - 1, "");
	} else if (!strcmp(name, "COMPRESSION")) {
		buf_adds(h, b->comp);
	} else if (!strcmp(name, "DESCRIPTION")) {
		sh_quote(h, b->desc);
	} else if (!strcmp(name, "TARGET")) {
		sh_quote(h, b->target);
	} else if (!strcmp(name, "SIZE")) {
		buf_printf(h, "%ju", tree_kb);
	} else if (!strcmp(name, "VERSION")) {
		buf_adds(h, ENROOT_VERSION);
	} else {
		return -1;
	}
	return 0;
}

/* Replace each @NAME@ of the template at path; *skip_at and *sum_at get the offsets of the
 * fixed-width SKIP and SHA256 fields (filled in later). */
static void render_header(struct bundle *b, struct buf *h, size_t *skip_at, size_t *sum_at)
{
	const char *lib = getenv("ENROOT_LIBRARY_PATH");
	char *path = xasprintf("%s/bundle.sh", lib && *lib ? lib : ".");
	struct buf t = BUF_INIT;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || buf_read_fd(&t, fd, 1u << 20) < 0)
		die("failed to read: %s:", path);
	close(fd);
	for (char *s = t.data, *at; *s; s = at) {
		char *end;
		at = strchr(s, '@');
		end = at ? strchr(at + 1, '@') : NULL;
		if (!at || !end) {
			buf_adds(h, s);
			break;
		}
		buf_add(h, s, (size_t)(at - s));
		*end = '\0';
		if (render_field(b, at + 1, h, skip_at, sum_at) < 0) {
			*end = '@'; /* not a field: keep the text */
			buf_addc(h, '@');
			end = at;
		}
		at = end + 1;
	}
	buf_free(&t);
	free(path);
}

/* Run argv with stdin from in and stdout to out; returns its pid. */
static pid_t spawn(char *const argv[], int in, int out)
{
	pid_t pid = xfork();

	if (pid == 0) {
		if ((in >= 0 && dup2(in, 0) < 0) || dup2(out, 1) < 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(errno == ENOENT ? 127 : 126);
	}
	return pid;
}

static int reap(pid_t pid, const char *what)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("failed to wait for: %s:", what);
	if (status != 0 && child_code(status) == 127)
		msg_error("Command not found: %s", what);
	else if (status != 0)
		msg_error("failed to run: %s (exit status %d)", what, child_code(status));
	return status;
}

/* §12 step 4: tar the tree (root-owned, numeric), through the compressor, onto fd. */
static int archive(struct bundle *b, int fd)
{
	const char *epoch = getenv("SOURCE_DATE_EPOCH"), *p = getenv("ENROOT_MAX_PROCESSORS");
	char *mtime = epoch && *epoch ? xasprintf("--mtime=@%s", epoch) : NULL;
	char *threads = xasprintf("-T%s", p && *p ? p : "1");
	char *tar[] = {"tar",	    "-C",	 b->root,	"--numeric-owner",
		       "--owner=0", "--group=0", "--sort=name", "--ignore-failed-read",
		       "-c",	    "-f",	 "-",		"--",
		       ".",	    NULL,	 NULL};
	char *comp[] = {(char *)b->program, "-c", NULL, NULL};
	int pfd[2], rc = 0;
	pid_t t, c;

	if (mtime) {
		memmove(tar + 9, tar + 8, 5 * sizeof(char *));
		tar[8] = mtime;
	}
	if (b->program && (!strcmp(b->program, "xz") || !strcmp(b->program, "zstd")))
		comp[2] = threads;
	if (!b->program) {
		rc = reap(spawn(tar, -1, fd), "tar");
	} else {
		xpipe(pfd);
		t = spawn(tar, -1, pfd[1]);
		close(pfd[1]);
		c = spawn(comp, pfd[0], fd);
		close(pfd[0]);
		rc = reap(t, "tar") | reap(c, b->program);
	}
	free(mtime);
	free(threads);
	return rc;
}

/* The sha256 of the file at fd from offset on, in hex. */
static void hash_from(int fd, off_t offset, char hex[SHA256_HEX], const char *what)
{
	unsigned char buf[65536], d[SHA256_LEN];
	struct sha256 c;
	ssize_t n;

	sha256_init(&c);
	if (lseek(fd, offset, SEEK_SET) < 0)
		die("failed to read: %s:", what);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("failed to read: %s:", what);
		sha256_update(&c, buf, (size_t)n);
	}
	sha256_final(&c, d);
	sha256_tohex(d, hex);
}

/* Header, payload, checksum, mode, fsync, then the rename into place (never replacing). */
static int write_bundle(struct bundle *b)
{
	struct buf h = BUF_INIT;
	size_t skip_at = 0, sum_at = 0;
	char field[SKIP_WIDTH + 1], hex[SHA256_HEX];
	int fd = xopen(b->tmpout, O_RDWR | O_TRUNC | O_CLOEXEC, 0);
	mode_t mask = umask(0);

	umask(mask);
	render_header(b, &h, &skip_at, &sum_at);
	snprintf(field, sizeof(field), "%-*zu", SKIP_WIDTH, h.len);
	memcpy(h.data + skip_at, field, SKIP_WIDTH);
	xwrite_all(fd, h.data, h.len, b->tmpout);
	msg_info("Generating bundle...");
	if (archive(b, fd) != 0) {
		buf_free(&h);
		close(fd);
		return 1;
	}
	if (b->checksum) {
		hash_from(fd, (off_t)h.len, hex, b->tmpout);
		if (pwrite(fd, hex, SHA256_HEX - 1, (off_t)sum_at) != SHA256_HEX - 1)
			die("failed to write: %s:", b->tmpout);
	}
	if (fchmod(fd, 0777 & ~mask) < 0 || fsync(fd) < 0)
		die("failed to write: %s:", b->tmpout);
	xclose(fd);
	buf_free(&h);
	if (renameat2(AT_FDCWD, b->tmpout, AT_FDCWD, b->out, RENAME_NOREPLACE) < 0)
		die(errno == EEXIST ? "File already exists: %s" : "failed to rename: %s:", b->out);
	return 0;
}

/* The guarded worker (guard_run removes the temporaries whatever happens). */
static int bundle_worker(void *arg)
{
	struct bundle *b = arg;
	int rc;

	msg_info("Extracting squashfs filesystem...");
	if ((rc = cmd_extract(b->image, b->tmpdir, "rootfs", b->root)) != 0)
		return rc;
	add_runtime(b);
	if (nftw(b->root, add_size, 64, FTW_PHYS) < 0)
		die("failed to read: %s:", b->root);
	return write_bundle(b);
}

/* IMAGE must be a squashfs file (as for create). */
static char *image_path(const char *arg)
{
	char *image = realpath(arg, NULL);

	if (!image || !cmd_is_squashfs(image)) {
		if (image && access(image, R_OK) == 0)
			errno = EINVAL;
		if (errno == EINVAL)
			die("Invalid image format: %s", arg);
		die("failed to open: %s:", arg);
	}
	return image;
}

/* The target: a directory name (a path is allowed), not ending in '/', ".", "..". */
static void check_target(const char *t)
{
	const char *base = strrchr(t, '/');

	base = base ? base + 1 : t;
	if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
		die("Invalid argument: %s", t);
}

/* Temporaries: the output beside its final name, the tree under ENROOT_TEMP_PATH. */
static void make_temporaries(struct bundle *b)
{
	const char *temp = getenv("ENROOT_TEMP_PATH");
	int fd;

	b->tmpout = xasprintf("%s.XXXXXX", b->out);
	if ((fd = mkostemp(b->tmpout, O_CLOEXEC)) < 0)
		die("failed to create: %s:", b->tmpout);
	close(fd);
	b->tmpdir = xasprintf("%s/enroot-bundle.XXXXXX", temp && *temp ? temp : "/tmp");
	if (!mkdtemp(b->tmpdir)) {
		int err = errno;
		unlink(b->tmpout);
		errno = err;
		die("failed to create directory: %s:", b->tmpdir);
	}
	b->root = xasprintf("%s/rootfs", b->tmpdir);
}

/* The options; returns the index of IMAGE. */
static int parse(struct bundle *b, int argc, char **argv, const char **out, const char **target,
		 int *force)
{
	static const struct opt opts[] = {{"all", 'a', 0, 'a'},
					  {"checksum", 'c', 0, 'c'},
					  {"desc", 'd', 1, 'd'},
					  {"output", 'o', 1, 'o'},
					  {"target", 't', 1, 't'},
					  {"force", 'f', 0, 'f'},
					  {0}};
	struct optparse p;
	int o;

	opt_init(&p, argc, argv);
	while ((o = opt_next(&p, opts)) != OPT_DONE) {
		if (o == OPT_HELP)
			usage_exit(cmd_bundle_usage, 0);
		if (o == OPT_BAD)
			opt_fail(&p, cmd_bundle_usage);
		if (o == 'a')
			b->all = 1;
		else if (o == 'c')
			b->checksum = 1;
		else if (o == 'd')
			b->desc = p.arg;
		else if (o == 'o')
			*out = p.arg;
		else if (o == 't')
			*target = p.arg;
		else
			*force = 1;
	}
	if (argc - p.ind != 1)
		usage_exit(cmd_bundle_usage, 1);
	return p.ind;
}

int cmd_bundle(int argc, char **argv)
{
	struct bundle b = {.desc = "none"};
	const char *out = NULL, *target = NULL;
	char *def, *paths[3];
	int force = 0, rc, ind;

	ind = parse(&b, argc, argv, &out, &target, &force);
	b.all |= config_enabled("ENROOT_BUNDLE_ALL");
	b.checksum |= config_enabled("ENROOT_BUNDLE_CHECKSUM");
	b.image = image_path(argv[ind]);
	if (target)
		check_target(target);
	compression_of(&b);
	def = rebase(b.image, ".sqsh", ".run");
	b.out = cmd_output_path(out ? out : def, cmd_forced(force));
	b.target = target ? xstrdup(target) : rebase(b.out, ".run", "");
	check_target(b.target);
	make_temporaries(&b);
	paths[0] = b.tmpout;
	paths[1] = b.tmpdir;
	paths[2] = NULL;
	if ((rc = guard_run(bundle_worker, &b, paths, NULL)) < 0)
		die("failed to fork:");
	free(def);
	free(b.image);
	free(b.out);
	free(b.target);
	free(b.tmpout);
	free(b.tmpdir);
	free(b.root);
	return rc;
}
