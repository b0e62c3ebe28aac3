/* seccomp: a hand-written classic BPF program; no libseccomp.
 *
 * The program, in the order the kernel runs it (seccomp(2), "Filter return values"):
 *  1. Load seccomp_data.arch. A syscall of another ABI than the one we were built for (i386
 *     compat on x86_64, for example) is allowed: enroot allows every other arch.
 *  2. Load seccomp_data.nr. chown, lchown (where the ABI has them), fchown, fchownat, setuid,
 *     setgid, setreuid, setregid, setresuid, setresgid and setgroups return SECCOMP_RET_ERRNO
 *     with errno 0: the caller sees success and the kernel never runs the call.
 *  3. setfsuid and setfsgid do the same unless the low 32 bits of args[0] are 0xffffffff,
 *     the query form setfsuid(-1), which runs.
 *  4. Everything else: SECCOMP_RET_ALLOW.
 * Installed with seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW) so speculative
 * store bypass mitigation is not forced on; prctl(PR_SET_SECCOMP) when that flag is unknown.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/caps.h"
#include "runtime/seccomp.h"

#ifndef CAP_SYS_ADMIN
#define CAP_SYS_ADMIN 21
#endif
#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif

#if defined(__x86_64__) && !defined(__ILP32__)
#define SECCOMP_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SECCOMP_ARCH AUDIT_ARCH_AARCH64
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SECCOMP_ARCH AUDIT_ARCH_PPC64LE
#endif

int seccomp_allow_speculation(void)
{
	static const int which[] = {0 /* STORE_BYPASS */, 1 /* INDIRECT_BRANCH */,
				    2 /* L1D_FLUSH */};

	for (size_t i = 0; i < sizeof(which) / sizeof(which[0]); i++) {
		int st = prctl(PR_GET_SPECULATION_CTRL, which[i], 0, 0, 0);

		if (st < 0 && (errno == EINVAL || errno == ENODEV))
			continue;
		if (st < 0)
			return -1;
		if (!(st & PR_SPEC_PRCTL) || !(st & PR_SPEC_DISABLE))
			continue;
		if (prctl(PR_SET_SPECULATION_CTRL, which[i], PR_SPEC_ENABLE, 0, 0) &&
		    errno != EINVAL && errno != ENODEV)
			return -1;
	}
	return 0;
}

#ifdef SECCOMP_ARCH

/* The three supported ABIs are little-endian: the low word of args[0] comes first. */
#define ARG0_LO	 offsetof(struct seccomp_data, args[0])
#define RET_FAKE (SECCOMP_RET_ERRNO | 0)

/* Faked calls whose number jumps straight to the "return 0" instruction. */
static const int faked[] = {
#ifdef __NR_chown
    __NR_chown,
#endif
#ifdef __NR_lchown
    __NR_lchown,
#endif
    __NR_fchown,   __NR_fchownat,  __NR_setuid,	   __NR_setgid,	   __NR_setreuid,
    __NR_setregid, __NR_setresuid, __NR_setresgid, __NR_setgroups,
};

#define NFAKED (sizeof(faked) / sizeof(faked[0]))
/* Layout: [0..2] arch check, [3] load nr, NFAKED jumps, 2 fsid jumps, then the tail below. */
#define TAIL (4 + NFAKED + 2)

static void build(struct sock_filter *f)
{
	size_t i = 0, k;

	f[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch));
	f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_ARCH, 1, 0);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr));
	/* Jump offsets count from the next instruction; the tail is: allow, fake, fsid check. */
	for (k = 0; k < NFAKED; k++, i++)
		f[i] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)faked[k],
						    (unsigned char)(TAIL + 1 - i - 1), 0);
	f[i] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_setfsuid,
					    (unsigned char)(TAIL + 2 - i - 1), 0);
	i++;
	f[i] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_setfsgid,
					    (unsigned char)(TAIL + 2 - i - 1), 0);
	i++;
	f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW); /* TAIL */
	f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, RET_FAKE);	   /* TAIL+1 */
	f[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_LO);  /* TAIL+2 */
	f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffu, 0, 1);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, RET_FAKE);
}

int seccomp_install(void)
{
	struct sock_filter f[TAIL + 6];
	struct sock_fprog prog = {.len = TAIL + 6, .filter = f};
	int admin = caps_have_effective(CAP_SYS_ADMIN);

	build(f);
	/* Without CAP_SYS_ADMIN the kernel demands no_new_privs (seccomp(2), EACCES). */
	if (admin != 1 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	if (!syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, &prog))
		return 0;
	if (errno != EINVAL)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

#else

int seccomp_install(void)
{
	return 0;
}

#endif
