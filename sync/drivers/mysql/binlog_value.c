/*
 * binlog_value.c — one column value of a row image: how many bytes it
 * takes for its type and metadata, and, when asked, its value in the form
 * the MySQL text protocol shows (see binlog_rows.h for the forms). The
 * storage formats are the servers' own (e.g. DECIMAL in groups of nine
 * digits, DATETIME2 as a biased big-endian bit field); values a server
 * never writes (month 13, a decimal group above 999999999) are corrupt.
 */
#include "sync/drivers/mysql/binlog_priv.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest text a fixed-size value takes: DECIMAL(65,30) is 67 bytes. */
#define TEXT_MAX 80

const char *binlog_type_name(int type)
{
    switch (type) {
    case BINLOG_T_DECIMAL: return "DECIMAL";
    case BINLOG_T_TINY: return "TINY";
    case BINLOG_T_SHORT: return "SHORT";
    case BINLOG_T_LONG: return "LONG";
    case BINLOG_T_FLOAT: return "FLOAT";
    case BINLOG_T_DOUBLE: return "DOUBLE";
    case BINLOG_T_NULL: return "NULL";
    case BINLOG_T_TIMESTAMP: return "TIMESTAMP";
    case BINLOG_T_LONGLONG: return "LONGLONG";
    case BINLOG_T_INT24: return "INT24";
    case BINLOG_T_DATE: return "DATE";
    case BINLOG_T_TIME: return "TIME";
    case BINLOG_T_DATETIME: return "DATETIME";
    case BINLOG_T_YEAR: return "YEAR";
    case BINLOG_T_NEWDATE: return "NEWDATE";
    case BINLOG_T_VARCHAR: return "VARCHAR";
    case BINLOG_T_BIT: return "BIT";
    case BINLOG_T_TIMESTAMP2: return "TIMESTAMP2";
    case BINLOG_T_DATETIME2: return "DATETIME2";
    case BINLOG_T_TIME2: return "TIME2";
    case BINLOG_T_VARCHAR_COMPRESSED: return "VARCHAR_COMPRESSED";
    case BINLOG_T_BLOB_COMPRESSED: return "BLOB_COMPRESSED";
    case BINLOG_T_JSON: return "JSON";
    case BINLOG_T_NEWDECIMAL: return "NEWDECIMAL";
    case BINLOG_T_ENUM: return "ENUM";
    case BINLOG_T_SET: return "SET";
    case BINLOG_T_BLOB: return "BLOB";
    case BINLOG_T_VAR_STRING: return "VAR_STRING";
    case BINLOG_T_STRING: return "STRING";
    case BINLOG_T_GEOMETRY: return "GEOMETRY";
    }
    return "UNKNOWN";
}

static int is_integer(int type)
{
    return type == BINLOG_T_TINY || type == BINLOG_T_SHORT ||
           type == BINLOG_T_INT24 || type == BINLOG_T_LONG ||
           type == BINLOG_T_LONGLONG;
}

static int is_string(int type)
{
    return type == BINLOG_T_STRING || type == BINLOG_T_VARCHAR ||
           type == BINLOG_T_VAR_STRING || type == BINLOG_T_BLOB;
}

int binlog_value_decodable(const struct binlog_column *c, unsigned col,
                           struct co_err *err)
{
    switch (c->type) {
    case BINLOG_T_JSON:
        return co_errf(err, CO_ESCHEMA, "column %u (JSON): MySQL's binary "
                       "JSON is walked, not decoded (a JSON column cannot "
                       "be part of a key)", col + 1);
    case BINLOG_T_VARCHAR_COMPRESSED: case BINLOG_T_BLOB_COMPRESSED:
        return co_errf(err, CO_ESCHEMA, "column %u (%s): compressed columns "
                       "are walked, not decoded (they cannot be part of a "
                       "key)", col + 1, binlog_type_name(c->type));
    }
    if (is_integer(c->type) && c->sign == BINLOG_SIGN_UNKNOWN)
        return co_errf(err, CO_ESCHEMA, "column %u (%s): signedness unknown "
                       "(binlog_row_metadata=MINIMAL): set it from the "
                       "table's definition", col + 1,
                       binlog_type_name(c->type));
    if (is_string(c->type) && c->charset == 0)
        return co_errf(err, CO_ESCHEMA, "column %u (%s): charset unknown "
                       "(binlog_row_metadata=MINIMAL): set it from the "
                       "table's definition", col + 1,
                       binlog_type_name(c->type));
    return 0;
}

/* ---- fixed-width text ------------------------------------------------------- */

static void set_text(struct value *out, struct binlog_buf *buf, size_t n)
{
    out->type = V_TEXT;
    out->p = buf->p;
    out->n = n;
}

/* Digits of v right-aligned in exactly w characters, zero padded. */
static char *put_digits(char *s, uint64_t v, int w)
{
    for (int i = w - 1; i >= 0; i--) {
        s[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return s + w;
}

/* ".ffffff" cut to fsp digits (nothing for fsp 0). */
static char *put_fraction(char *s, uint32_t usec, int fsp)
{
    static const uint32_t div[7] = {1000000, 100000, 10000, 1000, 100, 10,
                                    1};
    if (fsp == 0)
        return s;
    *s++ = '.';
    return put_digits(s, usec / div[fsp], fsp);
}

struct civil {
    unsigned year, month, day, hour, minute, second;
    uint32_t usec;
};

static size_t format_datetime(char *s, const struct civil *t, int fsp,
                              int with_date, int with_time)
{
    char *p = s;

    if (with_date) {
        p = put_digits(p, t->year, 4);
        *p++ = '-';
        p = put_digits(p, t->month, 2);
        *p++ = '-';
        p = put_digits(p, t->day, 2);
    }
    if (with_time) {
        if (with_date)
            *p++ = ' ';
        p = put_digits(p, t->hour, 2);
        *p++ = ':';
        p = put_digits(p, t->minute, 2);
        *p++ = ':';
        p = put_digits(p, t->second, 2);
        p = put_fraction(p, t->usec, fsp);
    }
    return (size_t)(p - s);
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian), in the
 * well-known era arithmetic; no libc time zone state involved. */
static void civil_from_days(int64_t z, struct civil *t)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    t->day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    t->month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    t->year = (unsigned)(yoe + era * 400 + (t->month <= 2));
}

static int check_civil(const struct civil *t, struct blr_cur *c,
                       const char *type, struct co_err *err)
{
    if (t->year > 9999 || t->month > 12 || t->day > 31 || t->hour > 23 ||
        t->minute > 59 || t->second > 59 || t->usec > 999999)
        return blr_fail(err, c, "%s %u-%u-%u %u:%u:%u.%u is not a value",
                        type, t->year, t->month, t->day, t->hour, t->minute,
                        t->second, (unsigned)t->usec);
    return 0;
}

/* Fraction bytes after TIME2/DATETIME2/TIMESTAMP2 for fsp 0-6. */
static size_t frac_bytes(int fsp)
{
    return (size_t)(fsp + 1) / 2;
}

/* Microseconds of an unsigned fraction field (DATETIME2, TIMESTAMP2). */
static uint32_t frac_usec(const unsigned char *p, int fsp)
{
    switch (frac_bytes(fsp)) {
    case 1: return (uint32_t)p[0] * 10000;
    case 2: return (uint32_t)blr_be(p, 2) * 100;
    case 3: return (uint32_t)blr_be(p, 3);
    }
    return 0;
}

/* ---- per type ------------------------------------------------------------------- */

static int integer_value(const struct binlog_column *c, const unsigned char *p,
                         size_t n, struct value *out, struct binlog_buf *buf)
{
    uint64_t u = blr_le(p, n);

    if (c->sign == BINLOG_UNSIGNED) {
        if (u > INT64_MAX) {
            set_text(out, buf, (size_t)snprintf((char *)buf->p, TEXT_MAX,
                                                "%" PRIu64, u));
            return 0;
        }
        out->type = V_INT;
        out->i = (int64_t)u;
        return 0;
    }
    if (n < 8 && (u >> (8 * n - 1)) & 1)
        u |= ~(uint64_t)0 << (8 * n);          /* sign-extend */
    out->type = V_INT;
    out->i = (int64_t)u;
    return 0;
}

static int decimal_size(const struct binlog_column *c)
{
    static const int dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
    int intg = c->precision - c->scale;

    return intg / 9 * 4 + dig2bytes[intg % 9] + c->scale / 9 * 4 +
           dig2bytes[c->scale % 9];
}

/* DECIMAL: groups of 9 digits in 4 big-endian bytes, the leading and
 * trailing partial groups in fewer; the first bit set for positive
 * numbers, and every bit inverted for negative ones. */
static int decimal_value(const struct binlog_column *c, const unsigned char *src,
                         size_t n, struct blr_cur *cur, struct value *out,
                         struct binlog_buf *buf, struct co_err *err)
{
    static const int dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
    static const uint32_t pow10[10] = {1, 10, 100, 1000, 10000, 100000,
                                       1000000, 10000000, 100000000,
                                       1000000000};
    unsigned char b[40];
    int intg = c->precision - c->scale, negative, nonzero = 0;
    int digits[2] = {intg, c->scale};
    char *s = (char *)buf->p, *int_start;
    size_t at = 0;

    memcpy(b, src, n);
    negative = !(b[0] & 0x80);
    b[0] ^= 0x80;
    if (negative)
        for (size_t i = 0; i < n; i++)
            b[i] = (unsigned char)~b[i];
    *s++ = '-';
    int_start = s;
    for (int part = 0; part < 2; part++) {
        int left = digits[part];
        if (part == 1) {
            if (c->scale == 0)
                break;
            *s++ = '.';
        }
        /* Integer part: the partial group first; fraction: last. */
        while (left > 0) {
            int w = part == 0 ? (left % 9 ? left % 9 : 9)
                              : (left >= 9 ? 9 : left);
            size_t nb = w == 9 ? 4 : (size_t)dig2bytes[w];
            uint32_t g = (uint32_t)blr_be(b + at, nb);
            if (g >= pow10[w])
                return blr_fail(err, cur, "DECIMAL(%u,%u) digit group %u "
                                "does not fit %d digits", c->precision,
                                c->scale, g, w);
            nonzero |= g != 0;
            s = put_digits(s, g, w);
            at += nb;
            left -= w;
        }
        if (part == 0) {
            /* No leading zeros, but one zero before the point. */
            char *d = int_start;
            while (d < s - 1 && *d == '0')
                d++;
            if (s == int_start)
                *s++ = '0';
            else if (d > int_start) {
                memmove(int_start, d, (size_t)(s - d));
                s -= d - int_start;
            }
        }
    }
    /* A negative zero shows as zero. */
    if (negative && nonzero) {
        set_text(out, buf, (size_t)(s - (char *)buf->p));
    } else {
        out->type = V_TEXT;
        out->p = buf->p + 1;
        out->n = (size_t)(s - (char *)buf->p) - 1;
    }
    return 0;
}

/* TIME2: a biased 24-bit sign/hours/minutes/seconds field, and a fraction
 * whose negative values borrow from the integer part. */
static int time2_value(const struct binlog_column *c, const unsigned char *p,
                       struct blr_cur *cur, struct value *out,
                       struct binlog_buf *buf, struct co_err *err)
{
    int64_t intpart = (int64_t)blr_be(p, 3) - 0x800000, packed;
    int64_t frac;
    struct civil t = {0};
    char *s = (char *)buf->p;
    uint64_t mag;

    switch (frac_bytes(c->fsp)) {
    case 0:
        packed = intpart * (1 << 24);
        break;
    case 1:
        frac = p[3];
        if (intpart < 0 && frac) {
            intpart++;
            frac -= 0x100;
        }
        packed = intpart * (1 << 24) + frac * 10000;
        break;
    case 2:
        frac = (int64_t)blr_be(p + 3, 2);
        if (intpart < 0 && frac) {
            intpart++;
            frac -= 0x10000;
        }
        packed = intpart * (1 << 24) + frac * 100;
        break;
    default:
        packed = (int64_t)blr_be(p, 6) - 0x800000000000LL;
    }
    mag = packed < 0 ? (uint64_t)-packed : (uint64_t)packed;
    t.usec = (uint32_t)(mag % (1 << 24));
    mag >>= 24;
    t.hour = (unsigned)(mag >> 12) % 1024;
    t.minute = (unsigned)(mag >> 6) % 64;
    t.second = (unsigned)mag % 64;
    if (t.hour > 838 || t.minute > 59 || t.second > 59 || t.usec > 999999)
        return blr_fail(err, cur, "TIME %u:%u:%u.%u is not a value", t.hour,
                        t.minute, t.second, (unsigned)t.usec);
    if (packed < 0)
        *s++ = '-';
    if (t.hour > 99)
        s = put_digits(s, t.hour / 100, 1), t.hour %= 100;
    s += format_datetime(s, &t, c->fsp, 0, 1);
    set_text(out, buf, (size_t)(s - (char *)buf->p));
    return 0;
}

static int datetime2_value(const struct binlog_column *c,
                           const unsigned char *p, struct blr_cur *cur,
                           struct value *out, struct binlog_buf *buf,
                           struct co_err *err)
{
    int64_t intpart = (int64_t)blr_be(p, 5) - 0x8000000000LL;
    uint64_t ymd, hms, ym;
    struct civil t;
    int rc;

    if (intpart < 0)
        return blr_fail(err, cur, "DATETIME before year 0");
    ymd = (uint64_t)intpart >> 17;
    hms = (uint64_t)intpart & 0x1ffff;
    ym = ymd >> 5;
    t.year = (unsigned)(ym / 13);
    t.month = (unsigned)(ym % 13);
    t.day = (unsigned)(ymd & 31);
    t.hour = (unsigned)(hms >> 12);
    t.minute = (unsigned)(hms >> 6) & 63;
    t.second = (unsigned)hms & 63;
    t.usec = frac_usec(p + 5, c->fsp);
    if ((rc = check_civil(&t, cur, "DATETIME", err)))
        return rc;
    set_text(out, buf, format_datetime((char *)buf->p, &t, c->fsp, 1, 1));
    return 0;
}

static int timestamp_value(const struct binlog_column *c, uint64_t seconds,
                           uint32_t usec, struct blr_cur *cur,
                           struct value *out, struct binlog_buf *buf,
                           struct co_err *err)
{
    struct civil t = {0};
    int rc;

    /* 0 is the zero timestamp; the fraction is still shown. */
    if (seconds) {
        civil_from_days((int64_t)(seconds / 86400), &t);
        t.hour = (unsigned)(seconds % 86400 / 3600);
        t.minute = (unsigned)(seconds % 3600 / 60);
        t.second = (unsigned)(seconds % 60);
    }
    t.usec = usec;
    if ((rc = check_civil(&t, cur, "TIMESTAMP", err)))
        return rc;
    set_text(out, buf, format_datetime((char *)buf->p, &t, c->fsp, 1, 1));
    return 0;
}

/* Old DATETIME (8 bytes, YYYYMMDDhhmmss as a number) and DATE (3 bytes:
 * day 5 bits, month 4 bits, year the rest). */
static int packed_date_value(const struct binlog_column *c,
                             const unsigned char *p, struct blr_cur *cur,
                             struct value *out, struct binlog_buf *buf,
                             struct co_err *err)
{
    struct civil t = {0};
    int rc;

    if (c->type == BINLOG_T_DATETIME) {
        uint64_t v = blr_le(p, 8), d = v / 1000000, tm = v % 1000000;
        if (d / 10000 > 9999)
            return blr_fail(err, cur, "DATETIME %" PRIu64 " is not a value",
                            v);
        t.year = (unsigned)(d / 10000);
        t.month = (unsigned)(d / 100 % 100);
        t.day = (unsigned)(d % 100);
        t.hour = (unsigned)(tm / 10000);
        t.minute = (unsigned)(tm / 100 % 100);
        t.second = (unsigned)(tm % 100);
    } else {
        uint32_t v = (uint32_t)blr_le(p, 3);
        t.day = v & 31;
        t.month = (v >> 5) & 15;
        t.year = v >> 9;
    }
    if ((rc = check_civil(&t, cur, binlog_type_name(c->type), err)))
        return rc;
    set_text(out, buf, format_datetime((char *)buf->p, &t, 0, 1,
                                       c->type == BINLOG_T_DATETIME));
    return 0;
}

/* Old TIME: 3 bytes, a signed number ±HHMMSS. */
static int old_time_value(const unsigned char *p, struct blr_cur *cur,
                          struct value *out, struct binlog_buf *buf,
                          struct co_err *err)
{
    int32_t v = (int32_t)blr_le(p, 3);
    struct civil t = {0};
    char *s = (char *)buf->p;

    if (v & 0x800000)
        v -= 0x1000000;
    if (v < 0) {
        *s++ = '-';
        v = -v;
    }
    t.hour = (unsigned)v / 10000;
    t.minute = (unsigned)v / 100 % 100;
    t.second = (unsigned)v % 100;
    if (t.hour > 838 || t.minute > 59 || t.second > 59)
        return blr_fail(err, cur, "TIME %d is not a value", (int)v);
    if (t.hour > 99)
        s = put_digits(s, t.hour / 100, 1), t.hour %= 100;
    s += format_datetime(s, &t, 0, 0, 1);
    set_text(out, buf, (size_t)(s - (char *)buf->p));
    return 0;
}

/* ENUM and SET: the member names when the map has them, else the stored
 * number. */
static int enum_set_value(const struct binlog_column *c, uint64_t v,
                          struct blr_cur *cur, struct value *out,
                          struct binlog_buf *buf, struct co_err *err)
{
    size_t need = 0, at = 0;
    int rc;

    if (!c->values) {
        if (v > INT64_MAX) {
            set_text(out, buf, (size_t)snprintf((char *)buf->p, TEXT_MAX,
                                                "%" PRIu64, v));
        } else {
            out->type = V_INT;
            out->i = (int64_t)v;
        }
        return 0;
    }
    if (c->type == BINLOG_T_ENUM) {
        if (v > c->n_values)
            return blr_fail(err, cur, "ENUM value %" PRIu64 " of %u members",
                            v, c->n_values);
        out->type = V_TEXT;
        out->p = v ? c->values[v - 1].p : (const unsigned char *)"";
        out->n = v ? c->values[v - 1].n : 0;
        return 0;
    }
    if (c->n_values < 64 && v >> c->n_values)
        return blr_fail(err, cur, "SET value 0x%" PRIx64 " of %u members", v,
                        c->n_values);
    for (unsigned k = 0; k < c->n_values; k++)
        if (v >> k & 1)
            need += c->values[k].n + 1;
    if ((rc = blr_buf_reserve(buf, need + 1, err)))
        return rc;
    for (unsigned k = 0; k < c->n_values; k++) {
        if (!(v >> k & 1))
            continue;
        if (at)
            buf->p[at++] = ',';
        memcpy(buf->p + at, c->values[k].p, c->values[k].n);
        at += c->values[k].n;
    }
    set_text(out, buf, at);
    return 0;
}

/* Bytes a value of c takes when it has no length prefix; 0 for the types
 * that have one. */
static size_t fixed_size(const struct binlog_column *c)
{
    switch (c->type) {
    case BINLOG_T_TINY: case BINLOG_T_YEAR: return 1;
    case BINLOG_T_SHORT: return 2;
    case BINLOG_T_INT24: case BINLOG_T_DATE: case BINLOG_T_NEWDATE:
    case BINLOG_T_TIME: return 3;
    case BINLOG_T_LONG: case BINLOG_T_FLOAT: case BINLOG_T_TIMESTAMP:
        return 4;
    case BINLOG_T_LONGLONG: case BINLOG_T_DOUBLE: case BINLOG_T_DATETIME:
        return 8;
    case BINLOG_T_TIME2: return 3 + frac_bytes(c->fsp);
    case BINLOG_T_DATETIME2: return 5 + frac_bytes(c->fsp);
    case BINLOG_T_TIMESTAMP2: return 4 + frac_bytes(c->fsp);
    case BINLOG_T_NEWDECIMAL: return (size_t)decimal_size(c);
    case BINLOG_T_BIT: return (c->length + 7) / 8;
    case BINLOG_T_ENUM: case BINLOG_T_SET: return c->length;
    }
    return 0;
}

/* Bytes of the length prefix of the variable-length types. */
static size_t prefix_size(const struct binlog_column *c)
{
    switch (c->type) {
    case BINLOG_T_STRING: case BINLOG_T_VARCHAR: case BINLOG_T_VAR_STRING:
    case BINLOG_T_VARCHAR_COMPRESSED:
        return c->length > 255 ? 2 : 1;
    case BINLOG_T_BLOB: case BINLOG_T_GEOMETRY: case BINLOG_T_JSON:
    case BINLOG_T_BLOB_COMPRESSED:
        return c->length;
    }
    return 0;
}

static int variable_value(const struct binlog_column *c, struct blr_cur *cur,
                          struct value *out, struct binlog_buf *buf,
                          struct co_err *err)
{
    size_t pre = prefix_size(c);
    const unsigned char *p;
    uint64_t n;
    int rc;

    if ((rc = blr_uint(cur, pre, "value length", &n, err)))
        return rc;
    /* CHAR and VARCHAR never hold more than the column's width. */
    if (pre <= 2 && c->type != BINLOG_T_BLOB && c->type != BINLOG_T_GEOMETRY &&
        c->type != BINLOG_T_JSON && c->type != BINLOG_T_BLOB_COMPRESSED &&
        n > c->length)
        return blr_fail(err, cur, "%s value of %" PRIu64 " bytes in a "
                        "column of %u", binlog_type_name(c->type), n,
                        c->length);
    if ((rc = blr_take(cur, (size_t)n, "value", &p, err)))
        return rc;
    if (!out)
        return 0;
    /* MariaDB gives GEOMETRY a charset entry, but its bytes are WKB. */
    out->type = c->charset == BINLOG_CHARSET_BINARY ||
                        c->type == BINLOG_T_GEOMETRY ? V_BLOB : V_TEXT;
    out->p = p;
    out->n = (size_t)n;
    /* BINARY(n) is logged without its trailing 0x00 bytes, which a SELECT
     * shows (CHAR loses its trailing spaces both ways). */
    if (c->type == BINLOG_T_STRING && out->type == V_BLOB && n < c->length) {
        if ((rc = blr_buf_reserve(buf, c->length, err)))
            return rc;
        memcpy(buf->p, p, (size_t)n);
        memset(buf->p + n, 0, c->length - (size_t)n);
        out->p = buf->p;
        out->n = c->length;
    }
    return 0;
}

int binlog_value_walk(const struct binlog_column *c, struct blr_cur *cur,
                      struct value *out, struct binlog_buf *buf,
                      struct co_err *err)
{
    size_t n = fixed_size(c);
    const unsigned char *p;
    int rc;

    if (n == 0) {
        if (prefix_size(c))
            return variable_value(c, cur, out, buf, err);
        if (out)
            out->type = V_NULL;         /* the NULL type has no bytes */
        return 0;
    }
    if ((rc = blr_take(cur, n, binlog_type_name(c->type), &p, err)))
        return rc;
    if (!out)
        return 0;
    if ((rc = blr_buf_reserve(buf, TEXT_MAX, err)))
        return rc;
    memset(out, 0, sizeof *out);
    switch (c->type) {
    case BINLOG_T_TINY: case BINLOG_T_SHORT: case BINLOG_T_INT24:
    case BINLOG_T_LONG: case BINLOG_T_LONGLONG:
        return integer_value(c, p, n, out, buf);
    case BINLOG_T_YEAR:
        out->type = V_INT;
        out->i = p[0] ? 1900 + p[0] : 0;
        return 0;
    case BINLOG_T_FLOAT: {
        /* MariaDB prints a FLOAT with 6 significant digits: the value a
         * SELECT shows is that rounding, read back as a double. */
        float f;
        char text[32];
        uint32_t bits = (uint32_t)blr_le(p, 4);
        memcpy(&f, &bits, sizeof f);
        snprintf(text, sizeof text, "%.6g", (double)f);
        out->type = V_REAL;
        out->r = strtod(text, NULL);
        return 0;
    }
    case BINLOG_T_DOUBLE: {
        uint64_t bits = blr_le(p, 8);
        out->type = V_REAL;
        memcpy(&out->r, &bits, sizeof out->r);
        return 0;
    }
    case BINLOG_T_NEWDECIMAL:
        return decimal_value(c, p, n, cur, out, buf, err);
    case BINLOG_T_DATE: case BINLOG_T_NEWDATE: case BINLOG_T_DATETIME:
        return packed_date_value(c, p, cur, out, buf, err);
    case BINLOG_T_TIME:
        return old_time_value(p, cur, out, buf, err);
    case BINLOG_T_TIME2:
        return time2_value(c, p, cur, out, buf, err);
    case BINLOG_T_DATETIME2:
        return datetime2_value(c, p, cur, out, buf, err);
    case BINLOG_T_TIMESTAMP:
        return timestamp_value(c, blr_le(p, 4), 0, cur, out, buf, err);
    case BINLOG_T_TIMESTAMP2:
        return timestamp_value(c, blr_be(p, 4), frac_usec(p + 4, c->fsp), cur,
                               out, buf, err);
    case BINLOG_T_BIT:
        out->type = V_BLOB;
        out->p = p;
        out->n = n;
        return 0;
    case BINLOG_T_ENUM: case BINLOG_T_SET:
        return enum_set_value(c, blr_le(p, n), cur, out, buf, err);
    }
    return blr_fail(err, cur, "no decoder for type %s",
                    binlog_type_name(c->type));
}
