/*
 * replica_wait.h — waiting for the target's replicas to apply everything
 * the primary has logged, by the driver's opaque replication position (a
 * GTID set on MySQL, a WAL LSN on PostgreSQL). The cutover waits before the fence
 * so reads from replicas are fresh at the moment of the switch; a verify
 * reading from a replica waits before rechecking a row.
 */
#ifndef CO_REPLICA_WAIT_H
#define CO_REPLICA_WAIT_H

#include <jansson.h>

#include "sync/drivers/target.h"

struct replica_set {
    const struct runbook *rb;
    const struct target_ops *tops;
    struct target **conn;      /* one per replica; NULL while not connected */
    int n;
};

/* Connect to the first `count` of target.replicas (those not connected
 * yet). */
int replica_set_open(struct replica_set *rs, const struct runbook *rb,
                     const struct target_ops *tops, int count,
                     struct co_err *err);
void replica_set_close(struct replica_set *rs);

/* Wait until every replica has applied what `primary` has logged by now,
 * for at most budget_s in all. Returns 1 when all have, 0 when the budget
 * ran out (*late names the replica), or an error (the connection to that
 * replica is closed; the next open reconnects). With `report`, sets it to
 * {"position": the position's text, "replicas": {name: waited_ms}}. */
int replica_set_catch_up(struct replica_set *rs, struct target *primary,
                         double budget_s, json_t **report, const char **late,
                         struct co_err *err);

#endif
