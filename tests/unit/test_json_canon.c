/*
 * test_json_canon.c — sync/json_canon.c: one spelling per JSON value and
 * per UUID, as verify hashes a source's text and PostgreSQL's jsonb/uuid
 * output; and codec_canon using it for json and uuid columns only, with a
 * changed value still different.
 *
 * The PostgreSQL spellings below are what jsonb and uuid print for the
 * source text beside them (checked against PostgreSQL 15).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sync/codec.h"
#include "sync/json_canon.h"

static const char *canon(const char *text, char *out, size_t cap)
{
    struct sbuf b;
    int rc;

    sbuf_init(&b);
    rc = json_canon((const unsigned char *)text, strlen(text), &b);
    snprintf(out, cap, "%s", rc == 0 ? sbuf_str(&b) : "(invalid)");
    sbuf_free(&b);
    return out;
}

struct same_case {
    const char *source, *postgresql;
};

static void source_text_and_jsonb_output_are_one_value(void **state)
{
    static const struct same_case cases[] = {
        /* keys reordered, spaces dropped */
        {"{\"b\": 1, \"a\": [1, 2]}", "{\"a\": [1, 2], \"b\": 1}"},
        /* keys by length first in jsonb */
        {"{\"bb\":1,\"a\":2}", "{\"a\": 2, \"bb\": 1}"},
        /* duplicate keys: jsonb keeps the last */
        {"{\"a\": 1, \"a\": 2}", "{\"a\": 2}"},
        /* escapes rewritten */
        {"\"\\u00e9\\/\\ud83d\\ude00\"", "\"é/😀\""},
        {"\"tab\\there\"", "\"tab\\there\""},
        /* numbers by exact value */
        {"1.0", "1.0"},
        {"1e2", "100"},
        {"12345678901234567890123", "12345678901234567890123"},
        {"-0.000100", "-0.000100"},
        {"[true, false, null]", "[true, false, null]"},
        {" {\"x\" : { } } ", "{\"x\": {}}"},
    };
    char a[256], b[256];

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        canon(cases[i].source, a, sizeof a);
        canon(cases[i].postgresql, b, sizeof b);
        if (strcmp(a, b) != 0 || strcmp(a, "(invalid)") == 0)
            fail_msg("%s (%s) and %s (%s) should be one value",
                     cases[i].source, a, cases[i].postgresql, b);
    }
}

static void numbers_are_exact_values(void **state)
{
    static const char *const pairs[][2] = {
        {"1", "1"}, {"1.0", "1"}, {"10e-1", "1"}, {"0.1e1", "1"},
        {"100", "1e2"}, {"-0", "0"}, {"0.0e5", "0"}, {"1.5", "15e-1"},
        /* past a double's precision: no rounding */
        {"9007199254740993", "9007199254740993"},
        {"0.30000000000000000001", "30000000000000000001e-20"},
    };
    char out[128];

    (void)state;
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++)
        if (strcmp(canon(pairs[i][0], out, sizeof out), pairs[i][1]) != 0)
            fail_msg("%s: expected %s, got %s", pairs[i][0], pairs[i][1], out);
    /* different values stay different */
    char x[64], y[64];
    assert_string_not_equal(canon("9007199254740993", x, sizeof x),
                            canon("9007199254740992", y, sizeof y));
    assert_string_not_equal(canon("{\"a\":1}", x, sizeof x),
                            canon("{\"a\":\"1\"}", y, sizeof y));
}

static void invalid_json_is_refused(void **state)
{
    static const char *const bad[] = {
        "", "{", "[1,]", "{\"a\" 1}", "01", "1.", ".5", "+1", "tru",
        "\"unterminated", "\"ctl\x01\"", "{} x", "'single'", "NaN",
        "\"\\x\"", "[1 2]",
    };
    char out[64];

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (strcmp(canon(bad[i], out, sizeof out), "(invalid)") != 0)
            fail_msg("\"%s\" read as valid JSON: %s", bad[i], out);
        assert_false(json_is_valid((const unsigned char *)bad[i],
                                   strlen(bad[i])));
    }
    assert_true(json_is_valid((const unsigned char *)"[]", 2));
}

static void uuids_in_any_case_and_with_or_without_dashes(void **state)
{
    char a[33], b[33], c[33];

    (void)state;
    assert_int_equal(uuid_canon((const unsigned char *)
                     "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", 36, a), 0);
    assert_int_equal(uuid_canon((const unsigned char *)
                     "a0eebc999c0b4ef8bb6d6bb9bd380a11", 32, b), 0);
    assert_string_equal(a, b);
    assert_string_equal(a, "a0eebc999c0b4ef8bb6d6bb9bd380a11");
    assert_int_equal(uuid_canon((const unsigned char *)
                     "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12", 36, c), 0);
    assert_string_not_equal(a, c);
    /* dashes in other places, other lengths, other letters */
    assert_int_equal(uuid_canon((const unsigned char *)
                     "a0eebc999-c0b-4ef8-bb6d-6bb9bd380a11", 36, c), -1);
    assert_int_equal(uuid_canon((const unsigned char *)
                     "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", 35, c), -1);
    assert_int_equal(uuid_canon((const unsigned char *)
                     "g0eebc999c0b4ef8bb6d6bb9bd380a11", 32, c), -1);
}

static int canon_equal(const struct column *col, const char *x,
                       const char *y)
{
    struct scratch a = {0}, b = {0};
    struct value vx = {.type = V_TEXT, .p = (const unsigned char *)x,
                       .n = strlen(x)};
    struct value vy = {.type = V_TEXT, .p = (const unsigned char *)y,
                       .n = strlen(y)};
    struct co_err err = {0};
    int eq;

    assert_int_equal(codec_canon(col, &vx, &a, &err), 0);
    assert_int_equal(codec_canon(col, &vy, &b, &err), 0);
    eq = a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
    scratch_free(&a);
    scratch_free(&b);
    return eq;
}

static void codec_canon_compares_json_and_uuid_columns_by_value(void **state)
{
    struct column json = {.name = "doc"}, uuid = {.name = "id"},
                  text = {.name = "t"};

    (void)state;
    json.map.lt = uuid.map.lt = text.map.lt = LT_TEXT;
    json.map.has_logical = uuid.map.has_logical = text.map.has_logical = 1;
    json.map.logical.kind = LK_JSON;
    uuid.map.logical.kind = LK_UUID;
    text.map.logical.kind = LK_TEXT;
    assert_true(canon_equal(&json, "{\"b\": 1.0, \"a\": 2}",
                            "{\"a\": 2, \"b\": 1.0}"));
    assert_false(canon_equal(&json, "{\"b\": 1.0, \"a\": 2}",
                             "{\"a\": 2, \"b\": 1.5}"));
    assert_true(canon_equal(&uuid, "A0EEBC999C0B4EF8BB6D6BB9BD380A11",
                            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
    /* text stays bytes: the same spellings differ there */
    assert_false(canon_equal(&text, "{\"b\": 1}", "{\"b\":1}"));
    /* text in a json column that is not JSON is compared as bytes */
    assert_true(canon_equal(&json, "not json", "not json"));
    assert_false(canon_equal(&json, "not json", "not  json"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(source_text_and_jsonb_output_are_one_value),
        cmocka_unit_test(numbers_are_exact_values),
        cmocka_unit_test(invalid_json_is_refused),
        cmocka_unit_test(uuids_in_any_case_and_with_or_without_dashes),
        cmocka_unit_test(codec_canon_compares_json_and_uuid_columns_by_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
