/*
 * test_migration.c — checkpoints/migration.c: migration_transition(), the
 * one function that changes state (checkpoint + history + `stage` event),
 * and the checkpoint form of the model (migration_to_json/from_json).
 *
 * Each test gets a fresh state dir (mkdtemp), a runbook whose state_dir is
 * that dir, and the event bus opened on it.
 *
 * Golden checkpoints of the filled model, in tests/unit/files/, one per
 * format this cutover reads:
 *     build/tests/test_migration --write-fixtures tests/unit/files
 * checkpoint_orders_format2.json  written by checkpoint_write: each column
 *                                 with its type and its logical type
 * checkpoint_orders_format1.json  the same model as format 1 kept it (the
 *                                 type only), as cutover before logical
 *                                 types wrote it
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <regex.h>
#include <sys/wait.h>

#include "checkpoints/checkpoint.h"
#include "lib/events.h"
#include "lib/log.h"
#include "checkpoints/migration.h"
#include "lib/runbook.h"
#include "tests/lib/orders_schema.h"
#include "tests/unit/unit_runbook.h"
#include "sync/drivers/registry.h"
#include "tests/unit/checkpoint_fixtures.h"
#include "tests/unit/unit_util.h"

struct fixture {
    char *dir;
    struct runbook *rb;
    struct migration *m;
};

/* ---- helpers ------------------------------------------------------------ */

static struct runbook *runbook_for(const char *state_dir, const char *source)
{
    char *text;
    struct runbook *rb;

    assert_true(asprintf(&text,
        "{\"version\":1,\"name\":\"t\",\"state_dir\":\"%s\","
        "\"source\":{\"type\":\"sqlite\",\"path\":\"%s\"},"
        "\"target\":{\"type\":\"mysql\",\"socket\":\"/tmp/x.sock\","
        "\"database\":\"d\"},"
        "\"cutover\":{\"switch\":[{\"exec\":[\"true\"]}]}}", state_dir,
        source) > 0);
    rb = ut_runbook(text, "/base");
    free(text);
    return rb;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct co_err err = {0};

    f->dir = ut_tempdir();
    f->rb = runbook_for(f->dir, "a.sqlite3");
    if (events_open(f->dir, &err) != 0)
        return -1;
    f->m = migration_new(f->rb);
    *state = f;
    return f->m ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    events_close();
    migration_free(f->m);
    runbook_free(f->rb);
    ut_rmtree(f->dir);
    free(f);
    return 0;
}

static void set_schema(struct migration *m, const char *second, int with_map)
{
    struct schema sc = orders_schema(second, with_map);

    assert_int_equal(migration_set_schema(m, &sc), 0);
    assert_int_equal(m->ntables, 1);
}

static void set_int_tuple(struct tuple *t, int64_t v)
{
    struct value val = {.type = V_INT, .i = v};

    assert_int_equal(tuple_set(t, &val, 1), 0);
}

/* Fill every persisted field of m with distinctive values. */
static void fill_model(struct migration *m)
{
    struct table_state *ts = migration_table(m, "orders");

    assert_non_null(ts);
    ts->rows_total = 1000;
    ts->created = 1;
    ts->copy_done = 1;           /* in cutover every table is copied */
    ts->indexes_done = 1;
    ts->nranges = 2;
    ts->ranges = calloc(2, sizeof *ts->ranges);
    for (int r = 0; r < 2; r++)
        pthread_mutex_init(&ts->ranges[r].lock, NULL);
    set_int_tuple(&ts->ranges[0].hi, 500);          /* (open, 500] */
    set_int_tuple(&ts->ranges[0].frontier, 20);
    ts->ranges[0].rows = 20;
    set_int_tuple(&ts->ranges[1].lo, 500);          /* (500, open) */
    ts->ranges[1].rows = 0;
    ts->ranges[1].done = 0;
    ts->applied_seq = 42;
    snprintf(ts->applied_gtid, sizeof ts->applied_gtid, "0-1-57");
    set_int_tuple(&ts->verify_frontier, 10);
    ts->verify_rows = 10;
    ts->verify_chunks = 1;
    ts->verify_mismatches = 3;
    ts->verify_done = 0;
    ts->verify_seq = 17;

    snprintf(m->id, sizeof m->id, "0123456789abcdef");
    m->state = ST_CUTOVER;
    m->resume_state = ST_CUTOVER;
    m->switched = 1;             /* fenced, one switch action done */
    m->started_at = 1700000000.25;
    m->source_schema_version = 12;
    snprintf(m->backup_file, sizeof m->backup_file,
             "source-backup.sqlite3.enc");
    snprintf(m->backup_sha256, sizeof m->backup_sha256, "%064d", 7);
    m->cut.step = CUT_SWITCH;
    m->cut.attempt = 2;
    m->cut.switch_done = 1;
    m->cut.go = 1;
    m->cut.last_pause_ms = 123.5;
    m->cut.next_attempt_at = 1700000100.75;
    m->post.started_at = 0;
    json_array_append_new(m->history, json_pack(
        "{ss ss ss ss ss}", "ts", "2024-01-02T03:04:05.678Z", "from", "new",
        "to", "pre_validate", "event", "start", "reason", ""));
    json_object_set_new(m->trigger_states, "lag",
                        json_pack("{sf}", "since", 1700000050.0));
}

static char *events_path(const char *dir)
{
    return ut_path(dir, "events.ndjson");
}

static char *checkpoint_bytes(const char *dir)
{
    char *p = ut_path(dir, CHECKPOINT_FILE), *text = ut_read_file(p, NULL);

    free(p);
    return text;
}

static int is_rfc3339_ms(const char *ts)
{
    regex_t re;
    int ok;

    assert_int_equal(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:"
                                  "[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$",
                             REG_EXTENDED | REG_NOSUB), 0);
    ok = regexec(&re, ts, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

static void transition_ok(struct migration *m, enum fsm_event ev,
                          const char *reason)
{
    struct co_err err = {0};

    if (migration_transition(m, ev, reason, &err) != 0)
        fail_msg("transition %s: %s", fsm_event_name(ev), err.msg);
}

static void expect_peek_state(const char *dir, const char *st,
                              const char *resume)
{
    json_t *cp = NULL;
    struct co_err err = {0};

    if (migration_peek(dir, &cp, &err) != 0)
        fail_msg("migration_peek: %s", err.msg);
    assert_string_equal(json_string_value(json_object_get(cp, "state")), st);
    assert_string_equal(
        json_string_value(json_object_get(cp, "resume_state")), resume);
    json_decref(cp);
}

/* ---- migration_transition ----------------------------------------------- */

static void start_writes_checkpoint_and_appends_stage_event(void **state)
{
    struct fixture *f = *state;
    json_t *cp = NULL, *h, *ev;
    struct co_err err = {0};
    json_error_t jerr;
    char *path = events_path(f->dir), *text, *nl;

    transition_ok(f->m, EV_START, "operator started it");
    assert_int_equal(f->m->state, ST_PRE_VALIDATE);
    assert_int_equal(f->m->resume_state, ST_PRE_VALIDATE);

    assert_int_equal(migration_peek(f->dir, &cp, &err), 0);
    assert_string_equal(json_string_value(json_object_get(cp, "state")),
                        "pre_validate");
    assert_string_equal(
        json_string_value(json_object_get(cp, "resume_state")),
        "pre_validate");
    h = json_object_get(cp, "history");
    assert_int_equal(json_array_size(h), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(h, 0), "from")), "new");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(h, 0), "to")), "pre_validate");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(h, 0), "reason")),
                        "operator started it");
    json_decref(cp);

    text = ut_read_file(path, NULL);
    assert_non_null(text);
    nl = strchr(text, '\n');
    assert_non_null(nl);
    assert_int_equal(nl[1], '\0');                 /* exactly one line */
    ev = json_loadb(text, (size_t)(nl - text), 0, &jerr);
    assert_non_null(ev);
    assert_string_equal(json_string_value(json_object_get(ev, "type")),
                        "stage");
    assert_string_equal(json_string_value(json_object_get(ev, "from")),
                        "new");
    assert_string_equal(json_string_value(json_object_get(ev, "to")),
                        "pre_validate");
    assert_string_equal(json_string_value(json_object_get(ev, "event")),
                        "start");
    assert_int_equal(json_integer_value(json_object_get(ev, "seq")), 1);
    assert_true(is_rfc3339_ms(json_string_value(json_object_get(ev, "ts"))));
    json_decref(ev);
    free(text);
    free(path);
}

static void illegal_transition_changes_nothing(void **state)
{
    struct fixture *f = *state;
    struct co_err err = {0};
    char *path = events_path(f->dir), *cp_before, *ev_before, *cp_after,
         *ev_after;

    transition_ok(f->m, EV_START, NULL);
    cp_before = checkpoint_bytes(f->dir);
    ev_before = ut_read_file(path, NULL);

    assert_int_equal(migration_transition(f->m, EV_ROLLBACK, "no", &err),
                     CO_ESTATE);
    assert_int_equal(err.code, CO_ESTATE);
    assert_string_equal(err.msg, "cannot rollback while pre_validate");
    assert_int_equal(f->m->state, ST_PRE_VALIDATE);
    assert_int_equal(f->m->resume_state, ST_PRE_VALIDATE);
    assert_int_equal(json_array_size(f->m->history), 1);

    cp_after = checkpoint_bytes(f->dir);
    ev_after = ut_read_file(path, NULL);
    assert_string_equal(cp_after, cp_before);
    assert_string_equal(ev_after, ev_before);
    free(cp_before);
    free(cp_after);
    free(ev_before);
    free(ev_after);
    free(path);
}

static void pause_records_and_resume_returns_to_the_stage_left(void **state)
{
    struct fixture *f = *state;

    transition_ok(f->m, EV_START, NULL);
    transition_ok(f->m, EV_DONE, NULL);
    transition_ok(f->m, EV_PAUSE, "lag trigger");
    assert_int_equal(f->m->state, ST_PAUSED);
    assert_int_equal(f->m->resume_state, ST_BULK_COPY);
    expect_peek_state(f->dir, "paused", "bulk_copy");
    transition_ok(f->m, EV_RESUME, NULL);
    assert_int_equal(f->m->state, ST_BULK_COPY);
    expect_peek_state(f->dir, "bulk_copy", "bulk_copy");
    assert_int_equal(events_last_seq(), 4);
}

/* A transition whose checkpoint cannot be written did not happen: run in a
 * child (fault counters are per process) with the rename failing. */
static void transition_whose_checkpoint_fails_is_undone(void **state)
{
    struct fixture *f = *state;
    char *path = events_path(f->dir), *ev_before, *ev_after;
    pid_t pid;
    int status;

    transition_ok(f->m, EV_START, NULL);
    ev_before = ut_read_file(path, NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct co_err err = {0};
        int rc;
        setenv("CUTOVER_FAULT_IO", "rename:1:EIO", 1);
        rc = migration_transition(f->m, EV_DONE, NULL, &err);
        if (rc != CO_EIO)
            _exit(10);
        if (f->m->state != ST_PRE_VALIDATE ||
            f->m->resume_state != ST_PRE_VALIDATE)
            _exit(11);
        if (json_array_size(f->m->history) != 1)
            _exit(12);
        if (!strstr(err.msg, "rename"))
            _exit(13);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    expect_peek_state(f->dir, "pre_validate", "pre_validate");
    ev_after = ut_read_file(path, NULL);
    assert_string_equal(ev_after, ev_before);
    free(ev_before);
    free(ev_after);
    free(path);
}

/* ---- checkpoint form ---------------------------------------------------- */

static void assert_json_equal(json_t *got, json_t *want)
{
    if (!json_equal(got, want)) {
        char *a = json_dumps(got, JSON_SORT_KEYS | JSON_INDENT(1));
        char *b = json_dumps(want, JSON_SORT_KEYS | JSON_INDENT(1));
        fail_msg("JSON differs:\n%s\nexpected:\n%s", a, b);
    }
}

/* Snapshots are written outside m->mu, so two can race to the disk: the
 * earlier one never replaces the later, and a snapshot does not change
 * when the model moves on after it was taken. */
static void earlier_snapshot_never_replaces_a_later_one(void **state)
{
    struct fixture *f = *state;
    struct co_err err = {0};
    uint64_t early_gen, late_gen;
    json_t *early, *late;

    pthread_mutex_lock(&f->m->mu);
    early = migration_snapshot(f->m, &early_gen);       /* state new */
    pthread_mutex_unlock(&f->m->mu);
    transition_ok(f->m, EV_START, NULL);                /* writes its own */
    assert_int_equal(json_array_size(json_object_get(early, "history")), 0);
    pthread_mutex_lock(&f->m->mu);
    late = migration_snapshot(f->m, &late_gen);
    pthread_mutex_unlock(&f->m->mu);
    assert_true(late_gen > early_gen);

    assert_int_equal(migration_write_snapshot(f->m, early, early_gen, &err), 0);
    expect_peek_state(f->dir, "pre_validate", "pre_validate");
    assert_int_equal(migration_write_snapshot(f->m, late, late_gen, &err), 0);
    assert_int_equal(migration_write_snapshot(f->m, early, early_gen, &err), 0);
    expect_peek_state(f->dir, "pre_validate", "pre_validate");
    json_decref(early);
    json_decref(late);
}

static void model_survives_to_json_from_json(void **state)
{
    struct fixture *f = *state;
    struct migration *m2 = migration_new(f->rb);
    struct co_err err = {0};
    struct table_state *a, *b;
    json_t *cp, *again;

    set_schema(f->m, "total", 1);
    fill_model(f->m);
    cp = migration_to_json(f->m);
    assert_non_null(cp);

    set_schema(m2, "total", 0);
    if (migration_from_json(m2, cp, &err) != 0)
        fail_msg("from_json: %s", err.msg);

    assert_string_equal(m2->id, "0123456789abcdef");
    assert_int_equal(m2->state, ST_CUTOVER);
    assert_int_equal(m2->resume_state, ST_CUTOVER);
    assert_int_equal(m2->switched, 1);
    assert_true(m2->started_at == 1700000000.25);
    assert_int_equal(m2->source_schema_version, 12);
    assert_string_equal(m2->backup_file, "source-backup.sqlite3.enc");
    assert_string_equal(m2->backup_sha256, f->m->backup_sha256);

    a = &f->m->tables[0];
    b = &m2->tables[0];
    assert_int_equal(b->rows_total, 1000);
    assert_int_equal(b->created, 1);
    assert_int_equal(b->nranges, 2);
    for (int r = 0; r < 2; r++) {
        assert_true(tuple_equal(&b->ranges[r].lo, &a->ranges[r].lo));
        assert_true(tuple_equal(&b->ranges[r].hi, &a->ranges[r].hi));
        assert_true(tuple_equal(&b->ranges[r].frontier,
                                &a->ranges[r].frontier));
        assert_int_equal(b->ranges[r].rows, a->ranges[r].rows);
        assert_int_equal(b->ranges[r].done, a->ranges[r].done);
    }
    assert_int_equal(b->ranges[0].lo.n, 0);
    assert_int_equal(b->ranges[0].frontier.v[0].i, 20);
    assert_int_equal(b->ranges[1].frontier.n, 0);
    assert_int_equal(b->applied_seq, 42);
    assert_string_equal(b->applied_gtid, "0-1-57");
    assert_true(tuple_equal(&b->verify_frontier, &a->verify_frontier));
    assert_int_equal(b->verify_rows, 10);
    assert_int_equal(b->verify_chunks, 1);
    assert_int_equal(b->verify_mismatches, 3);
    assert_int_equal(b->verify_seq, 17);

    /* Type decisions come back from the checkpoint. */
    for (int c = 0; c < 2; c++) {
        const struct colmap *x = &f->m->schema.tables[0].cols[c].map;
        const struct colmap *y = &m2->schema.tables[0].cols[c].map;
        assert_int_equal(y->lt, x->lt);
        assert_string_equal(y->type, x->type);
        assert_int_equal(y->precision, x->precision);
        assert_int_equal(y->scale, x->scale);
        assert_int_equal(y->dt, x->dt);
        assert_int_equal(y->autoinc, x->autoinc);
    }

    assert_int_equal(m2->cut.step, CUT_SWITCH);
    assert_int_equal(m2->cut.attempt, 2);
    assert_int_equal(m2->cut.switch_done, 1);
    assert_int_equal(m2->cut.go, 1);
    assert_true(m2->cut.last_pause_ms == 123.5);
    assert_true(m2->cut.next_attempt_at == 1700000100.75);
    assert_json_equal(m2->history, f->m->history);
    assert_json_equal(m2->trigger_states, f->m->trigger_states);

    again = migration_to_json(m2);
    assert_json_equal(again, cp);
    json_decref(again);
    json_decref(cp);
    migration_free(m2);
}

/* A checkpoint from before GTIDs were kept, or of a source without
 * them, has no applied_gtid: it loads, and none is written back. */
static void checkpoint_without_a_gtid_loads(void **state)
{
    struct fixture *f = *state;
    struct migration *m2 = migration_new(f->rb);
    struct co_err err = {0};
    json_t *cp, *again;

    set_schema(f->m, "total", 1);
    fill_model(f->m);
    cp = migration_to_json(f->m);
    assert_int_equal(json_object_del(json_array_get(json_object_get(cp,
                     "tables"), 0), "applied_gtid"), 0);
    set_schema(m2, "total", 0);
    if (migration_from_json(m2, cp, &err) != 0)
        fail_msg("from_json: %s", err.msg);
    assert_int_equal(m2->tables[0].applied_seq, 42);
    assert_string_equal(m2->tables[0].applied_gtid, "");
    again = migration_to_json(m2);
    assert_null(json_object_get(json_array_get(json_object_get(again,
                "tables"), 0), "applied_gtid"));
    json_decref(again);
    json_decref(cp);
    migration_free(m2);
}

static void last_error_survives_to_json_from_json(void **state)
{
    struct fixture *f = *state;
    struct migration *m2 = migration_new(f->rb);
    struct co_err err = {0}, data = {0};
    json_t *cp;

    set_schema(f->m, "total", 1);
    co_errf(&data, CO_EDATA, "table orders: id=7: value 'x' is not a number");
    migration_set_error(f->m, &data);
    cp = migration_to_json(f->m);
    set_schema(m2, "total", 0);
    assert_int_equal(migration_from_json(m2, cp, &err), 0);
    assert_string_equal(m2->last_error,
                        "table orders: id=7: value 'x' is not a number");
    assert_int_equal(m2->last_error_code, CO_EDATA);
    json_decref(cp);
    migration_free(m2);
}

/* A long error quoting non-ASCII text is cut on a character boundary: the
 * model stays serializable (a cut inside a character made every later
 * checkpoint write fail). */
static void long_utf8_error_keeps_the_model_saveable(void **state)
{
    struct fixture *f = *state;
    struct co_err data = {0};
    char msg[1400] = "";
    json_t *cp;

    set_schema(f->m, "total", 1);
    for (int i = 0; i < 650; i++)
        strcat(msg, "é");
    co_errf(&data, CO_EDATA, "%s", msg);
    migration_set_error(f->m, &data);
    cp = migration_to_json(f->m);
    assert_non_null(cp);
    json_decref(cp);
}

static void duplicated_table_in_a_checkpoint_is_malformed(void **state)
{
    struct fixture *f = *state;
    struct migration *m2 = migration_new(f->rb);
    struct co_err err = {0};
    json_t *cp, *tables;

    set_schema(f->m, "total", 1);
    fill_model(f->m);
    cp = migration_to_json(f->m);
    tables = json_object_get(cp, "tables");
    json_array_append_new(tables, json_deep_copy(json_array_get(tables, 0)));
    set_schema(m2, "total", 0);
    assert_int_equal(migration_from_json(m2, cp, &err), CO_ECHECKPOINT);
    assert_string_equal(err.msg, "checkpoint: table orders is listed twice");
    json_decref(cp);
    migration_free(m2);
}

static void renamed_column_is_reported_as_changed(void **state)
{
    struct fixture *f = *state;
    struct migration *m2 = migration_new(f->rb);
    struct co_err err = {0};
    json_t *cp;

    set_schema(f->m, "total", 1);
    fill_model(f->m);
    cp = migration_to_json(f->m);
    set_schema(m2, "amount", 0);
    assert_int_equal(migration_from_json(m2, cp, &err), CO_ECHANGED);
    assert_int_equal(err.code, CO_ECHANGED);
    assert_string_equal(err.msg, "table orders: column 1 is now \"amount\", "
                                 "the migration started with \"total\"");
    json_decref(cp);
    migration_free(m2);
}

static void changed_source_path_is_reported_as_changed(void **state)
{
    struct fixture *f = *state;
    struct runbook *rb2 = runbook_for(f->dir, "other.sqlite3");
    struct migration *m2 = migration_new(rb2);
    struct co_err err = {0};
    json_t *cp;

    set_schema(f->m, "total", 1);
    cp = migration_to_json(f->m);
    set_schema(m2, "total", 0);
    assert_int_equal(migration_from_json(m2, cp, &err), CO_ECHANGED);
    assert_prefix(err.msg, "the runbook changed in ways that invalidate the "
                           "migration in progress: source was "
                           "\"/base/a.sqlite3\", now \"/base/other.sqlite3\"");
    json_decref(cp);
    migration_free(m2);
    runbook_free(rb2);
}

/* The drivers are found by the runbook's types: a migration made by one
 * engine's driver cannot be resumed by another's. A checkpoint written
 * before the types were recorded resumes as before. */
static void changed_engine_is_reported_as_changed(void **state)
{
    struct fixture *f = *state;
    struct migration *m2 = migration_new(f->rb);
    struct co_err err = {0};
    json_t *cp, *id;

    set_schema(f->m, "total", 1);
    cp = migration_to_json(f->m);
    id = json_object_get(cp, "runbook");
    assert_string_equal(json_string_value(json_object_get(id, "source_type")),
                        "sqlite");
    assert_string_equal(json_string_value(json_object_get(id, "target_type")),
                        "mysql");
    json_object_set_new(id, "target_type", json_string("postgresql"));
    set_schema(m2, "total", 0);
    assert_int_equal(migration_from_json(m2, cp, &err), CO_ECHANGED);
    assert_prefix(err.msg, "the runbook changed in ways that invalidate the "
                           "migration in progress: target_type was "
                           "\"postgresql\", now \"mysql\"");
    migration_free(m2);

    m2 = migration_new(f->rb);
    json_object_del(id, "source_type");
    json_object_del(id, "target_type");
    set_schema(m2, "total", 0);
    assert_int_equal(migration_from_json(m2, cp, &err), 0);
    json_decref(cp);
    migration_free(m2);
}

/* ---- range checks of a checkpoint's fields ------------------------------- */

/* One field of a valid checkpoint set to a bad value: where (a path of
 * object keys and array indexes, "tables.0.ranges.0.rows"), the value as
 * JSON, and what the error must say. */
struct bad_field {
    const char *path;
    const char *value;
    const char *message;
};

static const struct bad_field bad_fields[] = {
    {"cutover.switch_done", "-1",
     "cutover.switch_done is -1; it must be from 0 to 1"},
    {"cutover.switch_done", "2147483647",
     "cutover.switch_done is 2147483647; it must be from 0 to 1"},
    {"cutover.switch_done", "\"1\"", "cutover.switch_done is not an integer"},
    {"cutover.attempt", "-3", "cutover.attempt is -3"},
    {"cutover.last_pause_ms", "-2", "cutover.last_pause_ms is -2"},
    {"cutover.next_attempt_at", "1e300", "cutover.next_attempt_at is 1e+300"},
    {"cutover.go", "1", "cutover.go is not true or false"},
    {"backup.file", "\"../../../etc/shadow\"",
     "backup.file \"../../../etc/shadow\" is not a backup cutover writes"},
    {"backup.file", "\"/etc/passwd\"", "backup.file \"/etc/passwd\""},
    {"backup.sha256", "\"e3b0\"",
     "backup.sha256 \"e3b0\" is not a SHA-256 in hex"},
    {"started_at", "-5", "started_at is -5"},
    {"switched", "\"yes\"", "switched is not true or false"},
    {"source_schema_version", "1e3", "source_schema_version is not an integer"},
    {"tables.0.rows_total", "-1", "table orders: rows_total is -1"},
    {"tables.0.applied_seq", "-7", "table orders: applied_seq is -7"},
    {"tables.0.applied_gtid", "\"0-1\"", "table orders: applied_gtid "
     "\"0-1\" is not a GTID (domain-server-seq or uuid:number)"},
    {"tables.0.applied_gtid", "\"0-1-5,1-2-9\"", "table orders: "
     "applied_gtid \"0-1-5,1-2-9\" is not a GTID"},
    {"tables.0.applied_gtid", "57", "table orders: applied_gtid is not a "
     "string"},
    {"tables.0.ranges.0.rows", "-20", "table orders: range 0: rows is -20"},
    {"tables.0.ranges.0.frontier", "[1, 2]",
     "table orders: range 0: frontier is not null or a key of 1 value"},
    {"tables.0.ranges.1.lo", "7", "table orders: range 1: lo is not null"},
    {"tables.0.columns.1.scale", "-2", "table orders: column 1: scale is -2"},
    {"tables.0.columns.1.scale", "40", "table orders: column 1: scale is 40"},
    {"tables.0.columns.1.precision", "1000",
     "table orders: column 1: precision is 1000"},
    {"tables.0.columns.1.precision", "1",
     "table orders: column 1: scale is larger than precision"},
    {"tables.0.verify.mismatches", "-1",
     "table orders: verify.mismatches is -1"},
    {"tables.0.verify.frontier", "\"x\"",
     "table orders: verify.frontier is not null or a key"},
    {"triggers.lag.since", "\"soon\"", "triggers.lag.since is not a number"},
    {"triggers.lag.firings", "-1", "triggers.lag.firings is -1"},
    {"last_error.code", "\"NOPE\"",
     "last_error.code \"NOPE\" is not an error cutover knows"},
    /* each field in range, the whole impossible (migration_check_state) */
    {"switched", "false",
     "invariant broken: switched is false in cutover step switch"},
    {"cutover.step", "\"fence\"",
     "invariant broken: switched is true in cutover step fence"},
    {"state", "\"sync\"",
     "invariant broken: state sync has resume_state cutover"},
    {"tables.0.copy_done", "false",
     "invariant broken: table orders is not copied in state cutover"},
};

/* The container of path's last element and that element. */
static json_t *walk(json_t *j, const char *path, char *last, size_t cap)
{
    char buf[256], *save = NULL, *part, *next;

    snprintf(buf, sizeof buf, "%s", path);
    part = strtok_r(buf, ".", &save);
    while ((next = strtok_r(NULL, ".", &save))) {
        j = json_is_array(j) ? json_array_get(j, strtoul(part, NULL, 10))
                             : json_object_get(j, part);
        part = next;
    }
    snprintf(last, cap, "%s", part);
    return j;
}

static void run_bad_field(void **state)
{
    const struct bad_field *bf = (const struct bad_field *)*state;
    struct fixture f;
    struct migration *m2;
    struct co_err err = {0};
    json_t *cp, *parent, *value;
    char last[64];
    void *fs = &f;

    assert_int_equal(setup(&fs), 0);
    f = *(struct fixture *)fs;
    set_schema(f.m, "total", 1);
    fill_model(f.m);
    json_object_set_new(f.m->trigger_states, "lag",
                        json_pack("{sf sb si}", "since", 1700000050.0,
                                  "fired", 0, "firings", 0));
    cp = migration_to_json(f.m);
    /* the checkpoint as it is reads back */
    m2 = migration_new(f.rb);
    set_schema(m2, "total", 0);
    if (migration_from_json(m2, cp, &err) != 0)
        fail_msg("the unchanged checkpoint: %s", err.msg);
    migration_free(m2);

    parent = walk(cp, bf->path, last, sizeof last);
    assert_non_null(parent);
    value = json_loads(bf->value, JSON_DECODE_ANY, NULL);
    assert_non_null(value);
    if (json_is_array(parent))
        json_array_set_new(parent, strtoul(last, NULL, 10), value);
    else
        json_object_set_new(parent, last, value);
    m2 = migration_new(f.rb);
    set_schema(m2, "total", 0);
    assert_int_equal(migration_from_json(m2, cp, &err), CO_ECHECKPOINT);
    assert_contains(err.msg, bf->message);
    json_decref(cp);
    migration_free(m2);
    teardown(&fs);
}

static void too_many_copy_ranges_are_refused(void **state)
{
    struct fixture *f = *state;
    struct migration *m2 = migration_new(f->rb);
    struct co_err err = {0};
    json_t *cp, *ranges;

    set_schema(f->m, "total", 1);
    fill_model(f->m);
    cp = migration_to_json(f->m);
    ranges = json_object_get(json_array_get(json_object_get(cp, "tables"), 0),
                             "ranges");
    while (json_array_size(ranges) <= MAX_COPY_RANGES)
        json_array_append(ranges, json_array_get(ranges, 1));
    set_schema(m2, "total", 0);
    assert_int_equal(migration_from_json(m2, cp, &err), CO_ECHECKPOINT);
    assert_contains(err.msg, "table orders: ranges has 66 ranges; a copy has "
                             "at most 65");
    json_decref(cp);
    migration_free(m2);
}

/* Read back the filled model's checkpoint with "migration_id" set to id
 * (NULL: without one); returns from_json's result. */
static int from_json_with_id(struct fixture *f, const char *id,
                             struct migration **out, struct co_err *err)
{
    json_t *cp;
    int rc;

    set_schema(f->m, "total", 1);
    fill_model(f->m);
    cp = migration_to_json(f->m);
    if (id)
        json_object_set_new(cp, "migration_id", json_string(id));
    else
        json_object_del(cp, "migration_id");
    *out = migration_new(f->rb);
    set_schema(*out, "total", 0);
    rc = migration_from_json(*out, cp, err);
    json_decref(cp);
    return rc;
}

/* A checkpoint written before migration ids: the migration's objects
 * carry no mark, and it resumes as one without an id. */
static void checkpoint_without_an_id_is_a_migration_from_before_ids(
    void **state)
{
    struct migration *m2;
    struct co_err err = {0};

    if (from_json_with_id(*state, NULL, &m2, &err) != 0)
        fail_msg("from_json: %s", err.msg);
    assert_string_equal(m2->id, "");
    migration_free(m2);
}

static void malformed_id_is_refused(void **state)
{
    struct migration *m2;
    struct co_err err = {0};

    assert_int_equal(from_json_with_id(*state, "*/ DROP TABLE x", &m2, &err),
                     CO_ECHECKPOINT);
    assert_contains(err.msg, "migration_id");
    migration_free(m2);
}

/* ---- logical types across checkpoint formats ---------------------------- */

#define FIXTURE_FORMAT1 "checkpoint_orders_format1.json"
#define FIXTURE_FORMAT2 "checkpoint_orders_format2.json"

static int (*mysql_types(void))(const char *, struct logical_type *)
{
    return driver_target("mysql")->logical_of_type;
}

/* The filled model with each column's logical type, as plan records it. */
static json_t *orders_checkpoint(struct migration *m)
{
    set_schema(m, "total", 1);
    fill_model(m);
    for (int c = 0; c < 2; c++) {
        struct colmap *map = &m->schema.tables[0].cols[c].map;
        map->has_logical = mysql_types()(map->type, &map->logical) == 0;
    }
    return migration_to_json(m);
}

/* Read fixture `name` as `cutover resume` does (through the state dir);
 * returns from_json's result, *out the model read. */
static int load_fixture(struct fixture *f, const char *name,
                        struct migration **out, struct co_err *err)
{
    json_t *cp = NULL;
    int rc;

    if (ut_install_fixture(f->dir, name) < 0)
        fail_msg("fixture %s is missing or cannot be copied", name);
    if ((rc = migration_peek(f->dir, &cp, err)) < 0)
        return rc;
    *out = migration_new(f->rb);
    set_schema(*out, "total", 0);
    (*out)->logical_of_type = f->m->logical_of_type;
    rc = migration_from_json(*out, cp, err);
    json_decref(cp);
    return rc;
}

static void expect_orders_logical_types(const struct migration *m)
{
    const struct colmap *id = &m->schema.tables[0].cols[0].map;
    const struct colmap *total = &m->schema.tables[0].cols[1].map;

    assert_string_equal(id->type, "BIGINT");
    assert_true(id->has_logical);
    assert_int_equal(id->logical.kind, LK_INTEGER);
    assert_false(id->logical.is_unsigned);
    assert_true(id->logical.int_min == INT64_MIN);
    assert_true(id->logical.int_max == (uint64_t)INT64_MAX);
    assert_string_equal(total->type, "DECIMAL(12,2)");
    assert_true(total->has_logical);
    assert_int_equal(total->logical.kind, LK_DECIMAL);
    assert_int_equal(total->logical.precision, 12);
    assert_int_equal(total->logical.scale, 2);
}

static json_t *columns_of(json_t *cp)
{
    return json_object_get(json_array_get(json_object_get(cp, "tables"), 0),
                           "columns");
}

static void format2_fixture_keeps_the_logical_types(void **state)
{
    struct fixture *f = *state;
    struct migration *m2 = NULL;
    struct co_err err = {0};

    if (load_fixture(f, FIXTURE_FORMAT2, &m2, &err) != 0)
        fail_msg("from_json: %s", err.msg);
    expect_orders_logical_types(m2);
    migration_free(m2);
}

/* Format 1 kept only the MySQL type: the target driver reads the logical
 * type from it, and the model then writes what format 2 keeps. */
static void format1_fixture_is_upgraded_through_the_target_driver(
    void **state)
{
    struct fixture *f = *state;
    struct migration *m2 = NULL, *m3 = NULL;
    struct co_err err = {0};
    json_t *upgraded;

    f->m->logical_of_type = mysql_types();
    if (load_fixture(f, FIXTURE_FORMAT1, &m2, &err) != 0)
        fail_msg("from_json: %s", err.msg);
    expect_orders_logical_types(m2);
    upgraded = migration_to_json(m2);
    if (load_fixture(f, FIXTURE_FORMAT2, &m3, &err) != 0)
        fail_msg("from_json: %s", err.msg);
    json_t *current = migration_to_json(m3);
    assert_json_equal(columns_of(upgraded), columns_of(current));
    json_decref(upgraded);
    json_decref(current);
    migration_free(m2);
    migration_free(m3);
}

static void format1_fixture_without_a_type_reader_is_refused(void **state)
{
    struct fixture *f = *state;
    struct migration *m2 = NULL;
    struct co_err err = {0};

    assert_int_equal(load_fixture(f, FIXTURE_FORMAT1, &m2, &err),
                     CO_ECHECKPOINT);
    assert_string_equal(err.msg, "checkpoint: format 1 keeps no logical "
                                 "types and no target driver was given to "
                                 "read them from the column types");
    migration_free(m2);
}

static void malformed_logical_type_is_refused_naming_the_column(
    void **state)
{
    struct fixture *f = *state;
    struct migration *m2 = migration_new(f->rb);
    struct co_err err = {0};
    json_t *cp = orders_checkpoint(f->m);

    json_object_set_new(json_object_get(json_array_get(columns_of(cp), 1),
                                        "logical"),
                        "scale", json_integer(13));
    set_schema(m2, "total", 0);
    assert_int_equal(migration_from_json(m2, cp, &err), CO_ECHECKPOINT);
    assert_string_equal(err.msg, "checkpoint: table orders: column total: "
                                 "logical type: \"scale\" is not an integer "
                                 "from 0 to 12");
    json_decref(cp);
    migration_free(m2);
}

/* Both golden files from the same filled model. */
static int write_fixtures(const char *out)
{
    void *state = NULL;
    struct fixture *f;
    struct co_err err = {0};
    json_t *cp, *col;
    char *path, *written;
    size_t i;
    int rc = 1;

    if (setup(&state) != 0)
        return 1;
    f = state;
    cp = orders_checkpoint(f->m);
    if (checkpoint_write(f->dir, cp, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        goto out;
    }
    written = ut_path(f->dir, CHECKPOINT_FILE);
    path = ut_path(out, FIXTURE_FORMAT2);
    rc = rename(written, path) < 0 || chmod(path, 0644) < 0;
    free(written);
    free(path);
    json_array_foreach(columns_of(cp), i, col)
        json_object_del(col, "logical");
    path = ut_path(out, FIXTURE_FORMAT1);
    rc |= ut_checkpoint_forge(cp, 1, path) < 0;
    free(path);
out:
    json_decref(cp);
    teardown(&state);
    return rc;
}

int main(int argc, char **argv)
{
#define TF(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest fixed[] = {
        TF(start_writes_checkpoint_and_appends_stage_event),
        TF(illegal_transition_changes_nothing),
        TF(pause_records_and_resume_returns_to_the_stage_left),
        TF(transition_whose_checkpoint_fails_is_undone),
        TF(earlier_snapshot_never_replaces_a_later_one),
        TF(model_survives_to_json_from_json),
        TF(checkpoint_without_a_gtid_loads),
        TF(last_error_survives_to_json_from_json),
        TF(renamed_column_is_reported_as_changed),
        TF(long_utf8_error_keeps_the_model_saveable),
        TF(duplicated_table_in_a_checkpoint_is_malformed),
        TF(changed_source_path_is_reported_as_changed),
        TF(changed_engine_is_reported_as_changed),
        TF(too_many_copy_ranges_are_refused),
        TF(checkpoint_without_an_id_is_a_migration_from_before_ids),
        TF(malformed_id_is_refused),
        TF(format2_fixture_keeps_the_logical_types),
        TF(format1_fixture_is_upgraded_through_the_target_driver),
        TF(format1_fixture_without_a_type_reader_is_refused),
        TF(malformed_logical_type_is_refused_naming_the_column),
    };
    enum { NFIXED = sizeof fixed / sizeof fixed[0],
           NBAD = sizeof bad_fields / sizeof bad_fields[0] };
    struct CMUnitTest tests[NFIXED + NBAD];
    char names[NBAD][160];

    if (argc == 3 && strcmp(argv[1], "--write-fixtures") == 0)
        return write_fixtures(argv[2]);
    memcpy(tests, fixed, sizeof fixed);
    for (size_t i = 0; i < NBAD; i++) {
        snprintf(names[i], sizeof names[i], "refuses %s = %s",
                 bad_fields[i].path, bad_fields[i].value);
        tests[NFIXED + i] = (struct CMUnitTest){
            names[i], run_bad_field, NULL, NULL, (void *)&bad_fields[i]};
    }
    unsetenv("CUTOVER_FAULT_IO");
    log_set_quiet(1);              /* no "a → b" info lines in test output */
    return _cmocka_run_group_tests("migration", tests, NFIXED + NBAD, NULL,
                                   NULL);
}
