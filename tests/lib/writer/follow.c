/*
 * follow.c — one operation, retried until acknowledged, following a cutover
 * the way an application does:
 *   - SQLite fails a write with "cutover: writes moved to target" (the
 *     cutover fence): roll back, poll the switch file until it names the
 *     target (MySQL or PostgreSQL), connect there and retry the operation.
 *     The target failing with "cutover: writes moved back to source" (a
 *     rollback) is the same the other way.
 *   - SQLITE_BUSY after the busy timeout (cutover held the write lock too
 *     long), or the target's lock wait timeout or deadlock: retry at once.
 *   - Anything else: log, reconnect, retry after 50 ms; give up (exit 1)
 *     after 100 failures in a row.
 * The writer does not switch because the file changed: an application with a
 * stale configuration keeps writing to the old side, and stopping it is the
 * fence's job, which is part of what the writer tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/writer/writer.h"

#define SWITCH_POLL_MS 2
#define FENCE_RECHECK_MS 200 /* then retry where we are: the fence may be gone */
#define ERROR_RETRY_MS 50
#define MAX_CONSECUTIVE_ERRORS 100

/* The backend the switch file names; sqlite when there is no file, NULL
 * when its content is neither (empty: caught mid-write). */
const struct db_driver *switch_file_backend(const char *path)
{
    char buf[64] = "", *s = buf, *end;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return errno == ENOENT ? &sqlite_driver : NULL;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    end = s + strcspn(s, " \t\r\n");
    *end = '\0';
    return driver_by_name(s);
}

enum db_status ensure_open(struct writer *w)
{
    if (w->db.handle)
        return DB_OK;
    if (db_open(&w->db, w->want, &w->conn) != DB_OK)
        return DB_ERROR;
    if (w->last_opened && w->last_opened != w->want) {
        w->stats.switches++;
        say("writes now go to %s", w->want->name);
    }
    w->last_opened = w->want;
    return DB_OK;
}

/* Read back every touched row inside the transaction: the state COMMIT
 * makes durable, and so what the record promises. */
static enum db_status read_back(struct writer *w, struct txn *x)
{
    for (int i = 0; i < x->ntouched; i++) {
        enum db_status st = read_row(&w->db, x->touched[i].t, x->touched[i].key,
                                     &x->touched[i].row);

        if (st != DB_OK)
            return st;
    }
    return DB_OK;
}

/* One transaction. DB_OK when it committed or had nothing to do (then
 * x->ntouched is 0); otherwise rolled back, and w->db.err says why. */
static enum db_status attempt(struct writer *w, const struct op *op,
                              struct txn *x)
{
    enum db_status st;

    txn_reset(x);
    if ((st = ensure_open(w)) != DB_OK)
        return st;
    w->stats.attempts++;
    st = db_begin(&w->db);
    if (st == DB_OK)
        st = op->run(w, x);
    if (st == DB_OK && x->ntouched == 0) {
        db_rollback(&w->db);
        return DB_OK;
    }
    if (st == DB_OK)
        st = read_back(w, x);
    if (st == DB_OK)
        st = db_commit(&w->db);
    if (st != DB_OK)
        db_rollback(&w->db);
    return st;
}

/* Committed: into the record, into our knowledge, its stall into the
 * summary's percentiles. */
static void acknowledge(struct writer *w, const struct txn *x, double stall_ms)
{
    struct stats *s = &w->stats;

    record_commit(w->record_fd, ++s->acknowledged, x);
    learn(w, x);
    s->stalls_ms = grow(s->stalls_ms, &s->cap, s->nstalls + 1,
                        sizeof *s->stalls_ms);
    s->stalls_ms[s->nstalls++] = stall_ms;
}

/* Fenced: a cutover (or its rollback) moved the writes. Wait for the switch
 * file to name the other side and go there. If it still names this side
 * after FENCE_RECHECK_MS, retry here: a cutover that backs off removes its
 * fence without switching. */
static void follow_switch_file(struct writer *w)
{
    double until = now_ms() + FENCE_RECHECK_MS;

    while (!stop_requested && now_ms() < until) {
        const struct db_driver *named = switch_file_backend(w->switch_file);

        if (named && named != w->want) {
            db_close(&w->db);
            w->want = named;
            return;
        }
        sleep_ms(SWITCH_POLL_MS);
    }
}

static void note_other_error(struct writer *w, const struct op *op)
{
    w->stats.other_errors++;
    say("%s on %s: %s", op->name, w->want->name, w->db.err);
    if (++w->consecutive_errors >= MAX_CONSECUTIVE_ERRORS) {
        say("giving up after %d failures in a row", w->consecutive_errors);
        w->gave_up = 1;
        return;
    }
    db_close(&w->db); /* the error may have been the connection's */
    sleep_ms(ERROR_RETRY_MS);
}

/* Count a failed attempt and get ready for the next. Returns 0 to abandon
 * the operation, unacknowledged: the writer is stopping. */
static int recover(struct writer *w, const struct op *op, enum db_status st)
{
    if (st == DB_BUSY)
        w->stats.busy_errors++;
    else if (st == DB_FENCE) {
        w->stats.fence_errors++;
        follow_switch_file(w);
    } else
        note_other_error(w, op);
    return !stop_requested && !w->gave_up;
}

/* One operation, retried until acknowledged as an application that must not
 * drop a request would. Its stall runs from the first attempt to the ack:
 * lock waits and backend switches included. */
void run_operation(struct writer *w, const struct op *op)
{
    double first = now_ms();
    enum db_status st;
    struct txn x = {.replaced_slot = -1};

    while ((st = attempt(w, op, &x)) != DB_OK && recover(w, op, st))
        ;
    if (st == DB_OK) {
        w->consecutive_errors = 0;
        if (x.ntouched)
            acknowledge(w, &x, now_ms() - first);
    }
    txn_reset(&x);
}
