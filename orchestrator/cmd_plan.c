/*
 * cmd_plan.c — `plan` and `verify`: read-only commands that connect to both
 * databases themselves and never take the state dir's lock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "checkpoints/checkpoint.h"
#include "orchestrator/cli.h"
#include "lib/log.h"
#include "checkpoints/migration.h"
#include "lib/runbook.h"
#include "stages/pre_validate.h"
#include "sync/drivers/registry.h"
#include "sync/verifier.h"

/* The runbook's drivers, set by load_runbook (cli_load_runbook checked
 * that there is one for each side). */
static const struct source_ops *sops;
static const struct target_ops *tops;

static struct runbook *load_runbook(const char *path, int secrets, int *code)
{
    struct runbook *rb = cli_load_runbook(path, secrets, code);

    if (rb) {
        sops = driver_source(rb->source.type);
        tops = driver_target(rb->target.type);
    }
    return rb;
}

static int connect_both(struct runbook *rb, struct source **src,
                        struct target **tgt, struct co_err *err)
{
    int rc = sops->open(rb, src, err);

    if (rc < 0)
        return rc;
    if ((rc = tops->open(rb, &rb->target, tgt, err)) < 0) {
        sops->close(*src);
        *src = NULL;
    }
    return rc;
}

/* The migration whose objects plan may find without a finding: the one in
 * the state dir, if any (lib/owner.h); nobody's before `run`. */
static void set_owner_from_state(const struct runbook *rb, struct source *src,
                                 struct target *tgt)
{
    struct co_err err = {0};
    json_t *cp = NULL;
    const char *id = NULL;

    if (checkpoint_exists(rb->state_dir) &&
        migration_peek(rb->state_dir, &cp, &err) == 0) {
        json_t *v = json_object_get(cp, "migration_id");
        id = json_is_string(v) && owner_id_valid(json_string_value(v))
                 ? json_string_value(v) : v ? NULL : "";
    }
    sops->set_owner(src, id);
    tops->set_owner(tgt, id);
    json_decref(cp);
}

int cmd_plan(const char *path, int json)
{
    struct runbook *rb;
    struct source *src = NULL;
    struct target *tgt = NULL;
    struct co_err err = {0};
    struct plan p;
    int code, rc;

    log_set_quiet(1);
    if (!(rb = load_runbook(path, RB_SECRETS_ALL, &code)))
        return code;
    if ((rc = connect_both(rb, &src, &tgt, &err)) == 0) {
        set_owner_from_state(rb, src, tgt);
        rc = pre_validate_analyze(rb, sops, src, tops, tgt, &p,
                                  &err);
    }
    if (rc < 0) {
        fprintf(stderr, "cutover: plan: %s\n", co_err_text(&err));
        sops->close(src);
        tops->close(tgt);
        runbook_free(rb);
        return EXIT_ERROR;
    }
    if (json) {
        json_t *j = plan_to_json(&p, rb);
        char *text = json_dumps(j, JSON_INDENT(2));
        printf("%s\n", text);
        free(text);
        json_decref(j);
    } else {
        plan_print(&p, rb, stdout);
    }
    code = p.blocking ? EXIT_FINDINGS : EXIT_OK;
    plan_free(&p);
    sops->close(src);
    tops->close(tgt);
    runbook_free(rb);
    return code;
}

/* Standalone: no applier of ours to wait for; give a running one time. */
static int wait_a_little(void *arg, struct table_state *ts, int64_t seq,
                         struct co_err *err)
{
    (void)arg;
    (void)ts;
    (void)seq;
    (void)err;
    sleep(1);
    return 0;
}

int cmd_verify(const char *path, int json)
{
    struct runbook *rb;
    struct migration *m = NULL;
    struct source *src = NULL;
    struct target *tgt = NULL, *replica = NULL;
    struct co_err err = {0};
    struct verifier v;
    json_t *cp = NULL;
    int64_t bad = 0;
    int code, rc;

    log_set_quiet(1);
    if (!(rb = load_runbook(path, RB_PASSWORDS, &code)))
        return code;
    if ((rc = migration_peek(rb->state_dir, &cp, &err)) < 0 ||
        (rc = cli_load_model(rb, cp, &m, &err)) < 0 ||
        (rc = connect_both(rb, &src, &tgt, &err)) < 0) {
        fprintf(stderr, "cutover: verify: %s\n", co_err_text(&err));
        goto out;
    }
    if (m->ntables == 0) {
        fprintf(stderr, "cutover: verify: the migration has not finished "
                "pre-validation yet; nothing to compare\n");
        rc = -1;
        goto out;
    }
    /* verify.read_from "replica": compare against the first replica. */
    if (rb->verify.read_from_replica &&
        (rc = tops->open(rb, &rb->replicas[0], &replica, &err)) < 0) {
        fprintf(stderr, "cutover: verify: replica %s: %s\n",
                rb->replicas[0].name, co_err_text(&err));
        goto out;
    }
    verifier_init(&v, m, sops, src, tops, replica ? replica : tgt);
    v.wait = wait_a_little;
    v.report_name = "verify-standalone.json";
    for (int i = 0; i < m->ntables && rc == 0; i++) {
        struct table_state *ts = &m->tables[i];
        int done = 0;
        tuple_free(&ts->verify_frontier);
        ts->verify_rows = ts->verify_chunks = ts->verify_mismatches = 0;
        while (!done && (rc = verifier_chunk(&v, ts, &done, &err)) == 0)
            ;
        bad += ts->verify_mismatches;
    }
    if (rc == 0)
        rc = verifier_write_report(&v, &err);
    if (rc < 0) {
        fprintf(stderr, "cutover: verify: %s\n", co_err_text(&err));
    } else if (json) {
        char *text = json_dumps(v.report, JSON_INDENT(2) | JSON_SORT_KEYS);
        printf("%s\n", text);
        free(text);
    } else {
        for (int i = 0; i < m->ntables; i++)
            printf("%-30s %10lld rows  %lld mismatches\n",
                   m->tables[i].t->name, (long long)m->tables[i].verify_rows,
                   (long long)m->tables[i].verify_mismatches);
        printf("%s: %lld mismatched rows (report in %s/%s)\n",
               bad ? "DIFFERENT" : "identical", (long long)bad,
               rb->state_dir, v.report_name);
    }
    verifier_free(&v);
out:
    json_decref(cp);
    migration_free(m);
    sops->close(src);
    tops->close(tgt);
    tops->close(replica);
    runbook_free(rb);
    return rc < 0 ? EXIT_ERROR : bad ? EXIT_FINDINGS : EXIT_OK;
}
