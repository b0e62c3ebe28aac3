/* login: switchroot's login emulation and shell command line (spec §8.8).
 *
 * An in-process start (what `unsharens ... -- switchroot ...` does, without the execs):
 *   userns_create(USERNS_USER | USERNS_MOUNT | ...)    userns.h (userns_create_user, unshare(
 *                                                      CLONE_NEWPID), nswait_fork, then
 *                                                      userns_unshare for --pid)
 *   seccomp_install(); seccomp_allow_speculation()     seccomp.h (with a user namespace)
 *   ... runtime mounts, hooks, environment file ...
 *   rc = read the rc file into memory (if any)
 *   environ_load_path(envfile)                         environ.h
 *   last = caps_last_cap(); login_ids(&l)              caps.h; before the pivot
 *   pivot_switch(rootfs)                               pivot.h
 *   caps_drop(last)                                    caps.h
 *   fd = login_rc_memfd(rc); l.rcpath = "/proc/self/fd/<fd>"
 *   login_prepare(&l)     LOGIN_NOLOGIN: login_cat(login_nologin_file(&l), 1), exit 0
 *   av = login_argv(&l, cmd, &shell, &motd); if (motd) login_motd(&l, 1); execv(shell, av)
 */
#ifndef LOGIN_H
#define LOGIN_H

#include <stddef.h>
#include <sys/types.h>

#include "runtime/logindefs.h"

struct login {
	/* Inputs, set by the caller. */
	int login;	     /* --login: emulate login(1), argv[0] of the shell gets a '-' */
	int norc;	     /* --norc: never run the rc file */
	const char *rcpath;  /* NULL for /etc/rc, or /proc/self/fd/N from login_rc_memfd */
	const char *workdir; /* --workdir, or NULL */
	char *init_shell;    /* ENROOT_INIT_SHELL, from login_init_shell, or NULL */
	/* Results of login_prepare. */
	struct logindefs defs;	    /* login.defs of the container (empty without --login) */
	uid_t inner_uid, outer_uid; /* first line of uid_map (see login_ids) */
	int have_ids;
	int home_failed; /* chdir($HOME) failed but DEFAULT_HOME is yes: warn with home_errno */
	int home_errno;
};

enum login_result {
	LOGIN_OK,
	LOGIN_NOLOGIN,	   /* the nologin file exists: show login_nologin_file(), exit 0 */
	LOGIN_FAIL_DEFS,   /* reading /etc/login.defs; errno set */
	LOGIN_FAIL_ENV,	   /* setenv; errno set */
	LOGIN_FAIL_HOME,   /* chdir($HOME); errno set */
	LOGIN_FAIL_WORKDIR /* chdir(workdir); errno set */
};

/* Remember ENROOT_INIT_SHELL (the seeds' era name for the shell that runs /etc/rc) from the
 * caller's environment, before the container's replaces it. login_argv uses it first when it
 * is readable and executable in the container; otherwise the usual choice stands. */
void login_init_shell(struct login *l);

/* Step 1: read the first line of /proc/self/uid_map into l->inner_uid and l->outer_uid (our euid
 * for both when it cannot be read). Call it before the pivot when the rootfs may lack /proc;
 * login_prepare calls it otherwise. */
void login_ids(struct login *l);

/* Run steps 1-9 of the login emulation (only 9, the workdir, without l->login) in the current
 * root, which must be the container's. The environment is changed with setenv. */
enum login_result login_prepare(struct login *l);
const char *login_nologin_file(const struct login *l);

/* The shell to exec and its argument vector for the command CMD (NULL-terminated, may be
 * empty), following the rc and command rules. *motd is set when the MOTD should be shown first.
 * The vector and its strings are allocated; NULL/ENOMEM. */
char **login_argv(const struct login *l, char *const *cmd, char **shell, int *motd);

/* Copy the MOTD files (MOTD_FILE, colon-separated, default /etc/motd) to FD. */
void login_motd(const struct login *l, int fd);
/* Copy the file at PATH to FD; -1/errno. */
int login_cat(const char *path, int fd);
/* A memfd holding DATA, left without O_CLOEXEC so /proc/self/fd/N survives execve. -1/errno. */
int login_rc_memfd(const void *data, size_t len);

void login_free(struct login *l);

#endif
