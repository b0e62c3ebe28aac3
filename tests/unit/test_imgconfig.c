/* Unit tests for lib/imgconfig: bash @Q quoting (fixed vectors taken from bash 5.2 in C.UTF-8,
 * and pseudo-random words checked against the real bash when it is there), the rendered
 * /etc/rc, /etc/fstab and /etc/environment, and confined writing into a rootfs. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image/imgconfig.h"
#include "unit.h"

static const char *const vectors[][2] = {
    {"", "''"},
    {"a", "'a'"},
    {"it's", "'it'\\''s'"},
    {"'", "\\'"},
    {"''", "''\\'''\\'''"},
    {"'a", "''\\''a'"},
    {"a\nb", "$'a\\nb'"},
    {"tab\there", "$'tab\\there'"},
    {"\x01", "$'\\001'"},
    {"\x7f", "$'\\177'"},
    {"\xc3\xa9", "'\xc3\xa9'"},
    {"\xff", "$'\\377'"},
    {"\xc3", "$'\\303'"},
    {"back\\slash", "'back\\slash'"},
    {"\033[1m", "$'\\E[1m'"},
    {"it's\n", "$'it\\'s\\n'"},
    {"$HOME", "'$HOME'"},
    {"`x`", "'`x`'"},
    {"\"q\"", "'\"q\"'"},
    {"\xc2\xa0", "'\xc2\xa0'"},
    {"a\x80"
     "b",
     "$'a\\200b'"},
    {"\xe2\x82", "$'\\342\\202'"},
    {"\xf0\x9f\x98\x80", "'\xf0\x9f\x98\x80'"},
    {"\xed\xa0\x80", "$'\\355\\240\\200'"},
    {"\xc0\xaf", "$'\\300\\257'"},
    {"\xc2\x85", "$'\\302\\205'"},
    {"\\'\n", "$'\\\\\\'\\n'"},
    {"\a\b\f\r\v", "$'\\a\\b\\f\\r\\v'"},
    {"/bin/sh -c", "'/bin/sh -c'"},
};

static char *quote(const char *w)
{
	struct buf b = BUF_INIT;

	if (imgconfig_quote(&b, w) < 0)
		return NULL;
	return b.data;
}

static void test_vectors(void)
{
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		char *q = quote(vectors[i][0]);

		CHECK_STR(q, vectors[i][1]);
		free(q);
	}
}

/* A deterministic word mixing ASCII, quotes, controls and (broken) UTF-8. */
static void random_word(uint32_t *seed, char *w, size_t max)
{
	static const char *const parts[] = {"a",
					    "'",
					    "\\",
					    "\n",
					    "\t",
					    " ",
					    "$",
					    "\x01",
					    "\x7f",
					    "\xc3\xa9",
					    "\xc3",
					    "\xe2\x82\xac",
					    "\xf0\x9f\x98\x80",
					    "\x80",
					    "\xff",
					    "\033",
					    "\"",
					    "\xc2\x85",
					    "\xe2\x80\x8b"};
	size_t n, len = 0;

	*seed = *seed * 1103515245u + 12345u;
	n = (*seed >> 16) % 6;
	for (size_t i = 0; i < n; i++) {
		const char *p;

		*seed = *seed * 1103515245u + 12345u;
		p = parts[(*seed >> 16) % (sizeof(parts) / sizeof(parts[0]))];
		if (len + strlen(p) + 1 > max)
			break;
		memcpy(w + len, p, strlen(p));
		len += strlen(p);
	}
	w[len] = '\0';
}

/* Run bash once on all WORDS: it prints each ${w@Q} followed by a NUL. */
static int bash_quote(char **words, size_t n, struct buf *out)
{
	int p[2];
	pid_t pid;
	char **argv = calloc(n + 5, sizeof(char *));
	int status;

	if (!argv || pipe(p) < 0)
		return -1;
	argv[0] = "bash";
	argv[1] = "-c";
	argv[2] = "for a; do printf '%s\\0' \"${a@Q}\"; done";
	argv[3] = "bash";
	memcpy(argv + 4, words, n * sizeof(char *));
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		setenv("LC_ALL", "C.UTF-8", 1);
		execvp("bash", argv);
		_exit(127);
	}
	close(p[1]);
	free(argv);
	buf_read_fd(out, p[0], 1 << 20);
	close(p[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void test_against_bash(void)
{
	enum { N = 400 };
	char *words[N];
	struct buf out = BUF_INIT;
	uint32_t seed = 42;
	size_t off = 0, bad = 0;

	for (size_t i = 0; i < N; i++) {
		words[i] = malloc(64);
		random_word(&seed, words[i], 64);
	}
	if (bash_quote(words, N, &out) < 0) {
		printf("# bash not runnable: random vectors not compared\n");
	} else {
		for (size_t i = 0; i < N && off < out.len; i++) {
			char *q = quote(words[i]);

			if (!q || strcmp(q, out.data + off)) {
				bad++;
				printf("#   word %zu: got %s, bash %s\n", i, q, out.data + off);
			}
			off += strlen(out.data + off) + 1;
			free(q);
		}
		CHECK(bad == 0 && off == out.len);
	}
	for (size_t i = 0; i < N; i++)
		free(words[i]);
	buf_free(&out);
}

static const char sample[] = "{\"architecture\":\"arm64\",\"config\":{"
			     "\"Env\":[\"PATH=/usr/bin:/bin\",\"A=b c\"],"
			     "\"Entrypoint\":[\"/entry.sh\",\"it's\"],\"Cmd\":[\"run\",\"\"],"
			     "\"WorkingDir\":\"/work dir\","
			     "\"Volumes\":{\"/var/data\":{},\"/a b\":{},\"/c\\\\d\":{}},"
			     "\"Labels\":{\"maintainer\":\"x\\ny\",\"version\":\"1\"}}}";

static const char sample_rc[] = "# enroot-provenance: docker://reg#img:tag\n"
				"# maintainer x y\n"
				"# version 1\n"
				"\n"
				"mkdir -p \"/work dir\" 2> /dev/null\n"
				"cd \"/work dir\" && unset OLDPWD || exit 1\n"
				"\n"
				"if [ -s /etc/rc.local ]; then\n"
				"    . /etc/rc.local\n"
				"fi\n"
				"\n"
				"if [ $# -gt 0 ]; then\n"
				"    exec '/entry.sh' 'it'\\''s' \"$@\"\n"
				"else\n"
				"    exec '/entry.sh' 'it'\\''s' 'run' ''\n"
				"fi\n";

static const char sample_fstab[] =
    "${ENROOT_ROOTFS}/a\\040b /a\\040b none x-create=dir,bind,rw,nosuid,nodev\n"
    "${ENROOT_ROOTFS}/c\\134d /c\\134d none x-create=dir,bind,rw,nosuid,nodev\n"
    "${ENROOT_ROOTFS}/var/data /var/data none x-create=dir,bind,rw,nosuid,nodev\n";

static int render(const char *text, const char *uri, struct imgconfig *ic)
{
	json_t cfg = json_parse(text, strlen(text), NULL, 0);
	int rc;

	if (!cfg)
		return -1;
	rc = imgconfig_render(cfg, uri, ic);
	json_free(cfg);
	return rc;
}

static void test_render(void)
{
	struct imgconfig ic;

	CHECK(render(sample, "docker://reg#img:tag", &ic) == 0);
	CHECK_STR(ic.rc.data, sample_rc);
	CHECK_STR(ic.fstab.data, sample_fstab);
	CHECK_STR(ic.environment.data, "PATH=/usr/bin:/bin\nA=b c\n");
	CHECK_STR(ic.arch, "arm64");
	CHECK_STR(ic.workdir, "/work dir");
	CHECK(ic.rclocal.len > 0 && ic.rclocal.data[0] == '#');
	imgconfig_free(&ic);
}

static void test_defaults(void)
{
	struct imgconfig ic;

	/* No Entrypoint and no Cmd: /bin/sh; no WorkingDir: /; empty files. */
	CHECK(render("{}", "dockerd://x", &ic) == 0);
	CHECK(strstr(ic.rc.data, "    exec  \"$@\"\nelse\n    exec  '/bin/sh'\n") != NULL);
	CHECK(strstr(ic.rc.data, "mkdir -p \"/\" 2> /dev/null\ncd \"/\" && ") != NULL);
	CHECK_STR(ic.fstab.data, "");
	CHECK_STR(ic.environment.data, "");
	CHECK(ic.arch == NULL);
	imgconfig_free(&ic);
	/* Entrypoint only: the command line keeps enroot's trailing space. */
	CHECK(render("{\"Architecture\":\"amd64\",\"Config\":{\"Entrypoint\":[\"e\"],"
		     "\"WorkingDir\":\"/a\\\"$`b\"}}",
		     "u", &ic) == 0);
	CHECK(strstr(ic.rc.data, "    exec 'e' \"$@\"\nelse\n    exec 'e' \nfi\n") != NULL);
	CHECK(strstr(ic.rc.data, "mkdir -p \"/a\\\"\\$\\`b\" 2>") != NULL);
	CHECK_STR(ic.arch, "amd64");
	imgconfig_free(&ic);
	/* Wrong types are ignored, as jq's `[]?` does. */
	CHECK(render("{\"config\":{\"Cmd\":\"ls\",\"Env\":{},\"Volumes\":[1]}}", "u", &ic) == 0);
	CHECK(strstr(ic.rc.data, "exec  '/bin/sh'") != NULL);
	imgconfig_free(&ic);
}

static int run(const char *cmd)
{
	return system(cmd);
}

static char *slurp(const char *path)
{
	struct buf b = BUF_INIT;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	buf_read_fd(&b, fd, 1 << 20);
	close(fd);
	if (!b.data)
		buf_add(&b, "", 0);
	return b.data;
}

static void test_write(void)
{
	char dir[] = "/tmp/test_imgconfig.XXXXXX", path[256], bad[256] = "", *s;
	struct imgconfig ic;
	struct stat st;
	int root;

	CHECK(mkdtemp(dir) != NULL);
	/* etc is a symlink climbing out, etc/rc a directory, etc/fstab a symlink to outside. */
	snprintf(path, sizeof(path),
		 "cd %s && mkdir -p root/real/rc/sub outside && ln -s ../../../real root/etc &&"
		 " ln -s ../../outside/victim root/real/fstab && echo keep > outside/victim &&"
		 " chmod 0555 root/real",
		 dir);
	CHECK(run(path) == 0);
	snprintf(path, sizeof(path), "%s/root", dir);
	root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(render(sample, "docker://reg#img:tag", &ic) == 0);
	CHECK(imgconfig_write(root, &ic, bad, sizeof(bad)) == 0);
	snprintf(path, sizeof(path), "%s/root/real/rc", dir);
	CHECK((s = slurp(path)) && !strcmp(s, sample_rc));
	free(s);
	CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644);
	snprintf(path, sizeof(path), "%s/outside/victim", dir);
	CHECK((s = slurp(path)) && !strcmp(s, "keep\n"));
	free(s);
	snprintf(path, sizeof(path), "%s/root/real/fstab", dir);
	CHECK((s = slurp(path)) && !strcmp(s, sample_fstab));
	free(s);
	snprintf(path, sizeof(path), "%s/root/real", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0555);
	snprintf(path, sizeof(path), "%s/root/var/data", dir);
	CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755);
	snprintf(path, sizeof(path), "%s/root/work dir", dir);
	CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
	imgconfig_free(&ic);
	/* A WorkingDir that climbs stays inside the root, as `cd` in the container would. */
	CHECK(render("{\"config\":{\"WorkingDir\":\"/../../../esc\"}}", "u", &ic) == 0);
	CHECK(imgconfig_write(root, &ic, bad, sizeof(bad)) == 0);
	snprintf(path, sizeof(path), "%s/esc", dir);
	CHECK(stat(path, &st) < 0);
	snprintf(path, sizeof(path), "%s/root/esc", dir);
	CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
	imgconfig_free(&ic);
	close(root);
	snprintf(path, sizeof(path), "chmod -R u+rwx %s && rm -rf %s", dir, dir);
	CHECK(run(path) == 0);
}

int main(void)
{
	test_vectors();
	test_against_bash();
	test_render();
	test_defaults();
	test_write();
	return unit_done();
}
