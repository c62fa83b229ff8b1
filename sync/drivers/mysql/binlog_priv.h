/*
 * binlog_priv.h — what the files of the binlog row decoder share: a
 * bounds-checked reader over an event body, whose errors name the event
 * and the offset, and the walker of one column value (binlog_value.c).
 */
#ifndef CO_BINLOG_PRIV_H
#define CO_BINLOG_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "sync/drivers/mysql/binlog_rows.h"

/* A reader over [p, end); base + origin is the offset of base in the
 * event body, for messages (the rows of a compressed event are not in
 * the body: their offsets are counted from the start of the rows). */
struct blr_cur {
    const unsigned char *base, *p, *end;
    size_t origin;
    const char *event;          /* "WRITE_ROWS_V1 (table id 18)" */
    const char *where;          /* "" or " of the uncompressed rows" */
};

/* A growable buffer for values formatted as text. */
struct binlog_buf {
    unsigned char *p;
    size_t cap;
};

static inline size_t blr_offset(const struct blr_cur *c)
{
    return c->origin + (size_t)(c->p - c->base);
}

static inline size_t blr_left(const struct blr_cur *c)
{
    return (size_t)(c->end - c->p);
}

/* CO_EPROTOCOL "EVENT at offset N: WHAT" (printf-style WHAT). */
int blr_fail(struct co_err *err, const struct blr_cur *c, const char *fmt,
             ...) __attribute__((format(printf, 3, 4)));

/* Take n bytes (error "truncated: WHAT needs N bytes, M left"). */
int blr_take(struct blr_cur *c, size_t n, const char *what,
             const unsigned char **out, struct co_err *err);
/* Little-endian unsigned integer of n (1-8) bytes. */
int blr_uint(struct blr_cur *c, size_t n, const char *what, uint64_t *v,
             struct co_err *err);
/* The binlog's packed integer (1, 3, 4 or 9 bytes); 251 (NULL) and 255
 * are errors here. */
int blr_packed(struct blr_cur *c, const char *what, uint64_t *v,
               struct co_err *err);

/* Little-endian and big-endian reads of n bytes at p (no checks). */
uint64_t blr_le(const unsigned char *p, size_t n);
uint64_t blr_be(const unsigned char *p, size_t n);

/* Room for n bytes in b. Returns 0 or CO_ENOMEM. */
int blr_buf_reserve(struct binlog_buf *b, size_t n, struct co_err *err);

/* Walk the value of column c at the reader; with out non-NULL, decode it
 * too (text formed in buf). Errors name the column through blr_fail; the
 * caller prefixes the row. */
int binlog_value_walk(const struct binlog_column *c, struct blr_cur *cur,
                      struct value *out, struct binlog_buf *buf,
                      struct co_err *err);
/* 0 when a value of c can be decoded, else CO_ESCHEMA saying why (JSON,
 * compressed columns, unknown signedness or charset). */
int binlog_value_decodable(const struct binlog_column *c, unsigned col,
                           struct co_err *err);

#endif
