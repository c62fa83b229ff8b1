/*
 * verifier.h — proving the target equals the source (DESIGN §5 verify).
 *
 * Chunk by chunk in the source's key order: both sides' rows are converted
 * to the canonical encoding of codec.h and hashed (SHA-256 per chunk); equal
 * hashes end the chunk. Otherwise the chunk is narrowed to rows (missing,
 * extra, different) and columns. Rows that differ may be in flight: they
 * are re-checked once the applier has passed the log position seen when
 * the chunk was read, up to `recheck_attempts` times; what still differs
 * is a mismatch with table, key and columns.
 *
 * The target is read by key range only for integer keys (same order on both
 * engines); other keys are looked up exactly, so a case-insensitive target
 * collation cannot change what a chunk contains.
 */
#ifndef CO_VERIFIER_H
#define CO_VERIFIER_H

#include <jansson.h>
#include <stdint.h>

#include "checkpoints/migration.h"
#include "sync/drivers/source.h"
#include "sync/drivers/target.h"

/* Wait until the changes logged up to `seq` for ts are applied. */
typedef int (*verify_wait_fn)(void *arg, struct table_state *ts, int64_t seq,
                              struct co_err *err);

struct verifier {
    struct migration *m;
    const struct source_ops *sops;
    struct source *src;
    const struct target_ops *tops;
    struct target *tgt;
    verify_wait_fn wait;
    void *wait_arg;
    int attempts;
    int chunk_rows;
    enum verify_mode mode;
    double sample_percent;
    json_t *report;          /* {"tables": {name: {...}}} */
    const char *report_name; /* file in the state dir: verify.json */
    double finished_at;      /* verify stage: when the last table ended */
    void *sides;             /* chunk buffers, reused (verifier.c) */
};

void verifier_init(struct verifier *v, struct migration *m,
                   const struct source_ops *sops, struct source *src,
                   const struct target_ops *tops, struct target *tgt);
void verifier_free(struct verifier *v);

/* Verify the next chunk of ts. Sets *done when the table is finished.
 * Mismatches are counted in ts->verify_mismatches and detailed in the
 * report. */
int verifier_chunk(struct verifier *v, struct table_state *ts, int *done,
                   struct co_err *err);

/* Compare exactly these keys. With with_recheck, differing keys get the
 * usual rechecks after the applier; without (the caller holds the source's
 * write lock and has drained the log) a difference is final. Returns the
 * number of mismatching keys, or a negative error. */
int64_t verifier_keys(struct verifier *v, struct table_state *ts,
                      const struct tuple *keys, int nkeys, int with_recheck,
                      struct co_err *err);

/* Write the report to state_dir/verify.json. */
int verifier_write_report(struct verifier *v, struct co_err *err);
/* Load an earlier report (resume). */
void verifier_load_report(struct verifier *v);

/* Does the table's key order the same on both engines (integers)? */
int verifier_int_ordered(const struct table *t);

#endif
