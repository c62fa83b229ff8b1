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
int watch_view_run(struct client_conn *c, json_t *hello);

/* One event as a readable line (no newline). */
void event_line(json_t *ev, char *buf, size_t cap);
void status_print(json_t *st, FILE *f);

#endif
