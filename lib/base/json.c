/* json: thin accessors over yajl_tree, the only code that touches yajl.  yajl is dlopen'ed on
 * the first parse (lib/base/dl.h): most execs of the multicall binary (the start chain's
 * applets) never read JSON and so do not map it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "base/dl.h"
#include "base/buf.h"
#include "base/json.h"

static struct {
	yajl_val (*parse)(const char *, char *, size_t);
	void (*free)(yajl_val);
} yj;

/* Load libyajl once; -1 with errno set and a reason in err when it cannot be. */
static int yajl_load(char *err, size_t errlen)
{
	static const char *const sonames[] = {"libyajl.so.2", "libyajl.so", NULL};
	static const char *const syms[] = {"yajl_tree_parse", "yajl_tree_free"};
	void *ptrs[2];

	if (yj.parse)
		return 0;
	if (dl_load(sonames, syms, ptrs, 2) < 0) {
		if (err && errlen)
			snprintf(err, errlen, "cannot load libyajl: %s", dl_error());
		return -1;
	}
	*(void **)&yj.free = ptrs[1];
	*(void **)&yj.parse = ptrs[0];
	return 0;
}

json_t json_parse(const char *text, size_t len, char *err, size_t errlen)
{
	char ebuf[256] = "";
	char *copy;
	yajl_val v;

	if (yajl_load(err, errlen) < 0)
		return NULL;
	if (!(copy = malloc(len + 1)))
		return NULL;
	memcpy(copy, text, len);
	copy[len] = '\0';
	/* An embedded NUL would silently truncate the document: reject it. */
	if (strlen(copy) != len) {
		free(copy);
		if (err && errlen)
			snprintf(err, errlen, "NUL byte in JSON text");
		errno = EINVAL;
		return NULL;
	}
	v = yj.parse(copy, ebuf, sizeof(ebuf));
	free(copy);
	if (!v) {
		if (err && errlen) {
			/* yajl's message spans lines; keep the first for a one-line error. */
			ebuf[strcspn(ebuf, "\n")] = '\0';
			snprintf(err, errlen, "%s", *ebuf ? ebuf : "invalid JSON");
		}
		errno = EINVAL;
		return NULL;
	}
	return v;
}

void json_free(json_t root)
{
	if (root && yj.free)
		yj.free(root);
}

json_t json_get(json_t obj, const char *key)
{
	if (!obj || !YAJL_IS_OBJECT(obj))
		return NULL;
	/* The last duplicate key wins, as in most JSON readers. */
	for (size_t i = obj->u.object.len; i-- > 0;)
		if (!strcmp(obj->u.object.keys[i], key))
			return obj->u.object.values[i];
	return NULL;
}

json_t json_path(json_t v, ...)
{
	va_list ap;
	const char *key;

	va_start(ap, v);
	while (v && (key = va_arg(ap, const char *)))
		v = json_get(v, key);
	va_end(ap);
	return v;
}

const char *json_string(json_t v)
{
	return v && YAJL_IS_STRING(v) ? v->u.string : NULL;
}

int json_integer(json_t v, long long *out)
{
	if (!v || !YAJL_IS_INTEGER(v))
		return -1;
	*out = v->u.number.i;
	return 0;
}

int json_is_object(json_t v)
{
	return v && YAJL_IS_OBJECT(v);
}

int json_is_array(json_t v)
{
	return v && YAJL_IS_ARRAY(v);
}

int json_is_true(json_t v)
{
	return v && YAJL_IS_TRUE(v);
}

size_t json_array_len(json_t v)
{
	return json_is_array(v) ? v->u.array.len : 0;
}

json_t json_array_at(json_t v, size_t i)
{
	return i < json_array_len(v) ? v->u.array.values[i] : NULL;
}

size_t json_object_len(json_t v)
{
	return json_is_object(v) ? v->u.object.len : 0;
}

const char *json_object_key(json_t v, size_t i)
{
	return i < json_object_len(v) ? v->u.object.keys[i] : NULL;
}

json_t json_object_value(json_t v, size_t i)
{
	return i < json_object_len(v) ? v->u.object.values[i] : NULL;
}

int json_write_string(struct buf *b, const char *s)
{
	int rc = buf_addc(b, '"');

	for (; !rc && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			rc = buf_printf(b, "\\%c", c);
		else if (c == '\n')
			rc = buf_adds(b, "\\n");
		else if (c == '\t')
			rc = buf_adds(b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			rc = buf_printf(b, "\\u%04x", c);
		else
			rc = buf_addc(b, (char)c);
	}
	return rc ? rc : buf_addc(b, '"');
}

int json_write(struct buf *b, json_t v)
{
	int rc = 0;

	if (!v || YAJL_IS_NULL(v))
		return buf_adds(b, "null");
	if (YAJL_IS_TRUE(v))
		return buf_adds(b, "true");
	if (YAJL_IS_FALSE(v))
		return buf_adds(b, "false");
	if (YAJL_IS_STRING(v))
		return json_write_string(b, v->u.string);
	if (YAJL_IS_NUMBER(v))
		return buf_adds(b, v->u.number.r ? v->u.number.r : "0");
	if (YAJL_IS_ARRAY(v)) {
		rc = buf_addc(b, '[');
		for (size_t i = 0; !rc && i < v->u.array.len; i++)
			rc = (i ? buf_addc(b, ',') : 0) || json_write(b, v->u.array.values[i]);
		return rc ? rc : buf_addc(b, ']');
	}
	rc = buf_addc(b, '{');
	for (size_t i = 0; !rc && i < v->u.object.len; i++)
		rc = (i ? buf_addc(b, ',') : 0) || json_write_string(b, v->u.object.keys[i]) ||
		     buf_addc(b, ':') || json_write(b, v->u.object.values[i]);
	return rc ? rc : buf_addc(b, '}');
}
