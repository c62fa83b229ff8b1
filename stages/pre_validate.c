/*
 * pre_validate.c — the pre_validate stage and the analysis `cutover plan`
 * prints (DESIGN §5).
 *
 * Nothing here changes either database. The stage then takes an online
 * backup of the source into the state dir, records the schema with every
 * column's type decision in the checkpoint (a resume never re-decides), and
 * refuses to go on while anything is blocking.
 */
#include "stages/pre_validate.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/events.h"
#include "lib/log.h"
#include "lib/runbook.h"
#include "stages/backup.h"
#include "stages/plan/bookkeeping.h"
#include "stages/plan/checks.h"
#include "stages/plan/collisions.h"
#include "stages/plan/existing.h"
#include "lib/faults.h"
#include "lib/xalloc.h"
#include "stages/stage.h"
#include "sync/drivers/registry.h"
#include "sync/census.h"
#include "sync/typemap.h"

const char *severity_name(enum severity s)
{
    static const char *const names[] = {"info", "warning", "blocking"};
    return names[s];
}

struct finding *plan_add(struct plan *p, enum severity sev, const char *code,
                         const char *table, const char *column,
                         const char *hint, const char *fmt, ...)
{
    struct finding *f;
    va_list ap;
    char msg[1024];

    p->findings = xrealloc(p->findings,
                          sizeof *p->findings * (size_t)(p->nfindings + 1));
    f = &p->findings[p->nfindings++];
    memset(f, 0, sizeof *f);
    f->sev = sev;
    snprintf(f->code, sizeof f->code, "%s", code);
    f->table = table ? xstrdup(table) : NULL;
    f->column = column ? xstrdup(column) : NULL;
    f->hint = hint ? xstrdup(hint) : NULL;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    f->message = xstrdup(msg);
    if (sev == SEV_BLOCKING)
        p->blocking++;
    return f;
}

void plan_free(struct plan *p)
{
    for (int i = 0; i < p->nfindings; i++) {
        free(p->findings[i].table);
        free(p->findings[i].column);
        free(p->findings[i].message);
        free(p->findings[i].hint);
        json_decref(p->findings[i].examples);
        json_decref(p->findings[i].values);
    }
    free(p->findings);
    json_decref(p->kept);
    schema_free(&p->schema);
    memset(p, 0, sizeof *p);
}

static enum severity from_map(enum map_severity s)
{
    return s == MAP_BLOCKING ? SEV_BLOCKING
           : s == MAP_WARNING ? SEV_WARNING : SEV_INFO;
}

int plan_add_notes(struct plan *p, const struct source_ops *sops,
                   struct source *src, const struct table *t,
                   const struct map_note *notes, int n, struct co_err *err)
{
    for (int i = 0; i < n; i++) {
        const struct map_note *nt = &notes[i];
        struct finding probe = {0}, *f;
        int rows = 0;
        /* what the census cannot count: a finding only if rows match */
        if (nt->only_if_rows) {
            if ((rows = checks_examples(sops, src, t, &nt->rows, &probe,
                                        err)) < 0)
                return rows;
            if (rows == 0)
                continue;
        }
        f = plan_add(p, from_map(nt->severity), nt->code ? nt->code : "type",
                     t->name, t->cols[nt->column].name,
                     nt->hint ? nt->hint
                     : nt->severity == MAP_BLOCKING
                         ? "override the column type in schema.overrides or "
                           "fix the data" : NULL,
                     rows ? "%s (%d row%s)" : "%s", nt->message, rows,
                     rows == 1 ? "" : "s");
        if (nt->only_if_rows) {
            f->examples = probe.examples;
            f->values = probe.values;
        } else if (nt->has_rows &&
                   (rows = checks_examples(sops, src, t, &nt->rows, f,
                                           err)) < 0) {
            return rows;
        }
    }
    return 0;
}

static int analyze_table(const struct runbook *rb,
                         const struct source_ops *sops, struct source *src,
                         const struct target_ops *tops, struct target *tgt,
                         struct plan *p, struct table *t, struct co_err *err)
{
    struct col_census *census;
    struct map_note notes[64];
    int n, rc;

    if (rb->schema.mode == SCHEMA_EXISTING)
        return existing_analyze_table(rb, sops, src, tops, tgt, p, t, err);
    if (!(census = xcalloc((size_t)t->ncols + 1, sizeof *census)))
        return co_errf(err, CO_ENOMEM, "out of memory");
    for (int c = 0; c < t->ncols; c++)
        t->cols[c].override = runbook_override(rb, t->name, t->cols[c].name);
    if ((rc = sops->census(src, t, census, err)) < 0) {
        free(census);
        return rc;
    }
    t->rows_estimate = census[0].rows;
    n = typemap_decide(rb, sops, tops, t, census, notes, 64);
    rc = plan_add_notes(p, sops, src, t, notes, n, err);
    if (rc == 0)
        rc = checks_table(rb, sops, src, tops, tgt, p, t, census, err);
    if (rc == 0)
        rc = collisions_check(rb, sops, src, tops, tgt, p, t, census, err);
    free(census);
    return rc;
}

/* A member of a driver this runbook needs and the driver leaves out. */
struct unsupported_arg {
    struct plan *p;
    const char *source, *target;      /* the engines' names */
};

static void add_unsupported(void *arg, const char *side, const char *member,
                            const char *needed_for, int blocking)
{
    struct unsupported_arg *u = arg;
    const char *engine = side[0] == 's' ? u->source : u->target;

    plan_add(u->p, blocking ? SEV_BLOCKING : SEV_WARNING, "unsupported", NULL,
             NULL, blocking ? "change the runbook so it does not need it"
                            : NULL,
             "the %s %s driver does not support %s: %s%s", engine, side,
             member, needed_for, blocking ? "" : " is left out");
}

int pre_validate_analyze(const struct runbook *rb,
                         const struct source_ops *sops, struct source *src,
                         const struct target_ops *tops, struct target *tgt,
                         struct plan *p, struct co_err *err)
{
    double t0 = mono_s();
    int rc;

    memset(p, 0, sizeof *p);
    p->kept = json_array();
    if ((rc = sops->read_schema(src, rb, &p->schema, err)) < 0)
        return rc;
    snprintf(p->target_info, sizeof p->target_info, "%s",
             tops->server_info(tgt));
    driver_unsupported(rb, sops, tops, add_unsupported,
                       &(struct unsupported_arg){p, sops->name, tops->name});
    if ((rc = bookkeeping_check(rb, sops, src, tops, tgt, p, err)) < 0)
        return rc;
    if (p->schema.ntables == 0)
        plan_add(p, SEV_BLOCKING, "no_tables", NULL, NULL,
                 "check tables.include/exclude and source.path",
                 "no table of the source is selected for migration");
    for (int i = 0; i < p->schema.ntables; i++) {
        struct table *t = &p->schema.tables[i];
        if (t->nkey == 0) {
            plan_add(p, SEV_BLOCKING, "no_key", t->name, NULL,
                     "add a primary key, or set tables.keys to \"rowid\" or "
                     "to unique NOT NULL columns",
                     "table has no primary key and no unique NOT NULL key: "
                     "rows cannot be matched between source and target");
            continue;
        }
        if ((rc = analyze_table(rb, sops, src, tops, tgt, p, t, err)) < 0)
            return rc;
    }
    checks_runbook_names(rb, p);
    if ((rc = checks_foreign_objects(sops, src, tops, tgt, p, err)) < 0 ||
        (rc = checks_generated_names(tops, tgt, p, err)) < 0 ||
        (rc = checks_database(rb, sops, src, tops, tgt, p, err)) < 0 ||
        (rc = checks_replicas(rb, tops, tgt, p, err)) < 0)
        return rc;
    p->seconds = mono_s() - t0;
    return 0;
}

/* ---- the stage --------------------------------------------------------------- */

static int blocking_summary(const struct plan *p, struct co_err *err)
{
    char buf[900];
    size_t o = 0;

    for (int i = 0; i < p->nfindings && o + 8 < sizeof buf; i++) {
        const struct finding *f = &p->findings[i];
        if (f->sev != SEV_BLOCKING)
            continue;
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s%s%s%s: %s",
                              o ? "; " : "", f->table ? f->table : "",
                              f->column ? "." : "", f->column ? f->column : "",
                              f->table ? "" : "database", f->message);
    }
    return co_errf(err, CO_EBLOCKED, "%d blocking finding%s (run `cutover "
                   "plan` for the full report): %s", p->blocking,
                   p->blocking == 1 ? "" : "s", buf);
}

static int pv_enter(struct stage_ctx *ctx, struct co_err *err)
{
    return stage_connect(ctx, err);
}

static int pv_step(struct stage_ctx *ctx, struct co_err *err)
{
    struct migration *m = ctx->m;
    struct plan p;
    int rc;

    rc = pre_validate_analyze(ctx->rb, ctx->sops, ctx->src, ctx->tops,
                              ctx->tgt, &p, err);
    if (rc < 0)
        return rc;
    for (int i = 0; i < p.nfindings; i++)
        if (p.findings[i].sev != SEV_INFO)
            events_emit(EVT_LOG, json_pack(
                "{ss ss ss ss}", "level", severity_name(p.findings[i].sev),
                "code", p.findings[i].code, "table",
                p.findings[i].table ? p.findings[i].table : "", "message",
                p.findings[i].message));
    if (p.blocking) {
        rc = blocking_summary(&p, err);
        plan_free(&p);
        return rc;
    }
    fault_point("pre_validate", "analyzed");
    if (ctx->rb->backup.enabled &&
        (rc = backup_take(ctx->rb, ctx->sops, ctx->src, m, err)) < 0) {
        plan_free(&p);
        return rc;
    }
    fault_point("pre_validate", "backup");
    pthread_mutex_lock(&m->mu);
    rc = migration_set_schema(m, &p.schema);
    migration_set_kept(m, p.kept);
    pthread_mutex_unlock(&m->mu);
    plan_free(&p);
    if (rc < 0)
        return co_errf(err, rc, "out of memory");
    if ((rc = migration_save(m, err)) < 0)
        return rc;
    return STEP_DONE;
}

const struct stage stage_pre_validate = {
    .name = "pre_validate",
    .state = ST_PRE_VALIDATE,
    .enter = pv_enter,
    .step = pv_step,
};
