/*
 * cmd_run.c — `run`, `resume`, `check-checkpoint`, `restore-backup`: the
 * commands that own a state dir (they take its lock) or read its
 * checkpoint directly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoints/checkpoint.h"
#include "checkpoints/lock.h"
#include "orchestrator/cli.h"
#include "lib/events.h"
#include "lib/log.h"
#include "checkpoints/migration.h"
#include "orchestrator/orch.h"
#include "lib/runbook.h"
#include "stages/backup.h"
#include "sync/drivers/registry.h"

int cli_exit_code(int err)
{
    switch (err) {
    case CO_ERUNBOOK:
    case CO_EUSAGE:
        return EXIT_USAGE;
    case CO_EBLOCKED:
    case CO_EMISMATCH:
        return EXIT_FINDINGS;
    default:
        return EXIT_ERROR;
    }
}

struct runbook *cli_load_runbook(const char *path, int secrets, int *code)
{
    struct runbook *rb = NULL;
    struct co_err err = {0};
    const struct source_ops *sops;
    const struct target_ops *tops;
    int rc = runbook_load_needing(path, secrets, &rb, &err);

    /* Every command after this finds the runbook's drivers by name; the
     * target's judges what the runbook says in its language. */
    if (rc == 0 && ((rc = driver_pair(rb, &sops, &tops, &err)) < 0 ||
                    (rc = tops->check_runbook(rb, &err)) < 0))
        co_err_prefix(&err, "runbook %s", rb->path);
    if (rc < 0) {
        fprintf(stderr, "cutover: %s\n", co_err_text(&err));
        *code = rc == CO_EIO ? EXIT_USAGE : cli_exit_code(rc);
        if (rb)
            runbook_free(rb);
        return NULL;
    }
    return rb;
}

static void log_to_events(enum log_level level, const char *line)
{
    static __thread int inside;
    static const char *const names[] = {"debug", "info", "warning", "error"};

    if (inside)
        return;
    inside = 1;
    events_emit(EVT_LOG, json_pack("{ss ss}", "level", names[level], "message",
                                 line));
    inside = 0;
}

/* Own the state dir: create it if needed and take its lock. Everything
 * that looks at what is in it comes after the lock, so two commands never
 * both find it free of a migration. */
static int lock_state_dir(const struct runbook *rb, int *lock_fd,
                          struct co_err *err)
{
    int rc;

    if ((rc = state_dir_create(rb->state_dir, err)) < 0)
        return rc;
    if ((rc = state_dir_lock(rb->state_dir, err)) < 0)
        return rc;
    *lock_fd = rc;
    return 0;
}

/* Open the event log, once the state dir is ours. */
static int open_events(const struct runbook *rb, struct co_err *err)
{
    int rc = events_open(rb->state_dir, err);

    if (rc == 0)
        log_set_sink(log_to_events);
    return rc;
}

static void release_state_dir(int lock_fd)
{
    log_set_sink(NULL);
    events_close();
    if (lock_fd >= 0)
        close(lock_fd);
}

static void print_outcome(struct migration *m, int code)
{
    int64_t rows = 0;
    double elapsed = now_s() - m->started_at;

    for (int i = 0; i < m->ntables; i++)
        for (int r = 0; r < m->tables[i].nranges; r++)
            rows += m->tables[i].ranges[r].rows;
    switch (m->state) {
    case ST_COMPLETED:
        printf("cutover %s: completed: %d tables, %lld rows copied, write "
               "pause %.0f ms, %.1f s in all\n", m->rb->name, m->ntables,
               (long long)rows, m->cut.last_pause_ms, elapsed);
        break;
    case ST_FAILED:
        printf("cutover %s: failed in %s: %s\n  fix the cause, then `cutover "
               "resume %s`\n", m->rb->name, fsm_state_name(m->resume_state),
               m->last_error, m->rb->path);
        break;
    default:
        printf("cutover %s: %s%s%s (exit %d)\n", m->rb->name,
               fsm_state_name(m->state), code == 6 ? ", resumable with "
               "`cutover resume`" : "", m->last_error[0] ? ": " : "",
               code);
        if (m->last_error[0] && code == 6)
            printf("  %s\n", m->last_error);
    }
}

int cmd_run(const char *path)
{
    struct runbook *rb;
    struct migration *m;
    struct co_err err = {0};
    json_t *cp = NULL;
    int code, lock_fd = -1;

    if (!(rb = cli_load_runbook(path, RB_SECRETS_ALL, &code)))
        return code;
    if (lock_state_dir(rb, &lock_fd, &err) < 0) {
        fprintf(stderr, "cutover: %s\n", co_err_text(&err));
        runbook_free(rb);
        return EXIT_ERROR;
    }
    if (checkpoint_exists(rb->state_dir)) {
        const char *st = "unknown: the checkpoint does not read";
        if (migration_peek(rb->state_dir, &cp, &err) == 0)
            st = json_string_value(json_object_get(cp, "state"));
        fprintf(stderr, "cutover: a migration already exists in %s (state "
                "%s); use `cutover resume`, or move the state dir away to "
                "start over\n", rb->state_dir, st);
        json_decref(cp);
        release_state_dir(lock_fd);
        runbook_free(rb);
        return EXIT_ERROR;
    }
    backup_remove_leftovers(rb->state_dir, NULL);
    if (open_events(rb, &err) < 0) {
        fprintf(stderr, "cutover: %s\n", co_err_text(&err));
        release_state_dir(lock_fd);
        runbook_free(rb);
        return EXIT_ERROR;
    }
    m = migration_new(rb);
    m->started_at = now_s();
    /* The id marks everything this migration will make (lib/owner.h). */
    if ((owner_new_id(m->id) < 0
             ? co_errf(&err, CO_EIO, "no random bytes for a migration id")
             : migration_save(m, &err)) < 0) {
        fprintf(stderr, "cutover: %s\n", co_err_text(&err));
        code = EXIT_ERROR;
    } else {
        code = orch_run(rb, m);
        print_outcome(m, code);
    }
    migration_free(m);
    release_state_dir(lock_fd);
    runbook_free(rb);
    return code;
}

/* Rebuild the model from the checkpoint (the source schema is read again
 * and checked against it). */
int cli_load_model(struct runbook *rb, json_t *cp, struct migration **out,
                      struct co_err *err)
{
    struct migration *m = migration_new(rb);
    const struct source_ops *sops = driver_source(rb->source.type);
    struct source *src = NULL;
    struct schema sc;
    int rc = 0;

    m->logical_of_type = driver_target(rb->target.type)->logical_of_type;
    migration_kept_from_json(m, cp);
    if (json_array_size(json_object_get(cp, "tables")) > 0) {
        if ((rc = sops->open(rb, &src, err)) == 0 &&
            (rc = sops->read_schema(src, rb, &sc, err)) == 0) {
            migration_drop_kept(m, &sc);
            rc = migration_set_schema(m, &sc);
        }
        sops->close(src);
    }
    if (rc == 0)
        rc = migration_from_json(m, cp, err);
    if (rc < 0) {
        migration_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

int cmd_resume(const char *path)
{
    struct runbook *rb;
    struct migration *m = NULL;
    struct co_err err = {0};
    json_t *cp = NULL;
    int code, lock_fd = -1, rc;

    if (!(rb = cli_load_runbook(path, RB_SECRETS_ALL, &code)))
        return code;
    if (access(rb->state_dir, F_OK) == 0 &&
        (rc = lock_state_dir(rb, &lock_fd, &err)) < 0) {
        fprintf(stderr, "cutover: cannot resume: %s\n", co_err_text(&err));
        runbook_free(rb);
        return EXIT_ERROR;
    }
    if (lock_fd < 0 || !checkpoint_exists(rb->state_dir)) {
        fprintf(stderr, "cutover: no migration in %s (no checkpoint.json); "
                "start one with `cutover run`\n", rb->state_dir);
        release_state_dir(lock_fd);
        runbook_free(rb);
        return EXIT_ERROR;
    }
    if ((rc = open_events(rb, &err)) < 0 ||
        (rc = migration_peek(rb->state_dir, &cp, &err)) < 0 ||
        (rc = cli_load_model(rb, cp, &m, &err)) < 0) {
        fprintf(stderr, "cutover: cannot resume: %s\n", co_err_text(&err));
        json_decref(cp);
        if (lock_fd >= 0)
            release_state_dir(lock_fd);
        runbook_free(rb);
        return EXIT_ERROR;
    }
    json_decref(cp);
    backup_remove_leftovers(rb->state_dir, m->backup_file[0] ? m->backup_file
                                                            : NULL);
    if (fsm_state_is_terminal(m->state)) {
        printf("cutover %s: already %s; nothing to resume\n", rb->name,
               fsm_state_name(m->state));
        code = migration_exit_code(m->state);
        goto out;
    }
    events_emit(EVT_LOG, json_pack("{ss ss ss}", "level", "info", "message",
                                 "resumed", "state", fsm_state_name(m->state)));
    if ((m->state == ST_PAUSED || m->state == ST_FAILED) &&
        migration_transition(m, EV_RESUME, "cutover resume", &err) < 0) {
        fprintf(stderr, "cutover: cannot resume: %s\n", co_err_text(&err));
        code = EXIT_ERROR;
        goto out;
    }
    code = orch_run(rb, m);
    print_outcome(m, code);
out:
    migration_free(m);
    release_state_dir(lock_fd);
    runbook_free(rb);
    return code;
}

int cmd_check_checkpoint(const char *path)
{
    struct runbook *rb;
    struct co_err err = {0};
    json_t *cp;
    const char *id;
    int code;

    if (!(rb = cli_load_runbook(path, RB_SECRETS_NONE, &code)))
        return code;
    if (migration_peek(rb->state_dir, &cp, &err) < 0 ||
        migration_check(rb, NULL, cp, &err) < 0) {
        fprintf(stderr, "cutover: %s\n", co_err_text(&err));
        json_decref(cp);
        runbook_free(rb);
        return EXIT_ERROR;
    }
    id = json_string_value(json_object_get(cp, "migration_id"));
    printf("checkpoint %s/%s: OK (format %d, SHA-256 verified)\n"
           "  state %s, resumes into %s, %zu tables, %s\n"
           "  migration %s\n", rb->state_dir,
           CHECKPOINT_FILE, (int)json_integer_value(json_object_get(cp,
                                                                 "format")),
           json_string_value(json_object_get(cp, "state")),
           json_string_value(json_object_get(cp, "resume_state")),
           json_array_size(json_object_get(cp, "tables")),
           json_is_true(json_object_get(cp, "switched"))
               ? "traffic switched to the target" : "traffic on the source",
           id && *id ? id : "without an id (started by an older cutover)");
    json_decref(cp);
    runbook_free(rb);
    return EXIT_OK;
}

int cmd_restore_backup(const char *path, const char *dest)
{
    struct runbook *rb;
    struct co_err err = {0};
    json_t *cp;
    int code;

    if (!(rb = cli_load_runbook(path, RB_BACKUP_KEY, &code)))
        return code;
    if (migration_peek(rb->state_dir, &cp, &err) < 0 ||
        migration_check(rb, NULL, cp, &err) < 0 ||
        backup_restore(rb, cp, dest, &err) < 0) {
        fprintf(stderr, "cutover: %s\n", co_err_text(&err));
        json_decref(cp);
        runbook_free(rb);
        return EXIT_ERROR;
    }
    printf("restored the source backup into %s (SHA-256 verified)\n", dest);
    json_decref(cp);
    runbook_free(rb);
    return EXIT_OK;
}
