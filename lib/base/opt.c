/* opt: parse options one by one until "--", a word not starting with "-", or a lone "-".
 * Short options never bundle ("-rw" is rejected) and never take "-oVAL"; values come as
 * "-o VAL", "--output VAL" or "--output=VAL", and an empty value is an error. */
#include <string.h>

#include "base/msg.h"
#include "base/opt.h"

void opt_init(struct optparse *p, int argc, char **argv)
{
	p->argc = argc;
	p->argv = argv;
	p->ind = 1;
	p->arg = NULL;
	p->bad = NULL;
	p->missing = 0;
}

static const struct opt *find_long(const struct opt *opts, const char *word, size_t len)
{
	for (; opts->id || opts->name || opts->short_name; opts++)
		if (opts->name && strlen(opts->name) == len && !strncmp(opts->name, word, len))
			return opts;
	return NULL;
}

static const struct opt *find_short(const struct opt *opts, char c)
{
	for (; opts->id || opts->name || opts->short_name; opts++)
		if (opts->short_name == c)
			return opts;
	return NULL;
}

static int take_value(struct optparse *p, const struct opt *o, const char *word, const char *inl)
{
	if (inl) {
		p->arg = inl;
	} else if (p->ind < p->argc) {
		p->arg = p->argv[p->ind++];
	} else {
		p->arg = "";
	}
	if (!*p->arg) {
		p->bad = word;
		p->missing = 1;
		return OPT_BAD;
	}
	return o->id;
}

int opt_next(struct optparse *p, const struct opt *opts)
{
	const struct opt *o;
	const char *word, *eq;

	p->arg = NULL;
	if (p->ind >= p->argc)
		return OPT_DONE;
	word = p->argv[p->ind];
	if (word[0] != '-' || word[1] == '\0')
		return OPT_DONE;
	p->ind++;
	if (!strcmp(word, "--"))
		return OPT_DONE;
	if (word[1] == '-') {
		eq = strchr(word + 2, '=');
		o = find_long(opts, word + 2, eq ? (size_t)(eq - word - 2) : strlen(word + 2));
		if (!o && !eq && !strcmp(word, "--help"))
			return OPT_HELP;
		if (!o || (eq && !o->has_arg)) {
			p->bad = word;
			return OPT_BAD;
		}
		return o->has_arg ? take_value(p, o, word, eq ? eq + 1 : NULL) : o->id;
	}
	o = word[2] ? NULL : find_short(opts, word[1]);
	if (!o && !strcmp(word, "-h"))
		return OPT_HELP;
	if (!o) {
		p->bad = word;
		return OPT_BAD;
	}
	return o->has_arg ? take_value(p, o, word, NULL) : o->id;
}

void opt_fail(const struct optparse *p, const char *usage)
{
	msg_error("%s: %s", p->missing ? "missing or empty value for option" : "unknown option",
		  p->bad ? p->bad : "");
	usage_exit(usage, 1);
}
