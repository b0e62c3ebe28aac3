/* hooks: enroot's standard hooks (spec §10) in C, run in-process by enroot-hook's chain mode
 * when a hooks.d file is exactly our stub, or by `enroot-hook NAME` when the stub is executed.
 * They read ENROOT_ROOTFS, ENROOT_ENVIRON and ENROOT_MOUNTS from the environment. */
#ifndef HOOKS_H
#define HOOKS_H

/* The message of the last failure of hooks_run. */
extern char hooks_error[1024];

/* The text of the stub file for the standard hook name (a static buffer). */
const char *hooks_stub(const char *name);
/* If the file at path is exactly one of our stubs, the hook's name; else NULL. */
const char *hooks_builtin(const char *path);
/* Is name one of the standard hooks? */
int hooks_known(const char *name);
/* Run the standard hook name. Returns 0, or -1 with hooks_error set. */
int hooks_run(const char *name);

#endif
