/*
 * json_canon.c — the canonical form of JSON values and UUIDs
 * (json_canon.h): a recursive descent over the text, each value written
 * in its one spelling as it is read; an object's members are gathered
 * and sorted before they are written.
 */
#include "sync/json_canon.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Deeper documents than this are refused rather than risk the stack
 * (PostgreSQL's own limit is of the same order). */
#define MAX_DEPTH 1000

struct reader {
    const unsigned char *p;
    size_t n, at;
};

struct member {
    struct sbuf key;         /* the key as written (canonical string) */
    struct sbuf value;
};

static int value(struct reader *r, struct sbuf *out, int depth);

static void skip_space(struct reader *r)
{
    while (r->at < r->n && (r->p[r->at] == ' ' || r->p[r->at] == '\t' ||
                            r->p[r->at] == '\n' || r->p[r->at] == '\r'))
        r->at++;
}

static int hex4(struct reader *r, unsigned *out)
{
    *out = 0;
    if (r->n - r->at < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        int ch = r->p[r->at++];
        if (!isxdigit(ch))
            return -1;
        *out = *out * 16 + (unsigned)(isdigit(ch) ? ch - '0'
                                                  : tolower(ch) - 'a' + 10);
    }
    return 0;
}

static void put_utf8(struct sbuf *out, unsigned cp)
{
    char b[4];

    if (cp < 0x80) {
        sbuf_addc(out, (char)cp);
        return;
    }
    if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        sbuf_add(out, b, 2);
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        sbuf_add(out, b, 3);
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        sbuf_add(out, b, 4);
    }
}

/* A character of a string as written canonically: only the quote, the
 * backslash and control characters escaped. */
static void put_char(struct sbuf *out, unsigned cp)
{
    static const char hex[] = "0123456789abcdef";

    if (cp == '"' || cp == '\\') {
        sbuf_addc(out, '\\');
        sbuf_addc(out, (char)cp);
    } else if (cp < 0x20) {
        sbuf_adds(out, "\\u00");
        sbuf_addc(out, hex[cp >> 4]);
        sbuf_addc(out, hex[cp & 15]);
    } else {
        put_utf8(out, cp);
    }
}

/* An escape after the backslash: the code point it stands for. */
static int escape(struct reader *r, unsigned *cp)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *hit;
    unsigned lo;

    if (r->at >= r->n)
        return -1;
    if (r->p[r->at] != 'u') {
        if (!r->p[r->at] || !(hit = strchr(from, r->p[r->at])))
            return -1;
        r->at++;
        *cp = (unsigned char)to[hit - from];
        return 0;
    }
    r->at++;
    if (hex4(r, cp) < 0)
        return -1;
    if (*cp < 0xD800 || *cp > 0xDFFF)
        return 0;
    /* a surrogate pair, or a lone surrogate kept as its escape */
    if (*cp <= 0xDBFF && r->n - r->at >= 6 && r->p[r->at] == '\\' &&
        r->p[r->at + 1] == 'u') {
        size_t back = r->at;
        r->at += 2;
        if (hex4(r, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
            *cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
            return 0;
        }
        r->at = back;
    }
    return 1;
}

static int string(struct reader *r, struct sbuf *out)
{
    unsigned cp;
    int rc;

    r->at++;                                   /* the opening quote */
    sbuf_addc(out, '"');
    while (r->at < r->n) {
        unsigned char ch = r->p[r->at];
        if (ch == '"') {
            r->at++;
            sbuf_addc(out, '"');
            return 0;
        }
        if (ch < 0x20)
            return -1;
        if (ch != '\\') {
            sbuf_addc(out, (char)ch);          /* UTF-8 bytes as they are */
            r->at++;
            continue;
        }
        r->at++;
        size_t start = r->at;
        if ((rc = escape(r, &cp)) < 0)
            return -1;
        if (rc == 1) {                         /* a lone surrogate */
            sbuf_addc(out, '\\');
            for (size_t i = start; i < r->at; i++)
                sbuf_addc(out, (char)tolower(r->p[i]));
        } else {
            put_char(out, cp);
        }
    }
    return -1;
}

static size_t digits(struct reader *r)
{
    size_t start = r->at;

    while (r->at < r->n && isdigit(r->p[r->at]))
        r->at++;
    return r->at - start;
}

/* A number as its exact value: [-]D e E, D without leading or trailing
 * zeros ("0" for zero, which has no sign). */
static int number(struct reader *r, struct sbuf *out)
{
    struct sbuf d;
    int neg = 0;
    long exp = 0, e = 0;
    size_t int_at, nint, frac_at = 0, nfrac = 0, first, last;

    if (r->p[r->at] == '-') {
        neg = 1;
        r->at++;
    }
    int_at = r->at;
    if ((nint = digits(r)) == 0 || (nint > 1 && r->p[int_at] == '0'))
        return -1;
    if (r->at < r->n && r->p[r->at] == '.') {
        r->at++;
        frac_at = r->at;
        if ((nfrac = digits(r)) == 0)
            return -1;
    }
    if (r->at < r->n && (r->p[r->at] == 'e' || r->p[r->at] == 'E')) {
        int eneg = 0;
        r->at++;
        if (r->at < r->n && (r->p[r->at] == '+' || r->p[r->at] == '-'))
            eneg = r->p[r->at++] == '-';
        if (r->at >= r->n || !isdigit(r->p[r->at]))
            return -1;
        for (; r->at < r->n && isdigit(r->p[r->at]); r->at++)
            if (e < 100000000)
                e = e * 10 + (r->p[r->at] - '0');
        exp = eneg ? -e : e;
    }
    sbuf_init(&d);
    sbuf_add(&d, r->p + int_at, nint);
    if (nfrac)
        sbuf_add(&d, r->p + frac_at, nfrac);
    exp -= (long)nfrac;
    for (first = 0; first < d.len && d.p[first] == '0'; first++)
        ;
    for (last = d.len; last > first && d.p[last - 1] == '0'; last--)
        exp++;
    if (first == last) {
        sbuf_addc(out, '0');
    } else {
        if (neg)
            sbuf_addc(out, '-');
        sbuf_add(out, d.p + first, last - first);
        if (exp)
            sbuf_addf(out, "e%ld", exp);
    }
    sbuf_free(&d);
    return 0;
}

static int literal(struct reader *r, struct sbuf *out)
{
    static const char *const words[] = {"true", "false", "null"};

    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if (r->n - r->at >= n && memcmp(r->p + r->at, words[i], n) == 0) {
            r->at += n;
            sbuf_adds(out, words[i]);
            return 0;
        }
    }
    return -1;
}

static int array(struct reader *r, struct sbuf *out, int depth)
{
    int first = 1;

    r->at++;
    sbuf_addc(out, '[');
    skip_space(r);
    if (r->at < r->n && r->p[r->at] == ']') {
        r->at++;
        sbuf_addc(out, ']');
        return 0;
    }
    for (;;) {
        if (!first)
            sbuf_addc(out, ',');
        first = 0;
        if (value(r, out, depth + 1) < 0)
            return -1;
        skip_space(r);
        if (r->at >= r->n)
            return -1;
        if (r->p[r->at++] == ']') {
            sbuf_addc(out, ']');
            return 0;
        }
        if (r->p[r->at - 1] != ',')
            return -1;
    }
}

static int by_key(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    size_t n = x->key.len < y->key.len ? x->key.len : y->key.len;
    int c = memcmp(x->key.p, y->key.p, n);

    return c ? c : (x->key.len > y->key.len) - (x->key.len < y->key.len);
}

static void members_free(struct member *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sbuf_free(&m[i].key);
        sbuf_free(&m[i].value);
    }
    free(m);
}

/* Members read in order, then written sorted by key; of equal keys the
 * last read wins (a stable order keeps them in reading order). */
static int object(struct reader *r, struct sbuf *out, int depth)
{
    struct member *m = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;

    r->at++;
    skip_space(r);
    if (r->at < r->n && r->p[r->at] == '}') {
        r->at++;
        sbuf_adds(out, "{}");
        return 0;
    }
    for (;;) {
        if (n == cap) {
            struct member *grown;
            cap = cap ? cap * 2 : 8;
            if (!(grown = realloc(m, cap * sizeof *m)))
                goto out;
            m = grown;
        }
        sbuf_init(&m[n].key);
        sbuf_init(&m[n].value);
        n++;
        skip_space(r);
        if (r->at >= r->n || r->p[r->at] != '"' ||
            string(r, &m[n - 1].key) < 0)
            goto out;
        skip_space(r);
        if (r->at >= r->n || r->p[r->at++] != ':' ||
            value(r, &m[n - 1].value, depth + 1) < 0)
            goto out;
        skip_space(r);
        if (r->at >= r->n)
            goto out;
        if (r->p[r->at++] == '}')
            break;
        if (r->p[r->at - 1] != ',')
            goto out;
    }
    /* insertion sort: stable, and objects are small */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && by_key(&m[j - 1], &m[j]) > 0; j--) {
            struct member t = m[j];
            m[j] = m[j - 1];
            m[j - 1] = t;
        }
    sbuf_addc(out, '{');
    for (size_t i = 0, first = 1; i < n; i++) {
        if (i + 1 < n && by_key(&m[i], &m[i + 1]) == 0)
            continue;                          /* a later one wins */
        if (!first)
            sbuf_addc(out, ',');
        first = 0;
        sbuf_add(out, m[i].key.p, m[i].key.len);
        sbuf_addc(out, ':');
        sbuf_add(out, m[i].value.p, m[i].value.len);
    }
    sbuf_addc(out, '}');
    rc = 0;
out:
    members_free(m, n);
    return rc;
}

static int value(struct reader *r, struct sbuf *out, int depth)
{
    if (depth > MAX_DEPTH)
        return -1;
    skip_space(r);
    if (r->at >= r->n)
        return -1;
    switch (r->p[r->at]) {
    case '{':
        return object(r, out, depth);
    case '[':
        return array(r, out, depth);
    case '"':
        return string(r, out);
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return number(r, out);
    default:
        return literal(r, out);
    }
}

int json_canon(const unsigned char *p, size_t n, struct sbuf *out)
{
    struct reader r = {p, n, 0};

    if (value(&r, out, 0) < 0 || out->oom)
        return -1;
    skip_space(&r);
    return r.at == n ? 0 : -1;
}

int json_is_valid(const unsigned char *p, size_t n)
{
    struct sbuf scratch;
    int rc;

    sbuf_init(&scratch);
    rc = json_canon(p, n, &scratch);
    sbuf_free(&scratch);
    return rc == 0;
}

int uuid_canon(const unsigned char *p, size_t n, char out[33])
{
    static const int dashes[] = {8, 13, 18, 23};
    size_t o = 0;

    if (n != 32 && n != 36)
        return -1;
    for (size_t i = 0, d = 0; i < n; i++) {
        if (n == 36 && d < 4 && (int)i == dashes[d]) {
            if (p[i] != '-')
                return -1;
            d++;
            continue;
        }
        if (!isxdigit(p[i]))
            return -1;
        out[o++] = (char)tolower(p[i]);
    }
    out[o] = '\0';
    return 0;
}
