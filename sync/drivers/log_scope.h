/*
 * log_scope.h — what the source drivers share about reading change logs:
 * the WHERE condition that keeps a log's keys inside (or outside) the
 * applier's scope, written in each engine's SQL by a callback, and
 * freeing a batch.
 */
#ifndef CO_LOG_SCOPE_H
#define CO_LOG_SCOPE_H

#include "lib/sbuf.h"
#include "sync/drivers/source.h"

/* Write "key > bound" (upper 0) or "key <= bound" (upper 1) of the log's
 * key columns into b. */
typedef void (*key_bound_fn)(void *arg, struct sbuf *b,
                             const struct tuple *bound, int upper);

/* `how` (" AND " or " AND NOT ") and the keys of scope: per range with a
 * frontier, lo < key <= frontier (an empty frontier an open bound), the
 * ranges ORed. *any is 0 when no range has been copied yet (nothing is
 * inside, and nothing is written); a scope of all keys writes nothing
 * with *any 1. */
void log_scope_filter(struct sbuf *b, const struct apply_scope *scope,
                      const char *how, key_bound_fn bound, void *arg,
                      int *any);

void log_batch_release(struct log_batch *b);

#endif
