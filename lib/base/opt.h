/* opt: the option parser every applet and driver command shares (enroot's rules, spec §1.1). */
#ifndef OPT_H
#define OPT_H

struct opt {
	const char *name; /* long name without the leading "--", or NULL */
	char short_name;  /* 0 when there is no short form */
	int has_arg;	  /* 1 when the option takes a value */
	int id;		  /* returned by opt_next */
};

struct optparse {
	int argc;
	char **argv;
	int ind;	 /* next word to look at; the first operand when opt_next says OPT_DONE */
	const char *arg; /* the value of the option just returned */
	const char *bad; /* the offending word after OPT_BAD */
	int missing;	 /* after OPT_BAD: 1 when a known option lacked its value */
};

enum { OPT_DONE = -1, OPT_HELP = -2, OPT_BAD = -3 };

void opt_init(struct optparse *p, int argc, char **argv);
/* Next option: its id, OPT_DONE at "--", the first non-option word or a lone "-",
 * OPT_HELP for -h/--help (unless the table defines them), OPT_BAD for an unknown option,
 * a bundled "-ab", or a missing or empty value. */
int opt_next(struct optparse *p, const struct opt *opts);
/* Die with "unknown option" or "missing value" and the usage line (exit 1). */
_Noreturn void opt_fail(const struct optparse *p, const char *usage);

#endif
