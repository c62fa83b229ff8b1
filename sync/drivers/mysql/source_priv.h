/*
 * source_priv.h — the MySQL/MariaDB source driver (DESIGN §10, trigger
 * capture), beside the target driver whose connection and helpers it
 * shares (mysql_priv.h):
 *   source.c          connection, reads in key order, the ops table
 *   source_schema.c   tables, keys, indexes and foreign keys from
 *                     information_schema
 *   source_types.c    the census; the types
 *   source_retype.c   the types on another engine, and the pitfalls
 *   source_capture.c  change capture, the write freeze, the fence and the
 *                     writes a rollback makes
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
};

struct source_cursor {
    struct target_cursor *tc;
    struct table view;       /* scan_columns: the columns it reads */
    const struct table *t;   /* the columns of its rows */
    const struct runbook *rb;
};

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
int smy_freeze_writes(struct source *, int, struct co_err *);
int smy_fence_commit(struct source *, const struct schema *, struct co_err *);
int smy_thaw_commit(struct source *, struct co_err *);
void smy_thaw(struct source *);
int smy_fence_remove(struct source *, const struct schema *, int,
                     struct co_err *);
int smy_fence_installed(struct source *, int *, struct co_err *);
int smy_put_row(struct source *, const struct table *, const struct tuple *,
                const struct value *, struct co_err *);

/* source_assess.c */
struct assess_sink;
int smy_assess(struct source *, const struct runbook *,
               const struct assess_sink *, struct co_err *);
void smy_assess_table(struct source *, const struct runbook *,
                      const struct table *, const struct assess_sink *);

#endif
