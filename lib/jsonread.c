/* jsonread.c — path-tracking readers for validating JSON documents. */
#include "lib/jsonread.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

void jr_init(struct jread *r, struct co_err *err, int code)
{
    r->err = err;
    r->code = code ? code : CO_ERUNBOOK;
    r->path[0] = '\0';
}

size_t jr_push_key(struct jread *r, const char *key)
{
    size_t mark = strlen(r->path);
    snprintf(r->path + mark, sizeof r->path - mark, "%s%s",
             mark ? "." : "", key);
    return mark;
}

size_t jr_push_index(struct jread *r, size_t index)
{
    size_t mark = strlen(r->path);
    snprintf(r->path + mark, sizeof r->path - mark, "[%zu]", index);
    return mark;
}

void jr_pop(struct jread *r, size_t mark) { r->path[mark] = '\0'; }

int jr_fail(struct jread *r, const char *key, const char *fmt, ...)
{
    char what[768];
    size_t mark = key ? jr_push_key(r, key) : strlen(r->path);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    co_errf(r->err, r->code, "%s: %s", r->path[0] ? r->path : "(top level)",
            what);
    jr_pop(r, mark);
    return r->code;
}

int jr_object(struct jread *r, json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *val;

    if (!json_is_object(obj))
        return jr_fail(r, NULL, "expected an object");
    json_object_foreach(obj, key, val) {
        int known = 0;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, key) == 0)
                known = 1;
        if (!known) {
            char list[512] = "";
            for (const char *const *a = allowed; *a; a++) {
                strncat(list, *a, sizeof list - strlen(list) - 3);
                if (a[1])
                    strncat(list, ", ", sizeof list - strlen(list) - 1);
            }
            return jr_fail(r, key, "unknown key (allowed here: %s)", list);
        }
    }
    return 0;
}

int jr_require(struct jread *r, json_t *obj, const char *key)
{
    if (!json_object_get(obj, key))
        return jr_fail(r, key, "required but missing");
    return 0;
}

int jr_str(struct jread *r, json_t *obj, const char *key, char **out)
{
    json_t *v = json_object_get(obj, key);

    if (!v)
        return 0;
    if (!json_is_string(v))
        return jr_fail(r, key, "expected a string");
    if (json_string_length(v) != strlen(json_string_value(v)))
        return jr_fail(r, key, "string contains a NUL byte");
    free(*out);
    *out = xstrdup(json_string_value(v));
    return 0;
}

int jr_num(struct jread *r, json_t *obj, const char *key, double min,
           double max, double *out)
{
    json_t *v = json_object_get(obj, key);
    double d;

    if (!v)
        return 0;
    if (!json_is_number(v))
        return jr_fail(r, key, "expected a number");
    d = json_number_value(v);
    if (!isfinite(d) || d < min || d > max)
        return jr_fail(r, key, "%g is out of range (%g to %g)", d, min, max);
    *out = d;
    return 0;
}

int jr_int(struct jread *r, json_t *obj, const char *key, long min, long max,
           int *out)
{
    json_t *v = json_object_get(obj, key);
    json_int_t i;

    if (!v)
        return 0;
    if (!json_is_integer(v))
        return jr_fail(r, key, "expected an integer");
    i = json_integer_value(v);
    if (i < min || i > max)
        return jr_fail(r, key, "%lld is out of range (%ld to %ld)",
                       (long long)i, min, max);
    *out = (int)i;
    return 0;
}

int jr_bool(struct jread *r, json_t *obj, const char *key, int *out)
{
    json_t *v = json_object_get(obj, key);

    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return jr_fail(r, key, "expected true or false");
    *out = json_is_true(v);
    return 0;
}

int jr_enum(struct jread *r, json_t *obj, const char *key,
            const char *const *names, int *out)
{
    json_t *v = json_object_get(obj, key);
    const char *s;
    char list[256] = "";

    if (!v)
        return 0;
    if (!json_is_string(v))
        return jr_fail(r, key, "expected a string");
    s = json_string_value(v);
    for (int i = 0; names[i]; i++) {
        if (strcmp(names[i], s) == 0) {
            *out = i;
            return 0;
        }
        strncat(list, names[i], sizeof list - strlen(list) - 3);
        if (names[i + 1])
            strncat(list, ", ", sizeof list - strlen(list) - 1);
    }
    return jr_fail(r, key, "\"%s\" is not one of: %s", s, list);
}

int jr_strv(struct jread *r, json_t *obj, const char *key, int allow_empty,
            char ***out, int *n)
{
    json_t *v = json_object_get(obj, key);
    size_t i;
    json_t *item;
    char **vec;

    if (!v)
        return 0;
    if (!json_is_array(v))
        return jr_fail(r, key, "expected an array of strings");
    if (!allow_empty && json_array_size(v) == 0)
        return jr_fail(r, key, "expected a non-empty array of strings");
    json_array_foreach(v, i, item) {
        if (!json_is_string(item))
            return jr_fail(r, key, "expected an array of strings");
    }
    vec = xcalloc(json_array_size(v) + 1, sizeof *vec);
    json_array_foreach(v, i, item)
        vec[i] = xstrdup(json_string_value(item));
    strv_free(*out, *n);
    *out = vec;
    *n = (int)json_array_size(v);
    return 0;
}

void strv_free(char **v, int n)
{
    if (!v)
        return;
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}
