/*
 * target_priv.h — the PostgreSQL target driver (target_postgresql_ops):
 * the glue between sync/drivers/target.h and the building blocks of pg.h.
 *   target.c          connection, reads, health, the ops table
 *   target_ltype.c    PostgreSQL types ↔ logical types, the limits
 *   target_runbook.c  schema.collation and overrides in PostgreSQL's words
 *   target_ddl.c      database and schema, tables, indexes, foreign keys,
 *                     defaults, identity sequences
 *   target_load.c     COPY chunks and the applier's batches
 *   target_plan.c     what plan asks: names, collisions, our objects
 * Like the rest of this folder, these files never see MySQL's words.
 */
#ifndef CO_PG_TARGET_PRIV_H
#define CO_PG_TARGET_PRIV_H

#include "lib/sbuf.h"
#include "sync/drivers/postgresql/pg.h"
#include "sync/drivers/target.h"

/* schema.collation when the runbook gives none: the database's own, and
 * no COLLATE clause. */
#define TPG_DEFAULT_COLLATION "default"
/* What lets our sessions skip foreign key checks (pg_skips_foreign_keys). */
#define TPG_REPLICA_ROLE_HINT                                               \
    "run `GRANT SET ON PARAMETER session_replication_role TO` the "         \
    "runbook's user (PostgreSQL 15 and later), or migrate as a superuser"
/* The database a connection uses while the runbook's does not exist. */
#define TPG_MAINTENANCE_DB "postgres"

struct target {
    struct pg_session *s;
    const struct runbook *rb;
    const struct rb_conn *conn;
    int database_missing;      /* connected to TPG_MAINTENANCE_DB instead */
    int has_owner;             /* set_owner's, kept for a new session */
    char owner[OWNER_ID_LEN + 1];
    char server_info[96];
};

struct target_cursor {
    struct pg_cursor *c;
};

/* The runbook's connection as pg_connect's options, in `database`. */
void tpg_options(const struct rb_conn *c, const char *database,
                 struct pg_options *o);
/* The COLLATE clause for a text column of ours ("" for the default). */
void tpg_collate_clause(struct sbuf *b, const struct runbook *rb,
                        const struct column *c);
/* Is the column's target type one that takes a collation? */
int tpg_type_is_text(const char *type);

int tpg_check_runbook(struct runbook *, struct co_err *);
int tpg_logical_of_type(const char *type, struct logical_type *out);
void tpg_render_type(const struct logical_type *lt, char *out, size_t cap);
extern const struct type_limits tpg_type_limits;

int tpg_database_exists(struct target *, int *, struct co_err *);
int tpg_create_database(struct target *, const struct runbook *,
                        struct co_err *);
int tpg_table_state(struct target *, const struct table *, int *, int64_t *,
                    struct co_err *);
int tpg_create_table(struct target *, const struct runbook *,
                     const struct table *, struct co_err *);
int tpg_create_indexes(struct target *, const struct runbook *,
                       const struct table *, struct co_err *);
int tpg_create_foreign_keys(struct target *, const struct schema *,
                            const struct table *, struct co_err *);
int tpg_validate_foreign_keys(struct target *, const struct schema *,
                              struct co_err *);
int tpg_drop_table(struct target *, const struct table *, struct co_err *);
int tpg_column_default(const struct column *, struct sbuf *, const char **);
int tpg_set_next_id(struct target *, const struct table *, int64_t,
                    struct co_err *);

int tpg_load(struct target *, const struct table *, row_pull_fn, void *,
             enum fast_path, struct load_result *, struct co_err *);
int tpg_probe_rows(struct target *, const struct table *, row_pull_fn,
                   void *, struct load_result *, struct co_err *);
int tpg_begin(struct target *, struct co_err *);
int tpg_put_row(struct target *, const struct table *, const struct value *,
                struct co_err *);
int tpg_delete_key(struct target *, const struct table *,
                   const struct tuple *, struct co_err *);
int tpg_commit(struct target *, struct co_err *);
void tpg_rollback(struct target *);

void tpg_assess_table(struct target *, const struct table *,
                      const struct assess_sink *);
int tpg_find_collisions(struct target *, const struct runbook *,
                        const struct table *, const int *, row_pull_fn,
                        void *, int, json_t **, struct co_err *);
int tpg_foreign_objects(struct target *, struct owned_objects *,
                        struct co_err *);
int tpg_generated_names(struct target *, const struct schema *, name_fn,
                        void *);

#endif
