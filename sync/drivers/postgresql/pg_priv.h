/*
 * pg_priv.h — what the files of the PostgreSQL driver share: the session
 * and the translation of libpq's results into co_err. The only header
 * outside this folder's .c files that sees libpq-fe.h.
 */
#ifndef CO_PG_PRIV_H
#define CO_PG_PRIV_H

#include <libpq-fe.h>

#include "sync/drivers/postgresql/pg.h"

struct pg_pending;

/* A statement prepared on the session for one table (pg_apply.c). */
struct pg_prepared {
    const struct table *tb;
    char upsert[24], del[24];
};

/* Parameter arrays of the statements run with values (pg_apply.c). */
struct pg_params {
    const char **values;
    int *lengths, *formats;
    struct pg_scratch *scratch;
    int cap;
};

struct pg_session {
    PGconn *conn;
    char label[320];           /* host:port/database */
    char *schema;
    int schema_missing;        /* see pg_options.schema_may_be_missing */
    int replica_role;          /* see pg_skips_foreign_keys */
    int has_owner;
    char owner[OWNER_ID_LEN + 1];
    char sqlstate[6];          /* of the last error, "" when none */
    int lock_timeout_ms;
    struct pg_prepared *prep;
    int nprep;
    int prep_seq;              /* names given to prepared statements */
    /* the batch in flight (pg_apply.c) */
    int in_pipeline;
    int pipeline_rc;           /* its first refusal, 0 while none */
    struct pg_pending *pending;
    int npending, cappending;
    struct pg_params params;
    PGresult *fetched;         /* pg_fetch's row, until the next one */
    struct value *fetched_row;
    int fetched_cap;
};

/* err from a failed result (NULL: from the connection): CO_ECONNLOST when
 * the connection is gone, CO_ETIMEOUT for statement and lock timeouts,
 * CO_EDATA for data exceptions (class 22), else CO_ETARGET; the message
 * names the server, `what`, PostgreSQL's message, detail, context and
 * SQLSTATE. Frees nothing. */
int pg_error(struct pg_session *s, const PGresult *res, struct co_err *err,
             const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Check a result against the status expected; on anything else record
 * the error. Frees res either way unless the status matched and keep. */
int pg_check(struct pg_session *s, PGresult *res, ExecStatusType want,
             struct co_err *err, const char *what, const char *name);
/* Free the statements a closing session still had in flight. */
void pg_pending_free(struct pg_session *s);
/* The owner's mark for a COMMENT ("cutover migration <id>", or "cutover"
 * for a migration without an id). */
void pg_mark(const struct pg_session *s, char *out, size_t cap);

#endif
