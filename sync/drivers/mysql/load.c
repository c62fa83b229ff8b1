/*
 * load.c — getting rows into the target.
 *
 * Bulk load: LOAD DATA LOCAL INFILE ... REPLACE fed by the client library's
 * local-infile callbacks, which pull rows from the source cursor and encode
 * them on the fly: no temp file, memory bounded by one 64 KiB buffer. The
 * callbacks never open a file: they answer only a request for our stream
 * name while our own LOAD DATA runs (see tmy_infile_guard). The whole
 * chunk is one transaction; the server's warnings are checked before
 * commit (with LOCAL, the server downgrades data errors to warnings, so
 * this check is what keeps strict mode strict). When the server refuses
 * local infile, multi-row REPLACE statements carry the same rows.
 *
 * Batched writes (the applier): REPLACE for rows that exist on the source,
 * exact-key DELETE for rows that do not, in one transaction per batch.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/drivers/mysql/mysql_priv.h"
#include "lib/xalloc.h"

#define INFILE_CHUNK 65536
/* The name our LOAD DATA asks for; the only file request answered. */
#define LOAD_STREAM_NAME "cutover-stream"
#define STATEMENT_MAX (1 << 20)

/* ---- LOAD DATA encoding -------------------------------------------------- */

/* Bytes that must be escaped with FIELDS TERMINATED BY '\t' ESCAPED BY
 * '\\' LINES TERMINATED BY '\n'. */
static const char escape_as[256] = {
    [0] = '0', ['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r', ['\\'] = '\\',
    [26] = 'Z', [8] = 'b',
};

static void encode_bytes(struct sbuf *b, const unsigned char *p, size_t n)
{
    size_t run = 0;

    if (sbuf_reserve(b, n + n / 8 + 16) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        char e = escape_as[p[i]];
        if (!e)
            continue;
        if (i > run)
            sbuf_add(b, p + run, i - run);
        sbuf_addc(b, '\\');
        sbuf_addc(b, e);
        run = i + 1;
    }
    if (n > run)
        sbuf_add(b, p + run, n - run);
}

static void encode_value(struct sbuf *b, const struct value *v)
{
    char num[40];
    int len;

    switch (v->type) {
    case V_NULL:
        sbuf_add(b, "\\N", 2);
        return;
    case V_INT:
        len = snprintf(num, sizeof num, "%" PRId64, v->i);
        sbuf_add(b, num, (size_t)len);
        return;
    case V_REAL:
        /* 17 significant digits always read back as the same double. */
        len = snprintf(num, sizeof num, "%.17g", v->r);
        sbuf_add(b, num, (size_t)len);
        return;
    case V_TEXT:
    case V_BLOB:
        encode_bytes(b, v->p, v->n);
        return;
    }
}

struct infile {
    row_pull_fn pull;
    void *arg;
    const struct table *tb;
    struct sbuf buf;
    size_t off;
    int eof;
    int rc;
    struct co_err *err;
    int64_t rows;
    int64_t bytes;
};

static int infile_fill(struct infile *f)
{
    sbuf_reset(&f->buf);
    f->off = 0;
    while (f->buf.len < INFILE_CHUNK && !f->eof) {
        const struct value *row;
        int r = f->pull(f->arg, &row, f->err);
        if (r < 0) {
            f->rc = r;
            return -1;
        }
        if (r == 0) {
            f->eof = 1;
            break;
        }
        for (int i = 0; i < f->tb->ncols; i++) {
            if (i)
                sbuf_addc(&f->buf, '\t');
            encode_value(&f->buf, &row[i]);
        }
        sbuf_addc(&f->buf, '\n');
        f->rows++;
    }
    if (f->buf.oom) {
        f->rc = co_errf(f->err, CO_ENOMEM, "out of memory encoding rows");
        return -1;
    }
    return 0;
}

/* The client library's file-request callbacks. Their user data is the
 * connection (it lives as long as the MYSQL handle), never a stack frame:
 * a request that arrives after our LOAD DATA finds t->infile NULL. */
static int infile_init(void **ptr, const char *filename, void *userdata)
{
    struct target *t = userdata;

    *ptr = t;
    if (!t->infile || strcmp(filename, LOAD_STREAM_NAME) != 0) {
        char shown[128];
        size_t i;
        /* The name comes from the server: printable ASCII only. */
        for (i = 0; filename[i] && i < sizeof shown - 1; i++)
            shown[i] = filename[i] >= 0x20 && filename[i] < 0x7f ? filename[i]
                                                                 : '?';
        shown[i] = '\0';
        snprintf(t->infile_refused, sizeof t->infile_refused,
                 "the server asked for the local file \"%s\"%s; cutover "
                 "sends only its own row stream, during its own LOAD DATA",
                 shown, t->infile ? "" : " outside a load");
        return 1;
    }
    t->infile_refused[0] = '\0';
    return 0;
}

static int infile_read(void *ptr, char *buf, unsigned int len)
{
    struct target *t = ptr;
    struct infile *f = t->infile;
    size_t out = 0;

    if (!f)
        return -1;
    while (out < len) {
        size_t n;
        if (f->off == f->buf.len) {
            if (f->eof)
                break;
            if (infile_fill(f) < 0)
                return -1;
            if (f->buf.len == 0)
                break;
        }
        n = f->buf.len - f->off;
        if (n > len - out)
            n = len - out;
        memcpy(buf + out, f->buf.p + f->off, n);
        f->off += n;
        out += n;
    }
    f->bytes += (int64_t)out;
    return (int)out;
}

static void infile_end(void *ptr) { (void)ptr; }

static int infile_error(void *ptr, char *msg, unsigned int len)
{
    struct target *t = ptr;

    if (t && t->infile_refused[0])
        snprintf(msg, len, "%s", t->infile_refused);
    else
        snprintf(msg, len, "%s", t && t->infile && t->infile->err
                                     ? t->infile->err->msg
                                     : "row source failed");
    return 2000;
}

/* MYSQL_OPT_LOCAL_INFILE on the client side: checked by the library when a
 * file request arrives, whatever was negotiated at connect. */
static void infile_allow(struct target *t, unsigned int on)
{
    mysql_options(t->my, MYSQL_OPT_LOCAL_INFILE, &on);
}

void tmy_infile_guard(struct target *t)
{
    mysql_set_local_infile_handler(t->my, infile_init, infile_read,
                                   infile_end, infile_error, t);
    infile_allow(t, 1);       /* advertised at connect, for LOAD DATA LOCAL */
}

void tmy_infile_close(struct target *t)
{
    infile_allow(t, 0);
}

static int server_allows_local_infile(struct target *t)
{
    MYSQL_RES *res;
    MYSQL_ROW r;

    if (t->local_infile_ok >= 0)
        return t->local_infile_ok;
    t->local_infile_ok = 0;
    if (mysql_query(t->my, "SELECT @@GLOBAL.local_infile") == 0 &&
        (res = mysql_store_result(t->my))) {
        r = mysql_fetch_row(res);
        t->local_infile_ok = r && r[0] && atoi(r[0]) == 1;
        mysql_free_result(res);
    }
    return t->local_infile_ok;
}

static void column_list(struct sbuf *b, const struct table *tb)
{
    sbuf_addc(b, '(');
    for (int i = 0; i < tb->ncols; i++) {
        if (i)
            sbuf_adds(b, ", ");
        sbuf_ident(b, my_colname(tb, i), '`');
    }
    sbuf_addc(b, ')');
}

/* Errors that are about a value, not the statement or the server. */
static int value_refused(unsigned int e)
{
    static const unsigned int codes[] = {
        1048 /* cannot be null */, 1264 /* out of range */,
        1265 /* data truncated */, 1292 /* incorrect date/time */,
        1366 /* incorrect value or string */, 1367 /* illegal value */,
        1406 /* too long */, 1690 /* out of range */,
        3140 /* invalid JSON */, 3819 /* MySQL: CHECK failed */,
        4025 /* MariaDB: CHECK failed */};

    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (e == codes[i])
            return 1;
    return 0;
}

/* Cut every " at row N" out of the server's words (it counts rows of our
 * statement, which means nothing to the operator); the first N. */
static long cut_row_numbers(char *msg)
{
    long first = 0;
    char *at;

    while ((at = strstr(msg, " at row "))) {
        char *end;
        long n = strtol(at + 8, &end, 10);
        if (end == at + 8)
            break;
        if (!first)
            first = n;
        memmove(at, end, strlen(end) + 1);
    }
    return first;
}

/* The column the server names: 'c', `db`.`t`.`c`, or the column of a
 * column's CHECK constraint `t.c`; "" when it names none (a table's CHECK
 * constraint has a name of its own). */
static void column_named(const char *msg, char *out, size_t cap)
{
    const char *p, *end, *dot;
    int constraint = 0;

    out[0] = '\0';
    if ((p = strstr(msg, "column ")) || (p = strstr(msg, "Column ")))
        p += 7;
    else if ((p = strstr(msg, "CONSTRAINT ")))
        p += 11, constraint = 1;
    else
        return;
    if (*p != '\'' && *p != '`')
        return;
    /* `db`.`t`.`c`: the last part */
    while ((end = strchr(p + 1, *p)) && end[1] == '.' && end[2] == *p)
        p = end + 2;
    if (!end)
        return;
    p++;
    if (constraint && !(dot = memchr(p, '.', (size_t)(end - p))))
        return;
    if (constraint)
        p = dot + 1;
    snprintf(out, cap, "%.*s", (int)(end - p), p);
}

/* A write failed or warned: a value the server refused (or would have
 * changed) is CO_EDATA, with the row of the statement and the column the
 * server named in res; anything else is the server's error as it is. */
static int refused(struct target *t, const struct table *tb, int failed,
                   struct load_result *res, struct co_err *err)
{
    char msg[700], column[65];
    long row;

    if (failed && !value_refused(mysql_errno(t->my)))
        return my_error(t, err, "writing rows into %s", tb->name);
    if (failed)
        snprintf(msg, sizeof msg, "%s", mysql_error(t->my));
    else
        my_warnings(t, msg, sizeof msg, NULL);
    row = cut_row_numbers(msg);
    column_named(msg, column, sizeof column);
    if (res) {
        res->refused = 1;
        res->bad_row = row;
        snprintf(res->bad_column, sizeof res->bad_column, "%s", column);
    }
    return co_errf(err, CO_EDATA, "the target refuses the value (%s)", msg);
}

/* Warnings after a write are errors: a clamped or truncated value never
 * passes. */
static int check_warnings(struct target *t, const struct table *tb,
                          struct load_result *res, struct co_err *err)
{
    if (mysql_warning_count(t->my) == 0)
        return 0;
    return refused(t, tb, 0, res, err);
}

static int load_data(struct target *t, const struct table *tb,
                     row_pull_fn pull, void *arg, struct load_result *res,
                     struct co_err *err)
{
    struct infile f = {.pull = pull, .arg = arg, .tb = tb, .err = err};
    struct sbuf sql;
    int rc;

    sbuf_init(&f.buf);
    sbuf_init(&sql);
    sbuf_adds(&sql, "LOAD DATA LOCAL INFILE '" LOAD_STREAM_NAME "' REPLACE "
                    "INTO TABLE ");
    my_table_name(t, &sql, tb->name);
    sbuf_adds(&sql, " CHARACTER SET binary FIELDS TERMINATED BY '\\t' "
                    "ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ");
    column_list(&sql, tb);
    t->infile = &f;
    infile_allow(t, 1);
    rc = mysql_query(t->my, sbuf_str(&sql));
    infile_allow(t, 0);
    t->infile = NULL;
    sbuf_free(&sql);
    sbuf_free(&f.buf);
    res->rows = f.rows;
    res->bytes = f.bytes;
    res->used_fast_path = 1;
    if (f.rc < 0)
        return f.rc;          /* the row source failed: its error stands */
    if (rc != 0)
        return refused(t, tb, 1, res, err);
    return check_warnings(t, tb, res, err);
}

static int flush_statement(struct target *t, const struct table *tb,
                           struct sbuf *sql, struct load_result *res,
                           struct co_err *err)
{
    if (sql->oom)
        return co_errf(err, CO_ENOMEM, "out of memory");
    if (mysql_real_query(t->my, sql->p, (unsigned long)sql->len) != 0)
        return refused(t, tb, 1, res, err);
    return check_warnings(t, tb, res, err);
}

static void replace_head(struct target *t, struct sbuf *b,
                         const struct table *tb)
{
    sbuf_adds(b, "REPLACE INTO ");
    my_table_name(t, b, tb->name);
    sbuf_addc(b, ' ');
    column_list(b, tb);
    sbuf_adds(b, " VALUES ");
}

static void row_tuple(struct target *t, struct sbuf *b, const struct table *tb,
                      const struct value *row)
{
    sbuf_addc(b, '(');
    for (int i = 0; i < tb->ncols; i++) {
        if (i)
            sbuf_addc(b, ',');
        my_literal(t, b, &row[i]);
    }
    sbuf_addc(b, ')');
}

static int load_insert(struct target *t, const struct table *tb,
                       row_pull_fn pull, void *arg, struct load_result *res,
                       struct co_err *err)
{
    struct sbuf sql;
    const struct value *row;
    int r, rc = 0, pending = 0;

    sbuf_init(&sql);
    while ((r = pull(arg, &row, err)) > 0) {
        if (!pending)
            replace_head(t, &sql, tb);
        else
            sbuf_addc(&sql, ',');
        row_tuple(t, &sql, tb, row);
        pending++;
        res->rows++;
        if (sql.len >= STATEMENT_MAX) {
            res->bytes += (int64_t)sql.len;
            if ((rc = flush_statement(t, tb, &sql, res, err)) < 0)
                break;
            sbuf_reset(&sql);
            pending = 0;
        }
    }
    if (r < 0)
        rc = r;
    if (rc == 0 && pending) {
        res->bytes += (int64_t)sql.len;
        rc = flush_statement(t, tb, &sql, res, err);
    }
    /* the statement's row → the chunk's row */
    if (rc == CO_EDATA && res->bad_row > 0)
        res->bad_row += (long)(res->rows - pending);
    sbuf_free(&sql);
    return rc;
}

int tmy_load(struct target *t, const struct table *tb, row_pull_fn pull,
             void *arg, enum fast_path how, struct load_result *res,
             struct co_err *err)
{
    int rc, use_load_data;

    memset(res, 0, sizeof *res);
    use_load_data = how != FAST_PATH_NEVER && server_allows_local_infile(t);
    if (how == FAST_PATH_REQUIRED && !use_load_data)
        return co_errf(err, CO_ETARGET, "target %s: copy.method is "
                       "\"load_data\" but the server refuses LOAD DATA LOCAL "
                       "INFILE (local_infile is OFF): turn it on, or set "
                       "copy.method to \"auto\" to copy with INSERT",
                       t->label);
    if (mysql_query(t->my, "START TRANSACTION") != 0)
        return my_error(t, err, "starting a transaction");
    if (use_load_data)
        rc = load_data(t, tb, pull, arg, res, err);
    else
        rc = load_insert(t, tb, pull, arg, res, err);
    if (rc < 0) {
        mysql_query(t->my, "ROLLBACK");
        return rc;
    }
    if (mysql_query(t->my, "COMMIT") != 0)
        return my_error(t, err, "committing rows into %s", tb->name);
    return 0;
}

int tmy_probe_rows(struct target *t, const struct table *tb, row_pull_fn pull,
                   void *arg, struct load_result *res, struct co_err *err)
{
    struct sbuf sql;
    const struct value *row;
    int r = 0, rc = 0;

    memset(res, 0, sizeof *res);
    if (mysql_query(t->my, "START TRANSACTION") != 0)
        return my_error(t, err, "starting a transaction");
    sbuf_init(&sql);
    while (rc == 0 && (r = pull(arg, &row, err)) > 0) {
        res->rows++;
        sbuf_reset(&sql);
        replace_head(t, &sql, tb);
        row_tuple(t, &sql, tb, row);
        if ((rc = flush_statement(t, tb, &sql, res, err)) == CO_EDATA)
            res->bad_row = (long)res->rows;
    }
    if (r < 0 && rc == 0)
        rc = r;
    mysql_query(t->my, "ROLLBACK");
    sbuf_free(&sql);
    return rc;
}

/* ---- batched writes -------------------------------------------------------- */

static void batch_clear(struct target *t)
{
    sbuf_reset(&t->batch);
    t->batch_rows = 0;
}

/* Write the pending rows; a refused value names its row's key. */
static int flush_batch(struct target *t, struct co_err *err)
{
    const struct table *tb = t->batch_table;
    struct load_result res = {0};
    char key[256];
    int rc = 0;

    if (t->batch_rows > 0)
        rc = flush_statement(t, tb, &t->batch, &res, err);
    if (rc == CO_EDATA && res.bad_row > 0 && res.bad_row <= t->batch_rows) {
        tuple_format(&t->batch_keys[res.bad_row - 1], table_key_names(tb),
                     key, sizeof key);
        co_err_prefix(err, "table %s, key %s%s%s", tb->name, key,
                      res.bad_column[0] ? ", column " : "", res.bad_column);
    } else if (rc == CO_EDATA) {
        co_err_prefix(err, "table %s", tb->name);
    }
    batch_clear(t);
    return rc;
}

int tmy_begin(struct target *t, struct co_err *err)
{
    if (mysql_query(t->my, "START TRANSACTION") != 0)
        return my_error(t, err, "starting a transaction");
    t->in_txn = 1;
    t->batch_table = NULL;
    batch_clear(t);
    return 0;
}

int tmy_put_row(struct target *t, const struct table *tb,
                  const struct value *row, struct co_err *err)
{
    int rc;

    if (t->batch_table != tb || t->batch.len >= STATEMENT_MAX) {
        if ((rc = flush_batch(t, err)) < 0)
            return rc;
        t->batch_table = tb;
    }
    if (t->batch_rows == t->batch_keycap) {
        int cap = t->batch_keycap ? 2 * t->batch_keycap : 256;
        struct tuple *k = xrealloc(t->batch_keys, sizeof *k * (size_t)cap);
        memset(k + t->batch_keycap, 0,
               sizeof *k * (size_t)(cap - t->batch_keycap));
        t->batch_keys = k;
        t->batch_keycap = cap;
    }
    if (table_row_key(tb, row, &t->batch_keys[t->batch_rows]) < 0)
        return co_errf(err, CO_ENOMEM, "out of memory");
    if (!t->batch_rows)
        replace_head(t, &t->batch, tb);
    else
        sbuf_addc(&t->batch, ',');
    row_tuple(t, &t->batch, tb, row);
    t->batch_rows++;
    return 0;
}

int tmy_delete_key(struct target *t, const struct table *tb,
                     const struct tuple *key, struct co_err *err)
{
    struct sbuf sql;
    int rc;

    /* Rows of a batch are written after deletes of other keys only within
     * the same table; flushing first keeps the statement order simple. */
    if ((rc = flush_batch(t, err)) < 0)
        return rc;
    sbuf_init(&sql);
    sbuf_adds(&sql, "DELETE FROM ");
    sbuf_ident(&sql, tb->name, '`');
    sbuf_adds(&sql, " WHERE ");
    my_key_match(t, &sql, tb, key);
    rc = flush_statement(t, tb, &sql, NULL, err);
    sbuf_free(&sql);
    return rc;
}

int tmy_commit(struct target *t, struct co_err *err)
{
    int rc = flush_batch(t, err);

    if (rc < 0) {
        tmy_rollback(t);
        return rc;
    }
    t->in_txn = 0;
    if (mysql_query(t->my, "COMMIT") != 0)
        return my_error(t, err, "committing");
    return 0;
}

void tmy_rollback(struct target *t)
{
    batch_clear(t);
    t->batch_table = NULL;
    t->in_txn = 0;
    mysql_query(t->my, "ROLLBACK");
}
