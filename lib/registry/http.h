/* http: one HTTP(S) request through libcurl (dlopen'ed on first use, see dl.h), with enroot's
 * settings (spec §2.3, §4.2): ENROOT_CONNECT_TIMEOUT, ENROOT_TRANSFER_TIMEOUT,
 * ENROOT_TRANSFER_RETRIES, ENROOT_ALLOW_HTTP, the *_proxy variables and the CA variables
 * CURL_CA_BUNDLE, SSL_CERT_FILE and SSL_CERT_DIR.
 *
 * Redirects are followed here, not by curl, so that Authorization headers and Basic
 * credentials are dropped whenever the next URL is on another scheme, host or port
 * (PITFALLS §3.3).  Connection errors, 408, 429 and 5xx are retried with exponential backoff,
 * honouring a Retry-After of up to HTTP_MAX_RETRY_AFTER seconds; a 429 or 503 that carries
 * Retry-After is retried (up to HTTP_DEFAULT_RETRIES times) even when ENROOT_TRANSFER_RETRIES
 * is 0. */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>

#include "base/buf.h"

#define HTTP_DEFAULT_MAX_BODY (4u << 20)
#define HTTP_DEFAULT_RETRIES  3
#define HTTP_MAX_REDIRECTS    10
#define HTTP_MAX_RETRY_AFTER  60

struct http_request {
	const char *method; /* "GET" (default) or "HEAD" */
	const char *url;
	const char *const *headers;  /* NULL-terminated "Name: value" lines, or NULL */
	const char *user, *password; /* HTTP Basic credentials, or NULL */
	/* Consumer of a 2xx body; NULL buffers it in resp->body.  Returns 0, or -1 with errno
	 * set to abort the transfer (http_request then fails with that errno). */
	int (*sink)(void *ctx, const void *data, size_t len);
	/* Called before a retry when the sink already got data: rewind it (0) or refuse (-1).
	 * Without it, a transfer that failed after the sink got data is not retried. */
	int (*reset)(void *ctx);
	void *ctx;
	size_t max_body; /* bound for a buffered body (0: HTTP_DEFAULT_MAX_BODY) */
};

struct http_response {
	long status;	 /* last HTTP status, 0 when none was received */
	struct buf body; /* buffered body (2xx without sink, or the start of an error body) */
	char **headers;	 /* "Name: value" lines of the final response */
	size_t nheaders;
	char *url;	 /* effective URL after redirects */
	char reason[64]; /* reason phrase, or a standard one when HTTP/2 sent none */
	char error[256]; /* transport error text after -1 */
};

/* Perform the request.  resp is initialised here (callers need not clear it) and must be
 * released with http_response_free whatever the result.  Returns 0 when a final response was
 * received, whatever its status; -1 on a transport error, a disallowed protocol
 * (EPROTONOSUPPORT), a body over max_body (EFBIG), a sink failure (its errno) or too many
 * redirects (ELOOP), with errno set and a reason in resp->error. */
int http_request(const struct http_request *req, struct http_response *resp);

/* The value of the last header called name (case-insensitive), or NULL. */
const char *http_header(const struct http_response *resp, const char *name);

void http_response_free(struct http_response *resp);

/* 1 when ENROOT_ALLOW_HTTP is enabled (non-empty and not a false word). */
int http_allow_http(void);

/* "https" or "http" (with ENROOT_ALLOW_HTTP), the scheme enroot uses for registries. */
const char *http_scheme(void);

/* Percent-encode s for a URL query component into b.  -1 with ENOMEM. */
int http_urlencode(struct buf *b, const char *s);

#endif
