/* codec.c — source ↔ target value conversion and the canonical encoding. */
#include "sync/codec.h"
#include "sync/json_canon.h"
#include "lib/runbook.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/xalloc.h"

#define CANON_NULL 'N'

void scratch_reset(struct scratch *s) { s->len = 0; }

void scratch_free(struct scratch *s)
{
    free(s->p);
    s->p = NULL;
    s->len = s->cap = 0;
}

/* Reserve n bytes at the end. The buffer may move when it grows, so a
 * caller that keeps several results of one row keeps offsets, not
 * pointers (see codec_row_to_target). */
static char *scratch_take(struct scratch *s, size_t n)
{
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        char *p;
        while (cap < s->len + n)
            cap *= 2;
        p = xrealloc(s->p, cap);
        s->p = p;
        s->cap = cap;
    }
    s->len += n;
    return s->p + s->len - n;
}

/* ---- numbers ------------------------------------------------------------ */

/* Decimal digits of v (v >= 0) into out, zero-padded to at least `width`;
 * returns the count. snprintf costs more than the rest of verify's work
 * per value, and datetimes and decimals are formatted for every row. */
static size_t put_digits(char *out, uint64_t v, int width)
{
    char tmp[24];
    size_t n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while ((int)n < width)
        tmp[n++] = '0';
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

/* "YYYY-MM-DD" or "YYYY-MM-DD HH:MM:SS.ffffff" (frac: 6 digits) into out
 * (at least 27 bytes). */
/* "HH:MM:SS.ffffff"; hours of three digits only from 100 (TIME). */
static char *put_clock(char *p, int h, int mi, int sec, const char *frac)
{
    p += put_digits(p, (uint64_t)h, 2);
    *p++ = ':';
    p += put_digits(p, (uint64_t)mi, 2);
    *p++ = ':';
    p += put_digits(p, (uint64_t)sec, 2);
    *p++ = '.';
    memcpy(p, frac, 6);
    return p + 6;
}

static void put_datetime(char *out, int y, int mo, int d, int h, int mi,
                         int sec, const char *frac, int with_time)
{
    char *p = out;

    p += put_digits(p, (uint64_t)y, 4);
    *p++ = '-';
    p += put_digits(p, (uint64_t)mo, 2);
    *p++ = '-';
    p += put_digits(p, (uint64_t)d, 2);
    if (with_time) {
        *p++ = ' ';
        p = put_clock(p, h, mi, sec, frac);
    }
    *p = '\0';
}

void codec_format_double(double d, char *out, size_t cap)
{
    /* %.15g is shortest for almost every value (it drops trailing zeros);
     * only when it needs all 15 digits or more may fewer do. */
    snprintf(out, cap, "%.15g", d);
    if (strtod(out, NULL) == d) {
        char *e = strpbrk(out, "eE");
        size_t mant = e ? (size_t)(e - out) : strlen(out), digits = 0;
        for (size_t i = 0; i < mant; i++)
            digits += out[i] >= '0' && out[i] <= '9';
        if (digits < 15)
            return;
        for (int prec = 1; prec < 15; prec++) {
            char shorter[64];
            snprintf(shorter, sizeof shorter, "%.*g", prec, d);
            if (strtod(shorter, NULL) == d) {
                snprintf(out, cap, "%s", shorter);
                return;
            }
        }
        return;
    }
    for (int prec = 16; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            return;
    }
}

static const double pow10_tab[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,
                                   1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
                                   1e18, 1e19, 1e20, 1e21, 1e22};

/* Write sign, integer digits and `scale` fraction digits of the decimal
 * number given as a digit string `digits` (no leading zeros needed) with
 * `frac` of them after the point. */
static int decimal_emit(int neg, const char *digits, size_t ndig, size_t frac,
                        int precision, int scale, char *out, size_t cap)
{
    char padded[192];
    size_t intd, o = 0, lead = 0;
    int allzero = 1;

    /* "4" with 2 fraction digits is 0.04: pad on the left so there is at
     * least one integer digit. */
    if (ndig <= frac) {
        size_t pad = frac - ndig + 1;
        if (pad + ndig > sizeof padded)
            return -1;
        memset(padded, '0', pad);
        memcpy(padded + pad, digits, ndig);
        digits = padded;
        ndig += pad;
    }
    intd = ndig - frac;

    if ((int)frac > scale) {
        /* Extra fraction digits are fine only when they are zeros. */
        for (size_t i = ndig - (frac - (size_t)scale); i < ndig; i++)
            if (digits[i] != '0')
                return -1;
        ndig -= frac - (size_t)scale;
        frac = (size_t)scale;
    }
    while (lead < intd && digits[lead] == '0')
        lead++;
    if ((int)(intd - lead) > precision - scale)
        return -1;
    for (size_t i = lead; i < ndig; i++)
        allzero &= digits[i] == '0';
    if (cap < intd - lead + (size_t)scale + 4)
        return -1;
    if (neg && !allzero)
        out[o++] = '-';
    if (intd == lead)
        out[o++] = '0';
    for (size_t i = lead; i < intd; i++)
        out[o++] = digits[i];
    if (scale > 0) {
        out[o++] = '.';
        for (int i = 0; i < scale; i++) {
            size_t k = intd + (size_t)i;
            out[o++] = (size_t)i < frac && k < ndig ? digits[k] : '0';
        }
    }
    out[o] = '\0';
    return 0;
}

/* Parse decimal text: [+-]digits[.digits][e[+-]digits]. */
static int decimal_text(const char *p, size_t n, int precision, int scale,
                        char *out, size_t cap)
{
    char digits[128];
    size_t nd = 0, frac = 0, i = 0;
    int neg = 0, seen = 0, point = 0;
    long ex = 0;

    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (i < n && (p[i] == '-' || p[i] == '+'))
        neg = p[i++] == '-';
    for (; i < n; i++) {
        if (p[i] >= '0' && p[i] <= '9') {
            if (nd + 1 >= sizeof digits)
                return -1;
            digits[nd++] = p[i];
            frac += point;
            seen = 1;
        } else if (p[i] == '.' && !point) {
            point = 1;
        } else {
            break;
        }
    }
    if (!seen)
        return -1;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        int eneg = 0, edig = 0;
        i++;
        if (i < n && (p[i] == '-' || p[i] == '+'))
            eneg = p[i++] == '-';
        while (i < n && p[i] >= '0' && p[i] <= '9') {
            ex = ex * 10 + (p[i++] - '0');
            if (ex > 60)
                return -1;
            edig = 1;
        }
        if (!edig)
            return -1;
        if (eneg)
            ex = -ex;
    }
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (i != n)
        return -1;
    /* Apply the exponent by moving the point. */
    if (ex > 0) {
        while (ex > 0 && frac > 0) {
            frac--;
            ex--;
        }
        while (ex-- > 0) {
            if (nd + 1 >= sizeof digits)
                return -1;
            digits[nd++] = '0';
        }
    } else if (ex < 0) {
        frac += (size_t)(-ex);
        while (nd < frac) {
            if (nd + 1 >= sizeof digits)
                return -1;
            memmove(digits + 1, digits, nd);
            digits[0] = '0';
            nd++;
        }
    }
    return decimal_emit(neg, digits, nd, frac, precision, scale, out, cap);
}

int codec_decimal_libc(double d, int precision, int scale, char *out,
                       size_t cap)
{
    char buf[400];
    char *dot;

    if (!isfinite(d) || scale > 30)
        return -1;
    snprintf(buf, sizeof buf, "%.*f", scale, d);
    if (strtod(buf, NULL) != d) {
        /* Not exact at this scale: the value's 15-significant-digit
         * meaning (see codec_decimal), if that is. */
        char meant[32];
        snprintf(meant, sizeof meant, "%.15g", d);
        d = strtod(meant, NULL);
        snprintf(buf, sizeof buf, "%.*f", scale, d);
        if (strtod(buf, NULL) != d)
            return -1;        /* would round */
    }
    dot = strchr(buf, '.');
    if ((int)((dot ? (size_t)(dot - buf) : strlen(buf)) - (buf[0] == '-')) >
        (precision - scale > 0 ? precision - scale : 1))
        return -1;
    if (buf[0] == '-' && strspn(buf + 1, "0.") == strlen(buf + 1))
        memmove(buf, buf + 1, strlen(buf));    /* -0.00 is 0.00 */
    snprintf(out, cap, "%s", buf);
    return 0;
}

int codec_decimal(const struct value *v, int precision, int scale, char *out,
                  size_t cap)
{
    char buf[64];

    switch (v->type) {
    case V_INT:
        if (v->i < 0)
            buf[0] = '-';
        buf[(v->i < 0) + put_digits(buf + (v->i < 0),
                                    v->i < 0 ? 0 - (uint64_t)v->i
                                             : (uint64_t)v->i, 1)] = '\0';
        return decimal_text(buf, strlen(buf), precision, scale, out, cap);
    case V_REAL:
        if (!isfinite(v->r))
            return -1;
        if (scale <= 22 && fabs(v->r) < 9e15 / pow10_tab[scale]) {
            /* Fast exact path: the value is m / 10^scale for an integer m
             * exactly when dividing back reproduces the same double. */
            double m = nearbyint(v->r * pow10_tab[scale]);
            if (m / pow10_tab[scale] == v->r) {
                size_t nd = put_digits(buf, (uint64_t)fabs(m), 1);
                return decimal_emit(signbit(v->r) && m != 0, buf, nd,
                                    (size_t)scale, precision, scale, out,
                                    cap);
            }
        }
        codec_format_double(v->r, buf, sizeof buf);
        if (decimal_text(buf, strlen(buf), precision, scale, out, cap) == 0)
            return 0;
        /* Arithmetic in SQLite leaves binary noise in DECIMAL columns
         * (127.46 + 1 is 128.45999999999998). SQLite itself shows a REAL
         * with 15 significant digits, and so do the applications reading
         * it (Django's DecimalField converter, PHP): that is the number
         * the column means. */
        snprintf(buf, sizeof buf, "%.15g", v->r);
        return decimal_text(buf, strlen(buf), precision, scale, out, cap);
    case V_TEXT:
        return decimal_text((const char *)v->p, v->n, precision, scale, out,
                            cap);
    default:
        return -1;
    }
}

/* ---- date and time ------------------------------------------------------ */

static int digits_at(const unsigned char *p, size_t n, size_t at, int count,
                     int *out)
{
    int v = 0;

    if (at + (size_t)count > n)
        return -1;
    for (int i = 0; i < count; i++) {
        if (p[at + i] < '0' || p[at + i] > '9')
            return -1;
        v = v * 10 + (p[at + i] - '0');
    }
    *out = v;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : days[m - 1];
}

/* ":MM[:SS[.f...]]" at p[*at], after the hours; up to 9 fraction digits
 * are collected (the caller refuses more than 6). */
static int parse_clock_tail(const unsigned char *p, size_t n, size_t *at,
                            int *mi, int *s, char frac[10], int *fdig)
{
    size_t i = *at;

    if (i >= n || p[i] != ':' || digits_at(p, n, i + 1, 2, mi))
        return -1;
    i += 3;
    if (i < n && p[i] == ':') {
        if (digits_at(p, n, i + 1, 2, s))
            return -1;
        i += 3;
        if (i < n && p[i] == '.') {
            i++;
            while (i < n && p[i] >= '0' && p[i] <= '9') {
                if (*fdig >= 9)
                    return -1;
                frac[(*fdig)++] = (char)p[i++];
            }
            if (*fdig == 0)
                return -1;
        }
    }
    if (*mi > 59 || *s > 59)
        return -1;
    *at = i;
    return 0;
}

int codec_parse_datetime(const unsigned char *p, size_t n, enum ltype lt,
                         char *out, size_t cap)
{
    int y, mo, d, h = 0, mi = 0, s = 0, fdig = 0;
    char frac[10] = "000000";
    size_t i = 10;

    if (digits_at(p, n, 0, 4, &y) || n < 10 || p[4] != '-' || p[7] != '-' ||
        digits_at(p, n, 5, 2, &mo) || digits_at(p, n, 8, 2, &d))
        return -1;
    if (y < 1000 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return -1;
    if (i < n && (p[i] == ' ' || p[i] == 'T')) {
        if (digits_at(p, n, i + 1, 2, &h) || h > 23)
            return -1;
        i += 3;
        if (parse_clock_tail(p, n, &i, &mi, &s, frac, &fdig))
            return -1;
        if (i < n && p[i] == 'Z')
            i++;
        else if (n - i == 6 && memcmp(p + i, "+00:00", 6) == 0)
            i += 6;
    }
    if (i != n)
        return -1;
    if (cap < 27)
        return -1;
    if (lt == LT_DATE) {
        if (h || mi || s || fdig)
            return -1;
        put_datetime(out, y, mo, d, 0, 0, 0, frac, 0);
        return 0;
    }
    for (int k = fdig; k < 6; k++)
        frac[k] = '0';
    put_datetime(out, y, mo, d, h, mi, s, frac, 1);
    return fdig;
}

int codec_parse_time(const unsigned char *p, size_t n, char *out, size_t cap)
{
    int h = 0, mi = 0, s = 0, fdig = 0, hd = 0;
    char frac[10] = "000000";
    size_t i = 0;

    while (i < n && hd < 3 && p[i] >= '0' && p[i] <= '9') {
        h = h * 10 + (p[i++] - '0');
        hd++;
    }
    if (hd == 0 || h > TIME_MAX_HOURS ||
        parse_clock_tail(p, n, &i, &mi, &s, frac, &fdig) || i != n ||
        cap < 17)
        return -1;
    /* MySQL's TIME ends at 838:59:59.000000 */
    if (h == TIME_MAX_HOURS && strspn(frac, "0") < (size_t)fdig)
        return -1;
    for (int k = fdig; k < 6; k++)
        frac[k] = '0';
    *put_clock(out, h, mi, s, frac) = '\0';
    return fdig;
}

int codec_epoch_to_datetime(int64_t seconds, int64_t micros, char *out,
                            size_t cap)
{
    struct tm tm;
    time_t t = (time_t)seconds;

    if (seconds < -30610224000LL || seconds > 253402300799LL)
        return -1;   /* outside 1000-01-01 .. 9999-12-31 */
    if (!gmtime_r(&t, &tm))
        return -1;
    snprintf(out, cap, "%04d-%02d-%02d %02d:%02d:%02d.%06" PRId64,
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, micros);
    return 0;
}

int codec_datetime_to_epoch_us(const char *s, int64_t *out)
{
    struct tm tm = {0};
    int us = 0;
    int y, mo, d, h, mi, sec;

    if (sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d.%6d", &y, &mo, &d, &h, &mi, &sec,
               &us) < 6)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *out = (int64_t)timegm(&tm) * 1000000 + us;
    return 0;
}

static int time_from_source(const struct value *in, char *out, size_t cap)
{
    int fd;

    if (in->type != V_TEXT)
        return -1;
    fd = codec_parse_time(in->p, in->n, out, cap);
    return fd > 6 ? -2 : fd < 0 ? -1 : 0;
}

static int datetime_from_source(const struct column *c, const struct value *in,
                                char *out, size_t cap)
{
    int64_t secs, micros;

    if (in->type == V_TEXT) {
        int fd = codec_parse_datetime(in->p, in->n, c->map.lt, out, cap);
        return fd > 6 ? -2 : fd < 0 ? -1 : 0;
    }
    if (c->map.lt != LT_DATETIME)
        return -1;
    if (in->type == V_INT) {
        if (c->map.dt == DT_EPOCH_MS) {
            secs = in->i / 1000;
            micros = (in->i % 1000) * 1000;
            if (micros < 0) {
                secs--;
                micros += 1000000;
            }
        } else if (c->map.dt == DT_EPOCH_S) {
            secs = in->i;
            micros = 0;
        } else {
            return -1;
        }
        return codec_epoch_to_datetime(secs, micros, out, cap);
    }
    if (in->type == V_REAL && c->map.dt == DT_EPOCH_S && isfinite(in->r)) {
        double whole = floor(in->r);
        micros = (int64_t)nearbyint((in->r - whole) * 1e6);
        secs = (int64_t)whole;
        if (micros == 1000000) {
            secs++;
            micros = 0;
        }
        /* The conversion must be exact: reading back gives the same. */
        if ((double)secs + (double)micros / 1e6 != in->r)
            return -2;
        return codec_epoch_to_datetime(secs, micros, out, cap);
    }
    return -1;
}

/* ---- text ---------------------------------------------------------------- */

/* Copy text replacing each invalid UTF-8 sequence with U+FFFD. */
static size_t utf8_repair(const unsigned char *p, size_t n, char *out)
{
    size_t o = 0, i = 0;

    while (i < n) {
        size_t len = 1;
        unsigned char c = p[i];
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c >= 0xE0 && c <= 0xEF) len = 3;
        else if (c >= 0xF0 && c <= 0xF4) len = 4;
        if (c < 0x80) {
            out[o++] = (char)c;
            i++;
        } else if (i + len <= n && len > 1 && utf8_valid(p + i, len)) {
            memcpy(out + o, p + i, len);
            o += len;
            i += len;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    return o;
}

static int text_from_number(const struct value *in, struct value *out,
                            struct scratch *s)
{
    char buf[64];
    char *dst;

    if (in->type == V_INT)
        snprintf(buf, sizeof buf, "%" PRId64, in->i);
    else
        codec_format_double(in->r, buf, sizeof buf);
    dst = scratch_take(s, strlen(buf) + 1);
    if (!dst)
        return CO_ENOMEM;
    memcpy(dst, buf, strlen(buf) + 1);
    out->type = V_TEXT;
    out->p = (const unsigned char *)dst;
    out->n = strlen(buf);
    return 0;
}

static int text_out(const char *text, struct value *out, struct scratch *s)
{
    size_t n = strlen(text);
    char *dst = scratch_take(s, n + 1);

    if (!dst)
        return CO_ENOMEM;
    memcpy(dst, text, n + 1);
    out->type = V_TEXT;
    out->p = (const unsigned char *)dst;
    out->n = n;
    return 0;
}

/* ---- source → target ----------------------------------------------------- */

int codec_to_target(const struct column *c, const struct value *in,
                    struct value *out, struct scratch *s, struct co_err *err)
{
    char buf[96], shown[128];
    int rc;

    *out = *in;
    if (in->type == V_NULL)
        return 0;
    switch (c->map.lt) {
    case LT_INT:
    case LT_BOOL:
        if (in->type == V_INT)
            return 0;
        if (in->type == V_REAL && in->r == nearbyint(in->r) &&
            fabs(in->r) < 9.2e18) {
            out->type = V_INT;
            out->i = (int64_t)in->r;
            return 0;
        }
        break;
    case LT_DOUBLE:
        if (in->type == V_REAL)
            return 0;
        if (in->type == V_INT && llabs(in->i) <= (1LL << 53)) {
            out->type = V_REAL;
            out->r = (double)in->i;
            return 0;
        }
        break;
    case LT_DECIMAL:
        if (codec_decimal(in, c->map.precision, c->map.scale, buf,
                          sizeof buf) == 0)
            return text_out(buf, out, s);
        value_format(in, shown, sizeof shown);
        return co_errf(err, CO_EDATA, "value %s does not fit %s without "
                       "rounding", shown, c->map.type);
    case LT_DATETIME:
    case LT_DATE:
    case LT_TIME:
        rc = c->map.lt == LT_TIME ? time_from_source(in, buf, sizeof buf)
                                  : datetime_from_source(c, in, buf, sizeof buf);
        if (rc == 0)
            return text_out(buf, out, s);
        value_format(in, shown, sizeof shown);
        if (rc == -2)
            return co_errf(err, CO_EDATA, "value %s has more than "
                           "microsecond precision; %s would round it", shown,
                           c->map.type);
        return co_errf(err, CO_EDATA, "value %s is not a %s %s can hold",
                       shown, c->map.lt == LT_TIME ? "time" : "date/time",
                       c->map.type);
    case LT_TEXT:
        if (in->type == V_INT || in->type == V_REAL)
            return text_from_number(in, out, s);
        out->type = V_TEXT;
        if (utf8_valid(in->p, in->n))
            return 0;
        if (c->map.invalid_utf8 == UTF8_REPLACE) {
            char *dst = scratch_take(s, in->n * 3 + 1);
            if (!dst)
                return CO_ENOMEM;
            out->n = utf8_repair(in->p, in->n, dst);
            out->p = (const unsigned char *)dst;
            return 0;
        }
        value_format(in, shown, sizeof shown);
        return co_errf(err, CO_EDATA, "value %s is not valid UTF-8 (set "
                       "schema.invalid_utf8 to \"replace\" or \"as_blob\")",
                       shown);
    case LT_BLOB:
        if (in->type == V_INT || in->type == V_REAL) {
            rc = text_from_number(in, out, s);
            out->type = V_BLOB;
            return rc;
        }
        out->type = V_BLOB;
        return 0;
    }
    value_format(in, shown, sizeof shown);
    return co_errf(err, CO_EDATA, "%s value %s cannot be stored in %s",
                   vtype_name(in->type), shown, c->map.type);
}

int codec_columns_to_target(const struct column *const *cols, int n,
                            const struct value *in, struct value *out,
                            struct scratch *s, struct co_err *err)
{
    /* Text produced for earlier columns lives in s; remember offsets so a
     * growth of s (realloc) cannot leave dangling pointers. */
    size_t offs[n > 0 ? n : 1];
    int rc;

    scratch_reset(s);
    for (int i = 0; i < n; i++) {
        size_t before = s->len;
        rc = codec_to_target(cols[i], &in[i], &out[i], s, err);
        if (rc < 0)
            return co_err_prefix(err, "column %s", cols[i]->name);
        offs[i] = s->len > before ? before + 1 : 0;
    }
    for (int i = 0; i < n; i++)
        if (offs[i])
            out[i].p = (const unsigned char *)s->p + offs[i] - 1;
    return 0;
}

int codec_row_to_target(const struct table *t, const struct value *in,
                        struct value *out, struct scratch *s,
                        struct co_err *err)
{
    const struct column *cols[t->ncols > 0 ? t->ncols : 1];

    for (int i = 0; i < t->ncols; i++)
        cols[i] = &t->cols[i];
    return codec_columns_to_target(cols, t->ncols, in, out, s, err);
}

/* ---- target → source (rollback) ------------------------------------------ */

int codec_to_source(const struct column *c, const struct value *in,
                    struct value *out, struct scratch *s, struct co_err *err)
{
    int64_t us;
    char shown[128];

    *out = *in;
    if (in->type == V_NULL)
        return 0;
    switch (c->map.lt) {
    case LT_DATETIME:
        if (c->map.dt == DT_TEXT || in->type != V_TEXT)
            return 0;
        {
            char tmp[64];
            size_t n = in->n < sizeof tmp - 1 ? in->n : sizeof tmp - 1;
            memcpy(tmp, in->p, n);
            tmp[n] = '\0';
            if (codec_datetime_to_epoch_us(tmp, &us) < 0)
                break;
        }
        if (c->map.dt == DT_EPOCH_MS) {
            out->type = V_INT;
            out->i = us / 1000;
        } else if (us % 1000000 == 0) {
            out->type = V_INT;
            out->i = us / 1000000;
        } else {
            out->type = V_REAL;
            out->r = (double)us / 1e6;
        }
        return 0;
    case LT_DECIMAL:
        /* Text: the column's NUMERIC affinity stores it as a number, the
         * same way the application's own writes were stored. */
        return 0;
    default:
        return 0;
    }
    (void)s;
    value_format(in, shown, sizeof shown);
    return co_errf(err, CO_EDATA, "cannot convert %s back for the source",
                   shown);
}

/* ---- canonical encoding --------------------------------------------------- */

static int canon_put(struct scratch *s, char tag, const void *p, size_t n)
{
    char *dst = scratch_take(s, n + 9);
    uint64_t len = n;

    if (!dst)
        return CO_ENOMEM;
    dst[0] = tag;
    memcpy(dst + 1, &len, 8);
    if (n)
        memcpy(dst + 9, p, n);
    return 0;
}

/* JSON and UUID text by value, not by spelling (json_canon.h): the
 * target's jsonb and uuid print them their own way. Text that is neither
 * is compared as bytes. */
static int canon_logical(const struct column *c, const struct value *v,
                         struct scratch *s)
{
    char uuid[33];
    struct sbuf j;
    int rc;

    if (!c->map.has_logical || v->type != V_TEXT)
        return 1;
    if (c->map.logical.kind == LK_UUID &&
        uuid_canon(v->p, v->n, uuid) == 0)
        return canon_put(s, 'u', uuid, 32);
    if (c->map.logical.kind != LK_JSON)
        return 1;
    sbuf_init(&j);
    rc = json_canon(v->p, v->n, &j) == 0
             ? canon_put(s, 'j', j.p, j.len) : 1;
    sbuf_free(&j);
    return rc;
}

int codec_canon(const struct column *c, const struct value *v,
                struct scratch *s, struct co_err *err)
{
    char buf[96];
    double d;
    int rc;

    if (v->type == V_NULL)
        return canon_put(s, CANON_NULL, NULL, 0);
    if ((rc = canon_logical(c, v, s)) <= 0)
        return rc;
    switch (c->map.lt) {
    case LT_INT:
    case LT_BOOL:
        if (v->type == V_INT)
            return canon_put(s, 'i', &v->i, 8);
        break;
    case LT_DOUBLE:
        if (v->type == V_REAL || v->type == V_INT) {
            d = v->type == V_REAL ? v->r : (double)v->i;
            if (d == 0)
                d = 0;   /* -0 and +0 are one value */
            return canon_put(s, 'd', &d, 8);
        }
        break;
    case LT_DECIMAL:
        if (codec_decimal(v, c->map.precision, c->map.scale, buf,
                          sizeof buf) == 0)
            return canon_put(s, 'm', buf, strlen(buf));
        break;
    case LT_DATETIME:
    case LT_DATE:
        if (v->type == V_TEXT &&
            codec_parse_datetime(v->p, v->n, c->map.lt, buf, sizeof buf) >= 0)
            return canon_put(s, 't', buf, strlen(buf));
        break;
    case LT_TIME:
        if (v->type == V_TEXT && codec_parse_time(v->p, v->n, buf, sizeof buf) >= 0)
            return canon_put(s, 't', buf, strlen(buf));
        break;
    default:
        if (v->type == V_TEXT || v->type == V_BLOB)
            return canon_put(s, 'b', v->p, v->n);
        break;
    }
    value_format(v, buf, sizeof buf);
    return co_errf(err, CO_EDATA, "value %s is not a %s", buf, c->map.type);
}
