/* pullist: registry-pull's listing, written and read (see pullist.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/msg.h"
#include "registry/manifest.h"
#include "registry/pullist.h"

int pullist_print(FILE *f, const struct blobcache *c, const struct registry_image *img,
		  const char *source, const char *arch)
{
	char *p = blobcache_path(c, img->config.digest);
	int rc = 0;

	if (!p)
		return -1;
	rc |= fprintf(f, "config %s %s\n", img->config.digest, p) < 0;
	free(p);
	for (size_t i = 0; !rc && i < img->nlayers; i++) {
		if (!(p = blobcache_path(c, img->layers[i].digest)))
			return -1;
		rc |= fprintf(f, "layer %s %s %s\n", img->layers[i].digest,
			      img->layers[i].media_type ? img->layers[i].media_type : "-", p) < 0;
		free(p);
	}
	rc |= fprintf(f, "image %s %s\n", source, arch) < 0;
	return rc || fflush(f) ? -1 : 0;
}

/* Split LINE into at most 4 words in place; returns the count (5: more than 4). */
static int words(char *line, char *w[4])
{
	int n = 0;
	char *save = NULL;

	for (char *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == 4)
			return 5;
		w[n++] = t;
	}
	return n;
}

static char *dup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		abort(); /* a few bytes of a listing: no sensible way on */
	return d;
}

static void add_layer(struct pullist *l, char *w[4])
{
	size_t n = l->n + 1;

	l->digests = realloc(l->digests, n * sizeof(char *));
	l->types = realloc(l->types, n * sizeof(char *));
	l->paths = realloc(l->paths, n * sizeof(char *));
	if (!l->digests || !l->types || !l->paths)
		abort();
	l->digests[l->n] = dup(w[1]);
	l->types[l->n] = strcmp(w[2], "-") ? dup(w[2]) : NULL;
	l->paths[l->n] = dup(w[3]);
	l->n = n;
}

/* One line of the stream part: ready, done or failed.  0, or -1 (why says). */
static int stream_line(struct pullist *l, int n, char *w[4], char *why, size_t whylen)
{
	l->streamed = 1;
	if (n == 2 && !strcmp(w[0], "ready") && manifest_digest_valid(w[1])) {
		for (size_t i = 0; i < l->n; i++)
			l->ready[i] |= !strcmp(l->digests[i], w[1]);
		l->ready[l->n] |= !strcmp(l->config_digest, w[1]);
		return 0;
	}
	if (n == 1 && !strcmp(w[0], "done")) {
		l->done = 1;
		memset(l->ready, 1, l->n + 1);
		return 0;
	}
	if (n == 1 && !strcmp(w[0], "failed")) {
		l->failed = 1;
		snprintf(why, whylen, "the pull failed");
		return -1;
	}
	snprintf(why, whylen, "invalid input line: %s", n ? w[0] : "(empty)");
	return -1;
}

/* The next line into W (its word count), 0 with l->eof set at the end, -1 on a read error. */
static int next_line(struct pullist *l, char **line, size_t *cap, char *w[4])
{
	ssize_t len;

	do {
		if ((len = getline(line, cap, l->in)) <= 0) {
			l->eof = 1;
			return ferror(l->in) ? -1 : 0;
		}
		if ((*line)[len - 1] == '\n')
			(*line)[--len] = '\0';
	} while (!len);
	return words(*line, w);
}

int pullist_read(FILE *in, struct pullist *l, char *why, size_t whylen)
{
	char *line = NULL, *w[4];
	size_t cap = 0;
	int n, rc = -1;

	memset(l, 0, sizeof(*l));
	l->in = in;
	while ((n = next_line(l, &line, &cap, w)) > 0) {
		if (n == 3 && !strcmp(w[0], "config") && !l->config &&
		    manifest_digest_valid(w[1])) {
			l->config_digest = dup(w[1]);
			l->config = dup(w[2]);
		} else if (n == 4 && !strcmp(w[0], "layer") && manifest_digest_valid(w[1])) {
			add_layer(l, w);
		} else if (n == 3 && !strcmp(w[0], "image")) {
			l->source = dup(w[1]);
			l->arch = dup(w[2]);
			break;
		} else if (n == 1 && !strcmp(w[0], "failed")) {
			l->failed = 1;
			snprintf(why, whylen, "the pull failed");
			goto out;
		} else {
			snprintf(why, whylen, "invalid input line: %s",
				 n < 5 ? w[0] : "(too long)");
			goto out;
		}
	}
	if (n < 0)
		snprintf(why, whylen, "failed to read the input: %s", strerror(errno));
	else if (!l->config)
		snprintf(why, whylen,
			 l->eof ? "no config line in the input (the pull failed?)"
				: "no config line before the image line");
	else if (!(l->ready = calloc(l->n + 1, 1)))
		snprintf(why, whylen, "out of memory");
	else
		rc = 0;
out:
	free(line);
	return rc;
}

int pullist_wait(struct pullist *l, size_t i, char *why, size_t whylen)
{
	char *line = NULL, *w[4];
	size_t cap = 0;
	int n, rc = 0;

	while (!rc && !l->ready[i]) {
		if (l->eof) {
			if (l->streamed && !l->done) {
				snprintf(why, whylen, "the input ended before the pull was done");
				rc = -1;
			}
			memset(l->ready, 1, l->n + 1); /* not streamed: all in the cache */
		} else if ((n = next_line(l, &line, &cap, w)) < 0) {
			snprintf(why, whylen, "failed to read the input: %s", strerror(errno));
			rc = -1;
		} else if (n > 0) {
			rc = stream_line(l, n, w, why, whylen);
		}
	}
	free(line);
	return rc;
}

int pullist_drain(struct pullist *l, char *why, size_t whylen)
{
	char *line = NULL, *w[4];
	size_t cap = 0;
	int n, rc = 0;

	while (!rc && !l->eof) {
		if ((n = next_line(l, &line, &cap, w)) < 0) {
			snprintf(why, whylen, "failed to read the input: %s", strerror(errno));
			rc = -1;
		} else if (n > 0) {
			rc = stream_line(l, n, w, why, whylen);
		}
	}
	free(line);
	if (!rc && l->streamed && !l->done) {
		snprintf(why, whylen, "the input ended before the pull was done");
		rc = -1;
	}
	return rc;
}

void pullist_evict(const struct pullist *l, size_t i)
{
	const char *path = l->paths[i], *hex = l->digests[i] + 7;
	size_t plen = strlen(path), hlen = strlen(hex), slen = strlen("/blobs/sha256/");
	struct blobcache c;
	char *dir;

	if (plen <= hlen + slen || strcmp(path + plen - hlen, hex) ||
	    strncmp(path + plen - hlen - slen, "/blobs/sha256/", slen))
		return;
	if (!(dir = strndup(path, plen - hlen - slen)))
		return;
	if (blobcache_open(&c, dir) == 0) {
		(void)blobcache_evict(&c, l->digests[i]);
		blobcache_close(&c);
	}
	free(dir);
}

void pullist_free(struct pullist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->digests[i]);
		free(l->types[i]);
		free(l->paths[i]);
	}
	free(l->digests);
	free(l->types);
	free(l->paths);
	free(l->ready);
	free(l->source);
	free(l->arch);
	free(l->config);
	free(l->config_digest);
	memset(l, 0, sizeof(*l));
}

/* End a writer after a failed listing call: quietly when upstream said why. */
static _Noreturn void fail_listing(const struct pullist *l, const char *why)
{
	if (l->failed)
		exit(1);
	die("%s", why);
}

void xpullist_read(FILE *in, struct pullist *l)
{
	char why[256];

	if (pullist_read(in, l, why, sizeof(why)) < 0)
		fail_listing(l, why);
}

void xpullist_wait(struct pullist *l, size_t i)
{
	char why[256];

	if (pullist_wait(l, i, why, sizeof(why)) < 0)
		fail_listing(l, why);
}

void xpullist_drain(struct pullist *l)
{
	char why[256];

	if (pullist_drain(l, why, sizeof(why)) < 0)
		fail_listing(l, why);
}
