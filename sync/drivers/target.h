/*
 * target.h — what the stages may ask of a target database: schema, bulk
 * load, batched upserts, reads for verification, reverse capture and the
 * fence used for rollback.
 *
 * Stages never include an engine's client header; they call through the
 * target_ops the registry (registry.h) found for target.type. A NULL
 * member is not supported (registry.c lists which may be). Sessions
 * opened here are strict (a value the server would clamp or truncate is
 * an error naming the table, key and column), speak UTF-8 and UTC, check
 * no foreign keys while loading, and are marked as ours (reverse capture
 * ignores them).
 */
#ifndef CO_TARGET_H
#define CO_TARGET_H

#include <stdint.h>

#include "lib/errors.h"
#include "lib/schema.h"
#include "sync/drivers/source.h"
#include "sync/target_schema.h"
#include "lib/value.h"

struct assess_sink;
struct runbook;
struct rb_conn;
struct sbuf;
struct target;
struct target_cursor;

/* Rows for a bulk load, pulled one at a time in key order: return 1 with
 * *row set (already converted to target form by the codec), 0 at the end,
 * or a negative error. */
typedef int (*row_pull_fn)(void *arg, const struct value **row,
                           struct co_err *err);

/* A bulk load's way in: the engine's fast path (LOAD DATA LOCAL INFILE on
 * MySQL, COPY FROM STDIN on PostgreSQL) or its row path (multi-row
 * statements). */
enum fast_path { FAST_PATH_NEVER, FAST_PATH_IF_ALLOWED, FAST_PATH_REQUIRED };

struct load_result {
    int64_t rows;
    int64_t bytes;
    int used_fast_path;      /* 0: the row path */
    int refused;             /* CO_EDATA came from the server refusing a
                                value (not from the rows pulled) */
    long bad_row;            /* ... in the 1-based row of the chunk (0
                                unknown) */
    char bad_column[65];     /* ... and the column it named ("" unknown) */
};

/* A reverse-capture batch (after the switch: keys changed on the target). */
struct rlog_batch {
    int nkeys;
    struct tuple *keys;
    int64_t last_seq;
};

/* What a server says about itself, for checking a primary and replicas. */
struct server_role {
    int64_t server_id;       /* its identity among its replication peers */
    int read_only;           /* refuses ordinary writes */
    int logs_changes;        /* keeps the change log replicas follow */
    int can_wait;            /* its replication positions can be waited
                                for on a replica (position_wait) */
    char setup_hint[160];    /* on a primary lacking either: what to set,
                                in the engine's words */
    char read_only_hint[96]; /* on a writable replica: how to stop that */
};

/* A replica's replication, as the server reports it: the receiving half
 * (changes fetched from the primary) and the applying half. */
struct replica_status {
    int configured;          /* it replicates from some primary */
    int receiving, applying;
    char error[512];         /* the last replication error, "" when none */
    int64_t source_id;       /* the primary's server_id */
    double lag_s;            /* the server's own figure; -1 unknown */
    char fix_hint[160];      /* how to look at and restart replication */
};

/* A name the driver gives an object on the target: `space` is where it
 * must be unique ("tables", "triggers", "constraints", "indexes of T"),
 * `what` what it names, for `table`. */
typedef void (*name_fn)(void *arg, const char *space, const char *name,
                        const char *what, const char *table);

/* What the type decisions (sync/typemap.c and the source drivers) must
 * respect on this engine, and the words their notes use for it. */
struct type_limits {
    const char *engine;          /* the engine, as notes name it: "MySQL" */
    int key_max_bytes;           /* the longest index entry */
    const char *key_limit;       /* "the %d-byte <key_limit>" */
    const char *index_engine;    /* "<index_engine> allows %d" (bytes) */
    int bytes_per_char;          /* the worst case of its text encoding */
    int index_needs_length;      /* text must be bounded to be indexed (and
                                    is then at least 255 characters) */
    int long_unique_prefix;      /* a unique index on text past the limit
                                    indexes a prefix (else: refused) */
    int64_t bounded_text_max;    /* the longest bounded text, characters */
    int decimal_max_precision, decimal_max_scale;
    const char *decimal_name;    /* "DECIMAL" */
    int holds_infinity;          /* its floats store ±Infinity */
    int keeps_negative_zero;     /* its floats read -0.0 back as -0.0 */
    const char *generated_key;   /* what makes a key generated:
                                    "AUTO_INCREMENT" */
    int name_max;                /* the longest object name, characters */
    const char *charset;         /* the database's text encoding */
    const char *nocase_advice;   /* what to do with a NOCASE column */
    const char *binary_collation;   /* advice: a collation that compares
                                       what SQLite's BINARY does */
    const char *text_word;       /* its text type, unsized: "VARCHAR" */
    int fk_set_default;          /* foreign keys take ON ... SET DEFAULT */
    int text_refuses_nul;        /* its text cannot hold a NUL byte */
    const char *zero_key_mode;   /* how the copy keeps a key of 0 from
                                    meaning "generate one" (NULL: it never
                                    does there) */
    int zoned_datetime;          /* it has a datetime type for instants that
                                    holds every date (MySQL's TIMESTAMP
                                    ends in 2038: no) */
    int typed_json_uuid;         /* JSON and UUID text become its own
                                    json and uuid types (jsonb, uuid) */
};

struct target_ops {
    const char *name;
    /* The client library it was built with, and its version
     * (`cutover --version`). */
    const char *client_library;

    /* The runbook's parts written in this engine's language, which the
     * runbook reader keeps as text: schema.collation (set to the engine's
     * default when none is given) and schema.overrides' column types.
     * CO_ERUNBOOK naming the JSON path of the first that is wrong. */
    int (*check_runbook)(struct runbook *rb, struct co_err *err);

    /* The logical type (lib/ltype.h) a column type in this engine's
     * language stands for; -1 for a type it does not know. Plan records
     * it beside each column's type, and a checkpoint written before
     * logical types were kept is read back through it. */
    int (*logical_of_type)(const char *type, struct logical_type *out);
    /* The column type that holds a logical type, in this engine's
     * language (the inverse of logical_of_type for the types plan
     * chooses), and the limits plan chooses within. */
    void (*render_type)(const struct logical_type *lt, char *out,
                        size_t cap);
    const struct type_limits *types;

    /* Connect and set up the session. Opening writes nothing: a database
     * that does not exist is not an error here (database_exists says so,
     * for plan), and `run` makes it with create_database. */
    int (*open)(const struct runbook *rb, const struct rb_conn *conn,
                struct target **out, struct co_err *err);
    void (*close)(struct target *t);
    /* Server identity for the plan ("MariaDB 10.11.6"). */
    const char *(*server_info)(struct target *t);

    /* The runbook's database: does it exist now, and make it (with the
     * runbook's collation) and use it. */
    int (*database_exists)(struct target *t, int *exists, struct co_err *err);
    int (*create_database)(struct target *t, const struct runbook *rb,
                           struct co_err *err);

    /* Schema. create_table makes the table with its primary key only;
     * indexes and foreign keys come after the copy. */
    int (*table_state)(struct target *t, const struct table *tb, int *exists,
                       int64_t *rows, struct co_err *err);
    int (*create_table)(struct target *t, const struct runbook *rb,
                        const struct table *tb, struct co_err *err);
    int (*create_indexes)(struct target *t, const struct runbook *rb,
                          const struct table *tb, struct co_err *err);
    int (*create_foreign_keys)(struct target *t, const struct schema *sc,
                               const struct table *tb, struct co_err *err);
    int (*drop_table)(struct target *t, const struct table *tb,
                      struct co_err *err);
    /* schema.mode "existing": the table as the target has it (columns,
     * keys; target_schema.h). 1 when it exists, 0 when it does not. */
    int (*describe_table)(struct target *t, const char *table,
                          struct ttable *out, struct co_err *err);

    /* Stream rows into the table in one transaction, a row already there
     * being replaced: through the fast path or the row path, as `fast`
     * (enum fast_path) says — FAST_PATH_IF_ALLOWED takes the fast path
     * when the server allows it, FAST_PATH_REQUIRED is an error when it
     * does not. */
    int (*load)(struct target *t, const struct table *tb, row_pull_fn pull,
                void *arg, enum fast_path fast, struct load_result *res,
                struct co_err *err);
    /* For a refusal that named no row (a CHECK constraint): write the rows
     * one statement each in a transaction that is rolled back, up to the
     * first the target refuses: CO_EDATA, res->bad_row its position. */
    int (*probe_rows)(struct target *t, const struct table *tb,
                      row_pull_fn pull, void *arg, struct load_result *res,
                      struct co_err *err);

    /* Batched writes in one transaction: begin, put/delete ..., commit. */
    int (*begin)(struct target *t, struct co_err *err);
    int (*put_row)(struct target *t, const struct table *tb,
                   const struct value *row, struct co_err *err);
    int (*delete_key)(struct target *t, const struct table *tb,
                      const struct tuple *key, struct co_err *err);
    int (*commit)(struct target *t, struct co_err *err);
    void (*rollback)(struct target *t);

    /* Reads for verification, values in target form. scan is for tables
     * whose key orders the same on both sides (integer keys); fetch looks
     * rows up by exact key. */
    int (*scan)(struct target *t, const struct table *tb,
                const struct key_range *range, int64_t limit,
                struct target_cursor **out, struct co_err *err);
    int (*cursor_next)(struct target_cursor *c, const struct value **row,
                       struct co_err *err);
    void (*cursor_close)(struct target_cursor *c);
    int (*fetch)(struct target *t, const struct table *tb,
                 const struct tuple *key, const struct value **row,
                 struct co_err *err);
    int (*count_rows)(struct target *t, const struct table *tb, int64_t *out,
                      struct co_err *err);

    /* The next value the table's generated key (AUTO_INCREMENT, an
     * identity column) hands out, at least `next`. */
    int (*set_next_id)(struct target *t, const struct table *tb,
                       int64_t next, struct co_err *err);

    /* Whose objects this connection creates, drops and asks about below
     * (lib/owner.h), and cutover's objects on the target that are not
     * the owner's (plan reports them). */
    void (*set_owner)(struct target *t, const char *owner);
    int (*foreign_objects)(struct target *t, struct owned_objects *out,
                           struct co_err *err);
    /* Every name the driver would give the schema's objects here. */
    int (*generated_names)(struct target *t, const struct schema *sc,
                           name_fn emit, void *arg);

    /* Reverse capture: triggers logging keys changed by anyone but us.
     * rcapture_remove leaves the fence alone. A name held by an object
     * that is not ours for that table is an error, never dropped; removal
     * drops only the owner's objects. */
    int (*rcapture_install)(struct target *t, const struct schema *sc,
                            struct co_err *err);
    int (*rcapture_remove)(struct target *t, const struct schema *sc,
                           struct co_err *err);
    int (*rlog_read)(struct target *t, const struct table *tb,
                     int64_t after_seq, int64_t limit, struct rlog_batch *out,
                     struct co_err *err);
    void (*rlog_batch_free)(struct rlog_batch *b);
    /* Fence: every write fails with 'cutover: writes moved back to
     * source'. */
    int (*fence_install)(struct target *t, const struct schema *sc,
                         struct co_err *err);
    int (*fence_remove)(struct target *t, const struct schema *sc,
                        struct co_err *err);

    /* The DEFAULT the target column gets from the source's (SQL text into
     * `out`): 1, 0 when there is none, -1 when it cannot be carried over
     * (*why says why; pre-validation warns). */
    int (*column_default)(const struct column *c, struct sbuf *out,
                          const char **why);

    /* Pre-validation: load (value columns..., key text) rows into a
     * temporary table with `cols`' types under their collation (map's, or
     * the runbook's) and return the groups that compare equal there, as
     * [{"values": [...], "keys": [...]}] (at most max_groups), compared on
     * the first prefix[i] characters of column i when prefix is given
     * (0: all), else on what an index of cutover's would cover. cols' last
     * column is the key text, typed by the driver (its map.type is ""). */
    int (*find_collisions)(struct target *t, const struct runbook *rb,
                           const struct table *cols, const int *prefix,
                           row_pull_fn pull, void *arg, int max_groups,
                           json_t **groups, struct co_err *err);

    /* What plan must know of a table that only this engine can say
     * (sync/drivers/assess.h): names past its limits, and the like. */
    void (*assess_table)(struct target *t, const struct table *tb,
                         const struct assess_sink *to);

    /* Health and checks. */
    int (*probe)(struct target *t, double *ms, struct co_err *err);
    /* How busy the server is now: sessions running a statement
     * (the target.threads_running metric). */
    int (*load_sample)(struct target *t, double *running,
                       struct co_err *err);
    /* First column of the first row of `sql` as a number. */
    int (*query_number)(struct target *t, const char *sql, double *out,
                        struct co_err *err);

    /* Replication (target.replicas). */
    int (*server_role)(struct target *t, struct server_role *out,
                       struct co_err *err);
    int (*replica_status)(struct target *t, struct replica_status *out,
                          struct co_err *err);
    /* The primary's replication position now: opaque text (a GTID set on
     * MySQL, a WAL LSN on PostgreSQL) that only position_wait reads. */
    int (*replication_position)(struct target *t, char *buf, size_t cap,
                                struct co_err *err);
    /* On a replica: wait up to timeout_s until it has applied `pos`;
     * 1 when it has, 0 on timeout. */
    int (*position_wait)(struct target *t, const char *pos,
                         double timeout_s, struct co_err *err);
    /* The heartbeat row: written on the primary (the table is created on
     * first use), read on a replica (0 when it has none yet), dropped at
     * the end. Values are the orchestrator's own clock in microseconds. */
    int (*heartbeat_write)(struct target *t, int64_t us, struct co_err *err);
    int (*heartbeat_read)(struct target *t, int64_t *us, struct co_err *err);
    int (*heartbeat_drop)(struct target *t, struct co_err *err);
};

#endif
