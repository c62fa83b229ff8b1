/*
 * assess.c — what plan must know about a SQLite source and the
 * applications writing to it: the journal mode (outside WAL every read of
 * the copy blocks their writes), how their transactions wait for the
 * write lock the cutover takes, and per table what its rowid means for
 * the copy.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/runbook.h"
#include "sync/drivers/assess.h"
#include "sync/drivers/sqlite/sqlite_priv.h"

static void assess_journal_mode(struct source *s,
                                const struct assess_sink *to)
{
    sqlite3_stmt *st;
    char mode[32] = "";

    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode", -1, &st, NULL) !=
        SQLITE_OK)
        return;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(mode, sizeof mode, "%s",
                 (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (mode[0] && strcasecmp(mode, "wal") != 0)
        assess_add(to, ASSESS_WARNING, "journal_mode", NULL, NULL,
                   "run PRAGMA journal_mode=WAL on the source first",
                   "the source's journal mode is %s, not WAL: every read of "
                   "the copy blocks the application's writes while it runs",
                   mode);
}

void sqlite_assess_table(struct source *s, const struct runbook *rb,
                         const struct table *t, const struct assess_sink *to)
{
    /* what the target's key will be (an existing one's is its own) */
    if (rb->schema.mode == SCHEMA_CREATE && t->rowid_key)
        assess_add(to, ASSESS_WARNING, "rowid_key", t->name, NULL,
                   "do not VACUUM the source during the migration",
                   "keyed by SQLite's rowid (tables.keys): the target gets "
                   "a %s column; VACUUM can renumber rowids of such tables",
                   ROWID_COLUMN);
    if (!sqlite_has_rowid(s, t))
        assess_add(to, ASSESS_INFO, "without_rowid", t->name, NULL, NULL,
                   "WITHOUT ROWID table: copied in primary key order like "
                   "any other");
}

int sqlite_assess(struct source *s, const struct runbook *rb,
                  const struct assess_sink *to, struct co_err *err)
{
    (void)err;
    assess_journal_mode(s, to);
    if (rb->source.app_busy_timeout_ms > 0 &&
        rb->source.app_busy_timeout_ms < rb->cutover.max_write_pause_ms)
        assess_add(to, ASSESS_WARNING, "busy_timeout", NULL, NULL,
                   "raise the application's busy timeout above "
                   "cutover.max_write_pause_ms",
                   "the application's busy timeout (%d ms) is shorter than "
                   "the planned write pause (%d ms): writes made during the "
                   "switch would fail with SQLITE_BUSY instead of waiting",
                   rb->source.app_busy_timeout_ms,
                   rb->cutover.max_write_pause_ms);
    if (!rb->source.app_immediate)
        assess_add(to, ASSESS_WARNING, "app_transactions", NULL, NULL,
                   "begin them with BEGIN IMMEDIATE, which waits on the busy "
                   "timeout (Django 5.1+: OPTIONS \"transaction_mode\": "
                   "\"IMMEDIATE\"; Django 3.2-5.0: the sqlite_immediate "
                   "backend; Laravel 12.26+ on PHP 8.4: 'transaction_mode' "
                   "=> 'IMMEDIATE', before that: the ImmediatePDO connector; "
                   "see the README, \"How the application follows the "
                   "switch\"), then set source.app_transactions to "
                   "\"immediate\"",
                   "the application's transactions begin deferred (BEGIN, "
                   "the default of Django, Laravel and Python's sqlite3): "
                   "one that reads and then writes fails at once with "
                   "\"database is locked\", whatever its busy timeout, when "
                   "another connection has committed since its read or "
                   "holds the write lock. cutover does both when it "
                   "installs change capture and at the switch, as the "
                   "application's own workers do all the time");
    return 0;
}
