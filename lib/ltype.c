/* ltype.c — logical type names and their JSON form. */
#include "lib/ltype.h"

#include <stdio.h>
#include <string.h>

#include "lib/names.h"

#define LKIND_NAME(id, name) name,
static const char *const lkind_names[] = {LKIND_LIST(LKIND_NAME)};
#undef LKIND_NAME

const char *lkind_name(enum lkind k)
{
    return names_at(lkind_names, LK_COUNT, (int)k);
}

int lkind_by_name(const char *name)
{
    return names_index(lkind_names, LK_COUNT, name);
}

json_t *ltype_to_json(const struct logical_type *lt)
{
    json_t *j = json_pack("{ss}", "kind", lkind_name(lt->kind));

    switch (lt->kind) {
    case LK_INTEGER:
        json_object_set_new(j, "unsigned", json_boolean(lt->is_unsigned));
        json_object_set_new(j, "min", json_integer(lt->int_min));
        /* as text: 2^64-1 does not fit a JSON integer of jansson's */
        char max[24];
        snprintf(max, sizeof max, "%llu", (unsigned long long)lt->int_max);
        json_object_set_new(j, "max", json_string(max));
        break;
    case LK_DECIMAL:
        json_object_set_new(j, "precision", json_integer(lt->precision));
        json_object_set_new(j, "scale", json_integer(lt->scale));
        break;
    case LK_TEXT:
        json_object_set_new(j, "max_chars", json_integer(lt->max_chars));
        json_object_set_new(j, "charset", json_string(lt->charset));
        json_object_set_new(j, "collation", json_string(lt->collation));
        break;
    case LK_BYTES:
        json_object_set_new(j, "max_bytes", json_integer(lt->max_bytes));
        break;
    case LK_DATETIME:
        json_object_set_new(j, "zone", json_string(lt->zone == LZONE_UTC
                                                       ? "utc" : "naive"));
        json_object_set_new(j, "fsp", json_integer(lt->fsp));
        break;
    case LK_TIME:
        json_object_set_new(j, "fsp", json_integer(lt->fsp));
        break;
    case LK_SET:
        json_object_set_new(j, "array", json_boolean(lt->array));
        break;
    default:
        break;
    }
    return j;
}

#define WHY(...) (snprintf(why, whycap, __VA_ARGS__), -1)

static int want_count(json_t *j, const char *key, int64_t lo, int64_t hi,
                      int64_t *out, char *why, size_t whycap)
{
    json_t *v = json_object_get(j, key);

    if (!json_is_integer(v) || json_integer_value(v) < lo ||
        json_integer_value(v) > hi)
        return WHY("logical type: \"%s\" is not an integer from %lld to "
                   "%lld", key, (long long)lo, (long long)hi);
    *out = json_integer_value(v);
    return 0;
}

static int want_text(json_t *j, const char *key, char *out, size_t cap,
                     char *why, size_t whycap)
{
    const char *s = json_string_value(json_object_get(j, key));

    if (!s || strlen(s) >= cap)
        return WHY("logical type: \"%s\" is not a string of fewer than %zu "
                   "bytes", key, cap);
    snprintf(out, cap, "%s", s);
    return 0;
}

static int integer_from_json(json_t *j, struct logical_type *out, char *why,
                             size_t whycap)
{
    const char *max = json_string_value(json_object_get(j, "max"));
    unsigned long long u;
    int64_t min;
    char end;

    if (!json_is_boolean(json_object_get(j, "unsigned")))
        return WHY("logical type: \"unsigned\" is not a boolean");
    out->is_unsigned = json_is_true(json_object_get(j, "unsigned"));
    if (want_count(j, "min", INT64_MIN, 0, &min, why, whycap) < 0)
        return -1;
    out->int_min = min;
    if (!max || sscanf(max, "%llu%c", &u, &end) != 1)
        return WHY("logical type: \"max\" is not an unsigned integer as "
                   "text");
    out->int_max = u;
    return 0;
}

int ltype_from_json(json_t *j, struct logical_type *out, char *why,
                    size_t whycap)
{
    int kind = lkind_by_name(json_string_value(json_object_get(j, "kind")));
    int64_t n;

    memset(out, 0, sizeof *out);
    if (!json_is_object(j))
        return WHY("logical type is not an object");
    if (kind < 0)
        return WHY("logical type: \"kind\" is missing or unknown");
    out->kind = (enum lkind)kind;
    switch (out->kind) {
    case LK_INTEGER:
        return integer_from_json(j, out, why, whycap);
    case LK_DECIMAL:
        if (want_count(j, "precision", 1, 1000, &n, why, whycap) < 0)
            return -1;
        out->precision = (int)n;
        if (want_count(j, "scale", 0, n, &n, why, whycap) < 0)
            return -1;
        out->scale = (int)n;
        return 0;
    case LK_TEXT:
        if (want_count(j, "max_chars", 0, INT64_MAX, &out->max_chars, why,
                       whycap) < 0 ||
            want_text(j, "charset", out->charset, sizeof out->charset, why,
                      whycap) < 0)
            return -1;
        return want_text(j, "collation", out->collation,
                         sizeof out->collation, why, whycap);
    case LK_BYTES:
        return want_count(j, "max_bytes", 0, INT64_MAX, &out->max_bytes, why,
                          whycap);
    case LK_DATETIME:
    case LK_TIME:
        if (want_count(j, "fsp", 0, 9, &n, why, whycap) < 0)
            return -1;
        out->fsp = (int)n;
        if (out->kind == LK_TIME)
            return 0;
        const char *zone = json_string_value(json_object_get(j, "zone"));
        if (!zone || (strcmp(zone, "naive") && strcmp(zone, "utc")))
            return WHY("logical type: \"zone\" is not \"naive\" or \"utc\"");
        out->zone = strcmp(zone, "utc") == 0 ? LZONE_UTC : LZONE_NAIVE;
        return 0;
    case LK_SET:
        /* absent in checkpoints written before sets could be arrays */
        if (json_object_get(j, "array") &&
            !json_is_boolean(json_object_get(j, "array")))
            return WHY("logical type: \"array\" is not a boolean");
        out->array = json_is_true(json_object_get(j, "array"));
        return 0;
    default:
        return 0;
    }
}
