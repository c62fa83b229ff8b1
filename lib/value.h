/*
 * value.h — one database value, independent of either engine.
 *
 * Drivers hand rows to the stages as arrays of struct value whose text and
 * blob bytes point into the driver's own buffers, valid until the next row
 * is fetched. A tuple is an owned copy (keys, frontiers) that can outlive
 * the row and be written to a checkpoint.
 */
#ifndef CO_VALUE_H
#define CO_VALUE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* SQLite's storage classes, which are also enough to carry MySQL values:
 * decimals and datetimes travel as text in canonical form. */
enum vtype { V_NULL, V_INT, V_REAL, V_TEXT, V_BLOB };

struct value {
    enum vtype type;
    int64_t i;
    double r;
    const unsigned char *p;   /* V_TEXT, V_BLOB: bytes (not NUL-terminated) */
    size_t n;
};

struct tuple {
    int n;
    struct value *v;          /* bytes owned by the tuple */
};

const char *vtype_name(enum vtype t);

/* Deep copy of n values into t (frees what t held). Returns 0 or -1. */
int tuple_set(struct tuple *t, const struct value *vals, int n);
int tuple_copy(struct tuple *dst, const struct tuple *src);
void tuple_free(struct tuple *t);
int tuple_equal(const struct tuple *a, const struct tuple *b);

/* Checkpoint form: an array, one item per value — null, an integer, a
 * string (valid UTF-8 text), {"real":"%a"}, {"text_hex":..} or
 * {"blob_hex":..}. tuple_from_json returns 0 or -1 on a malformed item. */
json_t *tuple_to_json(const struct tuple *t);
int tuple_from_json(json_t *j, struct tuple *t);
json_t *value_to_json(const struct value *v);

/* Human form for messages: 42, 'abc', x'00ff', NULL — at most cap bytes. */
void value_format(const struct value *v, char *buf, size_t cap);
/* A short excerpt for reports: text up to 40 characters, then its length
 * ("'Aaa...' (233 characters, 233 bytes)"); other values as value_format.
 * Always valid UTF-8; cap at least 64. */
void value_excerpt(const struct value *v, char *buf, size_t cap);
/* "id=42" or "(a, b)=(1, 'x')" given the column names. */
void tuple_format(const struct tuple *t, const char *const *names, char *buf,
                  size_t cap);

/* Is [p, p+n) well-formed UTF-8 (no overlongs, no surrogates)? */
int utf8_valid(const unsigned char *p, size_t n);
/* Copy src into dst (cap bytes, NUL-terminated), cutting only on a
 * character boundary so a shortened text stays valid UTF-8. */
void utf8_copy(char *dst, size_t cap, const char *src);
/* Number of code points (assumes valid UTF-8). */
size_t utf8_chars(const unsigned char *p, size_t n);

#endif
