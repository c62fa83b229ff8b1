/*
 * applier.h — applies the source's change logs to the target (DESIGN §5).
 *
 * For the entries after a table's applied seq, the applier takes the
 * table's copy-range locks (so no chunk is between its read and its
 * frontier advance), keeps only keys at or below the frontier of the range
 * that holds them (the copy will read the others later), reads those rows'
 * current state from the source, and in one target transaction upserts the
 * rows that exist and deletes the keys that are gone. Then it records the
 * applied seq. Applying is idempotent: replaying a batch after a crash
 * writes the same current state again.
 *
 * Logs are trimmed only up to what a written checkpoint says was applied,
 * and never past the point where verification of a table began (cutover
 * re-verifies the keys touched since then); and rarely, every table in
 * one transaction, because each commit on the source fails application
 * transactions that read before it and write after it.
 */
#ifndef CO_APPLIER_H
#define CO_APPLIER_H

#include <stdint.h>

#include "checkpoints/migration.h"
#include "sync/drivers/source.h"
#include "sync/drivers/target.h"

struct applier;

struct sync_stats {
    double lag_s;            /* age of the oldest unapplied entry (max) */
    int64_t backlog_rows;    /* unapplied entries (sum) */
    double applied_per_s;    /* keys applied per second, recent */
    int64_t applied_total;
    int64_t errors;          /* transient errors survived */
};

/* Start the applier thread with its own connections. */
int applier_start(struct migration *m, const struct source_ops *sops,
                  const struct target_ops *tops, struct applier **out,
                  struct co_err *err);
/* Stop at a batch boundary and join. NULL-safe. */
void applier_stop(struct applier *a);
/* A fatal error the thread stopped on (0 if none). */
int applier_failed(struct applier *a, struct co_err *err);
void applier_get_stats(struct applier *a, struct sync_stats *out);
/* Wait until every table's applied seq reaches at least its max seq as of
 * now, or timeout_s passes. Returns 0, CO_ETIMEOUT, or the thread's
 * error. */
int applier_wait_caught_up(struct applier *a, double timeout_s,
                           struct co_err *err);
/* Wait until table ts's applied seq is at least seq (verify rechecks). */
int applier_wait_seq(struct applier *a, struct table_state *ts, int64_t seq,
                     double timeout_s, struct co_err *err);

/* One batch of one table on the given connections. Returns the number of
 * log entries covered (0: caught up) or a negative error. The cutover
 * drain calls it under the source's write lock. */
int64_t applier_apply_batch(struct migration *m, struct table_state *ts,
                            const struct source_ops *sops, struct source *src,
                            const struct target_ops *tops, struct target *tgt,
                            int batch_rows, int64_t *keys_applied,
                            struct co_err *err);

/* The table's copy/apply locks: held while applying, and by whoever needs
 * the table's target rows to stand still (index builds). */
void applier_lock_table(struct table_state *ts);
void applier_unlock_table(struct table_state *ts);

/* With the table's locks held by the caller: apply its log to the end.
 * Afterwards the target holds, for every key, a state at least as new as
 * its last logged change — no transient duplicates between keys. */
int applier_drain_locked(struct migration *m, struct table_state *ts,
                         const struct source_ops *sops, struct source *src,
                         const struct target_ops *tops, struct target *tgt,
                         struct co_err *err);

/* Lag and backlog of every table, measured on src. */
int applier_measure(struct migration *m, const struct source_ops *sops,
                    struct source *src, struct sync_stats *out,
                    struct co_err *err);

#endif
