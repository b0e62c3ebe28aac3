/* digest: the driver command `enroot digest` (spec §4.9).  Driver code living in lib/
 * because applets/enroot.c dispatches to it: it prints diagnostics and returns the status. */
#ifndef DIGEST_H
#define DIGEST_H

extern const char digest_usage[];

int digest_main(int argc, char **argv);

/* The .credentials path: $ENROOT_CONFIG_PATH/.credentials, with enroot's default for
 * ENROOT_CONFIG_PATH (${XDG_CONFIG_HOME:-$HOME/.config}/enroot).  Malloc'ed, or NULL. */
char *digest_credentials_path(void);

#endif
