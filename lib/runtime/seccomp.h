/* seccomp: the filter that fakes chown and set*id for package managers (spec §6.1.2). */
#ifndef SECCOMP_H
#define SECCOMP_H

/* Install the filter on the calling thread (inherited by every later exec and child). Sets
 * PR_SET_NO_NEW_PRIVS first unless CAP_SYS_ADMIN is effective. On an architecture other than
 * x86_64, aarch64 or ppc64le nothing is installed and 0 is returned. -1/errno. */
int seccomp_install(void);

/* enroot's standard flavour (ALLOW_SPECULATION, spec §6.1 common tail step 4): for store bypass,
 * indirect branch and L1D flush, when the control is prctl-managed and currently disabled,
 * enable it again. EINVAL and ENODEV (unknown or not controllable) are ignored. -1/errno. */
int seccomp_allow_speculation(void);

#endif
