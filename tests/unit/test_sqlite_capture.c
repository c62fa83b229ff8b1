/*
 * test_sqlite_capture.c — the SQLite source's change log
 * (sync/drivers/sqlite/capture.c) on a real database file: a change is
 * logged with its key when the application commits; and a log trimmed up
 * to everything the applier has read never hands out a seq it has already
 * passed (the seq is the rowid, max + 1: the trim keeps the newest entry),
 * so the next change is read, not skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/schema.h"
#include "sync/drivers/source.h"
#include "tests/unit/unit_runbook.h"

struct fixture {
    char dir[64];
    struct runbook *rb;
    const struct source_ops *ops;
    struct source *src;
    struct schema sc;
    sqlite3 *app;
};

static void app_exec(struct fixture *f, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(f->app, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct co_err err = {0};
    char path[128], rb[512];

    snprintf(f->dir, sizeof f->dir, "/tmp/co-capture.XXXXXX");
    if (!mkdtemp(f->dir))
        fail_msg("mkdtemp");
    snprintf(path, sizeof path, "%s/app.sqlite3", f->dir);
    if (sqlite3_open(path, &f->app) != SQLITE_OK)
        fail_msg("open %s", path);
    app_exec(f, "PRAGMA journal_mode=WAL;"
                "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    snprintf(rb, sizeof rb,
             "{\"version\": 1, \"name\": \"t\", \"state_dir\": \"state\","
             " \"source\": {\"type\": \"sqlite\", \"path\": \"app.sqlite3\"},"
             " \"target\": {\"type\": \"mysql\", \"socket\": \"/nowhere\","
             " \"user\": \"u\", \"database\": \"d\"}}");
    f->rb = ut_runbook(rb, f->dir);
    f->ops = driver_source("sqlite");
    if (f->ops->open(f->rb, &f->src, &err) != 0 ||
        f->ops->read_schema(f->src, f->rb, &f->sc, &err) != 0)
        fail_msg("%s", err.msg);
    f->ops->set_owner(f->src, "0123456789abcdef");
    if (f->ops->capture_install(f->src, &f->sc, &err) != 0)
        fail_msg("capture: %s", err.msg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    f->ops->close(f->src);
    schema_free(&f->sc);
    sqlite3_close(f->app);
    runbook_free(f->rb);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        fail_msg("%s", cmd);
    free(f);
    return 0;
}

/* The keys logged after `after`; *last the last seq read. */
static int read_keys(struct fixture *f, int64_t after, int64_t *keys,
                     int64_t *last)
{
    struct apply_scope all = {.all = 1};
    struct log_batch b;
    struct co_err err = {0};
    int n;

    if (f->ops->log_read(f->src, &f->sc.tables[0], after, 1000, &all, &b,
                         &err) != 0)
        fail_msg("log_read: %s", err.msg);
    for (n = 0; n < b.nkeys; n++)
        keys[n] = b.keys[n].v[0].i;
    *last = b.last_seq;
    f->ops->log_batch_free(&b);
    return n;
}

static void trim(struct fixture *f, int64_t upto)
{
    struct co_err err = {0};

    if (f->ops->freeze_writes(f->src, NULL, 1000, &err) != 0 ||
        f->ops->log_trim(f->src, &f->sc.tables[0], upto, &err) != 0 ||
        f->ops->thaw_commit(f->src, &err) != 0)
        fail_msg("trim: %s", err.msg);
}

static void a_trimmed_log_does_not_reuse_seqs(void **state)
{
    struct fixture *f = *state;
    int64_t keys[16], last, applied;

    app_exec(f, "INSERT INTO t VALUES (1, 'a'), (2, 'b')");
    app_exec(f, "UPDATE t SET v = 'c' WHERE id = 1");
    assert_int_equal(read_keys(f, 0, keys, &last), 2);   /* distinct keys */
    assert_int_equal(last, 3);
    applied = last;
    trim(f, applied);                  /* all of it has been applied */
    app_exec(f, "DELETE FROM t WHERE id = 2");
    assert_int_equal(read_keys(f, applied, keys, &last), 1);
    assert_int_equal(keys[0], 2);
    assert_true(last > applied);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_trimmed_log_does_not_reuse_seqs,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
