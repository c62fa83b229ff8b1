/*
 * bookkeeping.h — schema.mode "existing": the frameworks' tables of
 * applied migrations (django_migrations, Laravel's migrations, Rails'
 * schema_migrations and ar_internal_metadata) compared by migration name
 * rather than copied over the target's own.
 */
#ifndef CO_BOOKKEEPING_H
#define CO_BOOKKEEPING_H

#include "stages/pre_validate.h"

/* For each such table the target already holds rows in: the same names →
 * an info finding, the table's name added to p->kept and the table left
 * out of p->schema; different names → a blocking finding listing what
 * each side lacks. Nothing in create mode. */
int bookkeeping_check(const struct runbook *rb, const struct source_ops *sops,
                      struct source *src, const struct target_ops *tops,
                      struct target *tgt, struct plan *p, struct co_err *err);

#endif
