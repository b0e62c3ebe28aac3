/* Fuzz lib/registry/netrc.c's parsers (never the evaluation: that would run a shell on the input).
 * The first line of the input names the host to look up, the rest is the netrc text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/netrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *nl = memchr(text, '\n', size);
	size_t hlen = nl ? (size_t)(nl - text) : 0;
	char *host = strndup(text, hlen);
	struct netrc_cred c;
	char *login;

	if (!host)
		return 0;
	text += nl ? hlen + 1 : 0;
	size -= nl ? hlen + 1 : 0;
	if (netrc_lookup(text, size, host, NULL, &c) == 0) {
		char *l = c.login ? strdup(c.login) : NULL;

		netrc_cred_free(&c);
		if (netrc_lookup(text, size, host, l, &c) < 0)
			abort(); /* looking up with the login found must find an entry again */
		netrc_cred_free(&c);
		free(l);
	}
	login = netrc_first_login(text, size, host);
	free(login);
	(void)netrc_needs_eval(text, size);
	free(host);
	return 0;
}
