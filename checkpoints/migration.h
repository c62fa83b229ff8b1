/*
 * migration.h — the migration model: everything a resume needs, shared by
 * the conductor, copy workers, the applier and the progress socket, and
 * the one function that changes the migration's state.
 *
 * Locking: m->mu guards every field below. A copy range's `lock` is
 * different: it is the copy/apply exclusion of DESIGN §5 (a chunk's read,
 * write and frontier advance happen under it, and the applier holds it
 * while it decides which keys are at or below the frontier and applies
 * them), never held while taking m->mu's waiters for long.
 *
 * State invariants (what the model records of them is checked by
 * migration_check_state after every transition and cutover sub-step, and
 * when a checkpoint is read; paused and failed are checked as the state
 * they left):
 *   new           no tables known yet, nothing changed anywhere
 *   pre_validate  schema read; nothing changed on either side
 *   bulk_copy     capture installed on the source; tables created on the
 *                 target; every range's frontier is a committed chunk end
 *   sync          every table's copy done; capture running
 *   verify        as sync; verify frontiers advance per table
 *   cutover       before `switched`: as sync, the source may be fenced only
 *                 inside the cutover transaction; after: fence durable
 *   post_validate switched; source fenced; reverse capture on the target
 *   completed     switched; our triggers and logs removed from both sides
 *   aborting/ed   never switched; our objects being/been removed
 *   rolling_back/ed  switched, traffic moving/moved back to the source
 * and in every state: `switched` exactly when the cutover sub-step is
 * switch, switched or unswitch (cutover_fsm.h); the sub-step is ready
 * before the cutover state and switched after it; switch actions are
 * counted done only once switched; a running state is its own
 * resume_state.
 */
#ifndef CO_MIGRATION_H
#define CO_MIGRATION_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#include "lib/errors.h"
#include "lib/gtid.h"
#include "checkpoints/fsm.h"
#include "lib/runbook.h"
#include "lib/owner.h"
#include "lib/schema.h"
#include "lib/value.h"
#include "checkpoints/cutover_fsm.h"
#include "lib/states.h"

/* A key range of one table copied by one worker: keys in (lo, hi]. A
 * table has at most MAX_COPY_RANGES of them (64 workers' split points). */
#define MAX_COPY_RANGES 65
struct copy_range {
    struct tuple lo, hi;        /* n == 0: open bound */
    struct tuple frontier;      /* last key copied; n == 0: none yet */
    int64_t rows;
    int done;
    pthread_mutex_t lock;       /* copy/apply exclusion */
    int busy;                   /* a worker owns this range (runtime) */
};

struct table_state {
    struct table *t;            /* in m->schema */
    int64_t rows_total;         /* source rows when the copy started */
    int created;                /* target table exists */
    int owned;                  /* ... because this migration created it:
                                   on_abort "drop" drops only these */
    int copy_done;
    int indexes_done;
    int nranges;
    struct copy_range *ranges;
    int64_t applied_seq;        /* change log: applied or skipped up to */
    char applied_gtid[GTID_MAX]; /* ... and the GTID of the last transaction
                                   there, where the source's log has them
                                   ("" none known yet) */

    /* verify (persisted) */
    struct tuple verify_frontier;
    int64_t verify_rows;
    int64_t verify_chunks;
    int64_t verify_mismatches;
    int verify_done;
    int64_t verify_seq;         /* log seq when this table's verify began */

    /* live figures (not persisted) */
    double rows_per_s;
    double applied_per_s;
    int64_t backlog;
    double lag_s;
};

struct cutover_state {
    enum cutover_step step;
    int attempt;                /* attempts made (overruns, switch failures) */
    int switch_done;            /* switch actions completed */
    int go;                     /* manual mode: operator said go */
    double last_pause_ms;       /* write pause of the last attempt */
    json_t *steps_ms;           /* the last attempt's sub-step durations
                                   {step: ms} (not checkpointed) */
    double next_attempt_at;     /* backoff (wall clock) */
};

struct post_validate_state {
    double started_at;          /* wall clock */
    int64_t rlog_applied;       /* not used until rollback */
};

/* Hook run after every transition (set by the orchestrator: on_stage
 * actions, notifications). Called with m->mu held; must only queue. */
typedef void (*transition_hook_fn)(void *arg, enum fsm_state from,
                                   enum fsm_state to, const char *reason);

struct migration {
    pthread_mutex_t mu;
    /* Checkpoint writes: a snapshot is taken under mu and numbered
     * (snapshot_gen, under mu), then written under save_mu only, so the
     * fsyncs run outside mu; written_gen (under save_mu) keeps an earlier
     * snapshot from replacing a later one on disk. Lock order: mu, then
     * save_mu. */
    pthread_mutex_t save_mu;
    uint64_t snapshot_gen;
    uint64_t written_gen;
    struct runbook *rb;
    struct schema schema;
    /* Marks every object the migration makes on either side (lib/owner.h);
     * "" for a migration started by a cutover without ids. */
    char id[OWNER_ID_LEN + 1];

    enum fsm_state state;
    enum fsm_state resume_state;
    int switched;               /* traffic moved: fence on the source */
    double started_at;

    int ntables;
    struct table_state *tables;
    /* schema.mode "existing": framework bookkeeping tables (a JSON array
     * of names) the target already had the same migrations in; plan left
     * them out, and every later reading of the source schema does too */
    json_t *kept_tables;

    struct cutover_state cut;
    struct post_validate_state post;
    int64_t source_schema_version;   /* after our own DDL */
    char backup_sha256[65];
    char backup_file[256];

    json_t *history;            /* [{ts, from, to, event, reason}] */
    json_t *trigger_states;     /* owned by triggers.c */
    char last_error[1024];
    int last_error_code;

    /* Runtime knobs (not persisted beyond what the runbook says). */
    double max_rows_per_s;      /* throttle; 0 = unlimited */

    transition_hook_fn hook;
    void *hook_arg;

    /* The target driver's reader of its own column types: a format 1
     * checkpoint kept only those, and its logical types are filled from
     * them (migration_from_json). NULL refuses such a checkpoint. */
    int (*logical_of_type)(const char *type, struct logical_type *out);
};

struct migration *migration_new(struct runbook *rb);
void migration_free(struct migration *m);

/* Take the schema (moved into m) and create table states for it. */
int migration_set_schema(struct migration *m, struct schema *sc);
/* Record the tables plan kept out (a JSON array of names, borrowed), or
 * take them from a checkpoint; drop them from a schema just read. */
void migration_set_kept(struct migration *m, json_t *names);
void migration_kept_from_json(struct migration *m, json_t *cp);
void migration_drop_kept(const struct migration *m, struct schema *sc);

struct table_state *migration_table(struct migration *m, const char *name);

/* The one function that changes state: checks the transition table,
 * records history, writes the checkpoint, emits the `stage` event and
 * queues on_stage hooks. Returns 0 or CO_ESTATE (illegal) / CO_EIO (the
 * checkpoint could not be written: the state is left unchanged). */
int migration_transition(struct migration *m, enum fsm_event ev,
                         const char *reason, struct co_err *err);

/* Write the checkpoint now (after a chunk commit, an apply batch...): a
 * snapshot under m->mu, written and fsynced outside it. Returns 0 when it,
 * or a later snapshot, is on disk; CO_EIO otherwise. Call without m->mu. */
int migration_save(struct migration *m, struct co_err *err);

/* The two halves of migration_save: the checkpoint form of m and its
 * generation (call with m->mu held), then its write, skipped when a later
 * generation is already on disk (call without m->mu, or with it when the
 * write must happen before anyone sees the change: transitions). */
json_t *migration_snapshot(struct migration *m, uint64_t *gen);
int migration_write_snapshot(struct migration *m, json_t *cp, uint64_t gen,
                             struct co_err *err);

/* Checkpoint ⇄ model. from_json needs the source schema already read
 * (m->schema) to attach table states; it reports runbook or schema changes
 * that invalidate the state (CO_ECHANGED) and malformed content
 * (CO_ECHECKPOINT). */
json_t *migration_to_json(struct migration *m);
int migration_from_json(struct migration *m, json_t *cp, struct co_err *err);

/* Check every field of checkpoint cp for its type and range; with m
 * (whose schema was read), keys for the arity of the tables' keys too.
 * 0, or CO_ECHECKPOINT naming the field. from_json does this itself. */
int migration_check(const struct runbook *rb, struct migration *m,
                    json_t *cp, struct co_err *err);

/* Load a checkpoint without a source (status, check-checkpoint). */
int migration_peek(const char *state_dir, json_t **cp, struct co_err *err);

/* Status object (DESIGN §7: state, resume_state, tables, sync, error). */
json_t *migration_status(struct migration *m);
/* Status from a checkpoint alone. */
json_t *migration_status_from_checkpoint(json_t *cp);

void migration_set_error(struct migration *m, const struct co_err *err);

/* Exit code of a final or stopped state (DESIGN §2). */
int migration_exit_code(enum fsm_state s);

void migration_on_transition(struct migration *m, transition_hook_fn fn,
                             void *arg);

/* The one function that changes the cutover sub-step (cutover_fsm.h):
 * checks the table, runs the step's on-enter function (the only place
 * `switched` changes), checks the invariants. Takes m->mu; writes no
 * checkpoint (the stage decides which steps are durable). Returns 0, with
 * the step left in *left (may be NULL), or CO_ESTATE naming both steps. */
int migration_cutover_step(struct migration *m, enum cutover_step to,
                           enum cutover_step *left, struct co_err *err);

/* Do the invariants above hold? 0, or CO_ESTATE naming the first that
 * does not. Call with m->mu held (or m not yet shared). */
int migration_check_state(const struct migration *m, struct co_err *err);

/* migration_check_state as an assertion: a broken invariant is a bug,
 * and going on could leave both sides writable, so it logs the invariant
 * and aborts (a resume decides from the checkpoint and the durable fence).
 * Compiled out with NDEBUG, like assert(). */
void migration_assert_state(const struct migration *m);

#endif
