/*
 * orch.h — one running orchestrator: the libuv loop (main thread) that owns
 * signals, timers, the progress socket and notifications, and the conductor
 * thread that drives the stages. Commands (from the socket, the triggers or
 * a signal) are queued to the conductor, which applies them between steps;
 * their outcome comes back to the loop for the reply.
 */
#ifndef CO_ORCH_H
#define CO_ORCH_H

#include <pthread.h>
#include <uv.h>

#include "checkpoints/migration.h"
#include "lib/backoff.h"
#include "orchestrator/protocol.h"
#include "stages/stage.h"

/* What the conductor is asked to do: the socket's commands (protocol.h,
 * same numbers: a request's kind is its command's kind) and a signal's
 * interrupt. status is answered on the loop and never queued. */
enum command_kind {
#define X(id, name, args) CMD_##id = REQ_##id,
    CTL_COMMANDS(X)
#undef X
    CMD_INTERRUPT = REQ__COUNT
};

const char *command_name(enum command_kind k);

struct command;
typedef void (*command_done_fn)(struct command *c);

struct command {
    enum command_kind kind;
    double number;             /* throttle: rows per second */
    char name[96];             /* alert name */
    char severity[32];
    char origin[64];           /* "socket", "trigger lag", "signal" */
    /* outcome, set by the conductor */
    int ok;
    char error[512];
    command_done_fn done;      /* called on the loop thread; may be NULL */
    void *arg;
    struct command *next;
};

struct progress_server;
struct notifier;
struct trigger_engine;
struct http_server;

struct orch {
    struct runbook *rb;
    struct migration *m;
    uv_loop_t loop;
    uv_signal_t sigint, sigterm;
    uv_timer_t tick;
    uv_async_t wake;
    pthread_t conductor;
    pthread_mutex_t qmu;
    pthread_cond_t qcond;
    struct command *queue;     /* to the conductor */
    struct command *done;      /* back to the loop */
    volatile int interrupted;
    int io_failed;             /* the checkpoint cannot be written: stop */
    volatile int finished;
    int exit_code;
    struct stage_ctx ctx;
    const struct stage *entered;
    struct progress_server *server;
    struct notifier *notifier;
    struct trigger_engine *triggers;
    struct http_server *http;  /* the runbook's "http" endpoint, or NULL */
    double last_prom;
    double outage_since;       /* a database unreachable since (mono), 0 */
    struct backoff outage;     /* between reconnection attempts */
};

/* Run the migration in m (already loaded or new) until it ends, pauses for
 * good or is interrupted. Returns the process exit code. */
int orch_run(struct runbook *rb, struct migration *m);

/* Queue a command for the conductor (any thread). */
void orch_command(struct orch *o, struct command *c);

/* Status for `status` and the socket's hello. */
json_t *orch_status(struct orch *o);

#endif
