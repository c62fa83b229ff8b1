/*
 * sbuf.h — a growable byte buffer for building SQL text and data streams.
 *
 * Appends never fail silently: on allocation failure the buffer is marked
 * `oom` and further appends are no-ops, so builders check once at the end.
 */
#ifndef CO_SBUF_H
#define CO_SBUF_H

#include <stddef.h>

struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
};

void sbuf_init(struct sbuf *b);
void sbuf_free(struct sbuf *b);
void sbuf_reset(struct sbuf *b);
int sbuf_reserve(struct sbuf *b, size_t extra);
void sbuf_add(struct sbuf *b, const void *p, size_t n);
void sbuf_adds(struct sbuf *b, const char *s);
void sbuf_addc(struct sbuf *b, char c);
void sbuf_addf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Identifier quoted with q (" for SQLite, ` for MySQL), q doubled inside. */
void sbuf_ident(struct sbuf *b, const char *name, char q);
/* Comma-separated list of the quoted names. */
void sbuf_ident_list(struct sbuf *b, const char *const *names, int n, char q);
/* NUL-terminated contents ("" when empty). */
const char *sbuf_str(struct sbuf *b);

#endif
