/* replicas.c — the replica monitor: heartbeat lag, replication health,
 * and the gate the copy and the applier wait at (see replicas.h). */
#include "sync/replicas.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/events.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/runbook.h"
#include "sync/drivers/target.h"
#include "sync/drivers/registry.h"
#include "lib/backoff.h"
#include "lib/xalloc.h"

#define BEAT_US 200000          /* one heartbeat every 200 ms */
#define STATUS_EVERY 10         /* replication threads every 10 beats */
#define RECONNECT_FIRST_S 0.5   /* between attempts on a lost replica, */
#define RECONNECT_MAX_S 5.0     /* doubling up to this */
#define EVENT_EVERY_S 5.0       /* a "replica" event at least this often */
#define RING 1024               /* beats remembered: about 200 s */
#define MAX_WAITERS 4

struct replica_view {
    const struct rb_conn *conn;
    struct target *t;
    struct backoff reconnect;
    int64_t seen_us;            /* newest beat applied there */
    double lag_s;
    int reachable;
    struct replica_status st;
    char problem[300];          /* why it is unreachable */
    char health[700];           /* as last announced */
};

struct waiter {
    const char *who;
    int n;                      /* threads waiting now */
    double since;
};

static struct {
    pthread_mutex_t mu;
    const struct runbook *rb;
    const struct target_ops *tops;
    struct target *primary;
    struct replica_view *reps;
    int n;
    int64_t ring[RING];         /* beats written, oldest first, circular */
    int ring_start, ring_len;
    int64_t first_beat;
    double worst;
    const char *worst_name;
    double last_event;
    struct waiter waiters[MAX_WAITERS];
    pthread_t thread;
    int running;
    volatile int stop;
} mon = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int64_t clock_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Age of the oldest beat newer than `seen`; 0 when the replica has them
 * all. When even the oldest remembered beat is newer, the replica is
 * further behind than the ring reaches: count from what it has. */
static double lag_of(int64_t seen, int64_t now)
{
    for (int i = 0; i < mon.ring_len; i++) {
        int64_t beat = mon.ring[(mon.ring_start + i) % RING];
        if (beat <= seen)
            continue;
        if (i == 0 && mon.ring_len == RING)
            beat = seen > mon.first_beat ? seen : mon.first_beat;
        return (double)(now - beat) / 1e6;
    }
    return 0;
}

static void remember_beat(int64_t us)
{
    if (mon.ring_len == 0)
        mon.first_beat = us;
    if (mon.ring_len < RING) {
        mon.ring[(mon.ring_start + mon.ring_len++) % RING] = us;
    } else {
        mon.ring[mon.ring_start] = us;
        mon.ring_start = (mon.ring_start + 1) % RING;
    }
}

static void beat(void)
{
    struct co_err err = {0};
    int64_t now = clock_us();

    if (!mon.primary &&
        mon.tops->open(mon.rb, &mon.rb->target, &mon.primary, &err) < 0) {
        mon.primary = NULL;
        log_debug("replica monitor: %s", co_err_text(&err));
        return;
    }
    if (mon.tops->heartbeat_write(mon.primary, now, &err) < 0) {
        log_debug("replica monitor: %s", co_err_text(&err));
        mon.tops->close(mon.primary);
        mon.primary = NULL;
        return;
    }
    pthread_mutex_lock(&mon.mu);
    remember_beat(now);
    pthread_mutex_unlock(&mon.mu);
}

static void lose(struct replica_view *r, const struct co_err *err)
{
    mon.tops->close(r->t);
    r->t = NULL;
    backoff_failed(&r->reconnect);
    pthread_mutex_lock(&mon.mu);
    r->reachable = 0;
    snprintf(r->problem, sizeof r->problem, "%s", co_err_text(err));
    pthread_mutex_unlock(&mon.mu);
}

/* Read what one replica has applied (and, every few beats, its threads). */
static void look_at(struct replica_view *r, int with_threads)
{
    struct co_err err = {0};
    struct replica_status st;
    int64_t seen;

    if (!r->t) {
        if (!backoff_due(&r->reconnect))
            return;
        if (mon.tops->open(mon.rb, r->conn, &r->t, &err) < 0) {
            r->t = NULL;
            lose(r, &err);
            return;
        }
        with_threads = 1;
    }
    if (mon.tops->heartbeat_read(r->t, &seen, &err) < 0 ||
        (with_threads && mon.tops->replica_status(r->t, &st, &err) < 0)) {
        lose(r, &err);
        return;
    }
    backoff_reset(&r->reconnect);
    pthread_mutex_lock(&mon.mu);
    r->reachable = 1;
    r->problem[0] = '\0';
    if (seen > r->seen_us)
        r->seen_us = seen;
    if (with_threads)
        r->st = st;
    pthread_mutex_unlock(&mon.mu);
}

static json_t *replica_json(const struct replica_view *r)
{
    return json_pack("{ss sf sb sb sb ss sf}", "name", r->conn->name,
                     "lag_s", r->lag_s, "reachable", r->reachable,
                     "io_running", r->st.receiving, "sql_running",
                     r->st.applying, "error",
                     r->reachable ? r->st.error : r->problem,
                     "seconds_behind", r->st.lag_s);
}

/* Lags from the beats, the metric, and a "replica" event when a replica's
 * health changed (or every few seconds, for watchers). */
static void publish(void)
{
    int64_t now = clock_us();
    int changed = 0;
    json_t *ev = NULL;

    pthread_mutex_lock(&mon.mu);
    mon.worst = 0;
    for (int i = 0; i < mon.n; i++) {
        struct replica_view *r = &mon.reps[i];
        char health[sizeof r->health];
        r->lag_s = lag_of(r->seen_us, now);
        if (i == 0 || r->lag_s > mon.worst) {
            mon.worst = r->lag_s;
            mon.worst_name = r->conn->name;
        }
        snprintf(health, sizeof health, "%d %d %d %s", r->reachable,
                 r->st.receiving, r->st.applying,
                 r->reachable ? r->st.error : r->problem);
        if (strcmp(health, r->health) != 0) {
            if (r->health[0]) {
                if (!r->reachable)
                    log_warnx("replica %s is unreachable: %s", r->conn->name,
                              r->problem);
                else if (!r->st.receiving || !r->st.applying)
                    log_warnx("replica %s is not replicating (receiving "
                              "changes: %s, applying them: %s)%s%s",
                              r->conn->name,
                              r->st.receiving ? "running" : "stopped",
                              r->st.applying ? "running" : "stopped",
                              r->st.error[0] ? ": " : "", r->st.error);
                else
                    log_info("replica %s is replicating", r->conn->name);
            }
            snprintf(r->health, sizeof r->health, "%s", health);
            changed = 1;
        }
    }
    metrics_set("target.replica_lag_s", mon.worst);
    if (changed || mono_s() - mon.last_event >= EVENT_EVERY_S) {
        json_t *list = json_array();
        for (int i = 0; i < mon.n; i++)
            json_array_append_new(list, replica_json(&mon.reps[i]));
        ev = json_pack("{sf so}", "lag_s", mon.worst, "replicas", list);
        mon.last_event = mono_s();
    }
    pthread_mutex_unlock(&mon.mu);
    if (ev)
        events_emit(EVT_REPLICA, ev);
}

static void *monitor_main(void *arg)
{
    (void)arg;
    for (unsigned tick = 0; !mon.stop; tick++) {
        int64_t started = clock_us(), left;
        beat();
        for (int i = 0; i < mon.n && !mon.stop; i++)
            look_at(&mon.reps[i], tick % STATUS_EVERY == 0);
        publish();
        left = BEAT_US - (clock_us() - started);
        while (left > 0 && !mon.stop) {
            usleep(left > 50000 ? 50000 : (useconds_t)left);
            left -= 50000;
        }
    }
    return NULL;
}

void replicas_start(const struct runbook *rb)
{
    if (mon.running || rb->nreplicas == 0 ||
        !driver_replicas_supported(driver_target(rb->target.type)))
        return;
    pthread_mutex_lock(&mon.mu);
    mon.rb = rb;
    mon.tops = driver_target(rb->target.type);
    mon.n = rb->nreplicas;
    mon.reps = xcalloc((size_t)mon.n, sizeof *mon.reps);
    for (int i = 0; i < mon.n; i++) {
        mon.reps[i].conn = &rb->replicas[i];
        mon.reps[i].st.lag_s = -1;
        backoff_init(&mon.reps[i].reconnect, RECONNECT_FIRST_S,
                     RECONNECT_MAX_S);
    }
    mon.ring_len = mon.ring_start = 0;
    mon.stop = 0;
    mon.running = pthread_create(&mon.thread, NULL, monitor_main, NULL) == 0;
    pthread_mutex_unlock(&mon.mu);
}

void replicas_stop(int drop_heartbeat)
{
    struct co_err err = {0};

    if (!mon.running)
        return;
    mon.stop = 1;
    pthread_join(mon.thread, NULL);
    if (drop_heartbeat && mon.primary &&
        mon.tops->heartbeat_drop(mon.primary, &err) < 0)
        log_warnx("the heartbeat table stays on the target: %s",
                  co_err_text(&err));
    mon.tops->close(mon.primary);
    mon.primary = NULL;
    for (int i = 0; i < mon.n; i++)
        mon.tops->close(mon.reps[i].t);
    pthread_mutex_lock(&mon.mu);
    free(mon.reps);
    mon.reps = NULL;
    mon.n = 0;
    mon.running = 0;
    pthread_mutex_unlock(&mon.mu);
}

static struct waiter *waiter_for(const char *who)
{
    for (int i = 0; i < MAX_WAITERS; i++)
        if (!mon.waiters[i].who || strcmp(mon.waiters[i].who, who) == 0) {
            mon.waiters[i].who = who;
            return &mon.waiters[i];
        }
    return &mon.waiters[MAX_WAITERS - 1];
}

void replicas_gate(const char *who, volatile int *stop)
{
    struct waiter *w;
    json_t *ev = NULL;
    double max, waited;

    pthread_mutex_lock(&mon.mu);
    if (!mon.running || mon.worst <= (max = mon.rb->copy.max_replica_lag_s)) {
        pthread_mutex_unlock(&mon.mu);
        return;
    }
    w = waiter_for(who);
    if (w->n++ == 0) {
        w->since = mono_s();
        ev = json_pack("{ss ss sb ss sf sf}", "who", who, "reason",
                       "replica_lag", "waiting", 1, "replica",
                       mon.worst_name, "lag_s", mon.worst, "max_lag_s", max);
        log_warnx("%s waits: replica %s is %.1f s behind (copy."
                  "max_replica_lag_s %g)", who, mon.worst_name, mon.worst,
                  max);
    }
    pthread_mutex_unlock(&mon.mu);
    if (ev)
        events_emit(EVT_THROTTLE, ev);
    ev = NULL;
    pthread_mutex_lock(&mon.mu);
    while (mon.running && mon.worst > max && !*stop) {
        pthread_mutex_unlock(&mon.mu);
        usleep(100000);
        pthread_mutex_lock(&mon.mu);
    }
    if (--w->n == 0) {
        waited = mono_s() - w->since;
        ev = json_pack("{ss ss sb sf sf}", "who", who, "reason",
                       "replica_lag", "waiting", 0, "waited_s", waited,
                       "lag_s", mon.worst);
        log_info("%s no longer waits for the replicas (waited %.1f s)", who,
                 waited);
    }
    pthread_mutex_unlock(&mon.mu);
    if (ev)
        events_emit(EVT_THROTTLE, ev);
}

json_t *replicas_status(void)
{
    json_t *list;

    pthread_mutex_lock(&mon.mu);
    if (!mon.running) {
        pthread_mutex_unlock(&mon.mu);
        return NULL;
    }
    list = json_array();
    for (int i = 0; i < mon.n; i++)
        json_array_append_new(list, replica_json(&mon.reps[i]));
    pthread_mutex_unlock(&mon.mu);
    return list;
}
