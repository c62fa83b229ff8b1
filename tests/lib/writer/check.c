/*
 * check.c — `writer check`: compare the state the record promises (record.c
 * record_replay) with a database, key by key, each row read and normalized
 * as `run` read it. Prints the tally as JSON on stdout, the first
 * MAX_EXAMPLES differences on stderr, and exits 1 if there is any.
 */
#include <stdio.h>

#include "tests/lib/writer/writer.h"

#define MAX_EXAMPLES 20

struct tally {
    long long keys, lost, unexpected, different;
};

/* "lost shop_order [12] (commit 7):" then, for a row that differs, the
 * columns that do, then both rows. */
static void show_difference(const char *what, const json_t *rec,
                            const json_t *want, const json_t *found)
{
    char *key = json_dumps(json_object_get(rec, "key"), JSON_COMPACT);
    char *a = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
    char *b = json_dumps(found, JSON_COMPACT | JSON_ENCODE_ANY);
    const char *table = json_string_value(json_object_get(rec, "table"));
    const char *column;
    json_t *value;

    fprintf(stderr, "%s %s %s (commit %lld)", what, table, key,
            (long long)json_integer_value(json_object_get(rec, "n")));
    json_object_foreach((json_t *)want, column, value)
        if (json_is_object(found) &&
            !json_equal(value, json_object_get(found, column)))
            fprintf(stderr, " %s", column);
    fprintf(stderr, ":\n  expected %s\n  found    %s\n", a, b);
    free(key);
    free(a);
    free(b);
}

static void check_key(struct db *db, const json_t *rec, struct tally *tally)
{
    const struct table *t =
        table_by_name(json_string_value(json_object_get(rec, "table")));
    const json_t *want = json_object_get(rec, "row");
    const char *what;
    json_t *found;

    if (read_row(db, t, json_object_get(rec, "key"), &found) != DB_OK)
        die("reading %s: %s", t->name, db->err);
    tally->keys++;
    if (!json_equal((json_t *)want, found)) {
        if (json_is_null(found)) {
            what = "lost";
            tally->lost++;
        } else if (json_is_null(want)) {
            what = "unexpected";
            tally->unexpected++;
        } else {
            what = "different";
            tally->different++;
        }
        if (tally->lost + tally->unexpected + tally->different <= MAX_EXAMPLES)
            show_difference(what, rec, want, found);
    }
    json_decref(found);
}

int writer_check(const struct options *o)
{
    struct tally tally = {0};
    struct db db = {0};
    json_t *expected = record_replay(o->record), *rec;
    const char *id;

    if (!expected)
        return 2;
    if (db_open(&db, o->target, &o->conn) != DB_OK)
        die("%s: %s", db.drv->name, db.err);
    json_object_foreach(expected, id, rec)
        check_key(&db, rec, &tally);
    printf("{\"keys\": %lld, \"lost\": %lld, \"unexpected\": %lld, "
           "\"different\": %lld}\n",
           tally.keys, tally.lost, tally.unexpected, tally.different);
    db_close(&db);
    json_decref(expected);
    return tally.lost || tally.unexpected || tally.different ? 1 : 0;
}
