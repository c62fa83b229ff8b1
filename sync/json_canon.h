/*
 * json_canon.h — one spelling for each JSON value and each UUID, so that
 * verify hashes a source's text and PostgreSQL's jsonb/uuid output equal
 * when they are the same value.
 *
 * JSON: jsonb reorders object keys, keeps only the last of duplicate
 * keys, drops insignificant spaces and rewrites escapes ("\u00e9" is
 * "é"); it keeps numbers as numeric, so 1.0 prints "1.0" and 1e2 "100".
 * The canonical form here sorts keys by their bytes, keeps the last of a
 * duplicate key, has no spaces, writes strings with the fewest escapes,
 * and writes every number as its exact decimal value "[-]digits e exp"
 * with no leading or trailing zeros: 1, 1.0, 10e-1 and 0.1e1 are one
 * value (as numeric compares them), big integers and long fractions stay
 * exact (no double in between).
 *
 * UUID: 32 hex digits, lower case, with or without the dashes of
 * 8-4-4-4-12 (PostgreSQL reads both, prints dashed lower case).
 */
#ifndef CO_JSON_CANON_H
#define CO_JSON_CANON_H

#include <stddef.h>

#include "lib/sbuf.h"

/* Append the canonical form of JSON text p[0..n) to out: 0, or -1 when
 * the text is not one valid JSON value (out then holds a partial form). */
int json_canon(const unsigned char *p, size_t n, struct sbuf *out);

/* 1 when p[0..n) is one valid JSON value. */
int json_is_valid(const unsigned char *p, size_t n);

/* The 32 lower-case hex digits of a UUID in out (33 bytes with the NUL):
 * 0, or -1 when p[0..n) is not a UUID. */
int uuid_canon(const unsigned char *p, size_t n, char out[33]);

#endif
