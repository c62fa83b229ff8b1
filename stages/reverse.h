/*
 * reverse.h — carrying writes made on the target back into the source:
 * the reverse logs drained into SQLite (rollback after the switch, and the
 * way back when a switch action fails). The caller holds the source's
 * write lock; the rows are written in that one transaction.
 */
#ifndef CO_REVERSE_H
#define CO_REVERSE_H

#include "stages/stage.h"

/* Returns the number of keys carried back, or a negative error. */
int64_t reverse_drain(struct stage_ctx *ctx, struct co_err *err);

/* The full way back: fence the target, then in one source transaction drop
 * the source fence (restoring capture when `restore_capture`), write the
 * target's changes back and commit. */
int reverse_traffic(struct stage_ctx *ctx, int restore_capture,
                    struct co_err *err);

#endif
