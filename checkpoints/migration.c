/*
 * migration.c — the model's lifecycle, its checkpoint form, and
 * migration_transition(), the only place the state changes.
 */
#include "checkpoints/migration.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoints/checkpoint.h"
#include "lib/events.h"
#include "lib/log.h"
#include "lib/xalloc.h"

struct migration *migration_new(struct runbook *rb)
{
    struct migration *m = xcalloc(1, sizeof *m);

    pthread_mutex_init(&m->mu, NULL);
    pthread_mutex_init(&m->save_mu, NULL);
    m->rb = rb;
    m->state = ST_NEW;
    m->resume_state = ST_NEW;
    m->history = json_array();
    m->trigger_states = json_object();
    m->max_rows_per_s = rb ? rb->copy.max_rows_per_s : 0;
    return m;
}

static void ranges_free(struct table_state *ts)
{
    for (int r = 0; r < ts->nranges; r++) {
        tuple_free(&ts->ranges[r].lo);
        tuple_free(&ts->ranges[r].hi);
        tuple_free(&ts->ranges[r].frontier);
        pthread_mutex_destroy(&ts->ranges[r].lock);
    }
    free(ts->ranges);
    ts->ranges = NULL;
    ts->nranges = 0;
}

void migration_free(struct migration *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->ntables; i++) {
        ranges_free(&m->tables[i]);
        tuple_free(&m->tables[i].verify_frontier);
    }
    free(m->tables);
    schema_free(&m->schema);
    json_decref(m->history);
    json_decref(m->trigger_states);
    json_decref(m->cut.steps_ms);
    json_decref(m->kept_tables);
    pthread_mutex_destroy(&m->mu);
    pthread_mutex_destroy(&m->save_mu);
    free(m);
}

int migration_set_schema(struct migration *m, struct schema *sc)
{
    struct table_state *ts = xcalloc((size_t)sc->ntables + 1, sizeof *ts);

    for (int i = 0; i < m->ntables; i++)
        ranges_free(&m->tables[i]);
    free(m->tables);
    schema_free(&m->schema);
    m->schema = *sc;
    memset(sc, 0, sizeof *sc);
    m->tables = ts;
    m->ntables = m->schema.ntables;
    for (int i = 0; i < m->ntables; i++)
        ts[i].t = &m->schema.tables[i];
    return 0;
}

void migration_set_kept(struct migration *m, json_t *names)
{
    json_decref(m->kept_tables);
    m->kept_tables = json_is_array(names) ? json_deep_copy(names) : NULL;
}

void migration_kept_from_json(struct migration *m, json_t *cp)
{
    migration_set_kept(m, json_object_get(cp, "kept_tables"));
}

void migration_drop_kept(const struct migration *m, struct schema *sc)
{
    size_t i;
    json_t *name;

    json_array_foreach(m->kept_tables, i, name)
        if (json_is_string(name))
            schema_drop_table(sc, json_string_value(name));
}

struct table_state *migration_table(struct migration *m, const char *name)
{
    for (int i = 0; i < m->ntables; i++)
        if (strcmp(m->tables[i].t->name, name) == 0)
            return &m->tables[i];
    return NULL;
}

void migration_on_transition(struct migration *m, transition_hook_fn fn,
                             void *arg)
{
    m->hook = fn;
    m->hook_arg = arg;
}

void migration_set_error(struct migration *m, const struct co_err *err)
{
    pthread_mutex_lock(&m->mu);
    utf8_copy(m->last_error, sizeof m->last_error, co_err_text(err));
    redact(m->last_error, sizeof m->last_error);
    m->last_error_code = err->code;
    pthread_mutex_unlock(&m->mu);
}

int migration_exit_code(enum fsm_state s)
{
    switch (s) {
    case ST_COMPLETED: return EXIT_OK;
    case ST_ABORTED: return EXIT_ABORTED;
    case ST_ROLLED_BACK: return EXIT_ROLLED_BACK;
    case ST_FAILED: return EXIT_ERROR;
    default: return EXIT_PAUSED;
    }
}

/* ---- checkpoint form ------------------------------------------------------ */

static json_t *tuple_or_null(const struct tuple *t)
{
    return t->n ? tuple_to_json(t) : json_null();
}

static json_t *runbook_identity(const struct runbook *rb)
{
    char target[512];

    snprintf(target, sizeof target, "%s/%s",
             rb->target.socket ? rb->target.socket : rb->target.host,
             rb->target.database);
    /* collation: null for a target without one (the driver's default) */
    return json_pack("{ss ss ss ss ss? ss ss ss}", "sha256", rb->sha256_hex,
                     "name", rb->name, "source", rb->source.label, "target",
                     target, "collation", rb->schema.collation, "schema_mode",
                     rb->schema.mode == SCHEMA_CREATE ? "create" : "existing",
                     "source_type", rb->source.type, "target_type",
                     rb->target.type);
}

static json_t *columns_json(const struct table *t)
{
    json_t *cols = json_array();

    for (int c = 0; c < t->ncols; c++) {
        const struct column *col = &t->cols[c];
        json_array_append_new(cols, json_pack(
            "{ss ss ss si si ss sb sb}", "name", col->name, "type",
            col->map.type, "lt", ltype_name(col->map.lt), "precision",
            col->map.precision, "scale", col->map.scale, "dt",
            dt_repr_name(col->map.dt), "autoinc", col->map.autoinc,
            "rowid", col->is_rowid));
        json_object_set_new(json_array_get(cols, (size_t)c), "logical",
                            col->map.has_logical
                                ? ltype_to_json(&col->map.logical)
                                : json_null());
    }
    return cols;
}

static json_t *table_json(const struct table_state *ts)
{
    json_t *ranges = json_array(), *key = json_array(), *j;

    for (int k = 0; k < ts->t->nkey; k++)
        json_array_append_new(key, json_string(ts->t->cols[ts->t->key[k]].name));
    for (int r = 0; r < ts->nranges; r++) {
        const struct copy_range *cr = &ts->ranges[r];
        json_array_append_new(ranges, json_pack(
            "{so so so sI sb}", "lo", tuple_or_null(&cr->lo), "hi",
            tuple_or_null(&cr->hi), "frontier", tuple_or_null(&cr->frontier),
            "rows", (json_int_t)cr->rows, "done", cr->done));
    }
    j = json_pack(
        "{ss so so sI sb sb sb sb so sI s{so sI sI sI sb sI}}", "name",
        ts->t->name, "key", key, "columns", columns_json(ts->t), "rows_total",
        (json_int_t)ts->rows_total, "created", ts->created, "owned",
        ts->owned, "copy_done",
        ts->copy_done, "indexes_done", ts->indexes_done, "ranges", ranges,
        "applied_seq", (json_int_t)ts->applied_seq, "verify", "frontier",
        tuple_or_null(&ts->verify_frontier), "rows",
        (json_int_t)ts->verify_rows, "chunks", (json_int_t)ts->verify_chunks,
        "mismatches", (json_int_t)ts->verify_mismatches, "done",
        ts->verify_done, "seq", (json_int_t)ts->verify_seq);
    /* only where there is one: a checkpoint without it still loads */
    if (ts->applied_gtid[0])
        json_object_set_new(j, "applied_gtid",
                            json_string(ts->applied_gtid));
    return j;
}

json_t *migration_to_json(struct migration *m)
{
    json_t *tables = json_array();

    for (int i = 0; i < m->ntables; i++)
        json_array_append_new(tables, table_json(&m->tables[i]));
    return json_pack(
        "{so ss ss ss sb sf sI s{ss ss} so s{ss si si sb sf sf} s{sf} sO sO "
        "s{ss ss} so}",
        "runbook", runbook_identity(m->rb), "migration_id", m->id,
        "state", fsm_state_name(m->state),
        "resume_state", fsm_state_name(m->resume_state), "switched",
        m->switched, "started_at", m->started_at, "source_schema_version",
        (json_int_t)m->source_schema_version, "backup", "file",
        m->backup_file, "sha256", m->backup_sha256, "tables", tables,
        "cutover", "step", cutover_step_name(m->cut.step), "attempt",
        m->cut.attempt, "switch_done", m->cut.switch_done, "go", m->cut.go,
        "last_pause_ms", m->cut.last_pause_ms, "next_attempt_at",
        m->cut.next_attempt_at, "post_validate", "started_at",
        m->post.started_at, "triggers", m->trigger_states, "history",
        m->history, "last_error", "code",
        m->last_error_code ? co_err_name(m->last_error_code) : "", "message",
        m->last_error, "kept_tables",
        m->kept_tables ? json_incref(m->kept_tables) : json_array());
}

json_t *migration_snapshot(struct migration *m, uint64_t *gen)
{
    json_t *cp = migration_to_json(m);

    /* The history and trigger states stay the model's: the snapshot gets
     * its own copies, read outside mu while the model moves on. */
    json_object_set_new(cp, "history", json_deep_copy(m->history));
    json_object_set_new(cp, "triggers", json_deep_copy(m->trigger_states));
    *gen = ++m->snapshot_gen;
    return cp;
}

int migration_write_snapshot(struct migration *m, json_t *cp, uint64_t gen,
                             struct co_err *err)
{
    int rc = 0;

    pthread_mutex_lock(&m->save_mu);
    if (gen > m->written_gen) {
        rc = checkpoint_write(m->rb->state_dir, cp, err);
        if (rc == 0)
            m->written_gen = gen;
    }
    pthread_mutex_unlock(&m->save_mu);
    return rc;
}

int migration_save(struct migration *m, struct co_err *err)
{
    uint64_t gen;
    json_t *cp;
    int rc;

    pthread_mutex_lock(&m->mu);
    cp = migration_snapshot(m, &gen);
    pthread_mutex_unlock(&m->mu);
    rc = migration_write_snapshot(m, cp, gen, err);
    json_decref(cp);
    return rc;
}

int migration_peek(const char *state_dir, json_t **cp, struct co_err *err)
{
    int rc = checkpoint_read(state_dir, cp, err);

    if (rc < 0)
        return rc;
    if (!json_is_string(json_object_get(*cp, "state")) ||
        fsm_state_by_name(json_string_value(json_object_get(*cp, "state"))) < 0) {
        json_decref(*cp);
        *cp = NULL;
        return co_errf(err, CO_ECHECKPOINT, "checkpoint in %s has no valid "
                       "\"state\"", state_dir);
    }
    return 0;
}

/* ---- reading a checkpoint back -------------------------------------------- */

#define BAD(...) co_errf(err, CO_ECHECKPOINT, __VA_ARGS__)

static int get_tuple(json_t *obj, const char *key, struct tuple *out,
                     const char *table, struct co_err *err)
{
    json_t *v = json_object_get(obj, key);

    if (!v || json_is_null(v)) {
        tuple_free(out);
        return 0;
    }
    if (tuple_from_json(v, out) < 0)
        return BAD("checkpoint: table %s: malformed key in \"%s\"", table,
                   key);
    return 0;
}

/* A column's logical type: stored beside its type since format 2, read
 * from the type through the target driver in a format 1 checkpoint. */
static int column_logical(const struct migration *m, int format,
                          struct column *col, json_t *c, const char *table,
                          struct co_err *err)
{
    json_t *j = json_object_get(c, "logical");
    char why[160];

    col->map.has_logical = 0;
    if (format >= 2) {
        if (json_is_null(j))
            return 0;       /* the target driver could not tell either */
        if (ltype_from_json(j, &col->map.logical, why, sizeof why) < 0)
            return BAD("checkpoint: table %s: column %s: %s", table,
                       col->name, why);
        col->map.has_logical = 1;
        return 0;
    }
    if (!m->logical_of_type)
        return BAD("checkpoint: format %d keeps no logical types and no "
                   "target driver was given to read them from the column "
                   "types", format);
    col->map.has_logical =
        m->logical_of_type(col->map.type, &col->map.logical) == 0;
    return 0;
}

static int apply_columns(const struct migration *m, int format,
                         struct table *t, json_t *cols, struct co_err *err)
{
    int rc;

    size_t i;
    json_t *c;

    if (!json_is_array(cols) || (int)json_array_size(cols) != t->ncols)
        return co_errf(err, CO_ECHANGED, "table %s: the source now has %d "
                       "columns, the migration started with %zu; a schema "
                       "change invalidates the migration (abort and start "
                       "again)", t->name, t->ncols,
                       json_is_array(cols) ? json_array_size(cols) : 0);
    json_array_foreach(cols, i, c) {
        struct column *col = &t->cols[i];
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *type = json_string_value(json_object_get(c, "type"));
        const char *lt = json_string_value(json_object_get(c, "lt"));
        const char *dt = json_string_value(json_object_get(c, "dt"));

        if (!name || !type || !lt || !dt || ltype_by_name(lt) < 0 ||
            dt_repr_by_name(dt) < 0)
            return BAD("checkpoint: table %s: malformed column %zu", t->name,
                       i);
        if (strcmp(name, col->name) != 0)
            return co_errf(err, CO_ECHANGED, "table %s: column %zu is now "
                           "\"%s\", the migration started with \"%s\"",
                           t->name, i, col->name, name);
        if (strlen(type) >= sizeof col->map.type)
            return BAD("checkpoint: table %s: column %s: type too long",
                       t->name, col->name);
        snprintf(col->map.type, sizeof col->map.type, "%s", type);
        col->map.lt = (enum ltype)ltype_by_name(lt);
        col->map.dt = (enum dt_repr)dt_repr_by_name(dt);
        col->map.precision = (int)json_integer_value(json_object_get(c, "precision"));
        col->map.scale = (int)json_integer_value(json_object_get(c, "scale"));
        col->map.autoinc = json_is_true(json_object_get(c, "autoinc"));
        if ((rc = column_logical(m, format, col, c, t->name, err)) < 0)
            return rc;
        snprintf(col->map.reason, sizeof col->map.reason,
                 "as decided when the migration started");
    }
    return 0;
}

static int table_from_json(const struct migration *m, int format,
                           struct table_state *ts, json_t *j,
                           struct co_err *err)
{
    json_t *ranges = json_object_get(j, "ranges"), *r, *v;
    const char *name = ts->t->name;
    size_t i;
    int rc;

    if ((rc = apply_columns(m, format, ts->t, json_object_get(j, "columns"),
                            err)) < 0)
        return rc;
    if (!json_is_array(ranges))
        return BAD("checkpoint: table %s: \"ranges\" is not an array", name);
    ts->rows_total = json_integer_value(json_object_get(j, "rows_total"));
    ts->created = json_is_true(json_object_get(j, "created"));
    ts->owned = json_is_true(json_object_get(j, "owned"));
    ts->copy_done = json_is_true(json_object_get(j, "copy_done"));
    ts->indexes_done = json_is_true(json_object_get(j, "indexes_done"));
    ts->applied_seq = json_integer_value(json_object_get(j, "applied_seq"));
    if ((v = json_object_get(j, "applied_gtid")))   /* checked: a GTID */
        snprintf(ts->applied_gtid, sizeof ts->applied_gtid, "%s",
                 json_string_value(v));
    ts->ranges = xcalloc(json_array_size(ranges) + 1, sizeof *ts->ranges);
    json_array_foreach(ranges, i, r) {
        struct copy_range *cr = &ts->ranges[i];
        pthread_mutex_init(&cr->lock, NULL);
        ts->nranges = (int)i + 1;
        if (!json_is_object(r))
            return BAD("checkpoint: table %s: range %zu malformed", name, i);
        if ((rc = get_tuple(r, "lo", &cr->lo, name, err)) < 0 ||
            (rc = get_tuple(r, "hi", &cr->hi, name, err)) < 0 ||
            (rc = get_tuple(r, "frontier", &cr->frontier, name, err)) < 0)
            return rc;
        cr->rows = json_integer_value(json_object_get(r, "rows"));
        cr->done = json_is_true(json_object_get(r, "done"));
    }
    v = json_object_get(j, "verify");
    if (json_is_object(v)) {
        if ((rc = get_tuple(v, "frontier", &ts->verify_frontier, name, err)) < 0)
            return rc;
        ts->verify_rows = json_integer_value(json_object_get(v, "rows"));
        ts->verify_chunks = json_integer_value(json_object_get(v, "chunks"));
        ts->verify_mismatches =
            json_integer_value(json_object_get(v, "mismatches"));
        ts->verify_done = json_is_true(json_object_get(v, "done"));
        ts->verify_seq = json_integer_value(json_object_get(v, "seq"));
    }
    return 0;
}

/* Runbook changes that make the recorded state meaningless. */
static int check_identity(struct migration *m, json_t *id, struct co_err *err)
{
    json_t *now = runbook_identity(m->rb);
    /* The engines too: another driver would not find what this one made.
     * A checkpoint from before they were recorded has neither: skipped. */
    static const char *const keys[] = {"source", "target", "collation",
                                       "schema_mode", "source_type",
                                       "target_type", NULL};
    char diffs[768] = "";

    if (!json_is_object(id)) {
        json_decref(now);
        return BAD("checkpoint has no \"runbook\" section");
    }
    for (int i = 0; keys[i]; i++) {
        const char *was = json_string_value(json_object_get(id, keys[i]));
        const char *is = json_string_value(json_object_get(now, keys[i]));
        if (!was || !is || strcmp(was, is) == 0)
            continue;
        size_t o = strlen(diffs);
        snprintf(diffs + o, sizeof diffs - o, "%s%s was \"%s\", now \"%s\"",
                 o ? "; " : "", keys[i], was, is);
    }
    json_decref(now);
    if (diffs[0])
        return co_errf(err, CO_ECHANGED, "the runbook changed in ways that "
                       "invalidate the migration in progress: %s (restore the "
                       "runbook, or abort and start again)", diffs);
    return 0;
}

static int check_tables(struct migration *m, json_t *tables,
                        struct co_err *err)
{
    size_t i;
    json_t *t;

    json_array_foreach(tables, i, t) {
        const char *name = json_string_value(json_object_get(t, "name"));
        if (!name)
            return BAD("checkpoint: table %zu has no name", i);
        for (size_t k = 0; k < i; k++)
            if (strcmp(name, json_string_value(json_object_get(
                                 json_array_get(tables, k), "name"))) == 0)
                return BAD("checkpoint: table %s is listed twice", name);
        if (!migration_table(m, name))
            return co_errf(err, CO_ECHANGED, "table %s is part of the "
                           "migration but is no longer in the source or is "
                           "now excluded by the runbook", name);
    }
    for (int k = 0; k < m->ntables; k++) {
        int found = 0;
        json_array_foreach(tables, i, t) {
            const char *name = json_string_value(json_object_get(t, "name"));
            found |= name && strcmp(name, m->tables[k].t->name) == 0;
        }
        if (!found)
            return co_errf(err, CO_ECHANGED, "table %s is selected now but "
                           "was not when the migration started (new table or "
                           "changed include/exclude)", m->tables[k].t->name);
    }
    return 0;
}

int migration_from_json(struct migration *m, json_t *cp, struct co_err *err)
{
    json_t *tables = json_object_get(cp, "tables"), *t, *cut, *v;
    const char *state = json_string_value(json_object_get(cp, "state"));
    const char *resume = json_string_value(json_object_get(cp, "resume_state"));
    /* no "format": a model's own JSON, not yet written (the current form) */
    json_t *fmt = json_object_get(cp, "format");
    int format = fmt ? (int)json_integer_value(fmt) : CHECKPOINT_FORMAT;
    size_t i;
    int rc;

    if (!state || fsm_state_by_name(state) < 0 || !resume ||
        fsm_state_by_name(resume) < 0)
        return BAD("checkpoint has no valid \"state\"/\"resume_state\"");
    if ((rc = check_identity(m, json_object_get(cp, "runbook"), err)) < 0)
        return rc;
    if (!json_is_array(tables))
        return BAD("checkpoint has no \"tables\" array");
    if (json_array_size(tables) > 0 &&
        (rc = check_tables(m, tables, err)) < 0)
        return rc;
    if ((rc = migration_check(m->rb, m, cp, err)) < 0)
        return rc;
    json_array_foreach(tables, i, t) {
        struct table_state *ts =
            migration_table(m, json_string_value(json_object_get(t, "name")));
        if ((rc = table_from_json(m, format, ts, t, err)) < 0)
            return rc;
    }
    /* A checkpoint without an id is from a cutover that gave none: its
     * objects carry no mark (lib/owner.h). */
    v = json_object_get(cp, "migration_id");
    if (v && (!json_is_string(v) || !owner_id_valid(json_string_value(v))))
        return BAD("checkpoint: \"migration_id\" is not %d hex digits",
                   OWNER_ID_LEN);
    snprintf(m->id, sizeof m->id, "%s", v ? json_string_value(v) : "");
    m->state = (enum fsm_state)fsm_state_by_name(state);
    m->resume_state = (enum fsm_state)fsm_state_by_name(resume);
    m->switched = json_is_true(json_object_get(cp, "switched"));
    m->started_at = json_number_value(json_object_get(cp, "started_at"));
    m->source_schema_version =
        json_integer_value(json_object_get(cp, "source_schema_version"));
    v = json_object_get(cp, "backup");
    utf8_copy(m->backup_file, sizeof m->backup_file,
              json_string_value(json_object_get(v, "file")) ?
              json_string_value(json_object_get(v, "file")) : "");
    utf8_copy(m->backup_sha256, sizeof m->backup_sha256,
              json_string_value(json_object_get(v, "sha256")) ?
              json_string_value(json_object_get(v, "sha256")) : "");
    cut = json_object_get(cp, "cutover");
    if (json_is_object(cut)) {
        const char *step = json_string_value(json_object_get(cut, "step"));
        if (!step || cutover_step_by_name(step) < 0)
            return BAD("checkpoint: cutover.step is missing or unknown");
        m->cut.step = (enum cutover_step)cutover_step_by_name(step);
        m->cut.attempt = (int)json_integer_value(json_object_get(cut, "attempt"));
        m->cut.switch_done =
            (int)json_integer_value(json_object_get(cut, "switch_done"));
        m->cut.go = json_is_true(json_object_get(cut, "go"));
        m->cut.last_pause_ms =
            json_number_value(json_object_get(cut, "last_pause_ms"));
        m->cut.next_attempt_at =
            json_number_value(json_object_get(cut, "next_attempt_at"));
    }
    v = json_object_get(cp, "post_validate");
    m->post.started_at = json_number_value(json_object_get(v, "started_at"));
    if (json_is_array(json_object_get(cp, "history"))) {
        json_decref(m->history);
        m->history = json_copy(json_object_get(cp, "history"));
    }
    if (json_is_object(json_object_get(cp, "triggers"))) {
        json_decref(m->trigger_states);
        m->trigger_states = json_deep_copy(json_object_get(cp, "triggers"));
    }
    v = json_object_get(cp, "last_error");
    utf8_copy(m->last_error, sizeof m->last_error,
              json_string_value(json_object_get(v, "message")) ?
              json_string_value(json_object_get(v, "message")) : "");
    if (json_string_value(json_object_get(v, "code")))
        m->last_error_code =
            co_err_by_name(json_string_value(json_object_get(v, "code")));
    /* Each field may be in range and the whole still impossible (switched
     * before the fence, a copy not done in sync): not a state to act on. */
    struct co_err why = {0};
    if (migration_check_state(m, &why) < 0)
        return BAD("checkpoint: %s", why.msg);
    return 0;
}

/* ---- the one state-changing function --------------------------------------- */

static enum event_type outcome_event(enum fsm_state s)
{
    switch (s) {
    case ST_COMPLETED: return EVT_COMPLETED;
    case ST_ABORTED: return EVT_ABORTED;
    case ST_ROLLED_BACK: return EVT_ROLLED_BACK;
    default: return EVT_FAILED;
    }
}

/* The summary carried by completed/failed/aborted/rolled_back events. */
static json_t *outcome(struct migration *m)
{
    int64_t rows = 0;

    for (int i = 0; i < m->ntables; i++)
        for (int r = 0; r < m->tables[i].nranges; r++)
            rows += m->tables[i].ranges[r].rows;
    json_t *o = json_pack("{si sI sf sb}", "tables", m->ntables,
                          "rows_copied", (json_int_t)rows, "elapsed_s",
                          m->started_at > 0 ? now_s() - m->started_at : 0.0,
                          "switched", m->switched);
    if (m->cut.last_pause_ms > 0)
        json_object_set_new(o, "write_pause_ms",
                            json_real(m->cut.last_pause_ms));
    if (m->last_error[0])
        json_object_set_new(o, "error", json_string(m->last_error));
    return o;
}

int migration_transition(struct migration *m, enum fsm_event ev,
                         const char *reason, struct co_err *err)
{
    enum fsm_state from, to_save_resume;
    int to, rc;
    char ts[32];
    json_t *entry, *fields;

    pthread_mutex_lock(&m->mu);
    from = m->state;
    to = fsm_next(from, ev, m->switched, m->resume_state);
    if (to < 0) {
        pthread_mutex_unlock(&m->mu);
        return co_errf(err, CO_ESTATE, "cannot %s while %s%s",
                       fsm_event_name(ev), fsm_state_name(from),
                       m->switched ? " (traffic already switched: use "
                                     "rollback)" : "");
    }
    to_save_resume = m->resume_state;
    if (to == ST_PAUSED || to == ST_FAILED)
        m->resume_state = from;
    else if (fsm_state_is_stage((enum fsm_state)to) ||
             to == ST_ABORTING || to == ST_ROLLING_BACK)
        m->resume_state = (enum fsm_state)to;
    m->state = (enum fsm_state)to;
    migration_assert_state(m);
    if (to != ST_FAILED && to != ST_PAUSED) {
        m->last_error[0] = '\0';
        m->last_error_code = 0;
    }
    events_ts(ts);
    entry = json_pack("{ss ss ss ss ss}", "ts", ts, "from",
                      fsm_state_name(from), "to", fsm_state_name(to), "event",
                      fsm_event_name(ev), "reason", reason ? reason : "");
    json_array_append_new(m->history, entry);
    /* Written before mu is released: nobody sees a state that is not
     * durable. */
    uint64_t gen;
    json_t *cp = migration_snapshot(m, &gen);
    rc = migration_write_snapshot(m, cp, gen, err);
    json_decref(cp);
    if (rc < 0) {
        /* Not durable, so it did not happen. */
        m->state = from;
        m->resume_state = to_save_resume;
        json_array_remove(m->history, json_array_size(m->history) - 1);
        pthread_mutex_unlock(&m->mu);
        return rc;
    }
    fields = json_pack("{ss ss ss ss}", "from", fsm_state_name(from), "to",
                       fsm_state_name(to), "event", fsm_event_name(ev),
                       "reason", reason ? reason : "");
    if (to == ST_FAILED && m->last_error[0])
        json_object_set_new(fields, "error", json_string(m->last_error));
    events_emit(EVT_STAGE, fields);
    if (fsm_state_is_terminal((enum fsm_state)to) || to == ST_FAILED)
        events_emit(outcome_event((enum fsm_state)to), outcome(m));
    if (m->hook)
        m->hook(m->hook_arg, from, (enum fsm_state)to, reason);
    pthread_mutex_unlock(&m->mu);
    log_info("%s → %s%s%s", fsm_state_name(from), fsm_state_name(to),
             reason && *reason ? ": " : "", reason ? reason : "");
    return 0;
}
