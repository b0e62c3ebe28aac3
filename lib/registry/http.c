/* http: requests through a dlopen'ed libcurl, with our own redirect and retry loops. */
#define CURL_DISABLE_DEPRECATION 1
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/config.h"
#include "base/dl.h"
#include "base/msg.h"
#include "base/version.h"
#include "registry/http.h"

/* The libcurl entry points we use, resolved once by load_curl. */
static struct {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} curl;

static const char *const curl_syms[] = {
    "curl_global_init",	  "curl_easy_init",    "curl_easy_setopt",
    "curl_easy_perform",  "curl_easy_getinfo", "curl_easy_cleanup",
    "curl_easy_strerror", "curl_slist_append", "curl_slist_free_all",
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_loaded = -1;
static int curl_errno;

static void load_curl_once(void)
{
	static const char *const sonames[] = {"libcurl.so.4", "libcurl-gnutls.so.4", NULL};
	void *ptrs[sizeof(curl_syms) / sizeof(curl_syms[0])];
	size_t n = sizeof(curl_syms) / sizeof(curl_syms[0]);

	if (dl_load(sonames, curl_syms, ptrs, n) < 0) {
		curl_errno = errno;
		return;
	}
	memcpy(&curl, ptrs, sizeof(ptrs));
	if (curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		curl_errno = ENOMEM;
		return;
	}
	curl_loaded = 0;
}

/* Load libcurl on first use (thread-safe, once per process). */
static int load_curl(void)
{
	_Static_assert(sizeof(curl) == sizeof(void *) * (sizeof(curl_syms) / sizeof(curl_syms[0])),
		       "curl table and symbol list differ");
	pthread_once(&curl_once, load_curl_once);
	if (curl_loaded < 0)
		errno = curl_errno;
	return curl_loaded;
}

int http_allow_http(void)
{
	return config_enabled("ENROOT_ALLOW_HTTP");
}

const char *http_scheme(void)
{
	return http_allow_http() ? "http" : "https";
}

int http_urlencode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~", c)) {
			if (buf_addc(b, (char)c) < 0)
				return -1;
		} else if (buf_addc(b, '%') < 0 || buf_addc(b, hex[c >> 4]) < 0 ||
			   buf_addc(b, hex[c & 15]) < 0) {
			return -1;
		}
	}
	return 0;
}

/* The per-attempt state shared with the curl callbacks. */
struct xfer {
	const struct http_request *req;
	struct http_response *resp;
	CURL *h;
	size_t max_body;
	size_t sunk;	/* bytes handed to the sink in this attempt */
	int sink_errno; /* set when the sink or the body bound aborted the transfer */
};

/* Bytes of an error body (non-2xx) kept for messages; the rest is dropped. */
#define ERROR_BODY_MAX 65536

static void free_headers(struct http_response *resp)
{
	for (size_t i = 0; i < resp->nheaders; i++)
		free(resp->headers[i]);
	free(resp->headers);
	resp->headers = NULL;
	resp->nheaders = 0;
}

/* Remember the reason phrase of a status line "HTTP/x yyy Reason". */
static void set_reason(struct http_response *resp, const char *line, size_t len)
{
	const char *p = memchr(line, ' ', len), *end = line + len;
	size_t n;

	resp->reason[0] = '\0';
	if (!p || end - p < 4)
		return;
	p += 4;
	while (p < end && *p == ' ')
		p++;
	n = (size_t)(end - p);
	if (n >= sizeof(resp->reason))
		n = sizeof(resp->reason) - 1;
	memcpy(resp->reason, p, n);
	resp->reason[n] = '\0';
}

/* Header callback: a status line starts a new header block (1xx, proxy CONNECT). */
static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	struct http_response *resp = x->resp;
	size_t len = size * n, l = len;
	char **grown;

	while (l && (data[l - 1] == '\r' || data[l - 1] == '\n'))
		l--;
	if (l >= 5 && !strncmp(data, "HTTP/", 5)) {
		free_headers(resp);
		set_reason(resp, data, l);
		return len;
	}
	if (!l || !memchr(data, ':', l) || resp->nheaders >= 1000)
		return len;
	grown = realloc(resp->headers, (resp->nheaders + 1) * sizeof(*grown));
	if (!grown)
		return 0;
	resp->headers = grown;
	resp->headers[resp->nheaders] = strndup(data, l);
	if (!resp->headers[resp->nheaders])
		return 0;
	resp->nheaders++;
	return len;
}

/* Body callback: 2xx bodies go to the sink (or the bounded buffer); others are kept in part. */
static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	long code = 0;

	curl.easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299) {
		size_t room =
		    x->resp->body.len < ERROR_BODY_MAX ? ERROR_BODY_MAX - x->resp->body.len : 0;
		if (buf_add(&x->resp->body, data, len < room ? len : room) < 0)
			return 0;
		return len;
	}
	if (x->req->sink) {
		if (x->req->sink(x->req->ctx, data, len) < 0) {
			x->sink_errno = errno ? errno : EIO;
			return 0;
		}
		x->sunk += len;
		return len;
	}
	if (x->resp->body.len + len > x->max_body) {
		x->sink_errno = EFBIG;
		return 0;
	}
	if (buf_add(&x->resp->body, data, len) < 0) {
		x->sink_errno = ENOMEM;
		return 0;
	}
	return len;
}

/* 1 when url starts with a scheme we may use: https, or http with ENROOT_ALLOW_HTTP. */
static int scheme_allowed(const char *url)
{
	if (!strncasecmp(url, "https://", 8))
		return 1;
	return http_allow_http() && !strncasecmp(url, "http://", 7);
}

/* Length of "scheme://authority" at the start of url. */
static size_t origin_len(const char *url)
{
	const char *p = strstr(url, "://");

	if (!p)
		return strlen(url);
	p += 3;
	return (size_t)(p - url) + strcspn(p, "/?#");
}

/* 1 when a and b have the same scheme, host and port: credentials may follow the redirect. */
static int same_origin(const char *a, const char *b)
{
	size_t la = origin_len(a), lb = origin_len(b);

	return la == lb && !strncasecmp(a, b, la);
}

static int is_auth_header(const char *h)
{
	return !strncasecmp(h, "Authorization:", 14);
}

/* The request headers as a curl list; Authorization lines only when keep_auth. */
static int build_headers(const struct http_request *req, int keep_auth, struct curl_slist **out)
{
	struct curl_slist *l = NULL, *n;

	*out = NULL;
	for (size_t i = 0; req->headers && req->headers[i]; i++) {
		if (!keep_auth && is_auth_header(req->headers[i]))
			continue;
		n = curl.slist_append(l, req->headers[i]);
		if (!n) {
			curl.slist_free_all(l);
			errno = ENOMEM;
			return -1;
		}
		l = n;
	}
	*out = l;
	return 0;
}

/* Log a request for ENROOT_DEBUG, with credentials redacted.  Query strings of redirect
 * targets are dropped too: CDNs put signatures there (pre-signed URLs). */
static void debug_request(const struct http_request *req, const char *url, int keep_auth)
{
	int auth = 0, len = (int)strlen(url);

	for (size_t i = 0; keep_auth && req->headers && req->headers[i]; i++)
		auth |= is_auth_header(req->headers[i]);
	if (strcmp(url, req->url) && strchr(url, '?'))
		len = (int)(strchr(url, '?') - url);
	msg_debug("http: %s %.*s%s%s%s", req->method ? req->method : "GET", len, url,
		  len < (int)strlen(url) ? "?<redacted>" : "",
		  auth ? " (Authorization: <redacted>)" : "",
		  keep_auth && req->user ? " (Basic credentials: <redacted>)" : "");
}

/* Set the options of one request on a fresh handle. */
static void set_options(CURL *h, struct xfer *x, const char *url, int keep_auth,
			struct curl_slist *hdrs, char *errbuf)
{
	const struct http_request *req = x->req;
	const char *ca = getenv("CURL_CA_BUNDLE");

	curl.easy_setopt(h, CURLOPT_URL, url);
	curl.easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	if (curl.easy_setopt(h, CURLOPT_PROTOCOLS_STR, http_allow_http() ? "http,https" : "https"))
		curl.easy_setopt(
		    h, CURLOPT_PROTOCOLS,
		    (long)(CURLPROTO_HTTPS | (http_allow_http() ? CURLPROTO_HTTP : 0)));
	curl.easy_setopt(h, CURLOPT_USERAGENT, "enroot/" ENROOT_VERSION);
	curl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT, config_long("ENROOT_CONNECT_TIMEOUT", 30, 0));
	curl.easy_setopt(h, CURLOPT_TIMEOUT, config_long("ENROOT_TRANSFER_TIMEOUT", 0, 0));
	if (!ca || !*ca)
		ca = getenv("SSL_CERT_FILE");
	if (ca && *ca)
		curl.easy_setopt(h, CURLOPT_CAINFO, ca);
	if (getenv("SSL_CERT_DIR") && *getenv("SSL_CERT_DIR"))
		curl.easy_setopt(h, CURLOPT_CAPATH, getenv("SSL_CERT_DIR"));
	if (req->method && !strcmp(req->method, "HEAD"))
		curl.easy_setopt(h, CURLOPT_NOBODY, 1L);
	if (keep_auth && req->user) {
		curl.easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl.easy_setopt(h, CURLOPT_USERNAME, req->user);
		curl.easy_setopt(h, CURLOPT_PASSWORD, req->password ? req->password : "");
	}
	curl.easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl.easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl.easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl.easy_setopt(h, CURLOPT_WRITEDATA, x);
}

/* errno for a curl failure. */
static int curl_errno_of(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return EHOSTUNREACH;
	case CURLE_UNSUPPORTED_PROTOCOL:
		return EPROTONOSUPPORT;
	case CURLE_OUT_OF_MEMORY:
		return ENOMEM;
	default:
		return EIO;
	}
}

/* Reset the response for a new attempt or redirect hop. */
static void resp_clear(struct http_response *resp)
{
	free_headers(resp);
	buf_reset(&resp->body);
	resp->status = 0;
	resp->reason[0] = '\0';
}

/* One request to url.  Returns the CURLcode; *next gets the redirect target, if any. */
static CURLcode one_hop(struct xfer *x, const char *url, int keep_auth, char **next)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs;
	char *loc = NULL;
	CURLcode rc;

	*next = NULL;
	resp_clear(x->resp);
	if (build_headers(x->req, keep_auth, &hdrs) < 0)
		return CURLE_OUT_OF_MEMORY;
	x->h = curl.easy_init();
	if (!x->h) {
		curl.slist_free_all(hdrs);
		return CURLE_OUT_OF_MEMORY;
	}
	debug_request(x->req, url, keep_auth);
	set_options(x->h, x, url, keep_auth, hdrs, errbuf);
	rc = curl.easy_perform(x->h);
	curl.easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->resp->status);
	if (rc == CURLE_OK && x->resp->status >= 300 && x->resp->status < 400 &&
	    curl.easy_getinfo(x->h, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc)
		*next = strdup(loc);
	if (rc != CURLE_OK)
		snprintf(x->resp->error, sizeof(x->resp->error), "%s",
			 errbuf[0] ? errbuf : curl.easy_strerror(rc));
	curl.easy_cleanup(x->h);
	curl.slist_free_all(hdrs);
	x->h = NULL;
	msg_debug("http: status %ld%s%s", x->resp->status, rc ? ": " : "",
		  rc ? x->resp->error : "");
	return rc;
}

static int is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* Turn a failed hop into errno and resp->error. */
static void hop_failed(struct xfer *x, CURLcode rc)
{
	if (x->sink_errno == EFBIG && !x->req->sink)
		snprintf(x->resp->error, sizeof(x->resp->error), "response body exceeds %zu bytes",
			 x->max_body);
	else if (x->sink_errno)
		snprintf(x->resp->error, sizeof(x->resp->error), "%s", strerror(x->sink_errno));
	errno = x->sink_errno ? x->sink_errno : curl_errno_of(rc);
}

/* Follow redirects from req->url to a final response; 0, or -1 with errno and resp->error.
 * Credentials stay only while every hop has the origin of the first URL. */
static int follow(struct xfer *x, CURLcode *rc)
{
	char *url = strdup(x->req->url), *next;
	int keep_auth = 1;

	*rc = CURLE_OK;
	for (int hops = 0; url; hops++) {
		if (!scheme_allowed(url)) {
			snprintf(x->resp->error, sizeof(x->resp->error),
				 "protocol not allowed: %s%s", url,
				 http_allow_http() ? "" : " (set ENROOT_ALLOW_HTTP to allow http)");
			free(url);
			errno = EPROTONOSUPPORT;
			return -1;
		}
		*rc = one_hop(x, url, keep_auth, &next);
		if (*rc != CURLE_OK || !next || !is_redirect(x->resp->status)) {
			free(next);
			if (*rc != CURLE_OK) {
				free(url);
				hop_failed(x, *rc);
				return -1;
			}
			x->resp->url = url;
			return 0;
		}
		if (hops >= HTTP_MAX_REDIRECTS) {
			snprintf(x->resp->error, sizeof(x->resp->error), "too many redirects: %s",
				 x->req->url);
			free(url);
			free(next);
			errno = ELOOP;
			return -1;
		}
		keep_auth = keep_auth && same_origin(url, next);
		free(url);
		url = next;
	}
	errno = ENOMEM;
	snprintf(x->resp->error, sizeof(x->resp->error), "%s", strerror(ENOMEM));
	return -1;
}

static int retryable_status(long s)
{
	return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

static int retryable_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

/* A 429 or 503 with Retry-After is the server asking to come back later: honoured up to
 * HTTP_DEFAULT_RETRIES times even when ENROOT_TRANSFER_RETRIES is 0 (enroot's default), so
 * that a rate-limited pull waits instead of failing or hammering (PITFALLS §3.3). */
static int server_asks_retry(int r, const struct http_response *resp, int attempt)
{
	return r == 0 && (resp->status == 429 || resp->status == 503) &&
	       http_header(resp, "Retry-After") && attempt < HTTP_DEFAULT_RETRIES;
}

/* Seconds to wait before retry number attempt+1: Retry-After (bounded) or 1, 2, 4, ... 30. */
static unsigned backoff(const struct http_response *resp, int attempt)
{
	const char *ra = http_header(resp, "Retry-After");
	unsigned base = attempt < 5 ? 1u << attempt : 30;
	char *end;
	long v;

	if (ra) {
		errno = 0;
		v = strtol(ra, &end, 10);
		if (!errno && end != ra && !*end && v >= 0)
			return v > HTTP_MAX_RETRY_AFTER ? HTTP_MAX_RETRY_AFTER : (unsigned)v;
	}
	return base;
}

static void sleep_seconds(unsigned s)
{
	struct timespec ts = {(time_t)s, 0};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A standard reason phrase for HTTP/2 responses, which carry none. */
static void default_reason(struct http_response *resp)
{
	static const struct {
		long code;
		const char *text;
	} reasons[] = {
	    {200, "OK"},
	    {400, "Bad Request"},
	    {401, "Unauthorized"},
	    {403, "Forbidden"},
	    {404, "Not Found"},
	    {405, "Method Not Allowed"},
	    {408, "Request Timeout"},
	    {429, "Too Many Requests"},
	    {500, "Internal Server Error"},
	    {502, "Bad Gateway"},
	    {503, "Service Unavailable"},
	    {504, "Gateway Timeout"},
	};

	if (resp->reason[0])
		return;
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == resp->status)
			snprintf(resp->reason, sizeof(resp->reason), "%s", reasons[i].text);
}

int http_request(const struct http_request *req, struct http_response *resp)
{
	long retries = config_long("ENROOT_TRANSFER_RETRIES", HTTP_DEFAULT_RETRIES, 0);
	CURLcode rc;
	int r, saved;

	memset(resp, 0, sizeof(*resp));
	if (load_curl() < 0) {
		saved = errno;
		snprintf(resp->error, sizeof(resp->error), "failed to load libcurl: %s",
			 dl_error());
		errno = saved;
		return -1;
	}
	for (int attempt = 0;; attempt++) {
		struct xfer x = {
		    req, resp, NULL, req->max_body ? req->max_body : HTTP_DEFAULT_MAX_BODY, 0, 0};
		free(resp->url);
		resp->url = NULL;
		r = follow(&x, &rc);
		saved = errno;
		if (attempt >= retries && !server_asks_retry(r, resp, attempt))
			break;
		if (r < 0 ? x.sink_errno || !retryable_curl(rc) : !retryable_status(resp->status))
			break;
		if (x.sunk && (!req->reset || req->reset(req->ctx) < 0))
			break;
		msg_debug("http: retrying %s in %u s (%s)", req->url, backoff(resp, attempt),
			  r < 0 ? resp->error : resp->reason);
		sleep_seconds(backoff(resp, attempt));
		resp->error[0] = '\0';
	}
	if (r == 0)
		default_reason(resp);
	errno = saved;
	return r;
}

const char *http_header(const struct http_response *resp, const char *name)
{
	size_t n = strlen(name);
	const char *v = NULL;

	for (size_t i = 0; i < resp->nheaders; i++) {
		const char *h = resp->headers[i];
		if (!strncasecmp(h, name, n) && h[n] == ':') {
			v = h + n + 1;
			while (*v == ' ' || *v == '\t')
				v++;
		}
	}
	return v;
}

void http_response_free(struct http_response *resp)
{
	free_headers(resp);
	buf_free(&resp->body);
	free(resp->url);
	resp->url = NULL;
}
