/*
 * test_codec.c — sync/codec.c: exact decimals, date/time parsing and epoch
 * conversion, shortest doubles, source → target conversion per logical
 * type, and the canonical encoding verify compares.
 *
 * Conversions are tables of {input, expected}; a failing row is named in
 * the failure message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/runbook.h"
#include "sync/codec.h"
#include "tests/unit/unit_util.h"
#include "tests/unit/value_literals.h"

static void show(const struct value *v, char *buf, size_t cap)
{
    value_format(v, buf, cap);
}

/* ---- codec_decimal ------------------------------------------------------ */

struct dec_case {
    struct value v;
    int precision, scale;
    const char *want;          /* NULL: must be refused (-1) */
};

static void check_decimals(const struct dec_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct dec_case *c = &cases[i];
        char out[128] = "", shown[128];
        int rc = codec_decimal(&c->v, c->precision, c->scale, out,
                               sizeof out);
        show(&c->v, shown, sizeof shown);
        if (!c->want && rc != -1)
            fail_msg("DECIMAL(%d,%d) of %s: expected refusal, got %d \"%s\"",
                     c->precision, c->scale, shown, rc, out);
        if (c->want && (rc != 0 || strcmp(out, c->want) != 0))
            fail_msg("DECIMAL(%d,%d) of %s: expected \"%s\", got %d \"%s\"",
                     c->precision, c->scale, shown, c->want, rc, out);
    }
}

#define CHECK_DEC(t) check_decimals(t, sizeof t / sizeof t[0])

static void decimal_exact_values_at_scale(void **state)
{
    static const struct dec_case cases[] = {
        {REAL(12.5), 12, 2, "12.50"},
        {REAL(0.3), 12, 2, "0.30"},
        {INT(7), 12, 2, "7.00"},
        {INT(-7), 12, 2, "-7.00"},
        {TXT("1e2"), 12, 2, "100.00"},
        {TXT("1.5e-1"), 12, 2, "0.15"},
        {TXT("-12.3"), 12, 2, "-12.30"},
        {TXT("1.250"), 12, 2, "1.25"},          /* trailing zero only */
        {TXT("007.10"), 12, 2, "7.10"},
        {TXT("99.99"), 4, 2, "99.99"},
        {REAL(1e20), 30, 2, "100000000000000000000.00"},
        {INT(INT64_MIN), 19, 0, "-9223372036854775808"},
        /* fewer significant digits than the scale: 4 at scale 2 is 0.04 */
        {REAL(0.04), 10, 2, "0.04"},
        {REAL(-0.04), 10, 2, "-0.04"},
        {REAL(0.005), 10, 3, "0.005"},
        {REAL(0.1), 10, 4, "0.1000"},
        {REAL(1e-5), 20, 5, "0.00001"},
        {TXT("0.04"), 10, 2, "0.04"},
        {TXT(".5"), 10, 2, "0.50"},
    };
    (void)state;
    CHECK_DEC(cases);
}

/* The independent formatter verify uses agrees on exact values and refuses
 * what would round. */
static void decimal_libc_agrees_and_refuses_rounding(void **state)
{
    static const double exact[] = {0.04, -0.04, 12.5, 0.005, 1e-5, 99.99};
    char a[128], b[128];

    (void)state;
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
        struct value v = REAL(exact[i]);
        assert_int_equal(codec_decimal(&v, 20, 5, a, sizeof a), 0);
        assert_int_equal(codec_decimal_libc(exact[i], 20, 5, b, sizeof b), 0);
        assert_string_equal(a, b);
    }
    assert_int_equal(codec_decimal_libc(0.125, 10, 2, b, sizeof b), -1);
    assert_int_equal(codec_decimal_libc(123.45, 4, 2, b, sizeof b), -1);
    assert_int_equal(codec_decimal_libc(-0.0, 10, 2, b, sizeof b), 0);
    assert_string_equal(b, "0.00");
}

/* Binary noise from arithmetic in SQLite (127.46 + 1) is not a digit of
 * the number: beyond 15 significant digits a REAL means what SQLite shows,
 * unless its exact form fits. Both implementations agree. */
static void decimal_real_means_its_15_digit_form(void **state)
{
    static const struct dec_case cases[] = {
        {REAL(0.30000000000000004), 12, 2, "0.30"},
        {REAL(128.45999999999998), 12, 2, "128.46"},
        {REAL(-128.45999999999998), 12, 2, "-128.46"},
        {REAL(1234567.8912345679), 20, 10, "1234567.8912345679"},
        {REAL(1234567.8912345679), 20, 8, "1234567.89123457"},
        {REAL(0.1 + 0.7), 12, 1, "0.8"},
    };
    char out[64];

    (void)state;
    CHECK_DEC(cases);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(codec_decimal_libc(cases[i].v.r, cases[i].precision,
                                            cases[i].scale, out, sizeof out),
                         0);
        assert_string_equal(out, cases[i].want);
    }
}

static void decimal_negative_zero_is_plain_zero(void **state)
{
    static const struct dec_case cases[] = {
        {TXT("-0.00"), 12, 2, "0.00"},
        {TXT("-0"), 12, 2, "0.00"},
        {REAL(-0.0), 12, 2, "0.00"},
    };
    (void)state;
    CHECK_DEC(cases);
}

static void decimal_refuses_digits_beyond_scale(void **state)
{
    static const struct dec_case cases[] = {
        {TXT("-0.001"), 12, 2, NULL},
        {TXT("1.005"), 12, 2, NULL},
        {REAL(0.125), 12, 2, NULL},
    };
    (void)state;
    CHECK_DEC(cases);
}

static void decimal_refuses_integer_digits_beyond_precision(void **state)
{
    static const struct dec_case cases[] = {
        {TXT("123.45"), 4, 2, NULL},
        {INT(100), 4, 2, NULL},
        {REAL(1000.0), 5, 2, NULL},
        {TXT("1e3"), 5, 2, NULL},
    };
    (void)state;
    CHECK_DEC(cases);
}

static void decimal_refuses_non_numbers(void **state)
{
    static const struct dec_case cases[] = {
        {TXT("abc"), 12, 2, NULL},
        {TXT(""), 12, 2, NULL},
        {TXT("1.2.3"), 12, 2, NULL},
        {TXT("1e"), 12, 2, NULL},
        {BLOB("\x01"), 12, 2, NULL},
        {NUL, 12, 2, NULL},
        {REAL(INFINITY), 12, 2, NULL},
        {REAL(NAN), 12, 2, NULL},
    };
    (void)state;
    CHECK_DEC(cases);
}

/* ---- codec_parse_datetime ----------------------------------------------- */

struct dt_case {
    const char *text;
    enum ltype lt;
    int rc;                    /* fraction digits seen, or -1 */
    const char *want;          /* canonical form when rc >= 0 */
};

static void check_datetimes(const struct dt_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct dt_case *c = &cases[i];
        char out[64] = "";
        int rc = codec_parse_datetime((const unsigned char *)c->text,
                                      strlen(c->text), c->lt, out,
                                      sizeof out);
        if (rc != c->rc || (c->rc >= 0 && strcmp(out, c->want) != 0))
            fail_msg("\"%s\" as %s: expected %d \"%s\", got %d \"%s\"",
                     c->text, ltype_name(c->lt), c->rc,
                     c->want ? c->want : "", rc, out);
    }
}

#define CHECK_DT(t) check_datetimes(t, sizeof t / sizeof t[0])

static void datetime_separators_and_utc_suffixes(void **state)
{
    static const struct dt_case cases[] = {
        {"2024-01-02 03:04:05", LT_DATETIME, 0, "2024-01-02 03:04:05.000000"},
        {"2024-01-02T03:04:05", LT_DATETIME, 0, "2024-01-02 03:04:05.000000"},
        {"2024-01-02T03:04:05Z", LT_DATETIME, 0,
         "2024-01-02 03:04:05.000000"},
        {"2024-01-02 03:04:05+00:00", LT_DATETIME, 0,
         "2024-01-02 03:04:05.000000"},
        {"2024-01-02 03:04", LT_DATETIME, 0, "2024-01-02 03:04:00.000000"},
        {"2024-01-02", LT_DATETIME, 0, "2024-01-02 00:00:00.000000"},
    };
    (void)state;
    CHECK_DT(cases);
}

static void datetime_fraction_is_padded_to_microseconds(void **state)
{
    static const struct dt_case cases[] = {
        {"2024-01-02 03:04:05.5", LT_DATETIME, 1,
         "2024-01-02 03:04:05.500000"},
        {"2024-01-02T03:04:05.123Z", LT_DATETIME, 3,
         "2024-01-02 03:04:05.123000"},
        {"2024-01-02 03:04:05.123456", LT_DATETIME, 6,
         "2024-01-02 03:04:05.123456"},
    };
    (void)state;
    CHECK_DT(cases);
}

static void datetime_nine_digit_fraction_reports_nine(void **state)
{
    static const struct dt_case cases[] = {
        {"2024-01-02 03:04:05.123456789", LT_DATETIME, 9,
         "2024-01-02 03:04:05.123456"},
        {"2024-01-02 03:04:05.1234567890", LT_DATETIME, -1, NULL},
    };
    (void)state;
    CHECK_DT(cases);
}

/* TIME: hours of one to three digits up to MySQL's 838:59:59. */
static void time_forms_and_limits(void **state)
{
    static const struct {
        const char *text;
        int rc;
        const char *want;
    } cases[] = {
        {"12:34:56", 0, "12:34:56.000000"},
        {"00:00", 0, "00:00:00.000000"},
        {"7:05:09.25", 2, "07:05:09.250000"},
        {"23:59:59.999999", 6, "23:59:59.999999"},
        {"100:00:00", 0, "100:00:00.000000"},
        {"838:59:59", 0, "838:59:59.000000"},
        {"838:59:59.000", 3, "838:59:59.000000"},
        {"838:59:59.5", -1, NULL},
        {"839:00:00", -1, NULL},
        {"1000:00:00", -1, NULL},
        {"12:60:00", -1, NULL},
        {"12:00:60", -1, NULL},
        {"12", -1, NULL},
        {"12:3", -1, NULL},
        {"12:30:", -1, NULL},
        {"12:30:00.", -1, NULL},
        {"-01:00:00", -1, NULL},
        {" 12:30", -1, NULL},
        {"12:30 ", -1, NULL},
        {"12:30:00Z", -1, NULL},
        {"", -1, NULL},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[64] = "";
        int rc = codec_parse_time((const unsigned char *)cases[i].text,
                                  strlen(cases[i].text), out, sizeof out);
        if (rc != cases[i].rc ||
            (rc >= 0 && strcmp(out, cases[i].want) != 0))
            fail_msg("\"%s\": expected %d \"%s\", got %d \"%s\"",
                     cases[i].text, cases[i].rc,
                     cases[i].want ? cases[i].want : "", rc, out);
    }
}

static void datetime_invalid_calendar_dates_are_refused(void **state)
{
    static const struct dt_case cases[] = {
        {"2023-02-30 00:00:00", LT_DATETIME, -1, NULL},
        {"2023-02-29", LT_DATE, -1, NULL},              /* not a leap year */
        {"2023-13-01", LT_DATE, -1, NULL},
        {"2023-00-10", LT_DATE, -1, NULL},
        {"2023-04-31", LT_DATE, -1, NULL},
        {"2024-01-02 24:00:00", LT_DATETIME, -1, NULL},
        {"2024-01-02 23:60:00", LT_DATETIME, -1, NULL},
        {"2024-01-02 23:59:60", LT_DATETIME, -1, NULL},
    };
    (void)state;
    CHECK_DT(cases);
}

static void datetime_year_below_1000_is_refused(void **state)
{
    static const struct dt_case cases[] = {
        {"0999-12-31 23:59:59", LT_DATETIME, -1, NULL},
        {"0000-01-01", LT_DATE, -1, NULL},
        {"1000-01-01", LT_DATE, 0, "1000-01-01"},
    };
    (void)state;
    CHECK_DT(cases);
}

static void datetime_malformed_text_is_refused(void **state)
{
    static const struct dt_case cases[] = {
        {"", LT_DATETIME, -1, NULL},
        {"2024-1-2", LT_DATE, -1, NULL},
        {"2024/01/02", LT_DATE, -1, NULL},
        {"2024-01-02x", LT_DATE, -1, NULL},
        {"2024-01-02 03:04:05.", LT_DATETIME, -1, NULL},
        {"2024-01-02T03", LT_DATETIME, -1, NULL},
        {"2024-01-02 03:04:05+01:00", LT_DATETIME, -1, NULL},  /* not UTC */
        {"2024-01-02 03:04:05 ", LT_DATETIME, -1, NULL},
    };
    (void)state;
    CHECK_DT(cases);
}

static void date_only_for_date_columns(void **state)
{
    static const struct dt_case cases[] = {
        {"2024-02-29", LT_DATE, 0, "2024-02-29"},
        {"2024-02-29 00:00:00", LT_DATE, 0, "2024-02-29"},
        {"2024-02-29 03:04:05", LT_DATE, -1, NULL},
        {"2024-02-29 00:00:00.5", LT_DATE, -1, NULL},
    };
    (void)state;
    CHECK_DT(cases);
}

/* ---- epoch conversion --------------------------------------------------- */

struct epoch_case {
    int64_t seconds, micros;
    const char *want;          /* NULL: out of range */
};

static void epoch_converts_to_datetime_and_back(void **state)
{
    static const struct epoch_case cases[] = {
        {0, 0, "1970-01-01 00:00:00.000000"},
        {1700000000, 123456, "2023-11-14 22:13:20.123456"},
        {-1, 500000, "1969-12-31 23:59:59.500000"},
        {951782400, 1, "2000-02-29 00:00:00.000001"},
        {-30610224000LL, 0, "1000-01-01 00:00:00.000000"},
        {253402300799LL, 999999, "9999-12-31 23:59:59.999999"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[64] = "";
        int64_t us = -42;
        assert_int_equal(codec_epoch_to_datetime(cases[i].seconds,
                                                 cases[i].micros, out,
                                                 sizeof out), 0);
        assert_string_equal(out, cases[i].want);
        assert_int_equal(codec_datetime_to_epoch_us(out, &us), 0);
        if (us != cases[i].seconds * 1000000 + cases[i].micros)
            fail_msg("%s back to epoch: expected %lld us, got %lld", out,
                     (long long)(cases[i].seconds * 1000000 +
                                 cases[i].micros), (long long)us);
    }
}

static void epoch_outside_years_1000_to_9999_is_refused(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(codec_epoch_to_datetime(253402300800LL, 0, out,
                                             sizeof out), -1);
    assert_int_equal(codec_epoch_to_datetime(-30610224001LL, 0, out,
                                             sizeof out), -1);
}

static void datetime_to_epoch_refuses_malformed_text(void **state)
{
    int64_t us = 7;

    (void)state;
    assert_int_equal(codec_datetime_to_epoch_us("garbage", &us), -1);
    assert_int_equal(codec_datetime_to_epoch_us("2024-01-02", &us), -1);
    assert_int_equal(us, 7);
    assert_int_equal(codec_datetime_to_epoch_us("2024-01-02 03:04:05", &us),
                     0);
    assert_int_equal(us, 1704164645LL * 1000000);
}

/* ---- codec_format_double ------------------------------------------------ */

struct dbl_case {
    double d;
    const char *want;
};

static void check_doubles(const struct dbl_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char out[64] = "";
        double back;
        codec_format_double(cases[i].d, out, sizeof out);
        back = strtod(out, NULL);
        if (memcmp(&back, &cases[i].d, sizeof back) != 0)
            fail_msg("%a formatted as \"%s\" reads back as %a", cases[i].d,
                     out, back);
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("%a: expected \"%s\", got \"%s\"", cases[i].d,
                     cases[i].want, out);
    }
}

static void format_double_is_shortest_round_trip(void **state)
{
    static const struct dbl_case cases[] = {
        {0.1, "0.1"},
        {1e300, "1e+300"},
        {0.30000000000000004, "0.30000000000000004"},
        {1.0 / 3.0, "0.3333333333333333"},
        {-2.5, "-2.5"},
        {123456789.0, "123456789"},
        {-0.0, "-0"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {2.2250738585072014e-308, "2.2250738585072014e-308"},
    };
    (void)state;
    check_doubles(cases, sizeof cases / sizeof cases[0]);
}

/* codec.h promises the shortest text; subnormals have fewer significant
 * digits than 15, so the 15..17-digit search is not enough for them. */
static void format_double_is_shortest_for_subnormals(void **state)
{
    static const struct dbl_case cases[] = {
        {5e-324, "5e-324"},
        {1e-310, "1e-310"},
    };
    (void)state;
    check_doubles(cases, sizeof cases / sizeof cases[0]);
}

/* ---- codec_to_target ---------------------------------------------------- */

struct col_spec {
    enum ltype lt;
    const char *type;
    int precision, scale;
    enum dt_repr dt;
    int invalid_utf8;
};

static struct column make_column(const struct col_spec *s)
{
    struct column c;

    memset(&c, 0, sizeof c);
    c.name = (char *)"c";
    c.map.lt = s->lt;
    snprintf(c.map.type, sizeof c.map.type, "%s", s->type);
    c.map.precision = s->precision;
    c.map.scale = s->scale;
    c.map.dt = s->dt;
    c.map.invalid_utf8 = s->invalid_utf8;
    return c;
}

struct conv_case {
    const char *name;
    struct col_spec col;
    struct value in;
    struct value want;         /* type and value when the conversion works */
    const char *msg;           /* else: CO_EDATA with this message */
};

static const struct col_spec C_INT = {LT_INT, "BIGINT", 0, 0, DT_TEXT, 0};
static const struct col_spec C_BOOL = {LT_BOOL, "TINYINT(1)", 0, 0, DT_TEXT,
                                       0};
static const struct col_spec C_DBL = {LT_DOUBLE, "DOUBLE", 0, 0, DT_TEXT, 0};
static const struct col_spec C_DEC = {LT_DECIMAL, "DECIMAL(12,2)", 12, 2,
                                      DT_TEXT, 0};
static const struct col_spec C_DT = {LT_DATETIME, "DATETIME(6)", 0, 0,
                                     DT_TEXT, 0};
static const struct col_spec C_DT_S = {LT_DATETIME, "DATETIME(6)", 0, 0,
                                       DT_EPOCH_S, 0};
static const struct col_spec C_DT_MS = {LT_DATETIME, "DATETIME(6)", 0, 0,
                                        DT_EPOCH_MS, 0};
static const struct col_spec C_DATE = {LT_DATE, "DATE", 0, 0, DT_TEXT, 0};
static const struct col_spec C_TIME = {LT_TIME, "TIME(6)", 0, 0, DT_TEXT, 0};
static const struct col_spec C_TEXT = {LT_TEXT, "LONGTEXT", 0, 0, DT_TEXT,
                                       UTF8_REJECT};
static const struct col_spec C_TEXT_FIX = {LT_TEXT, "LONGTEXT", 0, 0,
                                           DT_TEXT, UTF8_REPLACE};
static const struct col_spec C_BLOB = {LT_BLOB, "LONGBLOB", 0, 0, DT_TEXT,
                                       0};

static const struct conv_case conv_cases[] = {
    {"int from int", C_INT, INT(42), INT(42), NULL},
    {"int from integral real", C_INT, REAL(3.0), INT(3), NULL},
    {"int refuses a fraction", C_INT, REAL(3.5), NUL,
     "real value 3.5 cannot be stored in BIGINT"},
    {"int refuses text", C_INT, TXT("12a"), NUL,
     "text value '12a' cannot be stored in BIGINT"},
    {"bool from int", C_BOOL, INT(1), INT(1), NULL},
    {"double from real", C_DBL, REAL(0.1), REAL(0.1), NULL},
    {"double from small int", C_DBL, INT(5), REAL(5.0), NULL},
    {"double refuses int above 2^53", C_DBL, INT(9007199254740993LL), NUL,
     "integer value 9007199254740993 cannot be stored in DOUBLE"},
    {"decimal from real", C_DEC, REAL(12.5), TXT("12.50"), NULL},
    {"decimal from int", C_DEC, INT(7), TXT("7.00"), NULL},
    {"decimal refuses rounding", C_DEC, TXT("1.005"), NUL,
     "value '1.005' does not fit DECIMAL(12,2) without rounding"},
    {"datetime from ISO text", C_DT, TXT("2024-01-02T03:04:05Z"),
     TXT("2024-01-02 03:04:05.000000"), NULL},
    {"datetime refuses sub-microsecond digits", C_DT,
     TXT("2024-01-02 03:04:05.1234567"), NUL,
     "value '2024-01-02 03:04:05.1234567' has more than microsecond "
     "precision; DATETIME(6) would round it"},
    {"datetime refuses an impossible date", C_DT,
     TXT("2023-02-30 00:00:00"), NUL,
     "value '2023-02-30 00:00:00' is not a date/time DATETIME(6) can hold"},
    {"datetime from epoch seconds", C_DT_S, INT(1700000000),
     TXT("2023-11-14 22:13:20.000000"), NULL},
    {"datetime from fractional epoch seconds", C_DT_S, REAL(1700000000.5),
     TXT("2023-11-14 22:13:20.500000"), NULL},
    {"datetime from epoch milliseconds", C_DT_MS, INT(1700000000123LL),
     TXT("2023-11-14 22:13:20.123000"), NULL},
    {"datetime from negative epoch milliseconds", C_DT_MS, INT(-1),
     TXT("1969-12-31 23:59:59.999000"), NULL},
    {"datetime text column refuses an integer", C_DT, INT(1700000000), NUL,
     "value 1700000000 is not a date/time DATETIME(6) can hold"},
    {"date from text", C_DATE, TXT("2024-02-29"), TXT("2024-02-29"), NULL},
    {"date refuses an integer", C_DATE, INT(20240229), NUL,
     "value 20240229 is not a date/time DATE can hold"},
    {"time from text", C_TIME, TXT("12:34:56"), TXT("12:34:56.000000"),
     NULL},
    {"time without seconds", C_TIME, TXT("9:05"), TXT("09:05:00.000000"),
     NULL},
    {"time refuses sub-microsecond digits", C_TIME, TXT("12:00:00.1234567"),
     NUL, "value '12:00:00.1234567' has more than microsecond precision; "
     "TIME(6) would round it"},
    {"time refuses an integer", C_TIME, INT(5), NUL,
     "value 5 is not a time TIME(6) can hold"},
    {"time refuses a date", C_TIME, TXT("2024-01-02"), NUL,
     "value '2024-01-02' is not a time TIME(6) can hold"},
    {"text from int", C_TEXT, INT(42), TXT("42"), NULL},
    {"text from real", C_TEXT, REAL(0.1), TXT("0.1"), NULL},
    {"text keeps valid UTF-8", C_TEXT, TXT("h\xc3\xa9llo"),
     TXT("h\xc3\xa9llo"), NULL},
    {"text keeps a NUL byte", C_TEXT, TXT("a\0b"), TXT("a\0b"), NULL},
    {"text refuses invalid UTF-8 by default", C_TEXT, TXT("a\xff" "b"), NUL,
     "value x'61ff62' is not valid UTF-8 (set schema.invalid_utf8 to "
     "\"replace\" or \"as_blob\")"},
    {"text repairs invalid UTF-8 with U+FFFD when asked", C_TEXT_FIX,
     TXT("a\xff" "b"), TXT("a\xef\xbf\xbd" "b"), NULL},
    {"text repair keeps valid sequences", C_TEXT_FIX,
     TXT("\xc3\xa9\xc0\xf0\x9f\x98\x80"),
     TXT("\xc3\xa9\xef\xbf\xbd\xf0\x9f\x98\x80"), NULL},
    {"blob from blob", C_BLOB, BLOB("\x00\xff"), BLOB("\x00\xff"), NULL},
    {"blob from int", C_BLOB, INT(7), BLOB("7"), NULL},
    {"null stays null (int)", C_INT, NUL, NUL, NULL},
    {"null stays null (datetime)", C_DT, NUL, NUL, NULL},
};

static void run_conv_case(void **state)
{
    const struct conv_case *c = *state;
    struct column col = make_column(&c->col);
    struct scratch s = {0};
    struct value out;
    struct co_err err = {0};
    int rc;

    memset(&out, 0xA5, sizeof out);
    rc = codec_to_target(&col, &c->in, &out, &s, &err);
    if (c->msg) {
        if (rc != CO_EDATA)
            fail_msg("expected CO_EDATA, got %d", rc);
        assert_string_equal(err.msg, c->msg);
        scratch_free(&s);
        return;
    }
    if (rc != 0)
        fail_msg("expected success, got %d: %s", rc, err.msg);
    assert_int_equal(out.type, c->want.type);
    switch (c->want.type) {
    case V_NULL:
        break;
    case V_INT:
        assert_int_equal(out.i, c->want.i);
        break;
    case V_REAL:
        assert_memory_equal(&out.r, &c->want.r, sizeof out.r);
        break;
    default:
        assert_int_equal(out.n, c->want.n);
        assert_memory_equal(out.p, c->want.p, out.n);
    }
    scratch_free(&s);
}

/* A whole row: several converted texts share one scratch buffer that
 * grows; every value must still point at its own bytes. */
static void row_conversion_survives_scratch_growth(void **state)
{
    struct column cols[3];
    struct table t = {.name = (char *)"t", .ncols = 3, .cols = cols};
    static const struct col_spec specs[3] = {
        {LT_DECIMAL, "DECIMAL(12,2)", 12, 2, DT_TEXT, 0},
        {LT_TEXT, "LONGTEXT", 0, 0, DT_TEXT, UTF8_REPLACE},
        {LT_DATETIME, "DATETIME(6)", 0, 0, DT_EPOCH_S, 0}};
    char *big = malloc(6000);
    struct value in[3], out[3];
    struct scratch s = {0};
    struct co_err err = {0};

    (void)state;
    for (int i = 0; i < 3; i++)
        cols[i] = make_column(&specs[i]);
    memset(big, 0xff, 6000);                /* repaired: 18000 bytes */
    in[0] = (struct value)REAL(12.5);
    in[1] = (struct value){.type = V_TEXT, .p = (unsigned char *)big,
                           .n = 6000};
    in[2] = (struct value)INT(0);
    assert_int_equal(codec_row_to_target(&t, in, out, &s, &err), 0);
    assert_int_equal(out[0].n, 5);
    assert_memory_equal(out[0].p, "12.50", 5);
    assert_int_equal(out[1].n, 18000);
    assert_memory_equal(out[1].p, "\xef\xbf\xbd\xef\xbf\xbd", 6);
    assert_memory_equal(out[1].p + 17997, "\xef\xbf\xbd", 3);
    assert_int_equal(out[2].n, 26);
    assert_memory_equal(out[2].p, "1970-01-01 00:00:00.000000", 26);
    scratch_free(&s);
    free(big);
}

static void row_conversion_error_names_the_column(void **state)
{
    struct column cols[2];
    struct table t = {.name = (char *)"t", .ncols = 2, .cols = cols};
    struct value in[2] = {INT(1), TXT("x\xfe")};
    struct value out[2];
    struct scratch s = {0};
    struct co_err err = {0};

    (void)state;
    cols[0] = make_column(&C_INT);
    cols[1] = make_column(&C_TEXT);
    cols[1].name = (char *)"title";
    assert_int_equal(codec_row_to_target(&t, in, out, &s, &err), CO_EDATA);
    assert_prefix(err.msg, "column title: value x'78fe' is not valid UTF-8");
    scratch_free(&s);
}

/* ---- codec_canon -------------------------------------------------------- */

/* Canonical bytes of v in column spec; caller frees. */
static char *canon(const struct col_spec *spec, const struct value *v,
                   size_t *len)
{
    struct column col = make_column(spec);
    struct scratch s = {0};
    struct co_err err = {0};
    char *copy;

    if (codec_canon(&col, v, &s, &err) != 0)
        fail_msg("codec_canon: %s", err.msg);
    copy = malloc(s.len + 1);
    memcpy(copy, s.p, s.len);
    *len = s.len;
    scratch_free(&s);
    return copy;
}

struct canon_case {
    const char *name;
    const struct col_spec *col;
    struct value a, b;
    int equal;
};

static void check_canon(const struct canon_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t la, lb;
        char *a = canon(cases[i].col, &cases[i].a, &la);
        char *b = canon(cases[i].col, &cases[i].b, &lb);
        int equal = la == lb && memcmp(a, b, la) == 0;
        if (equal != cases[i].equal)
            fail_msg("%s: expected the encodings to %s", cases[i].name,
                     cases[i].equal ? "be equal" : "differ");
        free(a);
        free(b);
    }
}

static void canon_equal_values_encode_equal(void **state)
{
    static const struct canon_case cases[] = {
        {"-0.0 and 0.0 (double)", &C_DBL, REAL(-0.0), REAL(0.0), 1},
        {"int 1 and real 1.0 (double)", &C_DBL, INT(1), REAL(1.0), 1},
        {"REAL 1.5 and '1.50' (decimal)", &C_DEC, REAL(1.5), TXT("1.50"), 1},
        {"'1.5' and '1.50' (decimal)", &C_DEC, TXT("1.5"), TXT("1.50"), 1},
        {"T/Z and canonical datetime", &C_DT, TXT("2024-01-02T03:04:05Z"),
         TXT("2024-01-02 03:04:05.000000"), 1},
        {"short and canonical time", &C_TIME, TXT("9:30"),
         TXT("09:30:00.000000"), 1},
        {"same text", &C_TEXT, TXT("abc"), TXT("abc"), 1},
        {"null and null", &C_TEXT, NUL, NUL, 1},
    };
    (void)state;
    check_canon(cases, sizeof cases / sizeof cases[0]);
}

static void canon_different_values_encode_different(void **state)
{
    static const struct canon_case cases[] = {
        {"NULL and ''", &C_TEXT, NUL, TXT(""), 0},
        {"NULL and 0 (int)", &C_INT, NUL, INT(0), 0},
        {"0.1 and 0.2 (double)", &C_DBL, REAL(0.1), REAL(0.2), 0},
        {"'1.50' and '1.51' (decimal)", &C_DEC, TXT("1.50"), TXT("1.51"), 0},
        {"datetimes 1 us apart", &C_DT, TXT("2024-01-02 03:04:05"),
         TXT("2024-01-02 03:04:05.000001"), 0},
        {"times 1 us apart", &C_TIME, TXT("12:00:00"),
         TXT("12:00:00.000001"), 0},
        {"text differing in case", &C_TEXT, TXT("abc"), TXT("ABC"), 0},
        {"blob with and without a trailing NUL", &C_BLOB, BLOB("ab"),
         BLOB("ab\0"), 0},
    };
    (void)state;
    check_canon(cases, sizeof cases / sizeof cases[0]);
}

/* Values are length-prefixed: ('ab','c') and ('a','bc') differ as rows. */
static void canon_rows_are_unambiguous(void **state)
{
    struct column col = make_column(&C_TEXT);
    struct value r1[2] = {TXT("ab"), TXT("c")}, r2[2] = {TXT("a"), TXT("bc")};
    struct scratch s1 = {0}, s2 = {0};
    struct co_err err = {0};

    (void)state;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(codec_canon(&col, &r1[i], &s1, &err), 0);
        assert_int_equal(codec_canon(&col, &r2[i], &s2, &err), 0);
    }
    assert_int_equal(s1.len, s2.len);
    assert_true(memcmp(s1.p, s2.p, s1.len) != 0);
    scratch_free(&s1);
    scratch_free(&s2);
}

static void canon_refuses_a_value_of_the_wrong_type(void **state)
{
    struct column col = make_column(&C_INT);
    struct value v = TXT("abc");
    struct scratch s = {0};
    struct co_err err = {0};

    (void)state;
    assert_int_equal(codec_canon(&col, &v, &s, &err), CO_EDATA);
    assert_string_equal(err.msg, "value 'abc' is not a BIGINT");
    scratch_free(&s);
}

/* ---- main --------------------------------------------------------------- */

#define T(f) {#f, f, NULL, NULL, NULL}

static const struct CMUnitTest fixed_tests[] = {
    T(decimal_exact_values_at_scale),
    T(decimal_libc_agrees_and_refuses_rounding),
    T(decimal_negative_zero_is_plain_zero),
    T(decimal_real_means_its_15_digit_form),
    T(decimal_refuses_digits_beyond_scale),
    T(decimal_refuses_integer_digits_beyond_precision),
    T(decimal_refuses_non_numbers),
    T(datetime_separators_and_utc_suffixes),
    T(datetime_fraction_is_padded_to_microseconds),
    T(datetime_nine_digit_fraction_reports_nine),
    T(time_forms_and_limits),
    T(datetime_invalid_calendar_dates_are_refused),
    T(datetime_year_below_1000_is_refused),
    T(datetime_malformed_text_is_refused),
    T(date_only_for_date_columns),
    T(epoch_converts_to_datetime_and_back),
    T(epoch_outside_years_1000_to_9999_is_refused),
    T(datetime_to_epoch_refuses_malformed_text),
    T(format_double_is_shortest_round_trip),
    T(format_double_is_shortest_for_subnormals),
    T(row_conversion_survives_scratch_growth),
    T(row_conversion_error_names_the_column),
    T(canon_equal_values_encode_equal),
    T(canon_different_values_encode_different),
    T(canon_rows_are_unambiguous),
    T(canon_refuses_a_value_of_the_wrong_type),
};

int main(void)
{
    enum { NFIXED = sizeof fixed_tests / sizeof fixed_tests[0],
           NCONV = sizeof conv_cases / sizeof conv_cases[0] };
    struct CMUnitTest tests[NFIXED + NCONV];
    char names[NCONV][128];

    memcpy(tests, fixed_tests, sizeof fixed_tests);
    for (size_t i = 0; i < NCONV; i++) {
        snprintf(names[i], sizeof names[i], "to_target: %s",
                 conv_cases[i].name);
        tests[NFIXED + i] = (struct CMUnitTest){
            names[i], run_conv_case, NULL, NULL, (void *)&conv_cases[i]};
    }
    return _cmocka_run_group_tests("codec", tests, NFIXED + NCONV, NULL,
                                   NULL);
}
