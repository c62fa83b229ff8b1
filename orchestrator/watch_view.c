/* watch_view.c — the watch view and line mode. */
#include "orchestrator/watch_view.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "orchestrator/cli.h"
#include "lib/events.h"

#define LAST_EVENTS 8

static const char *s_(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static double n_(json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

static int final_type(const char *type)
{
    int t = event_type_by_name(type);

    return t == EVT_COMPLETED || t == EVT_FAILED || t == EVT_ABORTED ||
           t == EVT_ROLLED_BACK;
}

/* "r1 0.20 s behind", "r2 not replicating: <error>" */
static void replica_text(json_t *r, char *buf, size_t cap)
{
    if (!json_is_true(json_object_get(r, "reachable")))
        snprintf(buf, cap, "%s unreachable: %s", s_(r, "name"), s_(r, "error"));
    else if (!json_is_true(json_object_get(r, "io_running")) ||
             !json_is_true(json_object_get(r, "sql_running")))
        snprintf(buf, cap, "%s NOT REPLICATING%s%s, %.2f s behind",
                 s_(r, "name"), s_(r, "error")[0] ? ": " : "",
                 s_(r, "error"), n_(r, "lag_s"));
    else
        snprintf(buf, cap, "%s %.2f s behind", s_(r, "name"), n_(r, "lag_s"));
}

static void replicas_line(json_t *ev, char *buf, size_t cap)
{
    size_t i, o = 0;
    json_t *r;
    char one[300];

    buf[0] = '\0';
    json_array_foreach(json_object_get(ev, "replicas"), i, r) {
        replica_text(r, one, sizeof one);
        if (o + 3 < cap)
            o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? "; " : "",
                                  one);
    }
}

void event_line(json_t *ev, char *buf, size_t cap)
{
    char more[512];
    const char *type = s_(ev, "type");
    int t = event_type_by_name(type);
    const char *ts = s_(ev, "ts");
    char when[16] = "";

    if (strlen(ts) >= 23)
        snprintf(when, sizeof when, "%.12s", ts + 11);
    if (t == EVT_STAGE)
        snprintf(buf, cap, "%s stage     %s -> %s%s%s", when, s_(ev, "from"),
                 s_(ev, "to"), s_(ev, "reason")[0] ? ": " : "",
                 s_(ev, "reason"));
    else if (t == EVT_PROGRESS)
        snprintf(buf, cap, "%s progress  %s %.0f/%.0f rows, %.0f rows/s, ETA "
                 "%.0f s%s", when, s_(ev, "table"), n_(ev, "rows"),
                 n_(ev, "total"), n_(ev, "rows_per_s"), n_(ev, "eta_s"),
                 json_is_true(json_object_get(ev, "indexes_done"))
                     ? " (indexes built)" : "");
    else if (t == EVT_SYNC)
        snprintf(buf, cap, "%s sync      lag %.2f s, backlog %.0f, %.0f "
                 "applied/s", when, n_(ev, "lag_s"), n_(ev, "backlog_rows"),
                 n_(ev, "applied_per_s"));
    else if (t == EVT_VERIFY)
        snprintf(buf, cap, "%s verify    %s rows %.0f, mismatches %.0f%s%s",
                 when, s_(ev, "table"), n_(ev, "rows"), n_(ev, "mismatches"),
                 s_(ev, "mismatch")[0] ? " " : "", s_(ev, "mismatch"));
    else if (t == EVT_CUTOVER &&
             json_object_get(ev, "write_pause_ms"))
        snprintf(buf, cap, "%s cutover   %s, write pause %.0f ms", when,
                 s_(ev, "step"), n_(ev, "write_pause_ms"));
    else if (t == EVT_CUTOVER)
        snprintf(buf, cap, "%s cutover   %s", when, s_(ev, "step"));
    else if (t == EVT_TRIGGER)
        snprintf(buf, cap, "%s trigger   %s fired (%s %g) -> %s", when,
                 s_(ev, "rule"), json_object_get(ev, "metric")
                     ? s_(ev, "metric") : s_(ev, "alert"),
                 n_(ev, "value"), s_(ev, "action"));
    else if (t == EVT_LOG)
        snprintf(buf, cap, "%s log       %s: %s", when, s_(ev, "level"),
                 s_(ev, "message"));
    else if (t == EVT_CHECK && json_is_true(json_object_get(ev, "ok")))
        snprintf(buf, cap, "%s check     %s ok (%.0f ms)", when, s_(ev, "name"),
                 n_(ev, "ms"));
    else if (t == EVT_CHECK)
        snprintf(buf, cap, "%s check     %s FAILED (%.0f in a row): %s", when,
                 s_(ev, "name"), n_(ev, "failures"), s_(ev, "error"));
    else if (t == EVT_ALERT)
        snprintf(buf, cap, "%s alert     %s%s%s", when, s_(ev, "name"),
                 s_(ev, "severity")[0] ? " " : "", s_(ev, "severity"));
    else if (final_type(type))
        snprintf(buf, cap, "%s %-9s %.0f tables, %.0f rows copied in %.1f s%s"
                 "%s%s", when, type, n_(ev, "tables"), n_(ev, "rows_copied"),
                 n_(ev, "elapsed_s"),
                 json_object_get(ev, "write_pause_ms") ? ", switched" : "",
                 s_(ev, "error")[0] ? ": " : "", s_(ev, "error"));
    else if (t == EVT_DROPPED)
        snprintf(buf, cap, "%s dropped   %s", when, s_(ev, "reason"));
    else if (t == EVT_REPLICA) {
        replicas_line(ev, more, sizeof more);
        snprintf(buf, cap, "%s replica   %s", when, more);
    } else if (t == EVT_THROTTLE &&
               json_is_true(json_object_get(ev, "waiting")))
        snprintf(buf, cap, "%s throttle  %s waits: replica %s is %.1f s "
                 "behind (max %g s)", when, s_(ev, "who"), s_(ev, "replica"),
                 n_(ev, "lag_s"), n_(ev, "max_lag_s"));
    else if (t == EVT_THROTTLE)
        snprintf(buf, cap, "%s throttle  %s goes on after %.1f s", when,
                 s_(ev, "who"), n_(ev, "waited_s"));
    else
        snprintf(buf, cap, "%s %-9s %s", when, type, s_(ev, "error"));
}

int watch_lines_run(struct client_conn *c, json_t *hello)
{
    struct co_err err = {0};
    json_t *ev;
    char line[1024];

    json_t *st = json_object_get(hello, "status");

    printf("watching %s: %s\n", s_(st, "name"), s_(st, "state"));
    /* what the replicas look like now: their next event may be seconds away,
     * and a watcher attaching mid-incident wants the picture at once */
    if (json_array_size(json_object_get(st, "replicas")) > 0) {
        replicas_line(st, line, sizeof line);
        printf("replicas  %s\n", line);
    }
    fflush(stdout);
    for (;;) {
        if (client_next(c, -1, &ev, &err) < 0) {
            printf("the orchestrator went away\n");
            return EXIT_OK;
        }
        event_line(ev, line, sizeof line);
        printf("%s\n", line);
        fflush(stdout);
        if (final_type(s_(ev, "type")) ||
            event_type_by_name(s_(ev, "type")) == EVT_DROPPED) {
            json_decref(ev);
            return EXIT_OK;
        }
        json_decref(ev);
    }
}

/* ---- the terminal view ------------------------------------------------------ */

struct view {
    json_t *status;
    json_t *checks;            /* check name → its last `check` event */
    const char *runbook;
    char events[LAST_EVENTS][256];
    int nevents;
    char stages[512];
    struct watch_rate verify;  /* rows hashed per second */
    double verify_t0, verify_rows0;
};

/* Rows hashed so far, all tables. */
static double verified_rows(json_t *st)
{
    double rows = 0;
    json_t *t;
    size_t i;

    json_array_foreach(json_object_get(st, "tables"), i, t)
        rows += n_(json_object_get(t, "verify"), "rows");
    return rows;
}

/* verify, cutover and check events: what the stage's own lines show. */
static void apply_stage_event(struct view *v, enum event_type type,
                              json_t *ev)
{
    json_t *st = v->status, *t;
    size_t i;

    if (type == EVT_VERIFY && json_object_get(ev, "rows")) {
        json_array_foreach(json_object_get(st, "tables"), i, t)
            if (strcmp(s_(t, "name"), s_(ev, "table")) == 0)
                json_object_set_new(t, "verify", json_pack(
                    "{sO sO sb}", "rows", json_object_get(ev, "rows"),
                    "mismatches", json_object_get(ev, "mismatches"), "done",
                    json_is_true(json_object_get(ev, "table_done"))));
        if (v->verify_t0 == 0) {
            v->verify_t0 = mono_s();
            v->verify_rows0 = verified_rows(st);
        } else if (mono_s() > v->verify_t0)
            v->verify.per_s = (verified_rows(st) - v->verify_rows0) /
                              (mono_s() - v->verify_t0);
    } else if (type == EVT_CUTOVER && json_object_get(ev, "step")) {
        json_t *c = json_object_get(st, "cutover");
        json_object_set(c, "step", json_object_get(ev, "step"));
        if (json_object_get(ev, "write_pause_ms"))
            json_object_set(c, "write_pause_ms",
                            json_object_get(ev, "write_pause_ms"));
        if (json_object_get(ev, "attempt"))
            json_object_set(c, "attempt", json_object_get(ev, "attempt"));
        json_object_set_new(c, "waiting_for_ctl", json_boolean(
            json_object_get(ev, "waiting_for") != NULL));
    } else if (type == EVT_CHECK) {
        json_object_set(v->checks, s_(ev, "name"), ev);
    } else if (type == EVT_STAGE &&
               strcmp(s_(ev, "to"), "post_validate") == 0) {
        json_object_set_new(st, "switched", json_true());
        if (n_(json_object_get(st, "post_validate"), "started_at") == 0)
            json_object_set_new(json_object_get(st, "post_validate"),
                                "started_at", json_real(now_s()));
    }
}

/* Fold an event into the status the view shows. */
static void apply_event(struct view *v, json_t *ev)
{
    int type = event_type_by_name(s_(ev, "type"));
    json_t *st = v->status, *t;
    size_t i;

    apply_stage_event(v, type, ev);
    if (type == EVT_STAGE) {
        json_object_set(st, "state", json_object_get(ev, "to"));
        size_t o = strlen(v->stages);
        snprintf(v->stages + o, sizeof v->stages - o, "%s%s",
                 o ? " > " : "", s_(ev, "to"));
    } else if (type == EVT_PROGRESS) {
        json_t *tables = json_object_get(st, "tables");
        int known = 0;
        json_array_foreach(tables, i, t)
            known |= strcmp(s_(t, "name"), s_(ev, "table")) == 0;
        if (!known && json_is_array(tables))   /* attached before the plan */
            json_array_append_new(tables, json_pack("{ss}", "name",
                                                    s_(ev, "table")));
        json_array_foreach(tables, i, t)
            if (strcmp(s_(t, "name"), s_(ev, "table")) == 0) {
                if (json_object_get(ev, "rows")) {
                    json_object_set(t, "rows", json_object_get(ev, "rows"));
                    json_object_set(t, "total", json_object_get(ev, "total"));
                    json_object_set(t, "rows_per_s",
                                    json_object_get(ev, "rows_per_s"));
                    json_object_set(t, "eta_s", json_object_get(ev, "eta_s"));
                }
                if (json_is_true(json_object_get(ev, "indexes_done"))) {
                    json_object_set_new(t, "indexes_done", json_true());
                    json_object_set_new(t, "rows_per_s", json_real(0));
                    json_object_set_new(t, "eta_s", json_real(0));
                }
            }
    } else if (type == EVT_SYNC) {
        json_object_set(st, "sync", ev);
    } else if (type == EVT_REPLICA) {
        json_object_set(st, "replicas", json_object_get(ev, "replicas"));
        return;        /* shown on its own lines, like sync */
    }
    if (type != EVT_SYNC && type != EVT_PROGRESS) {
        memmove(v->events[1], v->events[0],
                sizeof v->events[0] * (LAST_EVENTS - 1));
        event_line(ev, v->events[0], sizeof v->events[0]);
        if (v->nevents < LAST_EVENTS)
            v->nevents++;
    }
}

static void draw(struct view *v)
{
    struct winsize ws = {0};
    int cols = 80, rows = 24;
    json_t *st = v->status, *t;
    size_t i;
    char b[256];

    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) {
        cols = ws.ws_col;
        rows = ws.ws_row;
    }
    printf("\033[H\033[2J");
    watch_title(st, &v->verify, now_s());
    printf("stages: %.*s\n", cols - 9, v->stages[0] ? v->stages : s_(st, "state"));
    watch_stage_lines(st, v->checks, v->runbook, now_s(), cols,
                      rows - LAST_EVENTS - 8);
    json_array_foreach(json_object_get(st, "replicas"), i, t) {
        replica_text(t, b, sizeof b);
        printf("replica %.*s\n", cols - 9, b);
    }
    json_array_foreach(json_object_get(st, "triggers"), i, t)
        watch_trigger_line(t);
    printf("last events:\n");
    for (int k = 0; k < v->nevents; k++)
        printf("  %.*s\n", cols - 3, v->events[k]);
    fflush(stdout);
}

/* Ctrl-C or a kill while the view runs: show the cursor again (the view
 * hid it) before going; only async-signal-safe calls here. */
static void restore_terminal(int sig)
{
    static const char show[] = "\033[?25h\n";
    ssize_t rc = write(STDOUT_FILENO, show, sizeof show - 1);

    (void)rc;
    _exit(128 + sig);
}

int watch_view_run(struct client_conn *c, json_t *hello, const char *runbook)
{
    struct view v = {.runbook = runbook};
    struct co_err err = {0};
    struct sigaction sa = {.sa_handler = restore_terminal};
    json_t *ev;

    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    v.status = json_deep_copy(json_object_get(hello, "status"));
    v.checks = json_object();
    if (!json_is_object(json_object_get(v.status, "cutover")))
        json_object_set_new(v.status, "cutover", json_object());
    if (!json_is_object(json_object_get(v.status, "post_validate")))
        json_object_set_new(v.status, "post_validate", json_object());
    fflush(stdout);
    printf("\033[?25l");
    draw(&v);
    for (;;) {
        int rc = client_next(c, 1000, &ev, &err);
        if (rc == CO_ETIMEOUT) {
            draw(&v);
            continue;
        }
        if (rc < 0)
            break;
        apply_event(&v, ev);
        int end = final_type(s_(ev, "type"));
        json_decref(ev);
        draw(&v);
        if (end)
            break;
    }
    printf("\033[?25h\n");
    json_decref(v.status);
    json_decref(v.checks);
    return EXIT_OK;
}
