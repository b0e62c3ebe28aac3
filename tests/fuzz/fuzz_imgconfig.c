/* fuzz_imgconfig: image config JSON -> /etc/rc, /etc/fstab, /etc/environment text in memory.
 * Besides memory errors, it checks what keeps the rc script safe: the comment block cannot
 * grow a command line, quoted words hold no raw newline, and the script ends as rendered. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/imgconfig.h"

/* Every line before the "mkdir -p" line is a comment or blank. */
static void check_comments(const char *rc)
{
	const char *p = rc;

	while (strncmp(p, "mkdir -p ", 9)) {
		if (*p != '#' && *p != '\n')
			abort();
		p = strchr(p, '\n');
		if (!p)
			abort();
		p++;
	}
}

/* The quoted form of a word is one line and starts with a quote or $'. */
static void check_quote(const char *w)
{
	struct buf b = BUF_INIT;

	if (imgconfig_quote(&b, w) < 0)
		return;
	if (strchr(b.data, '\n') || !(b.data[0] == '\'' || b.data[0] == '$' || b.data[0] == '\\'))
		abort();
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imgconfig ic;
	json_t cfg = json_parse((const char *)data, size, NULL, 0);
	char *word;

	word = malloc(size + 1);
	memcpy(word, data, size);
	word[size] = '\0';
	check_quote(word);
	free(word);
	if (!cfg)
		return 0;
	if (imgconfig_render(cfg, "docker://fuzz#img:tag", &ic) == 0) {
		check_comments(ic.rc.data);
		if (ic.rc.len < 3 || strcmp(ic.rc.data + ic.rc.len - 3, "fi\n"))
			abort();
		imgconfig_free(&ic);
	}
	json_free(cfg);
	return 0;
}
