/*
 * checks.h — the individual pre-validation checks, beyond type decisions:
 * keys, identifiers, indexes, foreign keys, views and triggers, the
 * source's journal mode and busy timeout, and the state of the target.
 */
#ifndef CO_CHECKS_H
#define CO_CHECKS_H

#include "stages/pre_validate.h"
#include "sync/census.h"

struct runbook;

/* A table's key, columns, defaults and indexes, and what the target
 * driver says of it (its assess_table hook). */
int checks_table(const struct runbook *rb, const struct source_ops *sops,
                 struct source *src, const struct target_ops *tops,
                 struct target *tgt, struct plan *p, const struct table *t,
                 const struct col_census *census, struct co_err *err);
/* Attach up to five example keys of the rows matching f to finding fd. */
int checks_examples(const struct source_ops *sops, struct source *src,
                    const struct table *t, const struct row_filter *f,
                    struct finding *fd, struct co_err *err);

int checks_database(const struct runbook *rb, const struct source_ops *sops,
                    struct source *src, const struct target_ops *tops,
                    struct target *tgt, struct plan *p, struct co_err *err);

/* Runbook entries naming a table or column that is not migrated (a typo
 * in schema.overrides, tables.keys or tables.include) are blocking. */
void checks_runbook_names(const struct runbook *rb, struct plan *p);

/* cutover's objects that this migration did not make, on either side
 * (blocking, named), and names of ours that two target objects would
 * share (object_checks.c). */
int checks_foreign_objects(const struct source_ops *sops, struct source *src,
                           const struct target_ops *tops, struct target *tgt,
                           struct plan *p, struct co_err *err);
int checks_generated_names(const struct target_ops *tops, struct target *tgt,
                           struct plan *p, struct co_err *err);

/* target.replicas: reachable, replicating from the primary, read-only;
 * the primary's positions waitable. */
int checks_replicas(const struct runbook *rb, const struct target_ops *tops,
                    struct target *tgt, struct plan *p, struct co_err *err);

#endif
