/* config: enroot's configuration (spec §2): enroot.conf, its drop-ins, built-in defaults,
 * normalisation of false words, and the #ENROOT_ directives of config scripts. */
#ifndef CONFIG_H
#define CONFIG_H

/* The main configuration directory: $ENROOT_SYSCONF_PATH when the environment sets it
 * (tests point it at the source etc/), else the one compiled in (SYSCONFDIR). */
const char *config_sysconf_dir(void);

/* Split one configuration line in place: KEY, then VALUE after the first run of blanks or
 * '=' (trailing blanks dropped). Returns 1 when KEY is one enroot honours, else 0. */
int config_split(char *line, char **key, char **value);
/* Does enroot read this key from a configuration file? */
int config_key_allowed(const char *key);
/* Is v one of the false words "n no N NO No f false F False FALSE"? */
int config_false_word(const char *v);
/* Does VALUE need a shell to expand it (anything beyond plain words)? */
int config_needs_shell(const char *value);
/* "a  b\tc" -> "a b c": what `eval echo` does to plain words. Returns a new string. */
char *config_plain_value(const char *value);

enum config_result { CONFIG_OK = 0, CONFIG_ERRNO = -1, CONFIG_INVALID = -2 };

/* Steps 1-6 of §2.1. On failure *bad names the file or directory at fault. */
enum config_result config_load(char **bad);
/* The #ENROOT_ directives of a config script, with overwrite, then normalisation. */
enum config_result config_directives(const char *path, char **bad);
/* The setting an old name (ENROOT_SQUASH_OPTS, ENROOT_ROOTFS_RW, ENROOT_GZIP_PROG) stands
 * for, or NULL. config_load and config_directives fold them into the new names. */
const char *config_alias(const char *name);
/* After config_load: a remark for debug output about a setting given but not used, or NULL. */
const char *config_note(void);
/* Steps 3 and 4 alone: the built-in defaults, then normalisation (for `enroot doctor`, which
 * goes on after config_load failed). */
void config_defaults(void);
/* Unset every ENROOT_* variable holding a false word. */
void config_normalise(void);
/* Is the boolean setting NAME enabled (spec §2.2: set, non-empty, not a false word)?  The
 * same answer before and after config_normalise, so applets run without the driver's
 * configuration load can use it. */
int config_enabled(const char *name);

/* $HOME, or the home directory of the caller's passwd entry (pyxis runs us with HOME unset). */
const char *config_home_dir(void);

/* An ENROOT_*_PATH setting (RUNTIME, CONFIG, CACHE, DATA, TEMP): its value, or the default of
 * §2.3 (the XDG variable, else the home directory, then "/enroot"; TMPDIR or /tmp for TEMP).
 * Malloc'ed; NULL with errno (EINVAL for another name). */
char *config_path(const char *name);
/* $ENROOT_CONFIG_PATH/.credentials with the same default. Malloc'ed, or NULL. */
char *config_credentials_path(void);
/* A numeric setting (ENROOT_MAX_CONNECTIONS, ENROOT_TRANSFER_TIMEOUT, ...): DEF when it is
 * unset, not a decimal number, or below MIN (1 for settings where 0 means "unlimited" and the
 * caller's DEF stands for that). */
long config_long(const char *name, long def, long min);

#endif
