/*
 * copier.h — the bulk copy of one chunk (DESIGN §5 bulk_copy).
 *
 * Under the range's lock: read the next rows after the frontier in the
 * source's key order, stream them into the target in one transaction,
 * advance the frontier. Then, outside the lock, checkpoint and report
 * progress. Holding the lock from read to frontier advance is what lets
 * the applier skip keys above the frontier safely.
 */
#ifndef CO_COPIER_H
#define CO_COPIER_H

#include <stdint.h>

#include "checkpoints/migration.h"
#include "sync/drivers/source.h"
#include "sync/drivers/target.h"

struct copy_chunk_stats {
    int64_t rows;
    double seconds;          /* working time (throttle sleeps excluded) */
    int range_done;
};

/* A worker's pacing under copy.max_rows_per_s (its share of it): rows
 * since `since`, kept across chunks so the limit holds however chunks are
 * cut. A new limit restarts the window. */
struct copy_pace {
    double since;
    int64_t rows;
    double limit;
    double slept;            /* this chunk's throttle sleeps */
};

/* Copy one chunk of range r of ts with at most *chunk_rows rows, then
 * adapt *chunk_rows toward chunk_target_ms. */
int copy_chunk(struct migration *m, struct table_state *ts, int r,
               const struct source_ops *sops, struct source *src,
               const struct target_ops *tops, struct target *tgt,
               int64_t *chunk_rows, struct copy_pace *pace,
               struct copy_chunk_stats *st, struct co_err *err);

#endif
