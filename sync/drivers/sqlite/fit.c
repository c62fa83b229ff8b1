/*
 * fit.c — SQL functions on our SQLite connection that find the rows
 * whose values an existing target column would refuse or change
 * (schema.mode "existing"): 4-byte characters, SET values, date/times by
 * their canonical form and fraction digits, reals a FLOAT rounds. The
 * census counts; these name the rows (inspect.c's filters).
 */
#include <math.h>
#include <string.h>

#include "sync/codec.h"
#include "sync/drivers/sqlite/sqlite_priv.h"

/* cutover_mb4(x): 1 when text x has a character of 4 UTF-8 bytes. */
static void fn_mb4(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const unsigned char *p;
    int n;

    (void)argc;
    if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
        sqlite3_result_int(ctx, 0);
        return;
    }
    p = sqlite3_value_text(argv[0]);
    n = sqlite3_value_bytes(argv[0]);
    for (int i = 0; i < n; i++)
        if (p[i] >= 0xF0) {
            sqlite3_result_int(ctx, 1);
            return;
        }
    sqlite3_result_int(ctx, 0);
}

/* Canonical "YYYY-MM-DD HH:MM:SS.ffffff" of a value stored as `repr`
 * (enum dt_repr); the fraction digits it was written with go to *fd. */
static int dt_canonical(sqlite3_value *v, int repr, char *out, size_t cap,
                        int *fd)
{
    double r, whole;

    *fd = 0;
    switch (sqlite3_value_type(v)) {
    case SQLITE_TEXT:
        *fd = codec_parse_datetime(sqlite3_value_text(v),
                                   (size_t)sqlite3_value_bytes(v),
                                   LT_DATETIME, out, cap);
        return *fd < 0 ? -1 : 0;
    case SQLITE_INTEGER:
        if (repr == DT_EPOCH_MS) {
            int64_t ms = sqlite3_value_int64(v), s = ms / 1000;
            int64_t us = (ms % 1000) * 1000;
            if (us < 0) {
                s--;
                us += 1000000;
            }
            *fd = us ? 3 : 0;
            return codec_epoch_to_datetime(s, us, out, cap);
        }
        if (repr != DT_EPOCH_S)
            return -1;
        return codec_epoch_to_datetime(sqlite3_value_int64(v), 0, out, cap);
    case SQLITE_FLOAT:
        if (repr != DT_EPOCH_S)
            return -1;
        r = sqlite3_value_double(v);
        if (!isfinite(r))
            return -1;
        whole = floor(r);
        *fd = r == whole ? 0 : 6;
        return codec_epoch_to_datetime((int64_t)whole,
                                       (int64_t)nearbyint((r - whole) * 1e6),
                                       out, cap);
    default:
        return -1;
    }
}

/* cutover_dt_text(x, repr): the canonical date/time; cutover_dt_fd(x,
 * repr): the fraction digits x was written with (an epoch real with a
 * fraction counts 6). NULL when x is not a date/time. */
static void fn_dt(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    char out[40];
    int fd;

    (void)argc;
    if (dt_canonical(argv[0], sqlite3_value_int(argv[1]), out, sizeof out,
                     &fd) < 0)
        sqlite3_result_null(ctx);
    else if (sqlite3_user_data(ctx))
        sqlite3_result_int(ctx, fd);
    else
        sqlite3_result_text(ctx, out, -1, SQLITE_TRANSIENT);
}

/* cutover_set_ok(x, 'a,b,c'): 1 when text x is a SET value the server
 * stores unchanged: members of the list, each once, in the list's order
 * (MySQL sorts and dedupes the others). */
static void fn_set_ok(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const char *x = (const char *)sqlite3_value_text(argv[0]);
    const char *list = (const char *)sqlite3_value_text(argv[1]);
    const char *at = list;

    (void)argc;
    if (!x || !list || sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
        sqlite3_result_int(ctx, 0);
        return;
    }
    while (*x) {
        size_t n = strcspn(x, ",");
        const char *found = NULL;
        /* search the list from after the previous member on */
        for (const char *m = at; *m;) {
            size_t mn = strcspn(m, ",");
            if (mn == n && memcmp(m, x, n) == 0) {
                found = m + mn;
                break;
            }
            m += mn + (m[mn] == ',');
        }
        if (!found) {
            sqlite3_result_int(ctx, 0);
            return;
        }
        at = *found ? found + 1 : found;
        x += n;
        if (*x == ',' && *++x == '\0') {
            sqlite3_result_int(ctx, 0);     /* a trailing comma */
            return;
        }
    }
    sqlite3_result_int(ctx, 1);
}

/* cutover_float_exact(x): 1 unless x is a real a FLOAT would change. */
static void fn_float_exact(sqlite3_context *ctx, int argc,
                           sqlite3_value **argv)
{
    double d;

    (void)argc;
    if (sqlite3_value_type(argv[0]) != SQLITE_FLOAT) {
        sqlite3_result_int(ctx, 1);
        return;
    }
    d = sqlite3_value_double(argv[0]);
    sqlite3_result_int(ctx, (double)(float)d == d);
}

void sq_register_fit(sqlite3 *db)
{
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;

    sqlite3_create_function(db, "cutover_mb4", 1, flags, NULL, fn_mb4, NULL,
                            NULL);
    sqlite3_create_function(db, "cutover_dt_text", 2, flags, NULL, fn_dt,
                            NULL, NULL);
    sqlite3_create_function(db, "cutover_dt_fd", 2, flags, (void *)1, fn_dt,
                            NULL, NULL);
    sqlite3_create_function(db, "cutover_set_ok", 2, flags, NULL, fn_set_ok,
                            NULL, NULL);
    sqlite3_create_function(db, "cutover_float_exact", 1, flags, NULL,
                            fn_float_exact, NULL, NULL);
}
