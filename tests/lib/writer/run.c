/*
 * run.c — `writer run`: start where the switch file points, learn what the
 * database holds, then play the shop at a fixed rate until the duration (if
 * any) is up or a signal arrives, and print a one-line JSON summary on stdout:
 * counts of acknowledged writes, attempts and errors by kind, switches, the
 * final backend, the rate achieved, the stalls (longest, p99, p50) and order
 * ids handed out again.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/writer/writer.h"

volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void catch_stop_signals(void)
{
    struct sigaction sa = {0};

    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART; /* database reads must not fail on EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Nearest rank; the stalls must be sorted. */
static double percentile(const struct stats *s, double q)
{
    size_t rank = (size_t)ceil(q * (double)s->nstalls);

    return s->nstalls ? s->stalls_ms[rank ? rank - 1 : 0] : 0;
}

static double round3(double x) { return round(x * 1000) / 1000; }

static void print_summary(struct writer *w, double elapsed_s)
{
    struct stats *s = &w->stats;
    json_t *j;
    char *text;

    qsort(s->stalls_ms, s->nstalls, sizeof *s->stalls_ms, compare_doubles);
    j = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:f, s:f, s:f, s:f, "
                  "s:I}",
                  "acknowledged", (json_int_t)s->acknowledged,
                  "attempts", (json_int_t)s->attempts,
                  "fence_errors", (json_int_t)s->fence_errors,
                  "busy_errors", (json_int_t)s->busy_errors,
                  "other_errors", (json_int_t)s->other_errors,
                  "switches", (json_int_t)s->switches,
                  "backend", w->want->name,
                  "writes_per_s",
                  round3(elapsed_s > 0 ? s->acknowledged / elapsed_s : 0),
                  "longest_stall_ms",
                  round3(s->nstalls ? s->stalls_ms[s->nstalls - 1] : 0),
                  "p99_stall_ms", round3(percentile(s, 0.99)),
                  "p50_stall_ms", round3(percentile(s, 0.50)),
                  "reused_ids", (json_int_t)s->reused_ids);
    text = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    if (!text)
        die("out of memory");
    puts(text);
    fflush(stdout);
    free(text);
    json_decref(j);
}

/* Open-loop pacing: transaction i is due at start + i / rate whatever the
 * previous ones took, so a stall is followed by the backlog, as requests
 * queued at a real application would be. */
static void pace(struct writer *w, double rate, double duration_s)
{
    double start = now_ms(), end = start + duration_s * 1000;

    for (long long i = 0; !stop_requested && !w->gave_up; i++) {
        double due = start + (double)i * 1000 / rate;

        /* Wall time bounds the run too: a writer slower than its rate
         * (the backlog above) still stops when the duration is up. */
        if (duration_s > 0 && (due >= end || now_ms() >= end))
            break;
        while (!stop_requested && now_ms() < due)
            sleep_until_ms(due);
        if (!stop_requested)
            run_operation(w, choose_op(w));
    }
    print_summary(w, (now_ms() - start) / 1000);
}

static void writer_free(struct writer *w)
{
    db_close(&w->db);
    for (size_t i = 0; i < w->nsessions; i++)
        free(w->sessions[i]);
    for (int i = 0; i < w->npool; i++)
        free(w->pool[i].username);
    free(w->sessions);
    free(w->inserted_ids);
    free(w->stats.stalls_ms);
}

int writer_run(const struct options *o)
{
    struct writer w = {.conn = o->conn, .switch_file = o->switch_file};

    w.want = switch_file_backend(o->switch_file);
    if (!w.want)
        die("%s names none of sqlite, mysql, postgresql", o->switch_file);
    w.rng = o->seed_given ? o->seed
                          : (unsigned long long)time(NULL) ^ (unsigned long long)getpid() << 32;
    say("writing to %s at %g transactions/s, seed %llu", w.want->name, o->rate,
        (unsigned long long)w.rng);
    w.record_fd = open(o->record, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (w.record_fd < 0)
        die("%s: %s", o->record, strerror(errno));
    if (ensure_open(&w) != DB_OK || load_knowledge(&w) != DB_OK)
        die("%s: %s", w.want->name, w.db.err);
    catch_stop_signals();
    pace(&w, o->rate, o->duration_s);
    fdatasync(w.record_fd);
    close(w.record_fd);
    writer_free(&w);
    return w.gave_up ? 1 : 0;
}
