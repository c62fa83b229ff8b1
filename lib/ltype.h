/*
 * ltype.h — a column's logical type (DESIGN §10): what its values are,
 * in no engine's words. The target's column type (DDL text) is rendered
 * from it; the checkpoint keeps both, so a resumed migration knows what
 * each column holds without reading the target's type language.
 *
 * enum and set carry no members: the source's type keeps them (a
 * target's ENUM read back from an old checkpoint keeps only the kind).
 */
#ifndef CO_LTYPE_H
#define CO_LTYPE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define LKIND_LIST(X) \
    X(LK_INTEGER, "integer") X(LK_DECIMAL, "decimal") X(LK_FLOAT, "float") \
    X(LK_BOOLEAN, "boolean") X(LK_TEXT, "text") X(LK_BYTES, "bytes") \
    X(LK_DATE, "date") X(LK_TIME, "time") X(LK_DATETIME, "datetime") \
    X(LK_JSON, "json") X(LK_ENUM, "enum") X(LK_SET, "set") \
    X(LK_UUID, "uuid")

#define LKIND_ENUM(id, name) id,
enum lkind { LKIND_LIST(LKIND_ENUM) LK_COUNT };
#undef LKIND_ENUM

/* How a datetime's values relate to time zones: naive wall-clock values,
 * or instants in UTC. */
enum lzone { LZONE_NAIVE, LZONE_UTC };

struct logical_type {
    enum lkind kind;
    int is_unsigned;          /* LK_INTEGER */
    int64_t int_min;          /* LK_INTEGER: the range the type holds; */
    uint64_t int_max;         /* unsigned so that 2^64-1 fits */
    int precision, scale;     /* LK_DECIMAL */
    int float_bits;           /* LK_FLOAT: significand bits when fewer
                                 than a double's 53; 0: a double (not
                                 kept in checkpoints) */
    int64_t max_chars;        /* LK_TEXT: longest value; 0 when unbounded */
    char charset[16];         /* LK_TEXT: "" when the target's default */
    char collation[64];       /* LK_TEXT: "" when the target's default */
    int64_t max_bytes;        /* LK_BYTES: 0 when unbounded */
    int fsp;                  /* LK_TIME, LK_DATETIME: fraction digits */
    enum lzone zone;          /* LK_DATETIME */
    int array;                /* LK_SET: the members as an array of text
                                 (PostgreSQL text[]) rather than one
                                 comma-separated text */
};

const char *lkind_name(enum lkind k);
int lkind_by_name(const char *name);         /* -1 when unknown */

/* The JSON form the checkpoint stores: {"kind": ..., and the members
 * that kind uses}. */
json_t *ltype_to_json(const struct logical_type *lt);

/* Read it back; -1 with `why` naming the member that is missing or
 * wrong. */
int ltype_from_json(json_t *j, struct logical_type *out, char *why,
                    size_t whycap);

#endif
