/* caps: capability sets of the calling thread (ambient raise for hooks, the final drop). */
#ifndef CAPS_H
#define CAPS_H

/* The highest capability number the kernel knows (/proc/sys/kernel/cap_last_cap), or -1/errno. */
int caps_last_cap(void);
/* 1 when the kernel supports ambient capabilities, 0 when not (PR_CAP_AMBIENT_IS_SET → EINVAL). */
int caps_ambient_supported(void);
/* Copy the effective set into inheritable, then raise every inheritable capability up to
 * LAST_CAP as ambient, so a non-root uid keeps them across execve (spec §6.1 step 1). -1/errno. */
int caps_raise_ambient(int last_cap);
/* 1 when CAP (e.g. CAP_SYS_ADMIN) is in the effective set, 0 when not, -1/errno. */
int caps_have_effective(int cap);
/* The privilege drop of spec §6.2 step 5: PR_SET_NO_NEW_PRIVS always; when euid != 0, drop
 * 0..LAST_CAP from the bounding set (EPERM ignored) and clear every set, ambient included. */
int caps_drop(int last_cap);

#endif
