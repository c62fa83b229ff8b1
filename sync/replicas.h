/*
 * replicas.h — the target's read replicas while a migration runs.
 *
 * A monitor thread with its own connections writes a heartbeat (our clock,
 * in microseconds) on the primary every 200 ms and reads back the newest
 * beat each replica has applied. A replica's lag is the age of the oldest
 * beat it has not applied yet: measured by one clock (no server clocks, no
 * whole-second Seconds_Behind_Master), and still growing while a replica is
 * stopped or unreachable. Every 2 s it also reads each replica's
 * replication threads.
 *
 * The worst lag is the metric target.replica_lag_s for the triggers; the
 * copy and the applier wait at their chunk and batch boundaries while it is
 * above copy.max_replica_lag_s (events of type "throttle" say when and
 * why); status, events and watch show each replica.
 */
#ifndef CO_REPLICAS_H
#define CO_REPLICAS_H

#include <jansson.h>

struct runbook;

/* Start the monitor (nothing without target.replicas); idempotent. */
void replicas_start(const struct runbook *rb);
/* Stop it; with drop_heartbeat (the migration has ended) the heartbeat
 * table goes too. */
void replicas_stop(int drop_heartbeat);

/* Block while the worst replica lag is above copy.max_replica_lag_s; `who`
 * ("copy", "apply") names the waiter in events. Returns at once without
 * replicas, and as soon as *stop is set. */
void replicas_gate(const char *who, volatile int *stop);

/* [{"name", "lag_s", "reachable", "io_running", "sql_running", "error",
 * "seconds_behind"}], or NULL when there are no replicas. */
json_t *replicas_status(void);

#endif
