/* userns: create the namespaces of a container (spec §6.1 create mode, §8.9). */
#ifndef USERNS_H
#define USERNS_H

/* Which namespaces to create. */
enum {
	USERNS_USER = 1 << 0,  /* user namespace with a one-uid map */
	USERNS_REMAP = 1 << 1, /* map uid/gid 0 to the caller instead of the caller to itself */
	USERNS_MOUNT = 1 << 2,
	USERNS_NET = 1 << 3, /* with lo brought up */
	USERNS_IPC = 1 << 4,
	USERNS_UTS = 1 << 5,
};

/* The steps userns_create can fail in, for the caller's message. */
enum userns_step {
	USERNS_OK,
	USERNS_STEP_AMBIENT, /* ambient capabilities unsupported (kernel < 4.3): use remap-root */
	USERNS_STEP_USER,    /* unshare(CLONE_NEWUSER) */
	USERNS_STEP_SETGROUPS,
	USERNS_STEP_GIDMAP,
	USERNS_STEP_UIDMAP,
	USERNS_STEP_CAPS, /* raising ambient capabilities */
	USERNS_STEP_MOUNT,
	USERNS_STEP_SLAVE, /* making / recursively slave (no user namespace) */
	USERNS_STEP_NET,
	USERNS_STEP_LO,
	USERNS_STEP_IPC,
	USERNS_STEP_UTS,
};

/* The two halves of userns_create, for a caller that creates a PID namespace in between
 * (spec §6.1 step 2): the user namespace, then the others. Pass the same FLAGS to both: the
 * second needs to know whether a user namespace was created. */
enum userns_step userns_create_user(unsigned flags);
enum userns_step userns_unshare(unsigned flags);

/* Create the namespaces named in FLAGS in enroot's order: user (maps, then ambient caps unless
 * USERNS_REMAP), mount (/ made rslave when no user namespace is created), net (lo up), ipc, uts.
 * Returns USERNS_OK, or the failing step with errno set. Process-wide: call it single-threaded. */
enum userns_step userns_create(unsigned flags);

/* One line for the error message of STEP with errno ERR: what failed, and what to check. */
const char *userns_step_what(enum userns_step step);
const char *userns_hint(enum userns_step step, int err);

/* Bring the loopback interface up in the current network namespace. -1/errno. */
int userns_lo_up(void);

#endif
