/* config: load enroot's settings (spec §2.1-§2.3). Plain values are handled here; only a
 * value that needs shell expansion ($, `, ~, quotes, ...) costs one bash for all files, so
 * the common start path runs no shell at all. */
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/child.h"
#include "base/config.h"
#include "base/version.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc/enroot"
#endif
#ifndef LIBEXECDIR
#define LIBEXECDIR "/usr/libexec/enroot"
#endif

extern char **environ;

struct entry {
	char *key, *value;
};

struct entries {
	struct entry *v;
	size_t n, cap;
	int shell; /* some value needs the shell */
};

const char *config_sysconf_dir(void)
{
	const char *d = getenv("ENROOT_SYSCONF_PATH");

	return d && *d ? d : SYSCONFDIR;
}

int config_key_allowed(const char *key)
{
	static const char *const exact[] = {"SSL_CERT_DIR", "SSL_CERT_FILE", "all_proxy",
					    "no_proxy",	    "http_proxy",    "https_proxy"};
	const char *p;

	if (!strncmp(key, "ENROOT_", 7)) {
		for (p = key + 7; *p; p++)
			if (!(isupper((unsigned char)*p) || *p == '_'))
				return 0;
		return key[7] != '\0';
	}
	if (!strncmp(key, "MELLANOX_", 9) || !strncmp(key, "NVIDIA_", 7))
		return 1;
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (!strcmp(key, exact[i]))
			return 1;
	return 0;
}

int config_false_word(const char *v)
{
	static const char *const words[] = {"n", "no",	  "N", "NO",	"No",
					    "f", "false", "F", "False", "FALSE"};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(v, words[i]))
			return 1;
	return 0;
}

int config_split(char *line, char **key, char **value)
{
	char *p = line, *end;

	while (*p == ' ' || *p == '\t')
		p++;
	*key = p;
	p += strcspn(p, " \t=\n");
	if (*p == '\0' || *p == '\n') {
		*p = '\0';
		*value = p;
	} else {
		*p++ = '\0';
		p += strspn(p, " \t=");
		*value = p;
	}
	end = *value + strlen(*value);
	while (end > *value && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n'))
		*--end = '\0';
	return config_key_allowed(*key);
}

int config_needs_shell(const char *value)
{
	for (const char *p = value; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(" \t_./,:=+@%-", *p))
			return 1;
	return 0;
}

char *config_plain_value(const char *value)
{
	struct buf b = BUF_INIT;
	const char *p = value;

	buf_adds(&b, "");
	while (*p) {
		size_t word;
		p += strspn(p, " \t");
		word = strcspn(p, " \t");
		if (!word)
			break;
		if (b.len)
			buf_addc(&b, ' ');
		buf_add(&b, p, word);
		p += word;
	}
	return b.data;
}

static int entries_add(struct entries *e, const char *key, const char *value)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 16;
		struct entry *v = realloc(e->v, cap * sizeof(*v));
		if (!v)
			return -1;
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n].key = strdup(key);
	e->v[e->n].value = strdup(value);
	if (!e->v[e->n].key || !e->v[e->n].value) {
		free(e->v[e->n].key);
		free(e->v[e->n].value);
		return -1;
	}
	e->shell |= config_needs_shell(value);
	e->n++;
	return 0;
}

static void entries_free(struct entries *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->v[i].key);
		free(e->v[i].value);
	}
	free(e->v);
	e->v = NULL;
	e->n = e->cap = 0;
	e->shell = 0;
}

/* Names from the seeds' era of enroot, accepted for the settings that replaced them. Within
 * one layer (the environment; the configuration files together; a script's directives) the
 * newer name wins when both are set; between layers the usual precedence holds, so an old
 * name in the environment still beats a new one in enroot.conf. Only the new name is left
 * exported, which is what `enroot info` shows and hooks see. */
static const struct alias {
	const char *old, *new;
} aliases[] = {
    {"ENROOT_SQUASH_OPTS", "ENROOT_SQUASH_OPTIONS"},
    {"ENROOT_ROOTFS_RW", "ENROOT_ROOTFS_WRITABLE"},
    {"ENROOT_GZIP_PROG", "ENROOT_GZIP_PROGRAM"},
};

const char *config_alias(const char *name)
{
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (!strcmp(name, aliases[i].old))
			return aliases[i].new;
	return NULL;
}

/* The environment layer: OLD's value goes to NEW unless NEW is set; OLD goes. */
static void fold_env(void)
{
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		const char *v = getenv(aliases[i].old), *cur = getenv(aliases[i].new);
		if (!v)
			continue;
		if (*v && (!cur || !*cur))
			setenv(aliases[i].new, v, 1);
		unsetenv(aliases[i].old);
	}
}

static int entries_have(const struct entries *e, const char *key)
{
	for (size_t i = 0; i < e->n; i++)
		if (!strcmp(e->v[i].key, key))
			return 1;
	return 0;
}

/* A layer of lines: an OLD line stands for NEW, unless the layer sets NEW itself. */
static int fold_entries(struct entries *e)
{
	size_t k = 0;

	for (size_t i = 0; i < e->n; i++) {
		const char *new = config_alias(e->v[i].key);
		if (new &&entries_have(e, new)) {
			free(e->v[i].key);
			free(e->v[i].value);
			continue;
		}
		if (new) {
			char *key = strdup(new);
			if (!key)
				return -1;
			free(e->v[i].key);
			e->v[i].key = key;
		}
		e->v[k++] = e->v[i];
	}
	e->n = k;
	return 0;
}

/* A line bash -n accepts for sure: blank, a comment, or plain words only. */
static int line_trivial(const char *line)
{
	line += strspn(line, " \t");
	return *line == '#' || *line == '\n' || *line == '\0' || !config_needs_shell(line);
}

/* bash -n PATH: does the file parse as shell? */
static int syntax_ok(const char *path)
{
	char *argv[] = {"bash", "-n", (char *)path, NULL};
	int status = child_run(argv, -1, NULL, 1);

	return status == 0;
}

/* Read the lines of one file into e (directives: only "#ENROOT_" lines, '#' stripped). */
static enum config_result read_file(const char *path, struct entries *e, int directives)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, *key, *value;
	size_t cap = 0;
	int trivial = 1, nonempty = 0, rc = 0;

	if (!f)
		return errno == ENOENT && !directives ? CONFIG_OK : CONFIG_ERRNO;
	while (rc == 0 && getline(&line, &cap, f) >= 0) {
		char *l = line;
		nonempty = 1;
		trivial &= line_trivial(l);
		if (directives) {
			if (*l != '#')
				continue;
			l++;
			if (strncmp(l + strspn(l, " \t"), "ENROOT_", 7))
				continue;
		}
		if (config_split(l, &key, &value))
			rc = entries_add(e, key, value);
	}
	free(line);
	fclose(f);
	if (rc < 0)
		return CONFIG_ERRNO;
	if (!directives && nonempty && !trivial && !syntax_ok(path))
		return CONFIG_INVALID;
	return CONFIG_OK;
}

static const char expand_script[] = "o=$1; shift\n"
				    "while [ $# -gt 1 ]; do\n"
				    "  if [ \"$o\" = 1 ] || [ -z \"${!1-}\" ]; then\n"
				    "    export \"$1=$(eval echo \"$2\")\"\n"
				    "    printf '%s=%s\\0' \"$1\" \"${!1}\"\n"
				    "  fi\n"
				    "  shift 2\n"
				    "done\n";

/* Expand every value with one bash, in order, so values may refer to earlier ones. */
static int apply_shell(const struct entries *e, int overwrite)
{
	char **argv = calloc(e->n * 2 + 6, sizeof(*argv));
	struct buf out = BUF_INIT;
	size_t k = 0;
	int status;

	if (!argv)
		return -1;
	argv[k++] = "bash";
	argv[k++] = "--norc";
	argv[k++] = "-c";
	argv[k++] = (char *)expand_script;
	argv[k++] = "bash";
	argv[k++] = overwrite ? "1" : "0";
	for (size_t i = 0; i < e->n; i++) {
		argv[k++] = e->v[i].key;
		argv[k++] = e->v[i].value;
	}
	status = child_run(argv, -1, &out, 0);
	free(argv);
	for (size_t off = 0; status >= 0 && off < out.len; off += strlen(out.data + off) + 1) {
		char *eq = strchr(out.data + off, '=');
		if (eq) {
			*eq = '\0';
			setenv(out.data + off, eq + 1, 1);
		}
	}
	buf_free(&out);
	return status < 0 ? -1 : 0;
}

static int apply(const struct entries *e, int overwrite)
{
	if (e->shell)
		return apply_shell(e, overwrite);
	for (size_t i = 0; i < e->n; i++) {
		const char *cur = getenv(e->v[i].key);
		if (overwrite || !cur || !*cur) {
			char *v = config_plain_value(e->v[i].value);
			int rc = v ? setenv(e->v[i].key, v, 1) : -1;
			free(v);
			if (rc < 0)
				return -1;
		}
	}
	return 0;
}

/* Read enroot.conf, then the drop-ins (enroot.conf.d, *.conf) in glob order, into e. */
static enum config_result read_files(struct entries *e, char **bad)
{
	const char *dir = config_sysconf_dir();
	char *path = NULL, *pattern = NULL;
	enum config_result rc;
	glob_t g;

	if (asprintf(&path, "%s/enroot.conf", dir) < 0)
		return CONFIG_ERRNO;
	rc = read_file(path, e, 0);
	if (rc != CONFIG_OK) {
		*bad = path;
		return rc;
	}
	free(path);
	if (asprintf(&pattern, "%s/enroot.conf.d/*.conf", dir) < 0)
		return CONFIG_ERRNO;
	if (glob(pattern, 0, NULL, &g) == 0) {
		for (size_t i = 0; rc == CONFIG_OK && i < g.gl_pathc; i++) {
			rc = read_file(g.gl_pathv[i], e, 0);
			if (rc != CONFIG_OK)
				*bad = strdup(g.gl_pathv[i]);
		}
		globfree(&g);
	}
	free(pattern);
	return rc;
}

/* setenv NAME=VALUE unless NAME holds a non-empty value already. */
static void set_default(const char *name, const char *value)
{
	const char *cur = getenv(name);

	if (!cur || !*cur)
		setenv(name, value, 1);
}

/* $HOME, or the home directory of the caller's passwd entry (pyxis runs us with HOME unset). */
const char *config_home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h && *h)
		return h;
	pw = getpwuid(getuid());
	return pw && pw->pw_dir ? pw->pw_dir : "/";
}

/* $XDG_NAME, or $HOME/fallback. Returns a new string. */
/* Is prog an executable file in a $PATH directory? */
static int on_path(const char *prog)
{
	char *p = child_which(prog);
	int found = p != NULL;

	free(p);
	return found;
}

/* The path settings of §2.3 and where their defaults come from: $XDG (else HOME/FALLBACK, or
 * the absolute FALLBACK) with SUFFIX appended. */
static const struct path_default {
	const char *name, *xdg, *fallback, *suffix;
} path_defaults[] = {
    {"ENROOT_RUNTIME_PATH", "XDG_RUNTIME_DIR", "/run", "/enroot"},
    {"ENROOT_CONFIG_PATH", "XDG_CONFIG_HOME", ".config", "/enroot"},
    {"ENROOT_CACHE_PATH", "XDG_CACHE_HOME", ".cache", "/enroot"},
    {"ENROOT_DATA_PATH", "XDG_DATA_HOME", ".local/share", "/enroot"},
    {"ENROOT_TEMP_PATH", "TMPDIR", "/tmp", ""},
};

char *config_path(const char *name)
{
	const char *v = getenv(name);
	char *r;

	if (v && *v)
		return strdup(v);
	for (size_t i = 0; i < sizeof(path_defaults) / sizeof(path_defaults[0]); i++) {
		const struct path_default *d = &path_defaults[i];
		const char *x = getenv(d->xdg);
		int n;
		if (strcmp(name, d->name))
			continue;
		if (x && *x)
			n = asprintf(&r, "%s%s", x, d->suffix);
		else if (d->fallback[0] == '/')
			n = asprintf(&r, "%s%s", d->fallback, d->suffix);
		else
			n = asprintf(&r, "%s/%s%s", config_home_dir(), d->fallback, d->suffix);
		return n < 0 ? NULL : r;
	}
	errno = EINVAL;
	return NULL;
}

char *config_credentials_path(void)
{
	char *dir = config_path("ENROOT_CONFIG_PATH"), *r = NULL;

	if (dir && asprintf(&r, "%s/.credentials", dir) < 0)
		r = NULL;
	free(dir);
	return r;
}

long config_long(const char *name, long def, long min)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (!v || !*v)
		return def;
	errno = 0;
	n = strtol(v, &end, 10);
	return errno || end == v || *end || n < min ? def : n;
}

static void set_paths(void)
{
	set_default("ENROOT_LIBRARY_PATH", LIBEXECDIR);
	set_default("ENROOT_SYSCONF_PATH", SYSCONFDIR);
	for (size_t i = 0; i < sizeof(path_defaults) / sizeof(path_defaults[0]); i++) {
		char *v = config_path(path_defaults[i].name);
		if (v)
			set_default(path_defaults[i].name, v);
		free(v);
	}
}

/* Step 3: the built-in defaults of §2.3. */
static void set_defaults(void)
{
	char nproc[32];
	cpu_set_t cpus;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0)
		n = CPU_COUNT(&cpus);
	snprintf(nproc, sizeof(nproc), "%ld", n > 0 ? n : 1);
	set_paths();
	set_default("ENROOT_GZIP_PROGRAM", on_path("pigz") ? "pigz" : "gzip");
	set_default("ENROOT_ZSTD_OPTIONS", "-1");
	set_default("ENROOT_SQUASH_OPTIONS", "-comp lzo -noD -exit-on-error");
	set_default("ENROOT_MAX_PROCESSORS", nproc);
	set_default("ENROOT_MAX_CONNECTIONS", "10");
	set_default("ENROOT_CONNECT_TIMEOUT", "30");
	set_default("ENROOT_TRANSFER_TIMEOUT", "0");
	set_default("ENROOT_TRANSFER_RETRIES", "0");
	set_default("ENROOT_LOGIN_SHELL", "true");
	set_default("ENROOT_ALLOW_SUPERUSER", "false");
	set_default("ENROOT_ALLOW_HTTP", "false");
	set_default("ENROOT_ROOTFS_WRITABLE", "false");
	set_default("ENROOT_NATIVE_OVERLAYFS", "true");
	set_default("ENROOT_REMAP_ROOT", "false");
	set_default("ENROOT_BUNDLE_ALL", "false");
	set_default("ENROOT_BUNDLE_CHECKSUM", "false");
	set_default("ENROOT_FORCE_OVERRIDE", "false");
}

void config_normalise(void)
{
	char name[256];

	/* Restart after each unsetenv: it shifts environ under our feet. */
	for (size_t i = 0; environ[i];) {
		const char *eq = strchr(environ[i], '=');
		size_t n = eq ? (size_t)(eq - environ[i]) : 0;
		if (eq && !strncmp(environ[i], "ENROOT_", 7) && n < sizeof(name) &&
		    config_false_word(eq + 1)) {
			memcpy(name, environ[i], n);
			name[n] = '\0';
			unsetenv(name);
			i = 0;
			continue;
		}
		i++;
	}
}

void config_defaults(void)
{
	set_defaults();
	config_normalise();
}

int config_enabled(const char *name)
{
	const char *v = getenv(name);

	return v && *v && !config_false_word(v);
}

/* mkdir -p under umask 077. */
static int mkdir_p(const char *path)
{
	char *p = strdup(path), *s;
	int rc = 0;

	if (!p)
		return -1;
	for (s = p + 1; rc == 0; s++) {
		int end = *s == '\0';
		if (*s != '/' && !end)
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			rc = -1;
		if (end)
			break;
		*s = '/';
	}
	free(p);
	return rc;
}

/* Set when ENROOT_GZIP_PROGRAM (or ENROOT_GZIP_PROG) came from the user, not the default. */
static int gzip_given;

const char *config_note(void)
{
	return gzip_given ? "ENROOT_GZIP_PROGRAM is ignored: layers are decompressed in-process"
			  : NULL;
}

enum config_result config_load(char **bad)
{
	static const char *const dirs[] = {"ENROOT_CACHE_PATH", "ENROOT_DATA_PATH",
					   "ENROOT_RUNTIME_PATH"};
	struct entries e = {0};
	enum config_result rc;

	*bad = NULL;
	fold_env();
	rc = read_files(&e, bad);
	if (rc == CONFIG_OK && (fold_entries(&e) < 0 || apply(&e, 0) < 0))
		rc = CONFIG_ERRNO;
	entries_free(&e);
	if (rc != CONFIG_OK)
		return rc;
	gzip_given = getenv("ENROOT_GZIP_PROGRAM") && *getenv("ENROOT_GZIP_PROGRAM");
	set_defaults();
	config_normalise();
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		const char *d = getenv(dirs[i]);
		if (d && *d && mkdir_p(d) < 0) {
			*bad = strdup(d);
			return CONFIG_ERRNO;
		}
	}
	setenv("ENROOT_VERSION", ENROOT_VERSION, 1);
	return CONFIG_OK;
}

enum config_result config_directives(const char *path, char **bad)
{
	struct entries e = {0};
	enum config_result rc = read_file(path, &e, 1);

	*bad = NULL;
	if (rc == CONFIG_OK && (fold_entries(&e) < 0 || apply(&e, 1) < 0))
		rc = CONFIG_ERRNO;
	if (rc != CONFIG_OK)
		*bad = strdup(path);
	entries_free(&e);
	config_normalise();
	return rc;
}
