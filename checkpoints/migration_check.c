/*
 * migration_check.c — the range checks of a checkpoint's fields.
 *
 * Everything read back from a checkpoint is checked before it is used: a
 * damaged or forged file (its hash only proves it is what someone wrote)
 * must not index arrays, loop for ever, name files outside the state dir
 * or stall a sleep. A missing field keeps its default (older checkpoints);
 * a present one must have the right type and range. Each check returns 0
 * or CO_ECHECKPOINT naming the field.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "checkpoints/migration.h"
#include "lib/state_dir.h"

#define BAD(...) co_errf(err, CO_ECHECKPOINT, __VA_ARGS__)

#define TIME_MAX 1e11           /* seconds since 1970: year 5138 */

static int want_int(json_t *o, const char *where, const char *key,
                    json_int_t lo, json_int_t hi, struct co_err *err)
{
    json_t *v = json_object_get(o, key);

    if (!v)
        return 0;
    if (!json_is_integer(v))
        return BAD("checkpoint: %s%s is not an integer", where, key);
    if (json_integer_value(v) < lo || json_integer_value(v) > hi)
        return BAD("checkpoint: %s%s is %lld; it must be from %lld to %lld",
                   where, key, (long long)json_integer_value(v),
                   (long long)lo, (long long)hi);
    return 0;
}

static int want_num(json_t *o, const char *where, const char *key, double lo,
                    double hi, struct co_err *err)
{
    json_t *v = json_object_get(o, key);

    if (!v)
        return 0;
    if (!json_is_number(v))
        return BAD("checkpoint: %s%s is not a number", where, key);
    if (!(json_number_value(v) >= lo && json_number_value(v) <= hi))
        return BAD("checkpoint: %s%s is %g; it must be from %g to %g", where,
                   key, json_number_value(v), lo, hi);
    return 0;
}

static int want_type(json_t *o, const char *where, const char *key,
                     json_type type, const char *what, struct co_err *err)
{
    json_t *v = json_object_get(o, key);

    if (v && json_typeof(v) != type &&
        !(type == JSON_TRUE && json_is_boolean(v)))
        return BAD("checkpoint: %s%s is not %s", where, key, what);
    return 0;
}

#define WANT_BOOL(o, w, k) want_type(o, w, k, JSON_TRUE, "true or false", err)
#define WANT_STR(o, w, k) want_type(o, w, k, JSON_STRING, "a string", err)
#define WANT_OBJ(o, w, k) want_type(o, w, k, JSON_OBJECT, "an object", err)
#define WANT_ARR(o, w, k) want_type(o, w, k, JSON_ARRAY, "an array", err)
/* null, or a key of the table's arity */
static int want_key(json_t *o, const char *where, const char *key, int nkey,
                    struct co_err *err)
{
    json_t *v = json_object_get(o, key);

    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return BAD("checkpoint: %s%s is not null or a key", where, key);
    if (nkey >= 0 && (int)json_array_size(v) != nkey)
        return BAD("checkpoint: %s%s is not null or a key of %d value%s",
                   where, key, nkey, nkey == 1 ? "" : "s");
    return 0;
}

/* A string that, when not empty, passes `valid` (is `what`). */
static int want_named(json_t *o, const char *where, const char *key,
                      int (*valid)(const char *), const char *what,
                      struct co_err *err)
{
    json_t *v = json_object_get(o, key);
    const char *s = json_string_value(v);

    if (!v)
        return 0;
    if (!s)
        return BAD("checkpoint: %s%s is not a string", where, key);
    if (*s && !valid(s))
        return BAD("checkpoint: %s%s \"%.100s\" is not %s", where, key, s,
                   what);
    return 0;
}

static int valid_hex64(const char *s)
{
    return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

static int known_error(const char *name)
{
    return co_err_by_name(name) != 0;
}

/* nkey: the table's key arity, or -1 when the source was not read (a key
 * of any arity then passes). */
static int check_table_fields(const char *name, int nkey, json_t *j,
                              struct co_err *err)
{
    char where[128];
    json_t *r, *c, *v;
    size_t i;

    snprintf(where, sizeof where, "table %.64s: ", name);
    TRY(want_int(j, where, "rows_total", 0, INT64_MAX, err));
    TRY(want_int(j, where, "applied_seq", 0, INT64_MAX, err));
    TRY(want_named(j, where, "applied_gtid", gtid_valid, "a GTID "
                   "(domain-server-seq or uuid:number)", err));
    TRY(WANT_BOOL(j, where, "created"));
    TRY(WANT_BOOL(j, where, "owned"));
    TRY(WANT_BOOL(j, where, "copy_done"));
    TRY(WANT_BOOL(j, where, "indexes_done"));
    if (json_array_size(json_object_get(j, "ranges")) > MAX_COPY_RANGES)
        return BAD("checkpoint: %sranges has %zu ranges; a copy has at most "
                   "%d", where, json_array_size(json_object_get(j, "ranges")),
                   MAX_COPY_RANGES);
    json_array_foreach(json_object_get(j, "ranges"), i, r) {
        snprintf(where, sizeof where, "table %.64s: range %zu: ", name, i);
        if (!json_is_object(r))
            return BAD("checkpoint: %sis not an object", where);
        TRY(want_key(r, where, "lo", nkey, err));
        TRY(want_key(r, where, "hi", nkey, err));
        TRY(want_key(r, where, "frontier", nkey, err));
        TRY(want_int(r, where, "rows", 0, INT64_MAX, err));
        TRY(WANT_BOOL(r, where, "done"));
    }
    json_array_foreach(json_object_get(j, "columns"), i, c) {
        snprintf(where, sizeof where, "table %.64s: column %zu: ", name, i);
        TRY(want_int(c, where, "precision", 0, 65, err));
        TRY(want_int(c, where, "scale", 0, 30, err));
        TRY(WANT_BOOL(c, where, "autoinc"));
        if (json_integer_value(json_object_get(c, "scale")) >
            json_integer_value(json_object_get(c, "precision")))
            return BAD("checkpoint: %sscale is larger than precision", where);
    }
    snprintf(where, sizeof where, "table %.64s: ", name);
    TRY(WANT_OBJ(j, where, "verify"));
    v = json_object_get(j, "verify");
    snprintf(where, sizeof where, "table %.64s: verify.", name);
    TRY(want_key(v, where, "frontier", nkey, err));
    TRY(want_int(v, where, "rows", 0, INT64_MAX, err));
    TRY(want_int(v, where, "chunks", 0, INT64_MAX, err));
    TRY(want_int(v, where, "mismatches", 0, INT64_MAX, err));
    TRY(want_int(v, where, "seq", 0, INT64_MAX, err));
    return WANT_BOOL(v, where, "done");
}

static int check_trigger_states(json_t *tr, struct co_err *err)
{
    const char *name;
    json_t *s;
    char where[160];

    json_object_foreach(tr, name, s) {
        if (strcmp(name, "_paused_by_rule") == 0) {
            if (!json_is_boolean(s))
                return BAD("checkpoint: triggers._paused_by_rule is not true "
                           "or false");
            continue;
        }
        snprintf(where, sizeof where, "triggers.%.100s.", name);
        if (!json_is_object(s))
            return BAD("checkpoint: triggers.%.100s is not an object", name);
        TRY(want_num(s, where, "since", 0, TIME_MAX, err));
        TRY(want_int(s, where, "firings", 0, INT32_MAX, err));
        TRY(WANT_BOOL(s, where, "fired"));
    }
    return 0;
}

int migration_check(const struct runbook *rb, struct migration *m,
                    json_t *cp, struct co_err *err)
{
    json_t *b, *cut, *t, *e;
    size_t i;

    TRY(WANT_BOOL(cp, "", "switched"));
    TRY(want_num(cp, "", "started_at", 0, TIME_MAX, err));
    TRY(want_int(cp, "", "source_schema_version", INT32_MIN, INT32_MAX, err));
    TRY(WANT_OBJ(cp, "", "backup"));
    b = json_object_get(cp, "backup");
    TRY(want_named(b, "backup.", "file", state_backup_name_valid, "a backup cutover "
                   "writes (a file name in the state dir)", err));
    TRY(want_named(b, "backup.", "sha256", valid_hex64, "a SHA-256 in hex",
                   err));
    TRY(WANT_ARR(cp, "", "tables"));
    json_array_foreach(json_object_get(cp, "tables"), i, t) {
        const char *name = json_string_value(json_object_get(t, "name"));
        struct table_state *ts = m && name ? migration_table(m, name) : NULL;
        if (!json_is_object(t) || !name)
            return BAD("checkpoint: table %zu has no name", i);
        TRY(check_table_fields(name, ts ? ts->t->nkey : -1, t, err));
    }
    TRY(WANT_OBJ(cp, "", "cutover"));
    cut = json_object_get(cp, "cutover");
    TRY(want_int(cut, "cutover.", "attempt", 0, 1000000, err));
    TRY(want_int(cut, "cutover.", "switch_done", 0, rb->cutover.nswitch,
                 err));
    TRY(WANT_BOOL(cut, "cutover.", "go"));
    /* -1: the attempt's pause was not measured (the lock was taken by a
     * run that died before it ended) */
    TRY(want_num(cut, "cutover.", "last_pause_ms", -1, 1e9, err));
    TRY(want_num(cut, "cutover.", "next_attempt_at", 0, TIME_MAX, err));
    TRY(WANT_OBJ(cp, "", "post_validate"));
    TRY(want_num(json_object_get(cp, "post_validate"), "post_validate.",
                 "started_at", 0, TIME_MAX, err));
    TRY(WANT_ARR(cp, "", "history"));
    TRY(WANT_OBJ(cp, "", "triggers"));
    TRY(check_trigger_states(json_object_get(cp, "triggers"), err));
    TRY(WANT_OBJ(cp, "", "last_error"));
    e = json_object_get(cp, "last_error");
    TRY(want_named(e, "last_error.", "code", known_error, "an error cutover "
                   "knows", err));
    return WANT_STR(e, "last_error.", "message");
}
