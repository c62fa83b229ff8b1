/* value.c — owned tuples, their checkpoint form, and UTF-8 checks. */
#include "lib/value.h"

#include "lib/errors.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

const char *vtype_name(enum vtype t)
{
    static const char *const names[] = {"null", "integer", "real", "text",
                                        "blob"};
    return names[t];
}

void tuple_free(struct tuple *t)
{
    if (!t->v) {
        t->n = 0;
        return;
    }
    for (int i = 0; i < t->n; i++)
        free((void *)t->v[i].p);
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

int tuple_set(struct tuple *t, const struct value *vals, int n)
{
    struct value *v = xcalloc((size_t)(n ? n : 1), sizeof *v);

    for (int i = 0; i < n; i++) {
        v[i] = vals[i];
        v[i].p = NULL;
        if (vals[i].type == V_TEXT || vals[i].type == V_BLOB) {
            unsigned char *bytes = xmalloc(vals[i].n + 1);
            if (vals[i].n)
                memcpy(bytes, vals[i].p, vals[i].n);
            bytes[vals[i].n] = '\0';
            v[i].p = bytes;
        }
    }
    tuple_free(t);
    t->v = v;
    t->n = n;
    return 0;
}

int tuple_copy(struct tuple *dst, const struct tuple *src)
{
    if (src->n == 0 && !src->v) {
        tuple_free(dst);
        return 0;
    }
    return tuple_set(dst, src->v, src->n);
}

int tuple_equal(const struct tuple *a, const struct tuple *b)
{
    if (a->n != b->n)
        return 0;
    for (int i = 0; i < a->n; i++) {
        const struct value *x = &a->v[i], *y = &b->v[i];
        if (x->type != y->type)
            return 0;
        switch (x->type) {
        case V_NULL: break;
        case V_INT: if (x->i != y->i) return 0; break;
        case V_REAL: if (memcmp(&x->r, &y->r, sizeof x->r)) return 0; break;
        default:
            if (x->n != y->n || (x->n && memcmp(x->p, y->p, x->n)))
                return 0;
        }
    }
    return 1;
}

static char *hex_encode(const unsigned char *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *out = xmalloc(2 * n + 1);

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
    return out;
}

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static unsigned char *hex_decode(const char *s, size_t *n)
{
    size_t len = strlen(s);
    unsigned char *out;

    if (len % 2)
        return NULL;
    out = xmalloc(len / 2 + 1);
    for (size_t i = 0; i < len / 2; i++) {
        int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(out);
            return NULL;
        }
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    out[len / 2] = '\0';
    *n = len / 2;
    return out;
}

json_t *value_to_json(const struct value *v)
{
    char buf[64];
    char *hex;
    json_t *j;

    switch (v->type) {
    case V_NULL:
        return json_null();
    case V_INT:
        return json_integer(v->i);
    case V_REAL:
        snprintf(buf, sizeof buf, "%a", v->r);
        return json_pack("{ss}", "real", buf);
    case V_TEXT:
        if (utf8_valid(v->p, v->n) && !memchr(v->p, 0, v->n))
            return json_stringn((const char *)v->p, v->n);
        /* not representable as a JSON string */
        /* fall through */
    case V_BLOB:
        hex = hex_encode(v->p, v->n);
        j = json_pack("{ss}", v->type == V_BLOB ? "blob_hex" : "text_hex",
                      hex ? hex : "");
        free(hex);
        return j;
    }
    return json_null();
}

json_t *tuple_to_json(const struct tuple *t)
{
    json_t *arr = json_array();

    for (int i = 0; i < t->n; i++)
        json_array_append_new(arr, value_to_json(&t->v[i]));
    return arr;
}

static int value_from_json(json_t *j, struct value *v)
{
    const char *s;

    memset(v, 0, sizeof *v);
    if (json_is_null(j))
        return 0;
    if (json_is_integer(j)) {
        v->type = V_INT;
        v->i = json_integer_value(j);
        return 0;
    }
    if (json_is_string(j)) {
        unsigned char *bytes;
        v->type = V_TEXT;
        v->n = json_string_length(j);
        bytes = xmalloc(v->n + 1);
        memcpy(bytes, json_string_value(j), v->n);
        bytes[v->n] = '\0';
        v->p = bytes;
        return 0;
    }
    if (!json_is_object(j) || json_object_size(j) != 1)
        return -1;
    if ((s = json_string_value(json_object_get(j, "real")))) {
        char *end;
        v->type = V_REAL;
        v->r = strtod(s, &end);
        return *end ? -1 : 0;
    }
    if ((s = json_string_value(json_object_get(j, "text_hex"))))
        v->type = V_TEXT;
    else if ((s = json_string_value(json_object_get(j, "blob_hex"))))
        v->type = V_BLOB;
    else
        return -1;
    v->p = hex_decode(s, &v->n);
    return v->p ? 0 : -1;
}

int tuple_from_json(json_t *j, struct tuple *t)
{
    size_t n;
    struct value *v;

    tuple_free(t);
    if (!json_is_array(j) || json_array_size(j) == 0 ||
        json_array_size(j) > 64)
        return -1;
    n = json_array_size(j);
    v = xcalloc(n, sizeof *v);
    t->v = v;
    for (size_t i = 0; i < n; i++) {
        t->n = (int)i;
        if (value_from_json(json_array_get(j, i), &v[i]) < 0) {
            tuple_free(t);
            return -1;
        }
    }
    t->n = (int)n;
    return 0;
}

void value_format(const struct value *v, char *buf, size_t cap)
{
    size_t o = 0;

    switch (v->type) {
    case V_NULL: snprintf(buf, cap, "NULL"); return;
    case V_INT: snprintf(buf, cap, "%" PRId64, v->i); return;
    case V_REAL: snprintf(buf, cap, "%.17g", v->r); return;
    case V_TEXT:
        if (utf8_valid(v->p, v->n)) {
            o = (size_t)snprintf(buf, cap, "'");
            for (size_t i = 0; i < v->n && o + 6 < cap; i++) {
                unsigned char c = v->p[i];
                if (c == '\'')
                    o += (size_t)snprintf(buf + o, cap - o, "''");
                else if (c < 0x20)
                    o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
                else
                    buf[o++] = (char)c;
            }
            snprintf(buf + o, cap - o, "%s'", v->n > cap ? "..." : "");
            return;
        }
        /* fall through */
    case V_BLOB:
        o = (size_t)snprintf(buf, cap, "x'");
        for (size_t i = 0; i < v->n && o + 8 < cap; i++)
            o += (size_t)snprintf(buf + o, cap - o, "%02x", v->p[i]);
        snprintf(buf + o, cap - o, "%s'", 2 * v->n + 8 > cap ? "..." : "");
        return;
    }
}

void tuple_format(const struct tuple *t, const char *const *names, char *buf,
                  size_t cap)
{
    char one[256];
    size_t o = 0;

    buf[0] = '\0';
    if (t->n == 1) {
        value_format(&t->v[0], one, sizeof one);
        snprintf(buf, cap, "%s=%s", names ? names[0] : "key", one);
        return;
    }
    o += (size_t)snprintf(buf + o, cap - o, "(");
    for (int i = 0; i < t->n && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? ", " : "",
                              names ? names[i] : "?");
    if (o < cap)
        o += (size_t)snprintf(buf + o, cap - o, ")=(");
    for (int i = 0; i < t->n && o < cap; i++) {
        value_format(&t->v[i], one, sizeof one);
        o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? ", " : "", one);
    }
    if (o < cap)
        snprintf(buf + o, cap - o, ")");
}

int utf8_valid(const unsigned char *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = p[i];
        size_t len;
        uint32_t cp;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
        else return 0;
        if (i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

void utf8_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);

    if (cap == 0)
        return;
    if (n >= cap)
        n = utf8_whole_chars(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

size_t utf8_chars(const unsigned char *p, size_t n)
{
    size_t chars = 0;

    for (size_t i = 0; i < n; i++)
        chars += (p[i] & 0xC0) != 0x80;
    return chars;
}

void value_excerpt(const struct value *v, char *buf, size_t cap)
{
    enum { SHOWN_CHARS = 40 };
    size_t o, i = 0, chars = 0;

    if (v->type == V_REAL) {
        /* the shortest form that reads back the same: what SQLite shows */
        for (int digits = 15; digits <= 17; digits++) {
            snprintf(buf, cap, "%.*g", digits, v->r);
            if (strtod(buf, NULL) == v->r)
                break;
        }
        return;
    }
    if (v->type != V_TEXT || !utf8_valid(v->p, v->n) || cap < 64) {
        value_format(v, buf, cap < 72 ? cap : 72);
        return;
    }
    buf[0] = '\'';
    o = 1;
    while (i < v->n && chars < SHOWN_CHARS && o + 8 < cap - 40) {
        size_t len = 1;
        while (i + len < v->n && (v->p[i + len] & 0xC0) == 0x80)
            len++;
        if (v->p[i] < 0x20) {
            o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", v->p[i]);
        } else {
            memcpy(buf + o, v->p + i, len);
            o += len;
        }
        i += len;
        chars++;
    }
    if (i < v->n)
        snprintf(buf + o, cap - o, "...' (%zu characters, %zu bytes)",
                 utf8_chars(v->p, v->n), v->n);
    else
        snprintf(buf + o, cap - o, "'");
}
