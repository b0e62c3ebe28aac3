/* cmd: the driver's subcommands (`enroot COMMAND`), one file each (applets/enroot/NAME.c),
 * dispatched by applets/enroot.c. They print diagnostics and return the exit status. The
 * configuration is loaded before they run (except digest, help and version; doctor loads it
 * itself, since a broken one is one of its findings). */
#ifndef CMD_H
#define CMD_H

int cmd_info(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_remove(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_batch(int argc, char **argv);
int cmd_bundle(int argc, char **argv);
int cmd_protect(int argc, char **argv);
int cmd_clone(int argc, char **argv);
int cmd_rename(int argc, char **argv);
int cmd_unprotect(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int digest_main(int argc, char **argv);
int cmd_store(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_tags(int argc, char **argv);
int cmd_catalog(int argc, char **argv);
int cmd_login(int argc, char **argv);
int cmd_logout(int argc, char **argv);

/* Usage texts, shown by the command's --help and (first line) on usage errors. */
extern const char cmd_create_usage[], cmd_list_usage[], cmd_remove_usage[], cmd_start_usage[],
    cmd_export_usage[], cmd_exec_usage[], cmd_batch_usage[], cmd_bundle_usage[], digest_usage[],
    store_usage[], verify_usage[], inspect_usage[], tags_usage[], catalog_usage[], login_usage[],
    logout_usage[], cmd_protect_usage[], cmd_unprotect_usage[], cmd_rename_usage[],
    cmd_clone_usage[], cmd_doctor_usage[];

/* Helpers shared by the commands (applets/enroot/common.c). */
/* Is the boolean ENROOT_FORCE_OVERRIDE (or a -f flag) set? */
int cmd_forced(int flag);
/* Parse a command that has no options but --help: the index of its operands, after a usage
 * error unless there are MIN to MAX of them (MAX -1: no limit). */
int cmd_operands(int argc, char **argv, const char *usage, int min, int max);
/* Does `unsquashfs -s` accept path (a regular file)? Sets errno (EACCES for an unreadable
 * file, EINVAL for a file that is not squashfs). */
int cmd_is_image(const char *path);
/* Does path start with a squashfs 4.0 superblock? (No process: the start path uses it.) */
int cmd_is_squashfs(const char *path);
/* ENROOT_DATA_PATH/NAME, resolved; NULL with errno when it is not a directory. */
char *cmd_container_path(const char *name);
/* The node image store's directory: ENROOT_STORE_PATH, else ENROOT_CACHE_PATH/store
 * (malloc'd; dies when out of memory). */
/* An output file argument made absolute (its directory resolved); when it exists: die with
 * "File already exists", or remove it when force is set. */
char *cmd_output_path(const char *arg, int force);
/* create's extraction: unsquashfs IMAGE into DIR/.NAME.XXXXXX, restore the modes, make the
 * tree readable and deletable by its owner, rename it to TARGET. Prints why it failed;
 * returns the exit status. */
int cmd_extract(const char *image, const char *dir, const char *name, const char *target);

/* A registry client for the docker:// URI (inspect, tags, catalog); dies with enroot's
 * messages.  Free with registry_close, imageref_free and free(*creds). */
struct imageref;
struct imageref_platform;
struct registry;
void cmd_registry_open(const char *uri, const char *arch, struct imageref *ref,
		       struct imageref_platform *plat, struct registry *r, char **creds);
/* Print regquery_list's WHAT (enum regquery_list) for URI, one a line; dies on failure. */
void cmd_registry_list(const char *uri, int what);

/* Protection marks (applets/enroot/protect.c). */
/* Is NAME a valid container name: not empty, no '/', not "." or ".."? */
int cmd_valid_name(const char *name);
/* ENROOT_DATA_PATH/.NAME.protected, the mark of a protected container (malloc'd). */
char *cmd_protect_path(const char *name);
/* Is container NAME protected (its mark exists)? */
int cmd_is_protected(const char *name);
/* Die with one [ERROR] line when container NAME is protected (remove, create -f, load -f). */
void cmd_refuse_protected(const char *name);

#endif
