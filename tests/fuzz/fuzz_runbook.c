/*
 * fuzz_runbook.c — lib/runbook.c and runbook_rules.c:
 * runbook_parse() on arbitrary bytes, then the target driver's judgement of
 * what it says in the target's language (check_runbook, as every command
 * does), the lookups the stages make on a parsed runbook, then
 * runbook_free().
 *
 * Beyond "no crash, no leak": runbook.h promises that a runbook that loads
 * is complete and checked, so the fields every stage relies on without
 * testing are checked here; a rejection carries its code and a message.
 * Secrets registered by password_env are cleared after each input so one
 * input cannot change how the next one's messages are redacted.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "lib/runbook.h"
#include "sync/drivers/registry.h"
#include "tests/fuzz/fuzz_util.h"

#define FUZZ_DIR "/fuzz/runbooks"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init_common();
    return 0;
}

static int absolute(const char *p)
{
    return p && p[0] == '/';
}

/* What runbook.h guarantees of a runbook that loaded. */
static void check_complete(const struct runbook *rb)
{
    if (!rb->name || !rb->name[0] || !absolute(rb->state_dir) ||
        !absolute(rb->source.path) || !rb->target.database ||
        (!rb->target.socket && !rb->target.host) || !rb->target.user ||
        !rb->source.type || !rb->target.type ||
        !driver_source(rb->source.type) || !driver_target(rb->target.type) ||
        rb->tables.ninclude < 1 || !rb->tables.include ||
        !absolute(rb->progress.socket) ||
        strlen(rb->progress.socket) >=
            sizeof(((struct sockaddr_un *)0)->sun_path))
        abort();
    for (int i = 0; i < rb->nreplicas; i++)
        if (!rb->replicas[i].name || !rb->replicas[i].database)
            abort();
    for (int i = 0; i < rb->ntriggers; i++) {
        const struct rb_trigger *t = &rb->triggers[i];
        if (!t->name || !!t->metric == !!t->alert ||
            !trigger_action_name(t->action) ||
            (t->metric && !runbook_metric_known(rb, t->metric)))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct runbook *rb = NULL;
    struct co_err err = {0};
    int rc;

    rc = runbook_parse((const char *)data, size, FUZZ_DIR, &rb, &err);
    if (rc == 0) {
        if (!rb)
            abort();
        check_complete(rb);
        rc = driver_target(rb->target.type)->check_runbook(rb, &err);
        if (rc < 0 ? rc != CO_ERUNBOOK || !err.msg[0]
                   : !rb->schema.collation)
            abort();
        (void)runbook_table_selected(rb, "orders");
        (void)runbook_table_selected(rb, "_cutover_log");
        (void)runbook_override(rb, "orders", "total");
        (void)runbook_key_choice(rb, "orders");
        runbook_free(rb);
    } else if (rb || rc != err.code || !err.msg[0]) {
        abort();
    }
    secret_clear();
    return 0;
}
