/* imageref: parse docker:// references with POSIX EREs, as enroot's bash =~ does. */
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <fcntl.h>
#include <unistd.h>

#include "base/buf.h"
#include "registry/imageref.h"
#include "registry/netrc.h"

/* The character classes of §4.1.  USER's ",-@" is the byte range ',' to '@'. */
#define RE_USER	  "[[:alnum:]_.!~*'()%;:&=+$,-@]+"
#define RE_IMAGE  "[a-z0-9/._-]+"
#define RE_TAG	  "[A-Za-z0-9._:-]+"
#define RE_DIGEST "sha256:[A-Za-z0-9]+"
#define RE_PRE	  "^docker://((" RE_USER ")@)?"

/* Where the registry part of a pattern goes: a HOST (registry when it has '.' or ':'), a
 * bare Docker Hub NAME, or a verbatim REGISTRY before '#'. */
enum kind { HOST, NAME, REGISTRY };

/* One pattern and the group numbers of its parts (0: absent).  Group 2 is always USER. */
static const struct pattern {
	const char *re;
	enum kind kind;
	int host, image, tag, digest;
} patterns[] = {
    {RE_PRE "([^/#]+)/(" RE_IMAGE "):(" RE_TAG ")@(" RE_DIGEST ")$", HOST, 3, 4, 5, 6},
    {RE_PRE "([^/#]+)/(" RE_IMAGE ")@(" RE_DIGEST ")$", HOST, 3, 4, 0, 5},
    {RE_PRE "([^/#]+)/(" RE_IMAGE ")(:(" RE_TAG "))?$", HOST, 3, 4, 6, 0},
    {RE_PRE "([^/@#:]+):(" RE_TAG ")@(" RE_DIGEST ")$", NAME, 3, 3, 4, 5},
    {RE_PRE "([^/@#:]+)@(" RE_DIGEST ")$", NAME, 3, 3, 0, 4},
    {RE_PRE "([^/@#:]+)(:(" RE_TAG "))?$", NAME, 3, 3, 5, 0},
    {RE_PRE "([^#/@]+)#(" RE_IMAGE "):(" RE_TAG ")@(" RE_DIGEST ")$", REGISTRY, 3, 4, 5, 6},
    {RE_PRE "([^#/@]+)#(" RE_IMAGE ")@(" RE_DIGEST ")$", REGISTRY, 3, 4, 0, 5},
    {RE_PRE "([^#/@]+)#(" RE_IMAGE ")(:(" RE_TAG "))?$", REGISTRY, 3, 4, 6, 0},
};

#define NPATTERNS (sizeof(patterns) / sizeof(patterns[0]))
#define NGROUPS	  8

static regex_t compiled[NPATTERNS];
static int compile_failed;
static pthread_once_t compile_once = PTHREAD_ONCE_INIT;

static void compile_all(void)
{
	for (size_t i = 0; i < NPATTERNS; i++)
		if (regcomp(&compiled[i], patterns[i].re, REG_EXTENDED))
			compile_failed = 1;
}

/* A copy of group g of s, or NULL when the group did not take part. */
static char *group(const char *s, const regmatch_t *m, int g, int *oom)
{
	char *r;

	if (!g || m[g].rm_so < 0)
		return NULL;
	r = strndup(s + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
	if (!r)
		*oom = 1;
	return r;
}

/* Turn a HOST/NAME match into registry and image, then canonicalise Docker Hub (§4.1). */
static int canonicalise(struct imageref *ref, enum kind kind, char *host)
{
	char *image = ref->image;

	if (kind == HOST && !strpbrk(host, ".:")) {
		if (asprintf(&ref->image, "%s/%s", host, image) < 0) {
			free(host);
			return ref->image = image, -1;
		}
		free(image);
		free(host);
		host = NULL;
	} else if (kind == NAME) {
		free(host);
		host = NULL;
	}
	if (!host || !strcmp(host, "docker.io") || !strcmp(host, "index.docker.io") ||
	    !strcmp(host, IMAGEREF_DOCKER_HUB)) {
		free(host);
		host = NULL;
		ref->registry = strdup(IMAGEREF_DOCKER_HUB);
		if (!ref->registry)
			return -1;
		if (!strchr(ref->image, '/')) {
			image = ref->image;
			if (asprintf(&ref->image, "library/%s", image) < 0)
				return ref->image = image, -1;
			free(image);
		}
		return 0;
	}
	ref->registry = host;
	return 0;
}

/* Fill ref from a match of pattern p. */
static int from_match(struct imageref *ref, const struct pattern *p, const char *uri,
		      const regmatch_t *m)
{
	int oom = 0;
	char *host;

	ref->user = group(uri, m, 2, &oom);
	ref->image = group(uri, m, p->image, &oom);
	ref->tag = group(uri, m, p->tag, &oom);
	ref->digest = group(uri, m, p->digest, &oom);
	ref->tag_given = ref->tag != NULL;
	host = p->kind == NAME ? NULL : group(uri, m, p->host, &oom);
	if (!oom && !ref->tag && !(ref->tag = strdup("latest")))
		oom = 1;
	if (oom || canonicalise(ref, p->kind, host) < 0) {
		if (oom)
			free(host);
		imageref_free(ref);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* 1 when s has a control character, space or non-ASCII byte, which §4.1's negated classes
 * ([^/#]+ and the like) would let into a URL; we refuse them (README "Differences"). */
static int has_unsafe_bytes(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 1;
	return 0;
}

int imageref_parse(const char *uri, struct imageref *ref)
{
	regmatch_t m[NGROUPS];

	memset(ref, 0, sizeof(*ref));
	if (has_unsafe_bytes(uri)) {
		errno = EINVAL;
		return -1;
	}
	pthread_once(&compile_once, compile_all);
	if (compile_failed) {
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < NPATTERNS; i++)
		if (!regexec(&compiled[i], uri, NGROUPS, m, 0))
			return from_match(ref, &patterns[i], uri, m);
	errno = EINVAL;
	return -1;
}

void imageref_free(struct imageref *ref)
{
	free(ref->user);
	free(ref->registry);
	free(ref->image);
	free(ref->tag);
	free(ref->digest);
	memset(ref, 0, sizeof(*ref));
}

const char *imageref_reference(const struct imageref *ref)
{
	return ref->digest ? ref->digest : ref->tag;
}

int imageref_default_user(struct imageref *ref, const char *path)
{
	struct buf text = BUF_INIT;
	char *host;
	int fd, saved;

	if (ref->user)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (buf_read_fd(&text, fd, 1 << 20) < 0) {
		saved = errno;
		close(fd);
		buf_free(&text);
		errno = saved;
		return -1;
	}
	close(fd);
	host = strndup(ref->registry, strcspn(ref->registry, ":"));
	if (host && text.len)
		ref->user = netrc_first_login(text.data, text.len, host);
	saved = host && (ref->user || errno == ENOENT) ? 0 : ENOMEM;
	free(host);
	buf_free(&text);
	errno = saved;
	return saved ? -1 : 0;
}

char *imageref_output_name(const struct imageref *ref)
{
	const char *image = ref->image;
	struct buf b = BUF_INIT;

	if (!strcmp(ref->registry, IMAGEREF_DOCKER_HUB) && !strncmp(image, "library/", 8))
		image += 8;
	for (const char *p = image; *p; p++)
		if (buf_addc(&b, *p == '/' ? '+' : *p) < 0)
			goto oom;
	if (ref->digest || ref->tag_given)
		if (buf_printf(&b, "+%s", imageref_reference(ref)) < 0)
			goto oom;
	if (buf_adds(&b, ".sqsh") < 0)
		goto oom;
	return b.data;
oom:
	buf_free(&b);
	return NULL;
}

char *imageref_provenance(const struct imageref *ref)
{
	char *s;

	if (asprintf(&s, "docker://%s#%s:%s", ref->registry, ref->image, imageref_reference(ref)) <
	    0)
		return NULL;
	return s;
}

int imageref_platform(const char *machine, struct imageref_platform *p)
{
	struct utsname u;

	if (!machine) {
		if (uname(&u) < 0)
			return -1;
		machine = u.machine;
	}
	p->os = "linux";
	p->variant = NULL;
	if (!strcmp(machine, "x86_64")) {
		p->architecture = "amd64";
	} else if (!strcmp(machine, "aarch64")) {
		p->architecture = "arm64";
		p->variant = "v8";
	} else if (!strcmp(machine, "ppc64le")) {
		p->architecture = "ppc64le";
	} else {
		errno = EINVAL;
		return -1;
	}
	return 0;
}
