/*
 * pre_validate.h — the assessment behind `cutover plan` and the
 * pre_validate stage: what will move, into which types, and everything
 * that would fail, change a value or surprise the operator later.
 */
#ifndef CO_PRE_VALIDATE_H
#define CO_PRE_VALIDATE_H

#include <jansson.h>
#include <stdio.h>

#include "lib/errors.h"
#include "lib/schema.h"
#include "sync/drivers/source.h"
#include "sync/drivers/target.h"

struct runbook;

enum severity { SEV_INFO, SEV_WARNING, SEV_BLOCKING };

struct finding {
    enum severity sev;
    char code[32];          /* machine-readable kind: no_key, type, ... */
    char *table;            /* NULL for database-wide findings */
    char *column;
    char *message;          /* what is wrong */
    char *hint;             /* what to do (NULL when nothing to do) */
    json_t *examples;       /* example keys, or NULL */
    json_t *values;         /* excerpts of the column's value in each
                               example, or NULL */
};

struct plan {
    struct schema schema;   /* with every column's map decided */
    struct finding *findings;
    int nfindings;
    int blocking;
    json_t *kept;           /* names of tables left out because the target
                               already holds the same (bookkeeping.c) */
    char target_info[128];
    double seconds;
};

/* Analyse without changing anything on either side. The connections'
 * owner (set_owner) says which of cutover's objects are this migration's;
 * every other one is a blocking finding. */
int pre_validate_analyze(const struct runbook *rb,
                         const struct source_ops *sops, struct source *src,
                         const struct target_ops *tops, struct target *tgt,
                         struct plan *out, struct co_err *err);
void plan_free(struct plan *p);

json_t *plan_to_json(const struct plan *p, const struct runbook *rb);
void plan_print(const struct plan *p, const struct runbook *rb, FILE *f);

const char *severity_name(enum severity s);

/* Findings from the type decisions' notes, with example rows (a note the
 * census could not count stands only when rows match). */
struct map_note;
int plan_add_notes(struct plan *p, const struct source_ops *sops,
                   struct source *src, const struct table *t,
                   const struct map_note *notes, int n, struct co_err *err);

/* Record a finding (checks.c and pre_validate.c). */
struct finding *plan_add(struct plan *p, enum severity sev, const char *code,
                         const char *table, const char *column,
                         const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

#endif
