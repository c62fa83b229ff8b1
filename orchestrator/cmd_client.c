/*
 * cmd_client.c — `status`, `watch` and `ctl`: clients of the progress
 * socket. `status` falls back to the checkpoint when no orchestrator runs;
 * none of them take the state dir's lock.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "orchestrator/cli.h"
#include "orchestrator/client.h"
#include "lib/log.h"
#include "checkpoints/migration.h"
#include "lib/runbook.h"
#include "orchestrator/protocol.h"
#include "orchestrator/watch_view.h"

/* The state dir's owner: the user the orchestrator runs as. */
static long state_dir_owner(const struct runbook *rb)
{
    struct stat st;

    return lstat(rb->state_dir, &st) == 0 ? (long)st.st_uid : -1;
}

/* Connect to the orchestrator and read its hello; on failure say why on
 * stderr (hint: what to do when none runs). */
static int open_socket(const struct runbook *rb, struct client_conn *c,
                       json_t **hello, const char *hint)
{
    struct co_err err = {0};
    int rc = client_open(rb->progress.socket, state_dir_owner(rb), c, hello,
                         &err);

    if (rc == CO_EPROTOCOL)
        fprintf(stderr, "cutover: %s\n", co_err_text(&err));
    else if (rc < 0)
        fprintf(stderr, "cutover: no orchestrator is running for %s (%s)%s\n",
                rb->name, co_err_text(&err), hint);
    return rc;
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

void status_print(json_t *st, FILE *f)
{
    json_t *t, *sync = json_object_get(st, "sync");
    json_t *cut = json_object_get(st, "cutover");
    size_t i;

    fprintf(f, "migration %s: %s", str(st, "name"), str(st, "state"));
    if (strcmp(str(st, "state"), "paused") == 0 ||
        strcmp(str(st, "state"), "failed") == 0)
        fprintf(f, " (in %s)", str(st, "resume_state"));
    fprintf(f, "%s%s\n", json_is_true(json_object_get(st, "switched"))
                             ? ", traffic on the target" : "",
            json_is_true(json_object_get(st, "running")) ? ""
                                                         : " (not running)");
    json_array_foreach(json_object_get(st, "tables"), i, t) {
        double total = num(t, "total"), rows = num(t, "rows");
        fprintf(f, "  %-28s %12.0f / %-12.0f %5.1f%%", str(t, "name"), rows,
                total, total > 0 ? 100.0 * rows / total : 100.0);
        if (num(t, "rows_per_s") > 0)
            fprintf(f, "  %.0f rows/s  ETA %.0f s", num(t, "rows_per_s"),
                    num(t, "eta_s"));
        if (json_is_true(json_object_get(t, "indexes_done")))
            fprintf(f, "  copied");
        json_t *v = json_object_get(t, "verify");
        if (json_is_true(json_object_get(v, "done")))
            fprintf(f, ", verified (%.0f mismatches)", num(v, "mismatches"));
        fprintf(f, "\n");
    }
    fprintf(f, "  sync: lag %.2f s, backlog %.0f rows, %.0f applied/s\n",
            num(sync, "lag_s"), num(sync, "backlog_rows"),
            num(sync, "applied_per_s"));
    if (cut && strcmp(str(cut, "step"), "ready") != 0)
        fprintf(f, "  cutover: step %s, attempt %.0f, write pause %.0f ms\n",
                str(cut, "step"), num(cut, "attempt"),
                num(cut, "write_pause_ms"));
    if (str(st, "last_error")[0])
        fprintf(f, "  last error: %s\n", str(st, "last_error"));
}

int cmd_status(const char *path, int json)
{
    struct runbook *rb;
    struct client_conn c;
    struct co_err err = {0};
    json_t *hello = NULL, *st, *cp = NULL;
    int code, rc;

    log_set_quiet(1);
    if (!(rb = cli_load_runbook(path, RB_SECRETS_NONE, &code)))
        return code;
    rc = client_open(rb->progress.socket, state_dir_owner(rb), &c, &hello,
                     &err);
    if (rc == 0) {
        st = json_incref(json_object_get(hello, "status"));
        client_close_conn(&c);
        json_decref(hello);
    } else if (rc == CO_EPROTOCOL) {
        fprintf(stderr, "cutover: %s\n", co_err_text(&err));
        runbook_free(rb);
        return EXIT_ERROR;
    } else if (migration_peek(rb->state_dir, &cp, &err) == 0 &&
               migration_check(rb, NULL, cp, &err) == 0) {
        st = migration_status_from_checkpoint(cp);
        json_decref(cp);
    } else {
        json_decref(cp);
        fprintf(stderr, "cutover: no orchestrator is running and %s\n",
                co_err_text(&err));
        runbook_free(rb);
        return EXIT_ERROR;
    }
    if (json) {
        char *text = json_dumps(st, JSON_INDENT(2) | JSON_SORT_KEYS);
        printf("%s\n", text);
        free(text);
    } else {
        status_print(st, stdout);
    }
    json_decref(st);
    runbook_free(rb);
    return EXIT_OK;
}

static json_t *ctl_request(const char *cmd, const char *arg, const char *arg2,
                           char *error, size_t cap)
{
    int kind = request_by_name(cmd);
    char *end;

    /* status is `cutover status`; ctl sends the commands that change
     * something */
    switch (kind) {
    case REQ_THROTTLE: {
        double v = arg ? strtod(arg, &end) : -1;
        if (!arg || *end || v < 0 || !isfinite(v) || arg2) {
            snprintf(error, cap, "usage: ctl RUNBOOK throttle %s (0 = "
                     "unlimited)", request_usage(REQ_THROTTLE));
            return NULL;
        }
        return json_pack("{ss sf}", "cmd", cmd, "rows_per_s", v);
    }
    case REQ_ALERT:
        if (!arg || !*arg) {
            snprintf(error, cap, "usage: ctl RUNBOOK alert %s",
                     request_usage(REQ_ALERT));
            return NULL;
        }
        return json_pack("{ss ss ss}", "cmd", cmd, "name", arg,
                         "severity", arg2 ? arg2 : "");
    case -1:
    case REQ_STATUS: {
        char names[160];
        request_names(REQ_PAUSE, names, sizeof names);
        snprintf(error, cap, "unknown ctl command \"%s\" (%s)", cmd, names);
        return NULL;
    }
    default:
        if (arg) {
            snprintf(error, cap, "ctl %s takes no argument", cmd);
            return NULL;
        }
        return json_pack("{ss}", "cmd", cmd);
    }
}

int cmd_ctl(const char *path, const char *cmd, const char *arg,
            const char *arg2)
{
    struct runbook *rb;
    struct client_conn c;
    struct co_err err = {0};
    json_t *hello, *req, *reply;
    char error[256];
    int code;

    log_set_quiet(1);
    if (!(req = ctl_request(cmd, arg, arg2, error, sizeof error))) {
        fprintf(stderr, "cutover: %s\n", error);
        return EXIT_USAGE;
    }
    if (!(rb = cli_load_runbook(path, RB_SECRETS_NONE, &code))) {
        json_decref(req);
        return code;
    }
    if (open_socket(rb, &c, &hello, "; start one with `cutover resume`") < 0) {
        json_decref(req);
        runbook_free(rb);
        return EXIT_ERROR;
    }
    json_decref(hello);
    code = client_request(&c, req, &reply, &err);
    json_decref(req);
    client_close_conn(&c);
    runbook_free(rb);
    if (code < 0) {
        fprintf(stderr, "cutover: %s\n", co_err_text(&err));
        return EXIT_ERROR;
    }
    if (!json_is_true(json_object_get(reply, "ok"))) {
        fprintf(stderr, "cutover: %s refused: %s\n", cmd,
                str(reply, "error"));
        json_decref(reply);
        return EXIT_ERROR;
    }
    printf("%s: ok\n", cmd);
    json_decref(reply);
    return EXIT_OK;
}

int cmd_watch(const char *path)
{
    struct runbook *rb;
    struct client_conn c;
    json_t *hello;
    int code;

    log_set_quiet(1);
    if (!(rb = cli_load_runbook(path, RB_SECRETS_NONE, &code)))
        return code;
    if (open_socket(rb, &c, &hello, "") < 0) {
        runbook_free(rb);
        return EXIT_ERROR;
    }
    code = isatty(STDOUT_FILENO) ? watch_view_run(&c, hello, path)
                                 : watch_lines_run(&c, hello);
    json_decref(hello);
    client_close_conn(&c);
    runbook_free(rb);
    return code;
}
