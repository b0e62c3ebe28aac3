/* json: read-only access to parsed JSON (yajl's tree). Values are borrowed from the root and
 * live until json_free(root). Every accessor accepts NULL and returns NULL/0 for a value of
 * the wrong type, so lookups chain without checks: json_string(json_get(cfg, "os")). */
#ifndef JSON_H
#define JSON_H

#include <stddef.h>

typedef struct yajl_val_s *json_t;

/* Parse len bytes (need not be NUL-terminated). NULL with errno EINVAL on a syntax error,
 * with a one-line reason in err when err is not NULL. */
json_t json_parse(const char *text, size_t len, char *err, size_t errlen);
void json_free(json_t root);

json_t json_get(json_t obj, const char *key);
/* Follow a chain of object keys, e.g. json_path(cfg, "config", "Env", NULL). */
json_t json_path(json_t v, ...) __attribute__((sentinel));
const char *json_string(json_t v);
/* 0 and *out set for an integer value; -1 otherwise. */
int json_integer(json_t v, long long *out);
int json_is_object(json_t v);
int json_is_array(json_t v);
int json_is_true(json_t v);
size_t json_array_len(json_t v);
json_t json_array_at(json_t v, size_t i);
size_t json_object_len(json_t v);
const char *json_object_key(json_t v, size_t i);
json_t json_object_value(json_t v, size_t i);

/* Append S as a JSON string (quoted, escaped; invalid UTF-8 passes through as bytes). */
struct buf;
int json_write_string(struct buf *b, const char *s);
/* Append V (any parsed value) as compact JSON; NULL writes null.  -1 with ENOMEM. */
int json_write(struct buf *b, json_t v);

#endif
