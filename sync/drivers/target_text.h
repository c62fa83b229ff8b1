/*
 * target_text.h — what every target driver judges the same way in text
 * written in its own language: the runbook's schema.collation and
 * schema.overrides (the reader keeps them as text), and a number written
 * as a column DEFAULT in SQLite.
 */
#ifndef CO_TARGET_TEXT_H
#define CO_TARGET_TEXT_H

#include <stddef.h>

#include "lib/errors.h"

struct runbook;

/* How one engine judges the runbook's words. */
struct target_words {
    const char *default_collation;   /* schema.collation when none given */
    /* 0, or CO_ERUNBOOK naming schema.collation and what is wrong */
    int (*check_collation)(const char *collation, struct co_err *err);
    /* Is this override a column type of the engine, safe in DDL? */
    int (*type_valid)(const char *type);
    const char *type_examples;       /* "a MySQL column type such as ..." */
};

/* Default schema.collation, check it and every override: 0, or
 * CO_ERUNBOOK naming the JSON path of the first that is wrong. */
int target_words_check(struct runbook *rb, const struct target_words *w,
                       struct co_err *err);

/* Is p[0..n) a plain decimal number (sign, digits, at most one point
 * unless `integer`)? */
int target_number_text(const char *p, size_t n, int integer);

#endif
