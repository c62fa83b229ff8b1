/*
 * collisions.h — predicting unique-key collisions under the target's
 * collation before a row moves (DESIGN §5 pre_validate): values distinct
 * in SQLite ('abc' and 'ABC', 'e' and 'é', 'a' and 'a ') that the target
 * would call equal would break the copy or silently merge rows.
 */
#ifndef CO_COLLISIONS_H
#define CO_COLLISIONS_H

#include "stages/pre_validate.h"
#include "sync/census.h"

struct runbook;

int collisions_check(const struct runbook *rb, const struct source_ops *sops,
                     struct source *src, const struct target_ops *tops,
                     struct target *tgt, struct plan *p,
                     const struct table *t, const struct col_census *census,
                     struct co_err *err);

#endif
