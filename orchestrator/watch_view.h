/*
 * watch_view.h — `cutover watch`: on a terminal, a live view redrawn in
 * place (stage timeline, one progress bar per table with rows/s and ETA,
 * lag and backlog, triggers, the last events), sized to the terminal on
 * every redraw; in a pipe, one line per event. Both end when the migration
 * ends or the orchestrator goes away.
 */
#ifndef CO_WATCH_VIEW_H
#define CO_WATCH_VIEW_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "orchestrator/client.h"

int watch_lines_run(struct client_conn *c, json_t *hello);
int watch_view_run(struct client_conn *c, json_t *hello, const char *runbook);

/* One event as a readable line (no newline). */
void event_line(json_t *ev, char *buf, size_t cap);
void status_print(json_t *st, FILE *f);

/* watch_stages.c: the view's lines for the stage that runs. `st` is the
 * status the view keeps up to date from the events, `checks` the last
 * `check` event of each check by name, `runbook` what `ctl` needs. */
struct watch_rate {
    double per_s;              /* verify: rows hashed per second, measured */
};
void watch_title(json_t *st, const struct watch_rate *r, double now);
void watch_stage_lines(json_t *st, json_t *checks, const char *runbook,
                       double now, int cols, int budget);
void watch_trigger_line(json_t *t);

#endif
