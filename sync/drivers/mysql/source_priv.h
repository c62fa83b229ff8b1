/*
 * source_priv.h — the MySQL/MariaDB source driver (DESIGN §10, trigger
 * capture), beside the target driver whose connection and helpers it
 * shares (mysql_priv.h):
 *   source.c          connection, reads in key order, the ops table
 *   source_schema.c   tables, keys, indexes and foreign keys from
 *                     information_schema
 *   source_types.c    the census; the types
 *   source_retype.c   the types on another engine, and the pitfalls
 *   source_capture.c  trigger capture, the write freeze, the fence and
 *                     the writes a rollback makes
 *   source_binlog.c   binlog capture: the binary log as the change log
 *   source_assess.c   what plan must know: privileges, version, and what
 *                     will not move
 */
#ifndef CO_MYSQL_SOURCE_PRIV_H
#define CO_MYSQL_SOURCE_PRIV_H

#include "sync/drivers/mysql/mysql_priv.h"
#include "sync/drivers/source.h"

struct source {
    struct target *c;        /* the connection (is_source set) */
    const struct runbook *rb;
    int frozen;              /* LOCK TABLES held (freeze_writes) */
    int drop_fence;          /* fence_remove in this freeze: the fence goes
                                after the commit */
    int end_capture;         /* ... and capture with it */
    const struct schema *pending;   /* the schema fence_remove was given */
    int binlog;              /* binlog capture (else trigger capture) */
    struct binlog_capture *bl;      /* its reader's state */
    struct log_poll *polls;  /* trigger capture: when each table's log was
                                last read (source.poll_ms) */
    int npolls;
};

struct source_cursor {
    struct target_cursor *tc;
    struct table view;       /* scan_columns: the columns it reads */
    const struct table *t;   /* the columns of its rows */
    const struct runbook *rb;
};

/* source_capture.c: a read of the source's changes is due (1, and
 * *last_read is now) when source.poll_ms has passed since *last_read, or
 * under the freeze, where the pause waits on the drain. */
int smy_poll_due(struct source *s, double *last_read);

/* source_schema.c */
int smy_read_schema(struct source *s, const struct runbook *rb,
                    struct schema *out, struct co_err *err);
int smy_schema_version(struct source *s, int64_t *out, struct co_err *err);
int smy_census(struct source *s, const struct table *t,
               struct col_census *out, struct co_err *err);
int smy_decide_types(const struct runbook *rb, struct table *t,
                     const struct col_census *census,
                     const struct target_ops *tops, struct map_note *notes,
                     int max_notes);

/* source_types.c, source_retype.c */
struct ctx;
enum ltype smy_lt_of(const struct logical_type *l);
void smy_retype(struct ctx *x, int ci, const struct col_census *cs);
int smy_is_zero_date(const unsigned char *p, size_t n);
/* schema.zero_dates "null": the zero dates of a row read become NULL */
void smy_zero_dates_to_null(const struct runbook *rb, const struct table *t,
                            struct value *row);

/* source_capture.c */
int smy_capture_install(struct source *, const struct schema *,
                        struct co_err *);
int smy_capture_remove(struct source *, const struct schema *, int,
                       struct co_err *);
int smy_capture_installed(struct source *, const struct table *, int *,
                          struct co_err *);
int smy_log_read(struct source *, const struct table *, int64_t, int64_t,
                 const struct apply_scope *, struct log_batch *,
                 struct co_err *);
void smy_log_batch_free(struct log_batch *);
int smy_log_stats(struct source *, const struct table *, int64_t,
                  struct log_stats *, struct co_err *);
int smy_log_trim(struct source *, const struct table *, int64_t,
                 struct co_err *);
int smy_freeze_writes(struct source *, const struct schema *, int,
                      struct co_err *);
int smy_fence_commit(struct source *, const struct schema *, struct co_err *);
int smy_thaw_commit(struct source *, struct co_err *);
void smy_thaw(struct source *);
int smy_fence_remove(struct source *, const struct schema *, int,
                     struct co_err *);
int smy_fence_installed(struct source *, const struct schema *, int *,
                        struct co_err *);
int smy_put_row(struct source *, const struct table *, const struct tuple *,
                const struct value *, struct co_err *);

/* source_capture.c, shared with binlog capture: a change log table's
 * CREATE (seq, k1.., at), and its distinct keys in (after, upto] inside
 * (or outside) the scope. */
void smy_log_table_sql(struct source *s, struct sbuf *sql, const char *log,
                       const struct table *t, int temporary);
int smy_read_log_keys(struct source *s, const char *log,
                      const struct table *t, int64_t after, int64_t upto,
                      const struct apply_scope *scope, int inside, int *n,
                      struct tuple **keys, struct co_err *err);

/* source_binlog.c */
struct binlog_capture *sbl_new(void);
void sbl_free(struct binlog_capture *bl);
/* 1 binlog capture (runbook, or the server logs what it needs), 0
 * triggers, or an error. */
int sbl_chosen(struct source *s, struct co_err *err);
/* Our server_id as a binlog reader (source.server_id, or one derived
 * from the migration's name). */
uint32_t sbl_server_id(const struct runbook *rb);
int sbl_capture_install(struct source *s, struct co_err *err);
int sbl_capture_start(struct source *s, int64_t *seq, struct co_err *err);
int sbl_log_read(struct source *, const struct table *, int64_t, int64_t,
                 const struct apply_scope *, struct log_batch *,
                 struct co_err *);
int sbl_log_stats(struct source *, const struct table *, int64_t,
                  struct log_stats *, struct co_err *);
/* Under the freeze: note the end of the log. */
int sbl_freeze_mark(struct source *s, struct co_err *err);

/* source_assess.c */
struct assess_sink;
int smy_assess(struct source *, const struct runbook *,
               const struct assess_sink *, struct co_err *);
void smy_assess_table(struct source *, const struct runbook *,
                      const struct table *, const struct assess_sink *);

#endif
