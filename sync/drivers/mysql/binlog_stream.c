/*
 * binlog_stream.c — reading the row changes of watched tables from the
 * binary log through a replica's dump (binlog_stream.h).
 *
 * Connector/C frames the events and checks their checksums; everything
 * read out of an event is read from its bytes here, because the client
 * library's parsed fields are not reliable for all servers (3.3 reads a
 * checksummed ROTATE's file name and position wrongly).
 */
#include "sync/drivers/mysql/binlog_stream.h"

#include <mariadb_rpl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "sync/drivers/mysql/binlog_gtid.h"
#include "sync/drivers/mysql/binlog_priv.h"

#define HEADER_LEN 19
#define CHECKSUM_LEN 4
/* binlog event types read here besides the row events (binlog_rows.h) */
#define EV_QUERY 2
#define EV_ROTATE 4
#define EV_FORMAT_DESCRIPTION 15
#define EV_XID 16
#define GTID_STANDALONE 1         /* a MariaDB GTID event's flags2 bit */
/* ER_MASTER_FATAL_ERROR_READING_BINLOG: "Could not find first log file
 * name in binary log index file", "binlog truncated", ... */
#define ER_READING_BINLOG 1236

/* A table map seen in the log, and which watch it belongs to (-1: none,
 * and then it is not parsed). */
struct map_slot {
    uint64_t table_id;
    int watch;
    struct binlog_table_map map;
};

struct reader {
    const struct binlog_read_opts *o;
    const struct binlog_watch *w;
    int nw;
    binlog_change_fn fn;
    void *arg;
    struct binlog_read_stats *st;
    enum binlog_flavor flavor;
    int checksum;                 /* events end with a CRC32 */
    struct map_slot *maps;
    int nmaps;
    char file[BINLOG_FILE_MAX];   /* the file being read */
    int in_trx;
    char trx_gtid[GTID_MAX];      /* of the transaction being read */
    struct binlog_position safe;  /* after the last whole transaction, and
                                     its GTID */
    int64_t changes;
    int stop;
};

/* One event's bytes: its header fields, and the body without the
 * checksum. */
struct event {
    int type;
    uint32_t server_id;
    uint64_t next;                /* log_pos: where the next event starts;
                                     0 for events the dump makes up */
    const unsigned char *body;
    size_t len;
};

int binlog_position_now(MYSQL *conn, struct binlog_position *out,
                        struct co_err *err)
{
    MYSQL_RES *res;
    MYSQL_ROW row;

    memset(out, 0, sizeof *out);
    if (mysql_query(conn, "SHOW MASTER STATUS") != 0 ||
        !(res = mysql_store_result(conn)))
        return co_errf(err, mysql_errno(conn) >= 2000 ? CO_ECONNLOST
                                                      : CO_ESOURCE,
                       "reading the binary log position: %s",
                       mysql_error(conn));
    row = mysql_fetch_row(res);
    if (!row || !row[0] || !row[1]) {
        mysql_free_result(res);
        return co_errf(err, CO_ESOURCE, "the server keeps no binary log "
                       "(log_bin is OFF): binlog capture needs it");
    }
    snprintf(out->file, sizeof out->file, "%s", row[0]);
    out->pos = strtoull(row[1], NULL, 10);
    mysql_free_result(res);
    return 0;
}

/* ---- events ------------------------------------------------------------- */

static int event_of(struct reader *r, const MARIADB_RPL_EVENT *ev,
                    struct event *e, struct co_err *err)
{
    const unsigned char *p;
    size_t tail = r->checksum ? CHECKSUM_LEN : 0;

    if (ev->event_length < HEADER_LEN + tail ||
        ev->event_length > ev->raw_data_size)
        return co_errf(err, CO_EPROTOCOL, "binlog %s at %llu: an event of "
                       "%u bytes in a packet of %zu", r->file,
                       (unsigned long long)r->safe.pos, ev->event_length,
                       ev->raw_data_size);
    p = ev->raw_data + (ev->raw_data_size - ev->event_length);
    e->type = p[4];
    e->server_id = (uint32_t)blr_le(p + 5, 4);
    e->next = blr_le(p + 13, 4);
    e->body = p + HEADER_LEN;
    e->len = ev->event_length - HEADER_LEN - tail;
    return 0;
}

/* ROTATE: the next file, and where in it. The dump makes one up (next 0)
 * for the file it starts in. */
static void on_rotate(struct reader *r, const struct event *e)
{
    size_t n;

    if (e->len < 8)
        return;
    n = e->len - 8;
    if (n >= sizeof r->file)
        n = sizeof r->file - 1;
    memcpy(r->file, e->body + 8, n);
    r->file[n] = '\0';
    if (e->next == 0 && strcmp(r->file, r->safe.file) == 0)
        return;               /* the start: the position asked for stays */
    memcpy(r->safe.file, r->file, sizeof r->file);
    r->safe.pos = blr_le(e->body, 8);
    r->in_trx = 0;
}

static void on_format_description(struct reader *r, const struct event *e)
{
    char version[51] = "";

    if (e->len >= 2 + 50)
        memcpy(version, e->body + 2, 50);
    r->flavor = strstr(version, "MariaDB") ? BINLOG_MARIADB : BINLOG_MYSQL;
}

/* QUERY: BEGIN opens a transaction (MySQL); COMMIT, ROLLBACK and a
 * statement of its own (DDL) end one. */
static void on_query(struct reader *r, const struct event *e)
{
    size_t status_len, db_len, at;
    const char *q;
    size_t qlen;

    if (e->len < 13)
        return;
    db_len = e->body[8];
    status_len = (size_t)blr_le(e->body + 11, 2);
    at = 13 + status_len + db_len + 1;
    if (at > e->len)
        return;
    q = (const char *)e->body + at;
    qlen = e->len - at;
    if (qlen == 5 && strncmp(q, "BEGIN", 5) == 0)
        r->in_trx = 1;
    else
        r->in_trx = 0;
}

static struct map_slot *slot_of(struct reader *r, uint64_t table_id)
{
    for (int i = 0; i < r->nmaps; i++)
        if (r->maps[i].table_id == table_id)
            return &r->maps[i];
    return NULL;
}

/* The schema and table a TABLE_MAP names, without parsing its columns:
 * maps of tables nobody watches are never decoded. */
static int watch_of(struct reader *r, const struct event *e)
{
    size_t at = 8, slen, tlen;
    const unsigned char *schema, *table;

    if (e->len < at + 1)
        return -1;
    slen = e->body[at++];
    schema = e->body + at;
    at += slen + 1;
    if (e->len < at + 1)
        return -1;
    tlen = e->body[at++];
    table = e->body + at;
    if (e->len < at + tlen)
        return -1;
    for (int i = 0; i < r->nw; i++)
        if (strlen(r->w[i].schema) == slen && strlen(r->w[i].table) == tlen &&
            memcmp(r->w[i].schema, schema, slen) == 0 &&
            memcmp(r->w[i].table, table, tlen) == 0)
            return i;
    return -1;
}

/* What the log did not say of a watched table's columns, from the watch. */
static void complete_map(struct binlog_table_map *m, const struct binlog_watch *w)
{
    for (unsigned c = 0; c < m->ncols && c < w->ncols; c++) {
        if (m->cols[c].sign == BINLOG_SIGN_UNKNOWN && w->is_unsigned)
            m->cols[c].sign = w->is_unsigned[c] ? BINLOG_UNSIGNED
                                                : BINLOG_SIGNED;
        if (m->cols[c].charset == 0 && w->charset)
            m->cols[c].charset = w->charset[c];
    }
}

static int on_table_map(struct reader *r, const struct event *e,
                        struct co_err *err)
{
    uint64_t id;
    struct map_slot *s;
    int watch, rc;

    if (e->len < 6)
        return co_errf(err, CO_EPROTOCOL, "binlog %s: a TABLE_MAP of %zu "
                       "bytes", r->file, e->len);
    id = blr_le(e->body, 6);
    if (!(s = slot_of(r, id))) {
        r->maps = xrealloc(r->maps, (size_t)(r->nmaps + 1) * sizeof *r->maps);
        s = &r->maps[r->nmaps++];
        memset(s, 0, sizeof *s);
        s->table_id = id;
        s->watch = -1;
    }
    if (s->watch >= 0)
        binlog_table_map_free(&s->map);
    s->watch = watch = watch_of(r, e);
    if (watch < 0)
        return 0;
    if ((rc = binlog_table_map_parse(&s->map, r->flavor, e->body, e->len,
                                     err)) < 0) {
        s->watch = -1;
        return co_err_prefix(err, "binlog %s", r->file);
    }
    complete_map(&s->map, &r->w[watch]);
    return 0;
}

static int deliver(struct reader *r, int watch, const struct binlog_rows *rows,
                   struct co_err *err)
{
    struct binlog_change c = {
        .watch = watch,
        .kind = rows->kind,
        .before = rows->before.present ? rows->before.v : NULL,
        .after = rows->after.present ? rows->after.v : NULL,
    };
    int rc = r->fn(r->arg, &c, err);

    if (rc < 0)
        return rc;
    if (rc > 0)
        r->stop = 1;
    else
        r->changes++;
    return 0;
}

static int on_rows(struct reader *r, const struct event *e, struct co_err *err)
{
    struct binlog_rows rows;
    struct map_slot *s;
    const struct binlog_watch *w;
    int rc;

    r->st->row_events++;
    if ((rc = binlog_rows_open(&rows, e->type, e->body, e->len, err)) < 0)
        return co_err_prefix(err, "binlog %s", r->file);
    s = slot_of(r, rows.table_id);
    if (!s || s->watch < 0) {
        binlog_rows_close(&rows);
        return 0;
    }
    w = &r->w[s->watch];
    rc = binlog_rows_bind(&rows, &s->map, w->key_cols, w->nkey, err);
    while (rc == 0 && !r->stop && (rc = binlog_rows_next(&rows, err)) == 1) {
        r->st->rows++;
        rc = deliver(r, s->watch, &rows, err);
    }
    binlog_rows_close(&rows);
    if (rc < 0)
        return co_err_prefix(err, "binlog %s, table %s.%s", r->file,
                             w->schema, w->table);
    return 0;
}

/* A transaction's GTID event. An anonymous one leaves the last GTID: it
 * still names everything up to here. */
static int on_gtid(struct reader *r, const struct event *e,
                   struct co_err *err)
{
    char gtid[GTID_MAX];
    int rc = binlog_gtid_decode(e->type, e->server_id, e->body, e->len, gtid,
                                err);

    if (rc < 0)
        return co_err_prefix(err, "binlog %s", r->file);
    if (rc > 0)
        memcpy(r->trx_gtid, gtid, sizeof gtid);
    return 0;
}

static int on_event(struct reader *r, const struct event *e,
                    struct co_err *err)
{
    int rc = 0;

    switch (e->type) {
    case EV_ROTATE:
        on_rotate(r, e);
        return 0;
    case EV_FORMAT_DESCRIPTION:
        on_format_description(r, e);
        return 0;
    case EV_QUERY:
        on_query(r, e);
        break;
    case EV_XID:
        r->in_trx = 0;
        break;
    case BINLOG_MARIADB_GTID:
        if ((rc = on_gtid(r, e, err)) < 0)
            return rc;
        r->in_trx = !(e->body[12] & GTID_STANDALONE);
        return 0;
    case BINLOG_MYSQL_GTID:
    case BINLOG_MYSQL_ANONYMOUS_GTID:
        r->in_trx = 1;        /* BEGIN or a statement of its own follows */
        return on_gtid(r, e, err);
    case BINLOG_TABLE_MAP:
        return on_table_map(r, e, err);
    default:
        if (binlog_is_rows_event(e->type))
            rc = on_rows(r, e, err);
        break;
    }
    /* Outside a transaction every event ends at a place to start from. */
    if (rc == 0 && !r->in_trx && !r->stop && e->next != 0) {
        memcpy(r->safe.file, r->file, sizeof r->file);
        r->safe.pos = e->next;
        memcpy(r->safe.gtid, r->trx_gtid, sizeof r->trx_gtid);
    }
    return rc;
}

/* ---- the dump ----------------------------------------------------------- */

/* The server's binlog_checksum, declared back to it so that it sends the
 * checksums (and, for MariaDB, what a replica of today understands). */
static int prepare_session(MYSQL *conn, struct reader *r, struct co_err *err)
{
    MYSQL_RES *res;
    MYSQL_ROW row;

    if (mysql_query(conn, "SELECT @@global.binlog_checksum") != 0 ||
        !(res = mysql_store_result(conn)))
        return co_errf(err, CO_ESOURCE, "reading binlog_checksum: %s",
                       mysql_error(conn));
    row = mysql_fetch_row(res);
    r->checksum = row && row[0] && strcmp(row[0], "NONE") != 0;
    mysql_free_result(res);
    if (mysql_query(conn, "SET @master_binlog_checksum = "
                          "@@global.binlog_checksum, "
                          "@mariadb_slave_capability = 4") != 0)
        return co_errf(err, CO_ESOURCE, "preparing the binlog dump: %s",
                       mysql_error(conn));
    return 0;
}

static int dump_error(MYSQL *conn, const struct binlog_position *at,
                      struct co_err *err)
{
    unsigned no = mysql_errno(conn);

    if (no == ER_READING_BINLOG)
        return co_errf(err, CO_EGAP, "the binary log at %s:%llu is not on "
                       "the server any more (purged, or the server was "
                       "reset): changes after it cannot be read, so the "
                       "target would miss them: %s", at->file,
                       (unsigned long long)at->pos, mysql_error(conn));
    return co_errf(err, no >= 2000 ? CO_ECONNLOST : CO_ESOURCE,
                   "reading the binary log at %s:%llu: %s", at->file,
                   (unsigned long long)at->pos, mysql_error(conn));
}

int64_t binlog_read_changes(MYSQL *conn, const struct binlog_read_opts *o,
                            struct binlog_position *pos,
                            const struct binlog_watch *watches, int nwatches,
                            binlog_change_fn fn, void *arg,
                            struct binlog_read_stats *stats,
                            struct co_err *err)
{
    struct binlog_read_stats ignored = {0};
    struct reader r = {.o = o, .w = watches, .nw = nwatches, .fn = fn,
                       .arg = arg, .st = stats ? stats : &ignored,
                       .flavor = BINLOG_MARIADB, .safe = *pos};
    MARIADB_RPL *rpl;
    MARIADB_RPL_EVENT *ev = NULL;
    unsigned int flags = MARIADB_RPL_BINLOG_DUMP_NON_BLOCK;
    int rc;

    memcpy(r.file, pos->file, sizeof r.file);
    memcpy(r.trx_gtid, pos->gtid, sizeof r.trx_gtid);
    if ((rc = prepare_session(conn, &r, err)) < 0)
        return rc;
    if (!(rpl = mariadb_rpl_init(conn)))
        return co_errf(err, CO_ENOMEM, "out of memory");
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_SERVER_ID, (unsigned)o->server_id);
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_FILENAME, pos->file,
                         strlen(pos->file));
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_START, (unsigned long)pos->pos);
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_FLAGS, flags);
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_VERIFY_CHECKSUM, 1);
    if (mariadb_rpl_open(rpl) != 0) {
        rc = dump_error(conn, pos, err);
        mariadb_rpl_close(rpl);
        return rc;
    }
    rc = 0;
    while (rc == 0 && !r.stop &&
           (!o->max_events || r.st->events < o->max_events) &&
           (ev = mariadb_rpl_fetch(rpl, ev))) {
        struct event e = {0};
        r.st->events++;
        if ((rc = event_of(&r, ev, &e, err)) == 0)
            rc = on_event(&r, &e, err);
    }
    if (rc == 0 && !r.stop && !ev && mysql_errno(conn) != 0)
        rc = dump_error(conn, &r.safe, err);
    if (ev)
        mariadb_free_rpl_event(ev);
    mariadb_rpl_close(rpl);
    for (int i = 0; i < r.nmaps; i++)
        if (r.maps[i].watch >= 0)
            binlog_table_map_free(&r.maps[i].map);
    free(r.maps);
    /* what was read whole counts, even when an error ends the read */
    *pos = r.safe;
    r.st->changes += r.changes;
    return rc < 0 ? rc : r.changes;
}
