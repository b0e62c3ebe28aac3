/* import: the driver commands `enroot import` (spec §4, §1.2) and `enroot load` (§4.10), and
 * the pipeline they share: resolve the image, fetch its blobs into the cache concurrently
 * (verified, atomic), apply the layers bottom-up onto one tree in user space (lib/image/layer.h),
 * write the image configuration files on top (lib/image/imgconfig.h).  Dispatched by
 * applets/enroot.c: it prints diagnostics and returns the status. */
#ifndef IMPORT_H
#define IMPORT_H

extern const char import_usage[], load_usage[];

int import_main(int argc, char **argv);
int load_main(int argc, char **argv);

/* Everything the pipeline needs; filled by import_main/load_main. */
struct import_job {
	const char *uri;
	const char *arch;	  /* -a value, or NULL for uname -m */
	char *tmpdir;		  /* scratch directory; the tree is built in tmpdir/rootfs */
	char *rootfs;		  /* the tree being built */
	int tty;		  /* stderr is a terminal: show progress */
	const char *engine;	  /* "docker" or "podman" for dockerd:// and podman://, else NULL */
	const char *engine_image; /* the engine's image reference */
	char *engine_name;	  /* the temporary container's name */
	int tmpdir_lock;	  /* holds tmpdir alive for lib/base/stale.h sweeps */
};

/* The default output file name of URI (spec §4.8, §4.11), e.g. "ubuntu+24.04.sqsh"; dies on
 * an invalid URI. */
char *import_default_name(const char *uri);

/* Fill JOB for URI and make its scratch directory (PREFIX.XXXXXXXXXX, with rootfs/ inside)
 * under PARENT (created if missing); dies on failure. */
void import_job_init(struct import_job *job, const char *uri, const char *arch, const char *parent,
		     const char *prefix);
void import_job_free(struct import_job *job);

/* Build the root filesystem of job->uri (docker://, dockerd:// or podman://) in job->rootfs:
 * fetch, apply the layers, write the configuration.  Prints its diagnostics; 0 or -1. */
int import_build(struct import_job *job);

/* Remove the blob temporaries of downloads cut short (by a signal to the worker: its digest
 * locks died with it; see blobcache.h).  Called by the guard's parent after the worker. */
void import_sweep_cache(void);

/* Remove the temporary engine container of a dockerd:// or podman:// build, if any. */
void import_engine_cleanup(struct import_job *job);

#endif
