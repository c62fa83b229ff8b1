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

/* schema.mode "existing": one of the target's unique keys, over the
 * source columns `cols` (prefix[i]: characters the target indexes, 0 for
 * all), compared by the server under the target columns' own types and
 * collations. `what` names the key in the finding. */
int collisions_check_key(const struct runbook *rb,
                         const struct source_ops *sops, struct source *src,
                         const struct target_ops *tops, struct target *tgt,
                         struct plan *p, const struct table *t,
                         const struct col_census *census, const int *cols,
                         const int *prefix, int ncols, const char *what,
                         struct co_err *err);

#endif
