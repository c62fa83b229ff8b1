/*
 * source.h — what the stages may ask of a source database (the data plane's
 * read side, plus change capture, the write fence and rollback writes).
 *
 * The stages never include sqlite3.h: they hold a `struct source *` and call
 * through the `source_ops` the registry (registry.h) found for the
 * runbook's source.type, so another source engine is one more folder. A
 * NULL member is not supported (registry.c lists which may be). Every
 * function returns 0 (or a count, or 1/0 for a row/no row) and a negative
 * CO_E* code on failure with the table and key named in err. CO_EBUSY means
 * the application held the write lock past our busy timeout: retry later.
 *
 * Key order is the source's own order (its values and column collations);
 * every comparison against a frontier happens inside the source, never in C.
 */
#ifndef CO_SOURCE_H
#define CO_SOURCE_H

#include <stdint.h>

#include "lib/errors.h"
#include "lib/gtid.h"
#include "sync/census.h"
#include "lib/owner.h"
#include "lib/schema.h"
#include "lib/value.h"

struct assess_sink;
struct map_note;
struct runbook;
struct source;
struct source_cursor;
struct target_ops;

/* A key range (lo, hi]: NULL bounds are open. */
struct key_range {
    const struct tuple *lo;
    const struct tuple *hi;
};

/* Where the applier may apply: keys at or below the frontier of the copy
 * range that holds them. A table whose copy is complete has one range with
 * `all` set. */
struct apply_scope {
    int all;                 /* every key is applicable */
    int nranges;
    struct key_range *ranges;     /* copy ranges ... */
    const struct tuple **frontiers; /* ... and how far each was copied
                                       (NULL: nothing yet) */
};

/* One change-log entry batch: distinct keys, and the last seq covered. */
struct log_batch {
    int nkeys;
    struct tuple *keys;      /* keys in the scope: to apply */
    int nahead;
    struct tuple *ahead;     /* keys past the copy's frontier: the copy
                                brings their rows; those the source no
                                longer has leave the target, where a run
                                that died may have copied them after its
                                last checkpoint */
    int64_t last_seq;        /* highest seq read (applied or skipped) */
    int64_t entries;         /* log rows covered */
    char gtid[GTID_MAX];     /* the GTID of the last transaction at or
                                before last_seq (lib/gtid.h); "" when the
                                log has none or the source does not know
                                it (the caller keeps the one it had) */
};

struct log_stats {
    int64_t backlog;         /* entries after the applied seq */
    double oldest_at;        /* unix time of the oldest of them, 0 if none */
    int64_t max_seq;
};

/* Rows the plan asks about: how many match, and a few example keys. */
enum row_filter_kind {
    RF_INVALID_UTF8,      /* text or blob value of `col` is not UTF-8 */
    RF_NOT_NUMERIC,       /* text value of `col` that is not a number */
    RF_FRACTION_OVER,     /* number of `col` with more than arg fraction
                             digits */
    RF_INTEGER_OVER,      /* number of `col` with more than arg integer
                             digits */
    RF_NOT_DATETIME,      /* value of `col` that is not an ISO date/time
                             (arg 1: not a time) */
    RF_SUBMICROSECOND,    /* date/time text of `col` with > 6 fraction
                             digits (arg 1: time text) */
    RF_LONGER_THAN,       /* text of `col` longer than arg characters */
    RF_NULL,              /* `col` is NULL */
    RF_NONFINITE,         /* real of `col` that is +-Infinity */
    RF_STORED_AS_OTHER,   /* value of `col` stored in none of the storage
                             classes of mask arg (STORED_*) */
    RF_ORPHAN,            /* foreign key `fk` points at no row */
    /* the checks of an existing target column (schema.mode "existing") */
    RF_NOT_INTEGER,       /* value of `col` that is not a whole number */
    RF_INT_OUTSIDE,       /* number of `col` below lo or above hi */
    RF_NEGATIVE,          /* number of `col` below zero */
    RF_NOT_FLOAT,         /* real of `col` a single-precision FLOAT changes */
    RF_BYTES_OVER,        /* text or blob of `col` longer than arg bytes */
    RF_MB4,               /* text of `col` with a 4-byte UTF-8 character */
    RF_TRAILING_SPACE,    /* text of `col` ending in a space */
    RF_NOT_MEMBER,        /* text of `col` that is not exactly one of
                             members (arg 1: a SET, members in order) */
    RF_DT_OUTSIDE,        /* date/time of `col` (stored as arg, an enum
                             dt_repr) before text or after text2 */
    RF_DT_FRACTION_OVER,  /* date/time of `col` (arg: stored as, an enum
                             dt_repr; -1 a time of day) with more than lo
                             fraction digits */
    RF_DATE_WITH_TIME,    /* date of `col` with a time of day */
    RF_NUL_BYTE,          /* text or blob of `col` holding a NUL byte */
    RF_PAST_INT64,        /* unsigned integer of `col` above 2^63-1 */
    RF_ENUM_INVALID,      /* ENUM value of `col` stored as the invalid ''
                             (MySQL without strict mode) */
    RF_ZERO_DATE,         /* date of `col` with a zero year, month or day
                             ('0000-00-00', '2022-11-00') */
    RF_NOT_UUID,          /* text of `col` that is not a UUID */
    RF_NOT_JSON,          /* text of `col` that is not valid JSON */
    RF_JSON_NUL           /* JSON text of `col` holding the escape \u0000 */
};

/* Storage classes, for RF_STORED_AS_OTHER. */
enum { STORED_INTEGER = 1, STORED_REAL = 2, STORED_TEXT = 4, STORED_BLOB = 8 };

struct row_filter {
    enum row_filter_kind kind;
    int col;
    int fk;
    long arg;
    int64_t lo, hi;
    const char *text, *text2;
    const char *const *members;
    int nmembers;
};

struct source_ops {
    const char *name;
    /* The client library it was built with, and its version
     * (`cutover --version`). */
    const char *client_library;
    /* Words for plan's findings: the engine ("SQLite") and what makes a
     * key's values generated ("AUTOINCREMENT"). */
    const char *engine;
    const char *generated_key;

    int (*open)(const struct runbook *rb, struct source **out,
                struct co_err *err);
    void (*close)(struct source *s);

    /* Schema of the selected tables, keys resolved (runbook key choices
     * applied); tables without a usable key keep nkey == 0. */
    int (*read_schema)(struct source *s, const struct runbook *rb,
                       struct schema *out, struct co_err *err);
    int (*schema_version)(struct source *s, int64_t *out, struct co_err *err);
    int (*count_rows)(struct source *s, const struct table *t, int64_t *out,
                      struct co_err *err);
    /* One pass over the table: a census of every column (out[ncols]). */
    int (*census)(struct source *s, const struct table *t,
                  struct col_census *out, struct co_err *err);
    /* Plan: every column's logical type (map.logical, map.lt and the
     * conversion) from what the column declares and the census saw,
     * within the target's limits (tops->types); a runbook override (the
     * target's own type words) is checked against the values instead.
     * map.type stays "" for the caller to render, except for overrides;
     * reasons and notes say "{type}" where the rendered type goes
     * (sync/typemap.h). Returns the number of notes written. */
    int (*decide_types)(const struct runbook *rb, struct table *t,
                        const struct col_census *census,
                        const struct target_ops *tops,
                        struct map_note *notes, int max_notes);
    /* nparts-1 split keys dividing the table into parts of similar size. */
    int (*split_points)(struct source *s, const struct table *t, int nparts,
                        struct tuple *points, int *npoints,
                        struct co_err *err);

    /* Rows with key in `range`, in key order, at most `limit` (0: all).
     * Values stay valid until the next cursor_next. */
    int (*scan)(struct source *s, const struct table *t,
                const struct key_range *range, int64_t limit,
                struct source_cursor **out, struct co_err *err);
    int (*cursor_next)(struct source_cursor *c, const struct value **row,
                       struct co_err *err);
    void (*cursor_close)(struct source_cursor *c);

    /* Current row of `key`: 1 found (*row valid until the next call), 0
     * gone. */
    int (*fetch)(struct source *s, const struct table *t,
                 const struct tuple *key, const struct value **row,
                 struct co_err *err);
    /* Optional, for a server that charges a statement per fetch: the rows
     * of keys[0..n) at once, n at most fetch_many_max. rows[i] is the row
     * holding exactly keys[i] (valid until the next fetch_many), or NULL:
     * ask fetch. */
    int (*fetch_many)(struct source *s, const struct table *t,
                      const struct tuple *keys, int n,
                      const struct value **rows, struct co_err *err);
    int fetch_many_max;

    /* Whose objects this connection creates, drops and asks about below
     * (lib/owner.h): NULL none, "" a migration from before ids, or the
     * migration's id. */
    void (*set_owner)(struct source *s, const char *owner);
    /* cutover's objects in the database that are not the owner's: another
     * migration's fence, capture or logs (plan reports them). */
    int (*foreign_objects)(struct source *s, struct owned_objects *out,
                           struct co_err *err);

    /* Change capture (DESIGN §5): log tables and triggers for every table,
     * installed in one transaction; idempotent. A name another migration's
     * object holds is an error, never reused. */
    int (*capture_install)(struct source *s, const struct schema *sc,
                           struct co_err *err);
    /* Remove the owner's capture triggers and log tables, and its fence
     * unless keep_fence (a completed migration keeps the old database
     * refusing writes), in one transaction; none when nothing is left.
     * Other objects stay. */
    int (*capture_remove)(struct source *s, const struct schema *sc,
                          int keep_fence, struct co_err *err);
    int (*capture_installed)(struct source *s, const struct table *t,
                             int *out, struct co_err *err);
    /* Where capture began: the seq every table's applied seq starts from
     * (a binary log's position taken before the copy reads anything).
     * NULL: 0, a log of our own that starts empty. */
    int (*capture_start)(struct source *s, int64_t *seq, struct co_err *err);
    /* 1 when the change log is the server's own (a binary log, which its
     * retention trims: log_trim is never called), 0 when it is ours.
     * NULL: ours. */
    int (*log_kept_by_server)(struct source *s);
    /* Distinct keys of entries after `after_seq` (at most `limit` entries)
     * that fall inside `scope`; the rest are skipped but covered. */
    int (*log_read)(struct source *s, const struct table *t,
                    int64_t after_seq, int64_t limit,
                    const struct apply_scope *scope, struct log_batch *out,
                    struct co_err *err);
    void (*log_batch_free)(struct log_batch *b);
    int (*log_stats)(struct source *s, const struct table *t,
                     int64_t after_seq, struct log_stats *out,
                     struct co_err *err);
    /* Delete entries up to and including `upto_seq`, inside a freeze the
     * caller holds (freeze_writes): every table's trim is one commit on
     * the application's database. */
    int (*log_trim)(struct source *s, const struct table *t, int64_t upto_seq,
                    struct co_err *err);

    /* The write freeze and the fence (DESIGN §10). freeze_writes makes
     * the application's writes to the migrated tables wait, at most
     * wait_ms to get there (CO_EBUSY when a writer held on longer): on
     * SQLite one BEGIN IMMEDIATE transaction, on MySQL LOCK TABLES. Then
     * exactly one of:
     *   fence_commit  the fence goes up (every write fails with 'cutover:
     *                 writes moved to target', capture stops) and the
     *                 freeze ends: waiting writers meet the fence. Durable
     *                 when it returns 0; on failure the caller thaws.
     *   thaw_commit   the freeze ends keeping what was written under it
     *                 (log trims, rows carried back, the fence removed).
     *   thaw          the freeze ends undoing what was written under it,
     *                 when the engine can; nothing was fenced. */
    int (*freeze_writes)(struct source *s, const struct schema *sc,
                         int wait_ms, struct co_err *err);
    int (*fence_commit)(struct source *s, const struct schema *sc,
                        struct co_err *err);
    int (*thaw_commit)(struct source *s, struct co_err *err);
    void (*thaw)(struct source *s);

    /* Inside a freeze: the fence off, and capture back on when
     * `restore_capture` (going back to sync); when ending, the change logs
     * are dropped too, so capture_remove has nothing left to commit. */
    int (*fence_remove)(struct source *s, const struct schema *sc,
                        int restore_capture, struct co_err *err);
    /* Is the fence up on every table of sc (a resume looks: the fence is
     * the durable mark)? */
    int (*fence_installed)(struct source *s, const struct schema *sc,
                           int *out, struct co_err *err);

    /* Inside a freeze: make `key` hold `row` (NULL: delete it). */
    int (*put_row)(struct source *s, const struct table *t,
                   const struct tuple *key, const struct value *row,
                   struct co_err *err);

    /* The next value the table's AUTOINCREMENT would hand out, 0 if the
     * table has no counter. */
    int (*next_autoinc)(struct source *s, const struct table *t,
                        int64_t *out, struct co_err *err);

    /* Online backup into the file at `path` (consistent while the app
     * writes; an existing empty file is used as it is, a link is refused).
     * With a key (32 bytes) every page is sealed before it is written
     * (sync/backup_seal.h): no plain page reaches the disk. */
    int (*backup)(struct source *s, const char *path,
                  const unsigned char *key, struct co_err *err);

    /* Count rows matching f and return up to max example keys, and when
     * `values` is not NULL the value of f's column in each (a tuple of one
     * value; empty for RF_ORPHAN). */
    int (*find_rows)(struct source *s, const struct table *t,
                     const struct row_filter *f, int max, struct tuple *keys,
                     struct tuple *values, int *nkeys, int64_t *count,
                     struct co_err *err);
    /* What plan must know that only this engine can say (sync/drivers/
     * assess.h): its settings, and how the applications writing to it
     * will meet the cutover's write freeze. */
    int (*assess)(struct source *s, const struct runbook *rb,
                  const struct assess_sink *to, struct co_err *err);
    /* ... and of one table (how its key behaves on this engine). */
    void (*assess_table)(struct source *s, const struct runbook *rb,
                         const struct table *t, const struct assess_sink *to);

    /* Rows of the key columns and `cols` only (collision checks). */
    int (*scan_columns)(struct source *s, const struct table *t,
                        const int *cols, int ncols,
                        struct source_cursor **out, struct co_err *err);
};

#endif
