/* replica_checks.c — pre-validation of target.replicas: each one reachable,
 * replicating from this primary without error, read-only, and a primary
 * whose replication positions the cutover can wait for. */
#include <stdio.h>

#include "stages/plan/checks.h"
#include "lib/runbook.h"
#include "sync/drivers/registry.h"

static void check_primary(const struct server_role *primary, struct plan *p)
{
    if (!primary->logs_changes)
        plan_add(p, SEV_BLOCKING, "replica_primary", NULL, NULL,
                 primary->setup_hint, "the target primary keeps no "
                 "replication log: replicas cannot follow it, and the "
                 "cutover cannot wait for them");
    else if (!primary->can_wait)
        plan_add(p, SEV_BLOCKING, "replica_primary", NULL, NULL,
                 primary->setup_hint, "the target primary's replication "
                 "positions cannot be waited for: the cutover cannot wait "
                 "for its replicas to reach the final position");
}

static void check_one(const struct rb_conn *c, const struct target_ops *tops,
                     const struct runbook *rb,
                     const struct server_role *primary, struct plan *p)
{
    struct target *rt = NULL;
    struct server_role role;
    struct replica_status st;
    struct co_err e = {0};

    if (tops->open(rb, c, &rt, &e) < 0 ||
        tops->server_role(rt, &role, &e) < 0 ||
        tops->replica_status(rt, &st, &e) < 0) {
        plan_add(p, SEV_BLOCKING, "replica_unreachable", NULL, NULL,
                 "check the replica's socket/host/port, user and password",
                 "replica %s: %s", c->name, co_err_text(&e));
        tops->close(rt);
        return;
    }
    tops->close(rt);
    if (!st.configured)
        plan_add(p, SEV_BLOCKING, "replica_not_replicating", NULL, NULL,
                 "configure replication from the target primary, or remove "
                 "it from target.replicas",
                 "replica %s does not replicate from any server", c->name);
    else if (st.error[0])
        plan_add(p, SEV_BLOCKING, "replica_broken", NULL, NULL,
                 st.fix_hint, "replica %s: replication stopped with an "
                 "error: %s", c->name, st.error);
    else if (!st.receiving || !st.applying)
        plan_add(p, SEV_BLOCKING, "replica_stopped", NULL, NULL,
                 st.fix_hint, "replica %s is not replicating (receiving "
                 "changes: %s, applying them: %s)", c->name,
                 st.receiving ? "running" : "stopped",
                 st.applying ? "running" : "stopped");
    else if (st.source_id != primary->server_id)
        plan_add(p, SEV_BLOCKING, "replica_other_primary", NULL, NULL,
                 "list only replicas of the target primary",
                 "replica %s replicates from server_id %lld, not from the "
                 "target primary (server_id %lld)", c->name,
                 (long long)st.source_id,
                 (long long)primary->server_id);
    else
        plan_add(p, SEV_INFO, "replica", NULL, NULL, NULL,
                 "replica %s replicates from the target primary "
                 "(%.0f s behind, by its own count)", c->name, st.lag_s);
    if (!role.read_only)
        plan_add(p, SEV_BLOCKING, "replica_writable", NULL, NULL,
                 role.read_only_hint,
                 "replica %s accepts writes (it is not read-only): a write "
                 "there would make it differ from the primary", c->name);
}

int checks_replicas(const struct runbook *rb, const struct target_ops *tops,
                    struct target *tgt, struct plan *p, struct co_err *err)
{
    struct server_role primary;
    int rc;

    /* Not supported: plan says so, blocking. */
    if (rb->nreplicas == 0 || !driver_replicas_supported(tops))
        return 0;
    if ((rc = tops->server_role(tgt, &primary, err)) < 0)
        return rc;
    check_primary(&primary, p);
    for (int i = 0; i < rb->nreplicas; i++)
        check_one(&rb->replicas[i], tops, rb, &primary, p);
    return 0;
}
