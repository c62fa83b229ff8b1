/*
 * existing.h — pre-validation of one table in schema.mode "existing": the
 * target table was made by the application's framework and belongs to
 * it. Its columns decide the types; every source value is checked against
 * them, and the table against the source (columns, keys, unique values).
 */
#ifndef CO_EXISTING_H
#define CO_EXISTING_H

#include "stages/pre_validate.h"

int existing_analyze_table(const struct runbook *rb,
                           const struct source_ops *sops, struct source *src,
                           const struct target_ops *tops, struct target *tgt,
                           struct plan *p, struct table *t,
                           struct co_err *err);

#endif
