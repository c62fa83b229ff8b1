/*
 * test_value.c — lib/value.c: owned tuples and their checkpoint (JSON)
 * form, UTF-8 validation, and the human form used in messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "lib/errors.h"
#include "lib/value.h"
#include "tests/unit/unit_util.h"
#include "tests/unit/value_literals.h"

/* ---- JSON form ---------------------------------------------------------- */

struct json_case {
    struct value v;
    const char *json;          /* expected compact JSON of the one value */
};

/* Each value alone: exact JSON form, and back to an equal tuple. */
static void check_round_trips(const struct json_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct tuple t = {0}, back = {0};
        json_t *j;
        char *text;

        assert_int_equal(tuple_set(&t, &cases[i].v, 1), 0);
        j = tuple_to_json(&t);
        text = json_dumps(j, JSON_COMPACT);
        if (strcmp(text, cases[i].json) != 0)
            fail_msg("case %zu: expected %s, got %s", i, cases[i].json, text);
        if (tuple_from_json(j, &back) != 0)
            fail_msg("case %zu: %s does not read back", i, text);
        if (!tuple_equal(&t, &back))
            fail_msg("case %zu: %s reads back as a different tuple", i, text);
        free(text);
        json_decref(j);
        tuple_free(&t);
        tuple_free(&back);
    }
}

#define CHECK_RT(t) check_round_trips(t, sizeof t / sizeof t[0])

static void integers_round_trip_as_json_numbers(void **state)
{
    static const struct json_case cases[] = {
        {INT(0), "[0]"},
        {INT(-1), "[-1]"},
        {INT(INT64_MAX), "[9223372036854775807]"},
        {INT(INT64_MIN), "[-9223372036854775808]"},
    };
    (void)state;
    CHECK_RT(cases);
}

static void reals_round_trip_bit_exactly(void **state)
{
    static const struct json_case cases[] = {
        {REAL(0.1), "[{\"real\":\"0x1.999999999999ap-4\"}]"},
        {REAL(-0.0), "[{\"real\":\"-0x0p+0\"}]"},
        {REAL(1e300), "[{\"real\":\"0x1.7e43c8800759cp+996\"}]"},
    };
    struct tuple pos = {0}, neg = {0};
    struct value z = REAL(0.0), nz = REAL(-0.0);

    (void)state;
    CHECK_RT(cases);
    /* -0.0 stays distinct from 0.0 (the bits are the key, not ==). */
    tuple_set(&pos, &z, 1);
    tuple_set(&neg, &nz, 1);
    assert_false(tuple_equal(&pos, &neg));
    tuple_free(&pos);
    tuple_free(&neg);
}

static void valid_text_round_trips_as_a_json_string(void **state)
{
    static const struct json_case cases[] = {
        {TXT("abc"), "[\"abc\"]"},
        {TXT(""), "[\"\"]"},
        {TXT("h\xc3\xa9llo \xf0\x9f\x98\x80"),
         "[\"h\xc3\xa9llo \xf0\x9f\x98\x80\"]"},
        {TXT("quote\" back\\"), "[\"quote\\\" back\\\\\"]"},
    };
    (void)state;
    CHECK_RT(cases);
}

static void invalid_utf8_text_round_trips_as_text_hex(void **state)
{
    static const struct json_case cases[] = {
        {TXT("a\xff" "b"), "[{\"text_hex\":\"61ff62\"}]"},
        {TXT("\xed\xa0\x80"), "[{\"text_hex\":\"eda080\"}]"},
    };
    (void)state;
    CHECK_RT(cases);
}

static void text_with_nul_round_trips_as_text_hex(void **state)
{
    static const struct json_case cases[] = {
        {TXT("a\0b"), "[{\"text_hex\":\"610062\"}]"},
    };
    (void)state;
    CHECK_RT(cases);
}

static void blob_and_null_round_trip(void **state)
{
    static const struct json_case cases[] = {
        {BLOB("\x00\xff\x10"), "[{\"blob_hex\":\"00ff10\"}]"},
        {BLOB(""), "[{\"blob_hex\":\"\"}]"},
        {BLOB("abc"), "[{\"blob_hex\":\"616263\"}]"},   /* not text */
        {NUL, "[null]"},
    };
    (void)state;
    CHECK_RT(cases);
}

static void mixed_tuple_round_trips(void **state)
{
    struct value vals[] = {INT(42), TXT("x"), REAL(-0.0), BLOB("\x01"), NUL,
                           TXT("\xc3")};
    struct tuple t = {0}, back = {0};
    json_t *j;
    char *text;

    (void)state;
    assert_int_equal(tuple_set(&t, vals, 6), 0);
    j = tuple_to_json(&t);
    text = json_dumps(j, JSON_COMPACT);
    assert_string_equal(text, "[42,\"x\",{\"real\":\"-0x0p+0\"},"
                              "{\"blob_hex\":\"01\"},null,"
                              "{\"text_hex\":\"c3\"}]");
    assert_int_equal(tuple_from_json(j, &back), 0);
    assert_int_equal(back.n, 6);
    assert_true(tuple_equal(&t, &back));
    free(text);
    json_decref(j);
    tuple_free(&t);
    tuple_free(&back);
}

static void malformed_json_items_are_refused(void **state)
{
    static const char *const bad[] = {
        "[]",                                   /* a key has values */
        "{\"a\":1}",                            /* not an array */
        "[1.5]",                                /* reals travel as %a */
        "[true]",
        "[[1]]",
        "[{\"real\":\"zz\"}]",
        "[{\"real\":\"0x1p+0 \"}]",
        "[{\"real\":1}]",
        "[{\"real\":\"0x1p+0\",\"text_hex\":\"00\"}]",
        "[{\"text_hex\":\"abc\"}]",              /* odd length */
        "[{\"text_hex\":\"zz\"}]",
        "[{\"blob_hex\":7}]",
        "[{\"hex\":\"00\"}]",
        "[{}]",
        "[1, {\"blob_hex\":\"0g\"}]",           /* a later item */
    };

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_error_t jerr;
        json_t *j = json_loads(bad[i], 0, &jerr);
        struct tuple t = {0};
        assert_non_null(j);
        if (tuple_from_json(j, &t) != -1)
            fail_msg("%s was accepted", bad[i]);
        assert_int_equal(t.n, 0);
        assert_null(t.v);
        json_decref(j);
    }
}

static void tuple_of_more_than_64_values_is_refused(void **state)
{
    json_t *arr = json_array();
    struct tuple t = {0};

    (void)state;
    for (int i = 0; i < 64; i++)
        json_array_append_new(arr, json_integer(i));
    assert_int_equal(tuple_from_json(arr, &t), 0);
    assert_int_equal(t.n, 64);
    assert_int_equal(t.v[63].i, 63);
    json_array_append_new(arr, json_integer(64));
    assert_int_equal(tuple_from_json(arr, &t), -1);
    assert_int_equal(t.n, 0);
    json_decref(arr);
}

/* A JSON string may carry \u0000 (hand-edited or fuzzed checkpoints): the
 * text must keep every byte, or be refused — never be cut short while
 * claiming its full length. */
static void json_string_with_escaped_nul_keeps_every_byte(void **state)
{
    char want[203];
    json_t *j = json_array();
    struct tuple t = {0};
    int rc;

    (void)state;
    want[0] = 'a';
    want[1] = '\0';
    memset(want + 2, 'b', 200);
    json_array_append_new(j, json_stringn(want, 202));
    rc = tuple_from_json(j, &t);
    if (rc == 0) {
        assert_int_equal(t.v[0].type, V_TEXT);
        assert_int_equal(t.v[0].n, 202);
        assert_memory_equal(t.v[0].p, want, 202);
    } else {
        assert_int_equal(rc, -1);
    }
    tuple_free(&t);
    json_decref(j);
}

static void tuple_copy_is_deep(void **state)
{
    char buf[4] = "abc";
    struct value v = {.type = V_TEXT, .p = (unsigned char *)buf, .n = 3};
    struct tuple a = {0}, b = {0};

    (void)state;
    assert_int_equal(tuple_set(&a, &v, 1), 0);
    buf[0] = 'X';                          /* the source buffer changes */
    assert_memory_equal(a.v[0].p, "abc", 3);
    assert_int_equal(tuple_copy(&b, &a), 0);
    tuple_free(&a);
    assert_int_equal(b.n, 1);
    assert_memory_equal(b.v[0].p, "abc", 3);
    tuple_free(&b);
    assert_int_equal(b.n, 0);
    assert_null(b.v);
}

/* ---- UTF-8 -------------------------------------------------------------- */

struct utf8_case {
    const char *bytes;
    size_t n;
    int valid;
    const char *what;
};

#define U(s, ok, what) {s, sizeof(s) - 1, ok, what}

static void check_utf8(const struct utf8_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (utf8_valid((const unsigned char *)cases[i].bytes, cases[i].n) !=
            cases[i].valid)
            fail_msg("%s: expected utf8_valid = %d", cases[i].what,
                     cases[i].valid);
}

#define CHECK_U(t) check_utf8(t, sizeof t / sizeof t[0])

static void utf8_accepts_well_formed_text(void **state)
{
    static const struct utf8_case cases[] = {
        U("", 1, "empty"),
        U("plain ascii", 1, "ascii"),
        U("a\0b", 1, "NUL is a valid code point"),
        U("h\xc3\xa9", 1, "2-byte e-acute"),
        U("\xe2\x82\xac", 1, "3-byte euro sign"),
        U("\xef\xbf\xbd", 1, "U+FFFD"),
        U("\xf0\x9f\x98\x80", 1, "4-byte emoji U+1F600"),
        U("\xf4\x8f\xbf\xbf", 1, "U+10FFFF, the last code point"),
        U("\xed\x9f\xbf", 1, "U+D7FF, just below the surrogates"),
        U("\xee\x80\x80", 1, "U+E000, just above the surrogates"),
    };
    (void)state;
    CHECK_U(cases);
}

static void utf8_refuses_overlong_forms(void **state)
{
    static const struct utf8_case cases[] = {
        U("\xc0\x80", 0, "overlong NUL (C0 80)"),
        U("\xc1\xbf", 0, "overlong 2-byte (C1 BF)"),
        U("\xe0\x80\xaf", 0, "overlong '/' in 3 bytes"),
        U("\xe0\x9f\xbf", 0, "overlong U+07FF in 3 bytes"),
        U("\xf0\x80\x80\xaf", 0, "overlong '/' in 4 bytes"),
        U("\xf0\x8f\xbf\xbf", 0, "overlong U+FFFF in 4 bytes"),
    };
    (void)state;
    CHECK_U(cases);
}

static void utf8_refuses_surrogates(void **state)
{
    static const struct utf8_case cases[] = {
        U("\xed\xa0\x80", 0, "U+D800"),
        U("\xed\xbf\xbf", 0, "U+DFFF"),
        U("\xed\xa0\xbd\xed\xb8\x80", 0, "CESU-8 surrogate pair"),
    };
    (void)state;
    CHECK_U(cases);
}

static void utf8_refuses_truncated_sequences(void **state)
{
    static const struct utf8_case cases[] = {
        U("\xc3", 0, "lead of 2 without continuation"),
        U("\xe2\x82", 0, "3-byte sequence cut after 2"),
        U("\xf0\x9f\x98", 0, "4-byte sequence cut after 3"),
        U("ok\xf0", 0, "4-byte lead at the end"),
        U("\xe2\x28\xa1", 0, "bad continuation byte"),
    };
    (void)state;
    CHECK_U(cases);
}

static void utf8_refuses_invalid_bytes(void **state)
{
    static const struct utf8_case cases[] = {
        U("\x80", 0, "lone continuation"),
        U("\xbf", 0, "lone continuation BF"),
        U("\xfe", 0, "FE"),
        U("\xff", 0, "FF"),
        U("\xf4\x90\x80\x80", 0, "U+110000 beyond Unicode"),
        U("\xf5\x80\x80\x80", 0, "F5 lead"),
    };
    (void)state;
    CHECK_U(cases);
}

static void utf8_chars_counts_code_points(void **state)
{
    static const char s[] = "h\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";

    (void)state;
    assert_int_equal(utf8_chars((const unsigned char *)s, sizeof s - 1), 4);
    assert_int_equal(utf8_chars((const unsigned char *)"", 0), 0);
}

/* Every cut of "h é € 😀" keeps only whole characters. */
static void utf8_copy_never_splits_a_character(void **state)
{
    static const char s[] = "h\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    static const size_t whole[] = {0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10};
    char buf[16];

    (void)state;
    for (size_t cut = 0; cut <= sizeof s - 1; cut++) {
        assert_int_equal(utf8_whole_chars(s, cut), whole[cut]);
        utf8_copy(buf, cut + 1, s);
        assert_int_equal(strlen(buf), whole[cut]);
        assert_true(utf8_valid((const unsigned char *)buf, strlen(buf)));
    }
}

/* ---- human form --------------------------------------------------------- */

static void format_tuple(const struct value *vals, int n,
                         const char *const *names, char *buf, size_t cap)
{
    struct tuple t = {0};

    assert_int_equal(tuple_set(&t, vals, n), 0);
    tuple_format(&t, names, buf, cap);
    tuple_free(&t);
}

static void tuple_format_single_key(void **state)
{
    static const char *const id[] = {"id"};
    struct value v42 = INT(42);
    char buf[128];

    (void)state;
    format_tuple(&v42, 1, id, buf, sizeof buf);
    assert_string_equal(buf, "id=42");
    format_tuple(&v42, 1, NULL, buf, sizeof buf);
    assert_string_equal(buf, "key=42");
}

static void tuple_format_composite_key(void **state)
{
    static const char *const names[] = {"a", "b"};
    struct value vals[2] = {INT(1), TXT("x")};
    char buf[128];

    (void)state;
    format_tuple(vals, 2, names, buf, sizeof buf);
    assert_string_equal(buf, "(a, b)=(1, 'x')");
}

static void tuple_format_quotes_and_escapes_values(void **state)
{
    static const char *const names[] = {"t", "n", "b", "r", "c"};
    struct value vals[5] = {TXT("it's"), NUL, BLOB("\x00\xff"), REAL(0.5),
                            TXT("a\nb")};
    char buf[256];

    (void)state;
    format_tuple(vals, 5, names, buf, sizeof buf);
    assert_string_equal(buf, "(t, n, b, r, c)=('it''s', NULL, x'00ff', 0.5, "
                             "'a\\x0ab')");
}

static void tuple_format_invalid_utf8_text_as_hex(void **state)
{
    static const char *const k[] = {"k"};
    struct value v = TXT("a\xff");
    char buf[64];

    (void)state;
    format_tuple(&v, 1, k, buf, sizeof buf);
    assert_string_equal(buf, "k=x'61ff'");
}

static void tuple_format_truncates_within_the_buffer(void **state)
{
    static const char *const names[] = {"first_long_column_name",
                                        "second_long_column_name"};
    struct value vals[2] = {TXT("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
                            INT(1)};
    char buf[24];

    (void)state;
    memset(buf, 'Z', sizeof buf);
    format_tuple(vals, 2, names, buf, sizeof buf);
    assert_true(memchr(buf, '\0', sizeof buf) != NULL);
    assert_int_equal(strlen(buf), sizeof buf - 1);
    assert_string_equal(buf, "(first_long_column_name");
}

static void value_format_marks_cut_text(void **state)
{
    char text[300], buf[32];
    struct value v = {.type = V_TEXT, .p = (unsigned char *)text, .n = 300};

    (void)state;
    memset(text, 'a', sizeof text);
    value_format(&v, buf, sizeof buf);
    assert_true(strlen(buf) < sizeof buf);
    assert_prefix(buf, "'aaaa");
    assert_string_equal(buf + strlen(buf) - 4, "...'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(integers_round_trip_as_json_numbers),
        cmocka_unit_test(reals_round_trip_bit_exactly),
        cmocka_unit_test(valid_text_round_trips_as_a_json_string),
        cmocka_unit_test(invalid_utf8_text_round_trips_as_text_hex),
        cmocka_unit_test(text_with_nul_round_trips_as_text_hex),
        cmocka_unit_test(blob_and_null_round_trip),
        cmocka_unit_test(mixed_tuple_round_trips),
        cmocka_unit_test(malformed_json_items_are_refused),
        cmocka_unit_test(tuple_of_more_than_64_values_is_refused),
        cmocka_unit_test(json_string_with_escaped_nul_keeps_every_byte),
        cmocka_unit_test(tuple_copy_is_deep),
        cmocka_unit_test(utf8_accepts_well_formed_text),
        cmocka_unit_test(utf8_refuses_overlong_forms),
        cmocka_unit_test(utf8_refuses_surrogates),
        cmocka_unit_test(utf8_refuses_truncated_sequences),
        cmocka_unit_test(utf8_refuses_invalid_bytes),
        cmocka_unit_test(utf8_chars_counts_code_points),
        cmocka_unit_test(utf8_copy_never_splits_a_character),
        cmocka_unit_test(tuple_format_single_key),
        cmocka_unit_test(tuple_format_composite_key),
        cmocka_unit_test(tuple_format_quotes_and_escapes_values),
        cmocka_unit_test(tuple_format_invalid_utf8_text_as_hex),
        cmocka_unit_test(tuple_format_truncates_within_the_buffer),
        cmocka_unit_test(value_format_marks_cut_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
