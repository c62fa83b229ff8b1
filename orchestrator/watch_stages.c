/*
 * watch_stages.c — the part of the terminal view that follows the stage
 * that runs (watch_view.c draws the frame and folds events into the
 * status it shows):
 *
 *   title          state, elapsed time of the migration, what is left
 *                  (copy ETA, verify ETA, post_validate window)
 *   bulk_copy,     one copy bar per table: rows, rows/s, ETA
 *   sync
 *   verify,        one verify bar per table: rows hashed of the total,
 *   cutover        mismatched rows; in cutover the sub-step, attempt and
 *                  write pause
 *   post_validate  the window counting down, one line per check
 *   paused         the stage it left, and how to go on
 *
 * The sync line shows only while the applier runs (sync, verify, cutover
 * before the switch). Colour marks ok / warning / firing when stdout is a
 * terminal, unless NO_COLOR is set (https://no-color.org) or TERM is dumb.
 */
#include "orchestrator/watch_view.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum tone { TONE_OK, TONE_WARN, TONE_FIRING };

static int colour = -1;

static const char *paint(enum tone t)
{
    static const char *const codes[] = {"\033[32m", "\033[33m", "\033[31m"};
    const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

    if (colour < 0)
        colour = isatty(STDOUT_FILENO) && !(nc && nc[0]) &&
                 !(term && strcmp(term, "dumb") == 0);
    return colour ? codes[t] : "";
}

static const char *unpaint(void)
{
    return colour > 0 ? "\033[0m" : "";
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static double num(json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

/* 75 → "1m15s", 3700 → "1h01m" */
static void duration(double s, char *buf, size_t cap)
{
    long t = s > 0 ? (long)(s + 0.5) : 0;

    if (t >= 3600)
        snprintf(buf, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60)
        snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, cap, "%lds", t);
}

static void bar(char *out, int width, double frac)
{
    int full = (int)(frac * width + 0.5);

    for (int i = 0; i < width; i++)
        out[i] = i < full ? '#' : '.';
    out[width] = '\0';
}

/* The stage whose lines to show: a paused migration shows the one it left. */
static const char *shown_stage(json_t *st)
{
    return strcmp(str(st, "state"), "paused") == 0 ? str(st, "resume_state")
                                                   : str(st, "state");
}

static double window_left(json_t *st, double now)
{
    json_t *pv = json_object_get(st, "post_validate");

    return num(pv, "watch_s") - (now - num(pv, "started_at"));
}

static double verify_fraction(json_t *t)
{
    json_t *v = json_object_get(t, "verify");
    double total = num(t, "total");

    if (json_is_true(json_object_get(v, "done")))
        return 1.0;
    return total > 0 ? (num(v, "rows") < total ? num(v, "rows") / total : 1)
                     : 0;
}

/* What is left, for the title: "copy ETA 40s", "verify ETA 5s", "window
 * 1m20s left", or "" when nothing can be said. */
static void remaining(json_t *st, const struct watch_rate *r, double now,
                      char *buf, size_t cap)
{
    const char *stage = shown_stage(st);
    char d[32];
    json_t *t;
    size_t i;

    buf[0] = '\0';
    if (strcmp(stage, "bulk_copy") == 0) {
        double eta = 0;
        json_array_foreach(json_object_get(st, "tables"), i, t)
            if (num(t, "eta_s") > eta)
                eta = num(t, "eta_s");
        duration(eta, d, sizeof d);
        if (eta > 0)
            snprintf(buf, cap, ", copy ETA %s", d);
    } else if (strcmp(stage, "verify") == 0 && r->per_s > 0) {
        double left = 0;
        json_array_foreach(json_object_get(st, "tables"), i, t)
            left += num(t, "total") * (1 - verify_fraction(t));
        duration(left / r->per_s, d, sizeof d);
        snprintf(buf, cap, ", verify ETA %s", d);
    } else if (strcmp(stage, "post_validate") == 0 &&
               num(json_object_get(st, "post_validate"), "started_at") > 0) {
        duration(window_left(st, now), d, sizeof d);
        snprintf(buf, cap, ", window %s left", d);
    }
}

void watch_title(json_t *st, const struct watch_rate *r, double now)
{
    const char *state = str(st, "state");
    int bad = strcmp(state, "failed") == 0 || strcmp(state, "rolled_back") == 0
              || strcmp(state, "rolling_back") == 0 ||
              strcmp(state, "aborted") == 0 || strcmp(state, "aborting") == 0;
    int warn = strcmp(state, "paused") == 0;
    char elapsed[32], left[64];

    duration(now - num(st, "started_at"), elapsed, sizeof elapsed);
    remaining(st, r, now, left, sizeof left);
    printf("cutover %s — %s%s%s — elapsed %s%s\n", str(st, "name"),
           bad ? paint(TONE_FIRING) : warn ? paint(TONE_WARN) : "", state,
           bad || warn ? unpaint() : "",
           num(st, "started_at") > 0 ? elapsed : "-", left);
}

/* One line per table: its name, a bar, and what `line` adds. */
typedef void (*table_line_fn)(json_t *t, const char *bar, double frac);

static double copy_fraction(json_t *t)
{
    double total = num(t, "total"), rows = num(t, "rows");

    if (json_is_true(json_object_get(t, "indexes_done")))
        return 1.0;
    return total > 0 ? (rows < total ? rows / total : 1) : 0;
}

static void copy_line(json_t *t, const char *b, double frac)
{
    printf("%-20.20s [%s] %5.1f%% %9.0f r/s ETA %5.0fs\n", str(t, "name"),
           b, frac * 100, num(t, "rows_per_s"), num(t, "eta_s"));
}

static void verify_line(json_t *t, const char *b, double frac)
{
    json_t *v = json_object_get(t, "verify");
    double bad = num(v, "mismatches");

    printf("%-20.20s [%s] %5.1f%% %9.0f hashed %s%3.0f diff%s\n",
           str(t, "name"), b, frac * 100, num(v, "rows"),
           bad > 0 ? paint(TONE_FIRING) : "", bad, bad > 0 ? unpaint() : "");
}

static void table_lines(json_t *st, int width, int *budget,
                        double (*fraction)(json_t *), table_line_fn line)
{
    json_t *t;
    size_t i;
    char b[512];

    json_array_foreach(json_object_get(st, "tables"), i, t) {
        if ((*budget)-- <= 0)
            break;
        double frac = fraction(t);
        bar(b, width, frac);
        line(t, b, frac);
    }
}

/* The sub-step: from `lock` to `fence` the source refuses nothing but
 * makes writers wait; from `switch` on it refuses them (the fence). */
static void cutover_line(json_t *st, const char *runbook)
{
    json_t *c = json_object_get(st, "cutover");
    const char *step = str(c, "step");
    static const char *const paused[] = {"lock", "drain", "reverify", "fence",
                                         NULL};
    const char *note = "";

    for (int i = 0; paused[i]; i++)
        if (strcmp(step, paused[i]) == 0)
            note = ", writers wait on the source's lock";
    if (strcmp(step, "switch") == 0)
        note = ", source fenced, switching the application";
    if (json_is_true(json_object_get(c, "waiting_for_ctl")))
        printf("cutover: ready, synced — waiting for `cutover ctl %s "
               "cutover`\n", runbook);
    else
        printf("cutover: step %s, attempt %.0f%s\n", step,
               num(c, "attempt"), note);
    if (num(c, "write_pause_ms") > 0)
        printf("cutover: last write pause %.0f ms\n",
               num(c, "write_pause_ms"));
}

static void window_lines(json_t *st, json_t *checks, double now, int width,
                         int *budget)
{
    json_t *pv = json_object_get(st, "post_validate"), *ck;
    double watch = num(pv, "watch_s"), left = window_left(st, now);
    const char *name;
    char b[512], d[32], w[32];

    if (num(pv, "started_at") > 0 && watch > 0) {
        left = left < 0 ? 0 : left > watch ? watch : left;
        bar(b, width, (watch - left) / watch);
        duration(left, d, sizeof d);
        duration(watch, w, sizeof w);
        printf("%-20.20s [%s] %s of %s left\n", "window", b, d, w);
    }
    if (json_object_size(checks) == 0) {
        printf("checks: none reported yet (every %g s)\n",
               num(pv, "interval_s"));
        return;
    }
    json_object_foreach(checks, name, ck) {
        if ((*budget)-- <= 0)
            break;
        if (json_is_true(json_object_get(ck, "ok")))
            printf("check %-14.14s %sok%s (%.0f ms)\n", name, paint(TONE_OK),
                   unpaint(), num(ck, "ms"));
        else
            printf("check %-14.14s %sFAILED%s %.0f in a row: %.*s\n", name,
                   paint(TONE_FIRING), unpaint(), num(ck, "failures"),
                   width + 20, str(ck, "error"));
    }
}

void watch_stage_lines(json_t *st, json_t *checks, const char *runbook,
                       double now, int cols, int budget)
{
    const char *stage = shown_stage(st);
    int width = cols - 58 > 10 ? cols - 58 : 10;

    if (width > 400)             /* the bar buffers hold 511 */
        width = 400;
    int applier = strcmp(stage, "sync") == 0 || strcmp(stage, "verify") == 0 ||
                  (strcmp(stage, "cutover") == 0 &&
                   !json_is_true(json_object_get(st, "switched")));
    json_t *sync = json_object_get(st, "sync");

    if (strcmp(str(st, "state"), "paused") == 0)
        printf("%spaused%s in %s — `cutover ctl %s resume` goes on\n",
               paint(TONE_WARN), unpaint(), stage, runbook);
    if (strcmp(stage, "verify") == 0 || strcmp(stage, "cutover") == 0)
        table_lines(st, width, &budget, verify_fraction, verify_line);
    else if (strcmp(stage, "post_validate") == 0)
        window_lines(st, checks, now, width, &budget);
    else
        table_lines(st, width, &budget, copy_fraction, copy_line);
    if (applier)
        printf("sync: lag %.2f s  backlog %.0f  applied %.0f/s\n",
               num(sync, "lag_s"), num(sync, "backlog_rows"),
               num(sync, "applied_per_s"));
    if (strcmp(stage, "cutover") == 0)
        cutover_line(st, runbook);
}

void watch_trigger_line(json_t *t)
{
    int breached = json_is_true(json_object_get(t, "breached"));

    printf("trigger %-60.60s %s%s%s\n", str(t, "rule"),
           paint(breached ? TONE_FIRING : TONE_OK),
           breached ? "BREACHED" : "ok", unpaint());
}
