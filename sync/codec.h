/*
 * codec.h — value conversion between the source's storage and the target
 * column, and the canonical encoding both sides are compared in.
 *
 * codec_to_target() turns a source value into exactly what the target
 * column will hold (decimal text at the column's scale, datetime text with
 * microseconds, UTF-8 text, bytes) or fails naming why the value cannot be
 * held without change. Copy, apply and verify all go through it, so the
 * bytes compared by verify are the bytes written by the copy.
 *
 * codec_canon() encodes a target-form value (from either side) as bytes
 * that are equal exactly when the values are equal under the column's
 * logical type: integers, decimals at the column scale, doubles by exact
 * value (+0 == -0), datetimes to the microsecond, text and blobs as bytes,
 * NULL distinct from empty.
 */
#ifndef CO_CODEC_H
#define CO_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "lib/errors.h"
#include "lib/schema.h"
#include "lib/value.h"

/* Scratch space for converted text; reset once per row. */
struct scratch {
    char *p;
    size_t len, cap;
};

void scratch_reset(struct scratch *s);
void scratch_free(struct scratch *s);

/* Source value → target form. Returns 0 or CO_EDATA with a message naming
 * the value and the reason (the caller adds table, key and column). */
int codec_to_target(const struct column *c, const struct value *in,
                    struct value *out, struct scratch *s, struct co_err *err);

/* Convert a whole source row (ncols values) in place into `out`. On error
 * the message names the column. */
int codec_row_to_target(const struct table *t, const struct value *in,
                        struct value *out, struct scratch *s,
                        struct co_err *err);

/* The same for n values of the given columns (a projection of a row). */
int codec_columns_to_target(const struct column *const *cols, int n,
                            const struct value *in, struct value *out,
                            struct scratch *s, struct co_err *err);

/* Target-form value → what to store in the source column (rollback). */
int codec_to_source(const struct column *c, const struct value *in,
                    struct value *out, struct scratch *s, struct co_err *err);

/* Append the canonical encoding of a target-form value to s; returns 0 or
 * CO_EDATA when the value is not of the column's type. */
int codec_canon(const struct column *c, const struct value *v,
                struct scratch *s, struct co_err *err);

/* Helpers shared with the census and tests. */
/* Parse ISO-8601 date/time text into the canonical form ("YYYY-MM-DD
 * HH:MM:SS.ffffff", or "YYYY-MM-DD" for LT_DATE). Returns the number of
 * fraction digits seen (0-9) or -1 when the text is not a date/time. */
int codec_parse_datetime(const unsigned char *p, size_t n, enum ltype lt,
                         char *out, size_t cap);
/* Time-of-day or duration text "H[H[H]]:MM[:SS[.f...]]" (hours up to 838,
 * MySQL's TIME range) into the canonical "HH:MM:SS.ffffff". Returns the
 * number of fraction digits seen (0-9) or -1 when the text is not one. */
#define TIME_MAX_HOURS 838
int codec_parse_time(const unsigned char *p, size_t n, char *out, size_t cap);
/* Seconds since the epoch (UTC) with microseconds → canonical text. */
int codec_epoch_to_datetime(int64_t seconds, int64_t micros, char *out,
                            size_t cap);
/* Canonical datetime text → epoch microseconds; -1 on malformed input. */
int codec_datetime_to_epoch_us(const char *s, int64_t *out);
/* Shortest text that reads back as exactly d ("0.1", "1e+300"). */
void codec_format_double(double d, char *out, size_t cap);
/* Exact decimal text of a value at `scale` fraction digits; fails (-1)
 * when the value has more digits than scale or more integer digits than
 * precision-scale allows. */
int codec_decimal(const struct value *v, int precision, int scale, char *out,
                  size_t cap);

/* The same for a double, through libc's correctly rounded formatting: a
 * second, independent implementation verify uses to check the first. */
int codec_decimal_libc(double d, int precision, int scale, char *out,
                       size_t cap);

#endif
