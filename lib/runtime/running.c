/* running: find running containers through /proc (see running.h). Moved out of `list -f` so
 * that rename, clone and protect ask the same question the same way. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/mountinfo.h"
#include "runtime/running.h"

/* The path of DATA inside its own file system: the root of the mount holding it plus the
 * rest of the path below that mount point. NULL when it cannot be told. */
static char *data_root(const char *data)
{
	char real[PATH_MAX], *r = NULL;
	const struct mountinfo_entry *e;
	struct mountinfo mi;
	size_t n;

	if (!data || !realpath(data, real) || mountinfo_load(&mi, "/proc/self/mountinfo") < 0)
		return NULL;
	e = mountinfo_find(&mi, real);
	if (e) {
		n = strcmp(e->mountpoint, "/") ? strlen(e->mountpoint) : 0;
		if (asprintf(&r, "%s%s", strcmp(e->root, "/") ? e->root : "", real + n) < 0)
			r = NULL;
	}
	mountinfo_free(&mi);
	return r;
}

/* Name the container of pid from its "/" mount, whose root lies under droot. */
static void identify(struct running *r, const char *droot)
{
	char path[64];
	struct mountinfo mi;
	size_t n = droot ? strlen(droot) : 0;

	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)r->pid);
	if (mountinfo_load(&mi, path) < 0)
		return;
	for (size_t i = 0; i < mi.n && !r->name; i++) {
		const struct mountinfo_entry *e = &mi.e[i];
		if (strcmp(e->mountpoint, "/") || !droot || strncmp(e->root, droot, n) ||
		    e->root[n] != '/' || !e->root[n + 1])
			continue;
		r->name = strndup(e->root + n + 1, strcspn(e->root + n + 1, "/"));
		r->writable = !mountinfo_has_option(e->options, "ro");
	}
	mountinfo_free(&mi);
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

/* All PIDs in /proc, ascending. */
static pid_t *all_pids(size_t *n)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t *v = NULL, *nv;
	size_t cap = 0;

	*n = 0;
	while (d && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			if (!(nv = realloc(v, cap * sizeof(*v))))
				break;
			v = nv;
		}
		v[(*n)++] = (pid_t)pid;
	}
	if (d)
		closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_pid);
	return v;
}

/* Is ino new to seen[0..*k)? Then remember it. */
static int first_of_ns(ino_t *seen, size_t *k, ino_t ino)
{
	for (size_t j = 0; j < *k; j++)
		if (seen[j] == ino)
			return 0;
	seen[(*k)++] = ino;
	return 1;
}

int running_list(const char *data, struct running **v, size_t *n)
{
	size_t np, nseen = 0;
	pid_t *pids = all_pids(&np);
	ino_t *seen = calloc(np ? np : 1, sizeof(*seen));
	char *droot = data_root(data), path[64];
	struct stat st;

	*v = calloc(np ? np : 1, sizeof(**v));
	*n = 0;
	if (!seen || !*v) {
		free(pids);
		free(seen);
		free(droot);
		free(*v);
		*v = NULL;
		return errno = ENOMEM, -1;
	}
	for (size_t i = 0; i < np; i++) {
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pids[i]);
		if (stat(path, &st) < 0 || !first_of_ns(seen, &nseen, st.st_ino))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/root/.lock", (int)pids[i]);
		if (access(path, F_OK) < 0)
			continue;
		(*v)[*n] = (struct running){.pid = pids[i]};
		identify(&(*v)[(*n)++], droot);
	}
	free(seen);
	free(pids);
	free(droot);
	return 0;
}

void running_free(struct running *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

int running_count(const char *data, const char *name, pid_t *pid, int *writable)
{
	struct running *v;
	size_t n;
	int count = 0;

	if (writable)
		*writable = 0;
	if (pid)
		*pid = 0;
	if (running_list(data, &v, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!v[i].name || strcmp(v[i].name, name))
			continue;
		if (pid && !count)
			*pid = v[i].pid;
		if (writable && v[i].writable)
			*writable = 1;
		count++;
	}
	running_free(v, n);
	return count;
}
