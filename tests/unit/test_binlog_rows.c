/*
 * test_binlog_rows.c — sync/drivers/mysql/binlog_*.c: the row event
 * decoder against binlogs captured from a real MariaDB 10.11
 * (tests/unit/files/binlog/, made by tests/lib/binlog_fixtures.sh, with
 * changes.json: every row change as SELECTs on the same server showed it).
 *
 * Every column of every row of every fixture is decoded and compared: the
 * FULL row image with FULL and MINIMAL metadata, MINIMAL row images
 * (partial), compressed events, and the v2 form of every event (MariaDB
 * writes v1 only: the test makes v2 events from the captured v1 ones by
 * inserting the extra-data header). Then truncated and corrupted events,
 * which must fail with a message naming event, column and offset, never
 * read out of bounds (this file also runs under ASan: make asan-unit), and
 * hand-made events for what MariaDB does not write (MySQL's binary JSON,
 * MySQL's counting of charset columns).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "sync/drivers/mysql/binlog_rows.h"
#include "tests/unit/binlog_file.h"
#include "tests/unit/unit_util.h"

/* ---- fixtures ------------------------------------------------------------ */

struct fixture {
    unsigned char *data;
    size_t len;
};

static struct fixture load_binlog(const char *name)
{
    char *dir = ut_fixture_dir(), file[PATH_MAX];
    struct fixture f;

    snprintf(file, sizeof file, "%s/binlog/%s.binlog", dir, name);
    f.data = (unsigned char *)ut_read_file(file, &f.len);
    if (!f.data)
        fail_msg("fixture %s is missing", file);
    free(dir);
    return f;
}

static json_t *load_changes(void)
{
    char *dir = ut_fixture_dir(), file[PATH_MAX];
    json_error_t jerr;
    json_t *j;

    snprintf(file, sizeof file, "%s/binlog/changes.json", dir);
    j = json_load_file(file, 0, &jerr);
    if (!j)
        fail_msg("%s: %s", file, jerr.text);
    free(dir);
    return j;
}

static uint64_t fnv1a64(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

/* The first bytes of [p, p+n) in hex, for messages. */
static void hex(const unsigned char *p, size_t n, char *out, size_t cap)
{
    size_t i;

    for (i = 0; i < n && 2 * i + 2 < cap; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
    out[2 * i] = '\0';
}

static int hex_equal(const unsigned char *p, size_t n, const char *want)
{
    if (strlen(want) != 2 * n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned x;
        if (sscanf(want + 2 * i, "%2x", &x) != 1 || x != p[i])
            return 0;
    }
    return 1;
}

/* Does decoded value v equal the expected item of changes.json? *why
 * says what differs. enum_strings: the map has the ENUM/SET names. */
static int value_matches(const struct value *v, json_t *want,
                         int enum_strings, char *why, size_t cap)
{
    const char *cls;
    char got[256];

    if (json_is_null(want)) {
        snprintf(why, cap, "expected NULL, got type %s", vtype_name(v->type));
        return v->type == V_NULL;
    }
    cls = json_string_value(json_array_get(want, 0));
    if (strcmp(cls, "int") == 0) {
        long long x = strtoll(json_string_value(json_array_get(want, 1)),
                              NULL, 10);
        snprintf(why, cap, "expected int %lld, got %s %" PRId64, x,
                 vtype_name(v->type), v->i);
        return v->type == V_INT && v->i == x;
    }
    if (strcmp(cls, "real") == 0) {
        double x = strtod(json_string_value(json_array_get(want, 1)), NULL);
        snprintf(why, cap, "expected real %.17g, got %s %.17g", x,
                 vtype_name(v->type), v->r);
        return v->type == V_REAL && v->r == x;
    }
    if (strcmp(cls, "enumset") == 0) {
        const char *num = json_string_value(json_array_get(want, 2));
        if (enum_strings) {
            json_t *text = json_pack("[ss]", "text",
                                     json_string_value(json_array_get(want,
                                                                      1)));
            int ok = value_matches(v, text, 0, why, cap);
            json_decref(text);
            return ok;
        }
        if (strtoull(num, NULL, 10) <= INT64_MAX) {
            snprintf(why, cap, "expected number %s, got %s %" PRId64, num,
                     vtype_name(v->type), v->i);
            return v->type == V_INT &&
                   (uint64_t)v->i == strtoull(num, NULL, 10);
        }
        snprintf(why, cap, "expected digits %s, got %s %.*s", num,
                 vtype_name(v->type), (int)v->n, (const char *)v->p);
        return v->type == V_TEXT && v->n == strlen(num) &&
               memcmp(v->p, num, v->n) == 0;
    }
    /* text or blob: hex bytes, or length and FNV-1a of a long value */
    {
        enum vtype t = strcmp(cls, "text") == 0 ? V_TEXT : V_BLOB;
        json_t *h = json_array_get(want, 1);
        if (v->type != t) {
            snprintf(why, cap, "expected %s, got %s", vtype_name(t),
                     vtype_name(v->type));
            return 0;
        }
        if (json_is_null(h)) {
            size_t n = (size_t)json_integer_value(json_array_get(want, 2));
            char fnv[17];
            snprintf(fnv, sizeof fnv, "%016" PRIx64, fnv1a64(v->p, v->n));
            snprintf(why, cap, "expected %zu bytes (fnv %s), got %zu (fnv "
                     "%s)", n, json_string_value(json_array_get(want, 3)),
                     v->n, fnv);
            return v->n == n &&
                   strcmp(fnv, json_string_value(json_array_get(want, 3))) == 0;
        }
        hex(v->p, v->n, got, sizeof got);
        snprintf(why, cap, "expected %s x'%.200s', got x'%s'", cls,
                 json_string_value(h), got);
        return hex_equal(v->p, v->n, json_string_value(h));
    }
}

/* ---- walking a captured binlog --------------------------------------------- */

/* What a walk over a fixture checks and counts. */
struct walk_opts {
    const char *name;          /* fixture */
    int as_v2;                 /* rewrite v1 rows events as v2 first */
    int set_from_definition;   /* fill sign/charset the map lacks */
};

struct walk_stats {
    unsigned rows, events, compressed, partial_images, values;
    unsigned maps_with_metadata;
};

/* The v2 form of a v1 rows event body: extra data (its length counts its
 * own two bytes; the 3 bytes after it are skipped, like MySQL's typed
 * extra info) inserted after the 8-byte post-header. */
static unsigned char *as_v2_body(const unsigned char *body, size_t len,
                                 size_t *out_len)
{
    static const unsigned char extra[] = {5, 0, 0x00, 0x01, 0x7f};
    unsigned char *b = malloc(len + sizeof extra);

    assert_non_null(b);
    memcpy(b, body, 8);
    memcpy(b + 8, extra, sizeof extra);
    memcpy(b + 8 + sizeof extra, body + 8, len - 8);
    *out_len = len + sizeof extra;
    return b;
}

static int v2_type(int type)
{
    if (type >= BINLOG_WRITE_ROWS_V1 && type <= BINLOG_DELETE_ROWS_V1)
        return type - BINLOG_WRITE_ROWS_V1 + BINLOG_WRITE_ROWS;
    if (type >= BINLOG_WRITE_ROWS_COMPRESSED_V1 &&
        type <= BINLOG_DELETE_ROWS_COMPRESSED_V1)
        return type - BINLOG_WRITE_ROWS_COMPRESSED_V1 +
               BINLOG_WRITE_ROWS_COMPRESSED;
    return type;
}

/* Set signedness and charset of the columns the map has no metadata for,
 * from the table's definition (changes.json "tables"), as the caller of a
 * MINIMAL-metadata binlog does from information_schema. */
static void set_from_definition(struct binlog_table_map *map, json_t *defs)
{
    for (unsigned i = 0; i < map->ncols; i++) {
        json_t *def = json_array_get(defs, i);
        const char *type = json_string_value(json_array_get(def, 1));
        struct binlog_column *c = &map->cols[i];
        if (c->sign == BINLOG_SIGN_UNKNOWN)
            c->sign = strstr(type, "unsigned") ? BINLOG_UNSIGNED
                                               : BINLOG_SIGNED;
        if (c->charset == 0)
            c->charset = json_is_null(json_array_get(def, 2))
                             ? BINLOG_CHARSET_BINARY : 45; /* utf8mb4 */
    }
}

static int decodable(const struct binlog_column *c)
{
    return c->type != BINLOG_T_VARCHAR_COMPRESSED &&
           c->type != BINLOG_T_BLOB_COMPRESSED && c->type != BINLOG_T_JSON;
}

static void check_image(const struct walk_opts *o, const char *table,
                        unsigned change, const char *which,
                        const struct binlog_table_map *map,
                        const struct binlog_image *im, const unsigned *want,
                        unsigned nwant, json_t *expected,
                        struct walk_stats *st, int *partial)
{
    char why[1024];

    if (json_is_null(expected))
        fail_msg("%s: change %u (%s): the event has a %s image, changes.json "
                 "none", o->name, change, table, which);
    for (unsigned k = 0; k < nwant; k++) {
        const struct binlog_column *c = &map->cols[want[k]];
        if (!im->has[k]) {
            *partial = 1;
            continue;
        }
        st->values++;
        if (!value_matches(&im->v[k], json_array_get(expected, want[k]),
                           c->values != NULL, why, sizeof why))
            fail_msg("%s%s: change %u, %s.%.*s (column %u, %s) %s image: %s",
                     o->name, o->as_v2 ? " (as v2)" : "", change, table,
                     (int)c->name.n, c->name.p ? (const char *)c->name.p : "?",
                     want[k] + 1, binlog_type_name(c->type), which, why);
    }
}

static void walk_fixture(const struct walk_opts *o, struct walk_stats *st)
{
    struct fixture f = load_binlog(o->name);
    json_t *all = load_changes(), *changes = json_object_get(all, "changes");
    struct binlog_table_map map = {0};
    struct binlog_walk w;
    struct co_err err = {0};
    unsigned change = 0;
    int rc;

    memset(st, 0, sizeof *st);
    assert_int_equal(binlog_walk_init(&w, f.data, f.len), 0);
    while ((rc = binlog_walk_next(&w)) == 1) {
        const unsigned char *body = w.body;
        size_t len = w.body_len;
        unsigned char *v2 = NULL;
        int type = w.type;
        struct binlog_rows rows;
        unsigned want[4096], nwant = 0;
        json_t *defs;
        char table[256];

        if (type == BINLOG_TABLE_MAP) {
            binlog_table_map_free(&map);
            if (binlog_table_map_parse(&map, BINLOG_MARIADB, body, len, &err))
                fail_msg("%s at %zu: %s", o->name, w.offset, err.msg);
            st->maps_with_metadata += map.has_names;
            continue;
        }
        if (!binlog_is_rows_event(type))
            continue;
        st->events++;
        st->compressed += type >= BINLOG_WRITE_ROWS_COMPRESSED_V1;
        if (o->as_v2) {
            v2 = as_v2_body(body, len, &len);
            body = v2;
            type = v2_type(type);
        }
        snprintf(table, sizeof table, "%.*s", (int)map.table.n,
                 (const char *)map.table.p);
        defs = json_object_get(json_object_get(all, "tables"), table);
        assert_non_null(defs);
        if (o->set_from_definition)
            set_from_definition(&map, defs);
        for (unsigned i = 0; i < map.ncols; i++)
            if (decodable(&map.cols[i]))
                want[nwant++] = i;
        if (binlog_rows_open(&rows, type, body, len, &err) ||
            binlog_rows_bind(&rows, &map, want, nwant, &err))
            fail_msg("%s at %zu: %s", o->name, w.offset, err.msg);
        while ((rc = binlog_rows_next(&rows, &err)) == 1) {
            json_t *c = json_array_get(changes, change);
            const char *kind = json_string_value(json_object_get(c, "kind"));
            static const char *const kinds[] = {"write", "update", "delete"};
            int partial = 0;
            if (!c)
                fail_msg("%s: more rows than changes.json has", o->name);
            if (strcmp(json_string_value(json_object_get(c, "table")),
                       table) != 0 || strcmp(kind, kinds[rows.kind]) != 0)
                fail_msg("%s: change %u is %s on %s, the binlog has %s on %s",
                         o->name, change, kind,
                         json_string_value(json_object_get(c, "table")),
                         kinds[rows.kind], table);
            if (rows.before.present)
                check_image(o, table, change, "before", &map, &rows.before,
                            want, nwant, json_object_get(c, "before"), st,
                            &partial);
            if (rows.after.present)
                check_image(o, table, change, "after", &map, &rows.after,
                            want, nwant, json_object_get(c, "after"), st,
                            &partial);
            st->partial_images += partial;
            st->rows++;
            change++;
        }
        if (rc < 0)
            fail_msg("%s at %zu: %s", o->name, w.offset, err.msg);
        binlog_rows_close(&rows);
        free(v2);
    }
    assert_int_equal(rc, 0);
    if (change != json_array_size(changes))
        fail_msg("%s: %u row changes, changes.json has %zu", o->name, change,
                 json_array_size(changes));
    binlog_table_map_free(&map);
    json_decref(all);
    free(f.data);
}

/* One walk over a fixture and what its counts must show. */
struct walk_case {
    const char *title;
    struct walk_opts o;
    int names;                 /* the maps carry column names (FULL) */
    unsigned partial_min;      /* rows with a partial image, at least */
    unsigned compressed_min;   /* compressed events, at least */
};

static const struct walk_case walk_cases[] = {
    {"FULL image, FULL metadata: every column of every row",
     {"full", 0, 0}, 1, 0, 0},
    {"the same events as v2 (extra-data header inserted)",
     {"full", 1, 0}, 1, 0, 0},
    /* Signedness and charsets, no names or ENUM/SET strings: ENUM and
     * SET decode as their numbers. */
    {"MINIMAL metadata: ENUM and SET as numbers",
     {"minimal-metadata", 0, 0}, 0, 0, 0},
    /* MariaDB's default logs neither signedness nor charsets: decoding
     * integers or strings is refused until the caller sets them (see
     * unknown_signedness_or_charset_is_refused); with them, all decodes. */
    {"NO_LOG metadata with the tables' definitions",
     {"no-metadata", 0, 1}, 0, 0, 0},
    /* Updates and deletes log the key only before, changed columns after. */
    {"MINIMAL image: partial rows", {"minimal-image", 0, 0}, 1, 10, 0},
    {"compressed events", {"compressed", 0, 0}, 1, 0, 10},
    {"compressed events as v2", {"compressed", 1, 0}, 1, 0, 10},
};

static void run_walk_case(void **state)
{
    const struct walk_case *c = *state;
    struct walk_stats st;

    walk_fixture(&c->o, &st);
    assert_int_equal(st.rows, 47);
    assert_true(st.values > (c->partial_min ? 300u : 700u));
    assert_int_equal(st.maps_with_metadata > 0, c->names);
    if (c->partial_min)
        assert_true(st.partial_images >= c->partial_min);
    else
        assert_int_equal(st.partial_images, 0);
    if (c->compressed_min)
        assert_true(st.compressed >= c->compressed_min);
    else
        assert_int_equal(st.compressed, 0);
}

/* ---- the table maps' metadata --------------------------------------------- */

/* The first TABLE_MAP of table `name` in fixture f. */
static void find_map(const struct fixture *f, const char *name,
                     struct binlog_table_map *map)
{
    struct binlog_walk w;
    struct co_err err = {0};

    assert_int_equal(binlog_walk_init(&w, f->data, f->len), 0);
    while (binlog_walk_next(&w) == 1) {
        if (w.type != BINLOG_TABLE_MAP)
            continue;
        if (binlog_table_map_parse(map, BINLOG_MARIADB, w.body, w.body_len,
                                   &err))
            fail_msg("%s", err.msg);
        if (map->table.n == strlen(name) &&
            memcmp(map->table.p, name, map->table.n) == 0)
            return;
        binlog_table_map_free(map);
    }
    fail_msg("no table map of %s", name);
}

/* FULL metadata against the tables' definitions: names, signedness (YEAR,
 * DECIMAL and BIT before c_uint_last must be counted right), charsets
 * (GEOMETRY and the compressed columns before c_latin1_last counted as
 * MariaDB does), ENUM/SET strings, the primary key. */
static void full_metadata_matches_definitions(void **state)
{
    struct fixture f = load_binlog("full");
    json_t *all = load_changes(), *tables = json_object_get(all, "tables");
    const char *name;
    json_t *defs;

    (void)state;
    json_object_foreach(tables, name, defs) {
        struct binlog_table_map map;
        int strings = 0;
        find_map(&f, name, &map);
        assert_int_equal(map.ncols, json_array_size(defs));
        for (size_t i = 0; i < json_array_size(defs); i++)
            strings |= !json_is_null(json_array_get(json_array_get(defs, i),
                                                    2));
        assert_true(map.has_names && map.has_signedness);
        assert_int_equal(map.has_key, strcmp(name, "t_nopk") != 0);
        assert_int_equal(map.has_charsets, strings);
        for (unsigned i = 0; i < map.ncols; i++) {
            json_t *def = json_array_get(defs, i);
            const char *col = json_string_value(json_array_get(def, 0));
            const char *type = json_string_value(json_array_get(def, 1));
            const char *cs = json_string_value(json_array_get(def, 2));
            const struct binlog_column *c = &map.cols[i];
            if (c->name.n != strlen(col) || memcmp(c->name.p, col, c->name.n))
                fail_msg("%s column %u: name %.*s, expected %s", name, i + 1,
                         (int)c->name.n, (const char *)c->name.p, col);
            if ((c->type == BINLOG_T_TINY || c->type == BINLOG_T_SHORT ||
                 c->type == BINLOG_T_INT24 || c->type == BINLOG_T_LONG ||
                 c->type == BINLOG_T_LONGLONG || c->type == BINLOG_T_YEAR) &&
                c->sign != (strstr(type, "unsigned") ||
                                    c->type == BINLOG_T_YEAR
                                ? BINLOG_UNSIGNED : BINLOG_SIGNED))
                fail_msg("%s.%s (%s): wrong signedness", name, col, type);
            if (cs && strcmp(cs, "latin1") == 0 && c->charset != 8)
                fail_msg("%s.%s: charset %u, expected latin1 (8)", name, col,
                         c->charset);
            if (cs && strcmp(cs, "utf8mb4") == 0 && c->charset != 46)
                fail_msg("%s.%s: charset %u, expected utf8mb4_bin (46)", name,
                         col, c->charset);
            if (!cs && c->charset && c->charset != BINLOG_CHARSET_BINARY)
                fail_msg("%s.%s: charset %u for a binary column", name, col,
                         c->charset);
        }
        if (strcmp(name, "t_str") == 0) {
            const struct binlog_column *e = &map.cols[9], *s = &map.cols[12];
            assert_int_equal(e->type, BINLOG_T_ENUM);
            assert_int_equal(e->n_values, 3);
            assert_memory_equal(e->values[2].p, "c", 1);
            assert_int_equal(s->type, BINLOG_T_SET);
            assert_int_equal(s->n_values, 64);
            assert_int_equal(s->length, 8);
            assert_int_equal(map.cols[2].type, BINLOG_T_STRING);
            assert_int_equal(map.cols[2].length, 1020);   /* CHAR(255) */
            assert_true(map.cols[0].is_key && !map.cols[1].is_key);
        }
        if (strcmp(name, "k_str") == 0)
            for (unsigned i = 0; i < 7; i++)
                assert_true(map.cols[i].is_key);
        binlog_table_map_free(&map);
    }
    json_decref(all);
    free(f.data);
}

/* ---- refusals ---------------------------------------------------------------- */

/* The first rows event of table `name`, opened, with its map. */
static void first_rows(const struct fixture *f, const char *name,
                       struct binlog_table_map *map, struct binlog_rows *rows,
                       const unsigned char **body, size_t *len)
{
    struct binlog_walk w;
    struct co_err err = {0};
    int mapped = 0;

    assert_int_equal(binlog_walk_init(&w, f->data, f->len), 0);
    while (binlog_walk_next(&w) == 1) {
        if (w.type == BINLOG_TABLE_MAP) {
            if (mapped)
                binlog_table_map_free(map);
            assert_int_equal(binlog_table_map_parse(map, BINLOG_MARIADB,
                                                    w.body, w.body_len, &err),
                             0);
            mapped = map->table.n == strlen(name) &&
                     memcmp(map->table.p, name, map->table.n) == 0;
            if (!mapped)
                binlog_table_map_free(map);
            continue;
        }
        if (mapped && binlog_is_rows_event(w.type)) {
            assert_int_equal(binlog_rows_open(rows, w.type, w.body,
                                              w.body_len, &err), 0);
            *body = w.body;
            *len = w.body_len;
            return;
        }
    }
    fail_msg("no rows event of %s", name);
}

static void unknown_signedness_or_charset_is_refused(void **state)
{
    struct fixture f = load_binlog("no-metadata");
    struct binlog_table_map map;
    struct binlog_rows rows;
    struct co_err err = {0};
    const unsigned char *body;
    size_t len;
    unsigned id = 0, str = 1;

    (void)state;
    first_rows(&f, "t_str", &map, &rows, &body, &len);
    assert_int_equal(binlog_rows_bind(&rows, &map, &id, 1, &err), CO_ESCHEMA);
    assert_contains(err.msg, "column 1 (LONG): signedness unknown");
    assert_contains(err.msg, "t_str");
    binlog_rows_close(&rows);
    assert_int_equal(binlog_rows_open(&rows, BINLOG_WRITE_ROWS_V1, body, len,
                                      &err), 0);
    map.cols[0].sign = BINLOG_SIGNED;
    assert_int_equal(binlog_rows_bind(&rows, &map, &str, 1, &err),
                     CO_ESCHEMA);
    assert_contains(err.msg, "column 2 (STRING): charset unknown");
    binlog_rows_close(&rows);
    binlog_table_map_free(&map);
    free(f.data);
}

static void compressed_columns_are_walked_not_decoded(void **state)
{
    struct fixture f = load_binlog("full");
    struct binlog_table_map map;
    struct binlog_rows rows;
    struct co_err err = {0};
    const unsigned char *body;
    size_t len;
    unsigned vcomp = 24, bcomp = 25, last = 26;

    (void)state;
    first_rows(&f, "t_str", &map, &rows, &body, &len);
    assert_int_equal(map.cols[vcomp].type, BINLOG_T_VARCHAR_COMPRESSED);
    assert_int_equal(map.cols[bcomp].type, BINLOG_T_BLOB_COMPRESSED);
    assert_int_equal(binlog_rows_bind(&rows, &map, &vcomp, 1, &err),
                     CO_ESCHEMA);
    assert_contains(err.msg, "compressed columns are walked, not decoded");
    binlog_rows_close(&rows);
    /* The column after them decodes: they were walked right. */
    assert_int_equal(binlog_rows_open(&rows, BINLOG_WRITE_ROWS_V1, body, len,
                                      &err), 0);
    assert_int_equal(binlog_rows_bind(&rows, &map, &last, 1, &err), 0);
    assert_int_equal(binlog_rows_next(&rows, &err), 1);
    assert_int_equal(rows.after.v[0].type, V_TEXT);
    assert_int_equal(rows.after.v[0].n, 1);
    assert_int_equal(rows.after.v[0].p[0], 0xfc);
    binlog_rows_close(&rows);
    binlog_table_map_free(&map);
    free(f.data);
}

/* ---- corrupt and truncated events ------------------------------------------- */

/* Decode every column of body as rows of map; returns the number of rows
 * or the error. Errors must say where. */
static int decode_all(const struct binlog_table_map *map, int type,
                      const unsigned char *body, size_t len,
                      struct co_err *err)
{
    struct binlog_rows rows;
    unsigned want[4096], nwant = 0;
    int rc, n = 0;

    for (unsigned i = 0; i < map->ncols; i++)
        if (decodable(&map->cols[i]))
            want[nwant++] = i;
    memset(err, 0, sizeof *err);
    rc = binlog_rows_open(&rows, type, body, len, err);
    if (rc == 0)
        rc = binlog_rows_bind(&rows, map, want, nwant, err);
    while (rc == 0 && (rc = binlog_rows_next(&rows, err)) == 1)
        n++, rc = 0;
    binlog_rows_close(&rows);
    return rc < 0 ? rc : n;
}

/* For every event of a fixture: every truncation of a table map before
 * its optional metadata, and of a rows event at any byte that is not a
 * row boundary, is an error naming the offset; every single-byte change
 * decodes or fails with a message, never reads outside the body. */
static void corrupt_events_of(const char *name)
{
    struct fixture f = load_binlog(name);
    struct binlog_table_map map = {0};
    struct binlog_walk w;
    struct co_err err;
    unsigned errors = 0, cuts = 0;

    assert_int_equal(binlog_walk_init(&w, f.data, f.len), 0);
    while (binlog_walk_next(&w) == 1) {
        unsigned char *copy;
        size_t step = w.body_len > 4096 ? w.body_len / 97 : 1;

        if (w.type == BINLOG_TABLE_MAP) {
            binlog_table_map_free(&map);
            memset(&err, 0, sizeof err);
            assert_int_equal(binlog_table_map_parse(&map, BINLOG_MARIADB,
                                                    w.body, w.body_len, &err),
                             0);
            for (size_t cut = 0; cut < w.body_len; cut++) {
                struct binlog_table_map m;
                int rc = binlog_table_map_parse(&m, BINLOG_MARIADB, w.body,
                                                cut, &err);
                if (rc == 0)
                    binlog_table_map_free(&m);
                else
                    assert_contains(err.msg, "offset");
            }
            continue;
        }
        if (!binlog_is_rows_event(w.type))
            continue;
        {
            /* Row boundaries: where a truncated event is still whole. */
            int full = decode_all(&map, w.type, w.body, w.body_len, &err);
            assert_true(full > 0);
            for (size_t cut = 0; cut < w.body_len; cut += step) {
                int rc = decode_all(&map, w.type, w.body, cut, &err);
                cuts++;
                assert_true(rc < full);
                if (rc < 0) {
                    errors++;
                    assert_contains(err.msg, binlog_event_name(w.type));
                    if (rc == CO_EPROTOCOL)
                        assert_contains(err.msg, "offset");
                }
            }
        }
        copy = malloc(w.body_len);
        assert_non_null(copy);
        for (size_t at = 0; at < w.body_len; at += step) {
            static const unsigned char flips[] = {0xff, 0x00, 0x80, 0x01};
            for (size_t k = 0; k < sizeof flips; k++) {
                int rc;
                memcpy(copy, w.body, w.body_len);
                copy[at] = k < 2 ? flips[k] : (unsigned char)(copy[at] ^
                                                              flips[k]);
                rc = decode_all(&map, w.type, copy, w.body_len, &err);
                if (rc < 0 && err.msg[0] == '\0')
                    fail_msg("%s at %zu+%zu: error %d without a message",
                             name, w.offset, at, rc);
            }
        }
        free(copy);
    }
    /* Nearly every cut falls inside a value. */
    assert_true(errors * 10 > cuts * 9);
    binlog_table_map_free(&map);
    free(f.data);
}

static void truncated_and_corrupted_events_full(void **state)
{
    (void)state;
    corrupt_events_of("full");
}

static void truncated_and_corrupted_events_compressed(void **state)
{
    (void)state;
    corrupt_events_of("compressed");
}

static void truncated_and_corrupted_events_minimal_image(void **state)
{
    (void)state;
    corrupt_events_of("minimal-image");
}

/* ---- hand-made events ------------------------------------------------------- */

struct bytes {
    unsigned char b[512];
    size_t n;
};

static void put(struct bytes *o, const void *p, size_t n)
{
    if (n == 0)
        return;
    assert_true(o->n + n <= sizeof o->b);
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

#define PUT(o, ...) do {                                                      \
        const unsigned char b_[] = {__VA_ARGS__};                            \
        put(o, b_, sizeof b_);                                               \
    } while (0)

/* A TABLE_MAP body of table id 7, db.t, with the given column types,
 * metadata and optional metadata, all columns nullable. */
static struct bytes table_map(const unsigned char *types, size_t ncols,
                              const unsigned char *meta, size_t nmeta,
                              const unsigned char *opt, size_t nopt)
{
    struct bytes o = {{0}, 0};

    PUT(&o, 7, 0, 0, 0, 0, 0, 1, 0, 2, 'd', 'b', 0, 1, 't', 0,
        (unsigned char)ncols);
    put(&o, types, ncols);
    PUT(&o, (unsigned char)nmeta);
    put(&o, meta, nmeta);
    PUT(&o, 0xff);
    put(&o, opt, nopt);
    return o;
}

/* A WRITE_ROWS_V1 body of table id 7 with all ncols (≤ 8) columns present
 * and the given row data (NULL bitmap first). */
static struct bytes write_rows(size_t ncols, const unsigned char *row,
                               size_t n)
{
    struct bytes o = {{0}, 0};

    PUT(&o, 7, 0, 0, 0, 0, 0, 1, 0, (unsigned char)ncols,
        (unsigned char)((1u << ncols) - 1));
    put(&o, row, n);
    return o;
}

/* MySQL's JSON type (binary JSON, which MariaDB never writes): walked by
 * its length, refused when asked for. */
static void mysql_json_is_walked(void **state)
{
    static const unsigned char types[] = {BINLOG_T_LONG, BINLOG_T_JSON,
                                          BINLOG_T_LONG};
    static const unsigned char meta[] = {4};
    /* signedness: LONG, LONG both signed */
    static const unsigned char opt[] = {1, 1, 0x00};
    static const unsigned char row[] = {
        0x00, 5, 0, 0, 0,
        /* binary JSON {"a": 1}: 4-byte length, then the document */
        12, 0, 0, 0, 0x00, 1, 0, 11, 0, 11, 0, 1, 0, 0x05, 1, 0,
        9, 0, 0, 0};
    struct bytes tm = table_map(types, 3, meta, 1, opt, sizeof opt);
    struct bytes ev = write_rows(3, row, sizeof row);
    struct binlog_table_map map;
    struct binlog_rows rows;
    struct co_err err = {0};
    unsigned want[] = {0, 2}, json = 1;

    (void)state;
    assert_int_equal(binlog_table_map_parse(&map, BINLOG_MYSQL, tm.b, tm.n,
                                            &err), 0);
    assert_int_equal(binlog_rows_open(&rows, BINLOG_WRITE_ROWS_V1, ev.b, ev.n,
                                      &err), 0);
    assert_int_equal(binlog_rows_bind(&rows, &map, want, 2, &err), 0);
    assert_int_equal(binlog_rows_next(&rows, &err), 1);
    assert_int_equal(rows.after.v[0].i, 5);
    assert_int_equal(rows.after.v[1].i, 9);
    assert_int_equal(binlog_rows_next(&rows, &err), 0);
    binlog_rows_close(&rows);
    assert_int_equal(binlog_rows_open(&rows, BINLOG_WRITE_ROWS_V1, ev.b, ev.n,
                                      &err), 0);
    assert_int_equal(binlog_rows_bind(&rows, &map, &json, 1, &err),
                     CO_ESCHEMA);
    assert_contains(err.msg, "JSON");
    binlog_rows_close(&rows);
    binlog_table_map_free(&map);
}

/* MySQL does not count GEOMETRY among the charset columns, MariaDB does:
 * COLUMN_CHARSET of a (GEOMETRY, VARCHAR) table has one entry on MySQL. */
static void charset_columns_counted_per_flavor(void **state)
{
    static const unsigned char types[] = {BINLOG_T_GEOMETRY, BINLOG_T_VARCHAR};
    static const unsigned char meta[] = {4, 10, 0};
    static const unsigned char opt[] = {3, 1, 8};    /* latin1 */
    struct bytes tm = table_map(types, 2, meta, sizeof meta, opt, sizeof opt);
    struct binlog_table_map map;
    struct co_err err = {0};

    (void)state;
    assert_int_equal(binlog_table_map_parse(&map, BINLOG_MYSQL, tm.b, tm.n,
                                            &err), 0);
    assert_int_equal(map.cols[1].charset, 8);
    assert_int_equal(map.cols[0].charset, BINLOG_CHARSET_BINARY);
    binlog_table_map_free(&map);
    assert_int_equal(binlog_table_map_parse(&map, BINLOG_MARIADB, tm.b, tm.n,
                                            &err), CO_EPROTOCOL);
    assert_contains(err.msg, "table db.t: binlog event TABLE_MAP at offset");
    assert_contains(err.msg, "column charset");
}

struct bad_event {
    const char *what;
    unsigned char types[4];
    size_t ncols;
    unsigned char meta[8];
    size_t nmeta;
    unsigned char row[32];
    size_t nrow;
    const char *message;       /* the error says this */
    unsigned char opt[16];     /* optional metadata beyond the default */
    size_t nopt;
};

/* Values a server never writes are refused with the column and offset. */
static void impossible_values_are_refused(void **state)
{
    static const struct bad_event cases[] = {
        {"decimal group over 9 digits", {BINLOG_T_NEWDECIMAL}, 1, {10, 0}, 2,
         {0x00, 0x80, 0x3b, 0x9a, 0xca, 0x00}, 6,
         "DECIMAL(10,0) digit group 1000000000 does not fit 9 digits"},
        {"varchar longer than its column", {BINLOG_T_VARCHAR}, 1, {3, 0}, 2,
         {0x00, 4, 'a', 'b', 'c', 'd'}, 6, "VARCHAR value of 4 bytes in a "
         "column of 3"},
        {"enum index past its members", {BINLOG_T_STRING}, 1,
         {BINLOG_T_ENUM, 1}, 2, {0x00, 3}, 2, "ENUM value 3 of 2 members",
         {6, 5, 2, 1, 'a', 1, 'b'}, 7},
        {"month 13", {BINLOG_T_DATE}, 1, {0}, 0, {0x00, 0xa0, 0x0f, 0x00},
         4, "DATE 7-13-0"},
        {"time over 838 hours", {BINLOG_T_TIME2}, 1, {0}, 1,
         {0x00, 0xbf, 0xff, 0xff}, 4, "TIME 1023:63:63"},
        {"truncated blob", {BINLOG_T_BLOB}, 1, {2}, 1, {0x00, 9, 0, 'x'}, 4,
         "truncated: value needs 9 bytes, 1 left"},
        {"truncated int", {BINLOG_T_LONG, BINLOG_T_LONG}, 2, {0}, 0,
         {0x00, 1, 0, 0, 0, 2, 0}, 7, "row 1: column 2 (LONG): binlog event "
         "WRITE_ROWS_V1 (table id 7) at offset 15: truncated: LONG needs 4 "
         "bytes, 2 left"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct bad_event *c = &cases[i];
        /* signedness: all signed; default charset latin1 */
        unsigned char opt[32] = {1, 1, 0x00, 2, 1, 8};
        struct bytes tm;
        memcpy(opt + 6, c->opt, c->nopt);
        tm = table_map(c->types, c->ncols, c->meta, c->nmeta, opt,
                       6 + c->nopt);
        struct bytes ev = write_rows(c->ncols, c->row, c->nrow);
        struct binlog_table_map map;
        struct co_err err = {0};
        int rc;

        if (binlog_table_map_parse(&map, BINLOG_MARIADB, tm.b, tm.n, &err))
            fail_msg("%s: map: %s", c->what, err.msg);
        rc = decode_all(&map, BINLOG_WRITE_ROWS_V1, ev.b, ev.n, &err);
        if (rc != CO_EPROTOCOL || !strstr(err.msg, c->message))
            fail_msg("%s: expected \"%s\", got %d \"%s\"", c->what,
                     c->message, rc, err.msg);
        assert_contains(err.msg, "row 1: column ");
        binlog_table_map_free(&map);
    }
}

/* Compressed rows that claim more than zlib can inflate are refused
 * before any allocation; the map and event must agree on the width. */
static void lying_headers_are_refused(void **state)
{
    static const unsigned char types[] = {BINLOG_T_LONG};
    static const unsigned char opt[] = {1, 1, 0x00};
    struct bytes tm = table_map(types, 1, NULL, 0, opt, sizeof opt);
    struct bytes ev = {{0}, 0}, wide = {{0}, 0};
    struct binlog_table_map map;
    struct binlog_rows rows;
    struct co_err err = {0};
    unsigned col = 0;

    (void)state;
    /* compressed: 0x84 = zlib, 4 length bytes: 0x3fffffff bytes of rows */
    PUT(&ev, 7, 0, 0, 0, 0, 0, 1, 0, 1, 0x01, 0x84, 0x3f, 0xff, 0xff, 0xff,
        0x78, 0x9c, 0x03, 0x00);
    assert_int_equal(binlog_rows_open(&rows, BINLOG_WRITE_ROWS_COMPRESSED_V1,
                                      ev.b, ev.n, &err), CO_EPROTOCOL);
    assert_contains(err.msg, "1073741823 bytes of rows from 4 compressed");
    /* width 2 for a map of 1 column */
    PUT(&wide, 7, 0, 0, 0, 0, 0, 1, 0, 2, 0x03, 0x00, 1, 0, 0, 0, 2, 0, 0, 0);
    assert_int_equal(binlog_table_map_parse(&map, BINLOG_MARIADB, tm.b, tm.n,
                                            &err), 0);
    assert_int_equal(binlog_rows_open(&rows, BINLOG_WRITE_ROWS_V1, wide.b,
                                      wide.n, &err), 0);
    assert_int_equal(binlog_rows_bind(&rows, &map, &col, 1, &err),
                     CO_EPROTOCOL);
    assert_contains(err.msg, "2 columns, but the table map of table id 7 "
                    "(db.t) has 1");
    binlog_rows_close(&rows);
    binlog_table_map_free(&map);
}

static const struct CMUnitTest fixed_tests[] = {
    cmocka_unit_test(full_metadata_matches_definitions),
    cmocka_unit_test(unknown_signedness_or_charset_is_refused),
    cmocka_unit_test(compressed_columns_are_walked_not_decoded),
    cmocka_unit_test(truncated_and_corrupted_events_full),
    cmocka_unit_test(truncated_and_corrupted_events_compressed),
    cmocka_unit_test(truncated_and_corrupted_events_minimal_image),
    cmocka_unit_test(mysql_json_is_walked),
    cmocka_unit_test(charset_columns_counted_per_flavor),
    cmocka_unit_test(impossible_values_are_refused),
    cmocka_unit_test(lying_headers_are_refused),
};

int main(void)
{
    enum { NFIXED = sizeof fixed_tests / sizeof fixed_tests[0],
           NWALK = sizeof walk_cases / sizeof walk_cases[0] };
    struct CMUnitTest tests[NWALK + NFIXED];

    for (size_t i = 0; i < NWALK; i++)
        tests[i] = (struct CMUnitTest){walk_cases[i].title, run_walk_case,
                                       NULL, NULL, (void *)&walk_cases[i]};
    memcpy(tests + NWALK, fixed_tests, sizeof fixed_tests);
    return _cmocka_run_group_tests("binlog_rows", tests, NWALK + NFIXED,
                                   NULL, NULL);
}
