/* replica_wait.c — waiting for replicas by position (replica_wait.h). */
#include "stages/replica_wait.h"

#include <stdlib.h>

#include "lib/events.h"
#include "lib/runbook.h"
#include "sync/drivers/registry.h"
#include "lib/xalloc.h"

#define POSITION_MAX 8192      /* positions are opaque; MySQL GTID sets
                                  grow with server UUIDs */

int replica_set_open(struct replica_set *rs, const struct runbook *rb,
                     const struct target_ops *tops, int count,
                     struct co_err *err)
{
    if (!driver_replicas_supported(tops))
        return co_errf(err, CO_EUNSUPPORTED, "the %s target driver cannot "
                       "wait for replicas", tops->name);
    if (!rs->conn) {
        rs->rb = rb;
        rs->tops = tops;
        rs->n = count < rb->nreplicas ? count : rb->nreplicas;
        rs->conn = xcalloc((size_t)rs->n + 1, sizeof *rs->conn);
    }
    for (int i = 0; i < rs->n; i++) {
        int rc;
        if (rs->conn[i])
            continue;
        if ((rc = tops->open(rb, &rb->replicas[i], &rs->conn[i], err)) < 0) {
            rs->conn[i] = NULL;
            return co_err_prefix(err, "replica %s", rb->replicas[i].name);
        }
    }
    return 0;
}

void replica_set_close(struct replica_set *rs)
{
    for (int i = 0; rs->conn && i < rs->n; i++)
        rs->tops->close(rs->conn[i]);
    free(rs->conn);
    rs->conn = NULL;
    rs->n = 0;
}

int replica_set_catch_up(struct replica_set *rs, struct target *primary,
                         double budget_s, json_t **report, const char **late,
                         struct co_err *err)
{
    char *pos = xmalloc(POSITION_MAX);
    double started = mono_s();
    json_t *waited = json_object();
    int rc = 1;

    if (!pos || !waited) {
        free(pos);
        json_decref(waited);
        return co_errf(err, CO_ENOMEM, "out of memory");
    }
    if ((rc = rs->tops->replication_position(primary, pos, POSITION_MAX,
                                               err)) < 0)
        goto out;
    rc = 1;
    for (int i = 0; i < rs->n && rc == 1; i++) {
        double t0 = mono_s(), left = budget_s - (t0 - started);
        const char *name = rs->rb->replicas[i].name;
        if (!rs->conn[i]) {
            rc = co_errf(err, CO_ETARGET, "replica %s is not connected", name);
            break;
        }
        rc = left > 0 ? rs->tops->position_wait(rs->conn[i], pos, left, err) : 0;
        if (rc < 0) {
            rs->tops->close(rs->conn[i]);
            rs->conn[i] = NULL;
            co_err_prefix(err, "replica %s", name);
        } else if (rc == 0 && late) {
            *late = name;
        }
        json_object_set_new(waited, name,
                            json_real((mono_s() - t0) * 1000.0));
    }
    if (report && rc == 1)
        *report = json_pack("{ss sO}", "position", pos, "replicas", waited);
out:
    json_decref(waited);
    free(pos);
    return rc;
}
