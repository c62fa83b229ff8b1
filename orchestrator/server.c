/*
 * server.c — the progress socket (DESIGN §7): a unix socket in the libuv
 * loop. Every client gets a hello with the full status, then every event as
 * a line. Clients send one JSON command per line (protocol.c); commands
 * that change anything are accepted only from our own uid or root
 * (SO_PEERCRED). Output per client is bounded: a client that falls behind
 * is sent a last `dropped` line and disconnected — the migration never
 * waits for a watcher. Bad input gets an error reply; the connection
 * survives.
 *
 * Descriptors are bounded too, so that watchers can never lock the owner
 * out (no fd left for a checkpoint write or for `ctl`): at most
 * WATCHER_SLOTS clients of other users, RESERVED_SLOTS more that only our
 * own uid and root may take, RLIMIT_NOFILE raised to fit both beside what
 * the migration itself opens. A connection beyond its limit gets one
 * error line and is closed. A watcher whose output has not moved for
 * STALLED_OUT_S, or any client that has left half a command line for
 * STALLED_LINE_S, is dropped.
 */
#include "orchestrator/server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/events.h"
#include "lib/log.h"
#include "orchestrator/protocol.h"
#include "orchestrator/triggers.h"
#include "lib/umask.h"
#include "lib/xalloc.h"

#define CLIENT_MAX_PENDING (1 << 20)   /* bytes queued to one client */
#define WATCHER_SLOTS 512              /* clients of other users */
#define RESERVED_SLOTS 16              /* more, for our uid and root only */
#define OWN_FDS 512                    /* what the migration itself opens */
#define STALLED_OUT_S 60.0             /* a watcher's output not moving */
#define STALLED_LINE_S 30.0            /* a command line left unfinished */
#define SWEEP_MS 2000
#define DROP_GRACE_MS 5000             /* a dropped client still not reading */
#define STOP_GRACE_S 5.0               /* flushing clients at the end */

struct line {
    char *p;
    size_t n;
    struct line *next;
};

struct client {
    uv_pipe_t pipe;
    uv_timer_t grace;          /* force-close a dropped client */
    uv_shutdown_t shutdown;
    struct progress_server *srv;
    uid_t uid;
    int control;
    size_t pending;
    char *in;
    size_t inlen, incap;
    int discarding;
    double out_since;          /* output pending and not moving since */
    double line_since;         /* the unfinished command line began */
    int closed;
    int closing;               /* shutting down: send nothing more */
    int refs;
    struct client *next;
};

struct progress_server {
    struct orch *o;
    uv_pipe_t listener;
    uv_async_t async;
    uv_timer_t sweep;          /* drops stalled clients */
    pthread_mutex_t mu;
    struct line *head, *tail;
    struct client *clients;
    int listen_id;
    char *path;
    int nclients;
    int nwatchers;             /* clients without control */
    int watcher_slots;         /* WATCHER_SLOTS, or fewer if fds are short */
    double refused_logged;     /* last "refused" warning (mono) */
};

struct write_req {
    uv_write_t req;
    struct client *c;
    size_t n;
    char data[];
};

static void client_unref(struct client *c);

static void on_client_closed(uv_handle_t *h)
{
    struct client *c = h->data;
    client_unref(c);
}

/* Close now: pending writes are cancelled. */
static void client_close(struct client *c)
{
    struct client **pp;

    if (c->closed)
        return;
    c->closed = c->closing = 1;
    for (pp = &c->srv->clients; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    c->srv->nclients--;
    c->srv->nwatchers -= !c->control;
    uv_timer_stop(&c->grace);
    c->refs++;
    uv_close((uv_handle_t *)&c->grace, on_client_closed);
    uv_close((uv_handle_t *)&c->pipe, on_client_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    client_close(req->data);
}

static void on_grace_over(uv_timer_t *t)
{
    client_close(t->data);
}

/* Close after what is queued has been written (the final lines reach a
 * client that is still reading), or after a grace period for one that is
 * not. */
static void client_finish(struct client *c, unsigned int grace_ms)
{
    if (c->closing)
        return;
    c->closing = 1;
    c->shutdown.data = c;
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->pipe, on_shutdown) < 0) {
        client_close(c);
        return;
    }
    uv_timer_start(&c->grace, on_grace_over, grace_ms, 0);
}

static void client_unref(struct client *c)
{
    if (--c->refs > 0)
        return;
    free(c->in);
    free(c);
}

static void on_written(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;

    w->c->pending -= w->n;
    w->c->out_since = w->c->pending ? mono_s() : 0;
    if (status < 0 && !w->c->closed)
        client_close(w->c);
    client_unref(w->c);
    free(w);
}

static void queue_write(struct client *c, const char *p, size_t n);

static void client_send(struct client *c, const char *p, size_t n)
{
    /* type EVT_DROPPED, spelled out: it must be sent without allocating */
    static const char dropped[] = "{\"type\":\"dropped\",\"reason\":\"the "
                                  "client fell behind; reconnect to watch "
                                  "again\"}\n";

    if (c->closing)
        return;
    if (c->pending + n > CLIENT_MAX_PENDING) {
        /* The last line it gets says why; nothing after it. */
        queue_write(c, dropped, sizeof dropped - 1);
        log_warnx("progress socket: dropped a watcher that fell %zu bytes "
                  "behind", c->pending);
        client_finish(c, DROP_GRACE_MS);
        return;
    }
    queue_write(c, p, n);
}

static void queue_write(struct client *c, const char *p, size_t n)
{
    struct write_req *w;
    uv_buf_t buf;

    w = xmalloc(sizeof *w + n);
    memcpy(w->data, p, n);
    w->c = c;
    w->n = n;
    if (!c->pending)
        c->out_since = mono_s();
    c->pending += n;
    c->refs++;
    buf = uv_buf_init(w->data, (unsigned int)n);
    if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &buf, 1, on_written) < 0) {
        c->pending -= n;
        c->refs--;
        free(w);
        client_close(c);
    }
}

static void client_send_json(struct client *c, json_t *j)
{
    char *text;

    redact_json(j);
    if ((text = json_dumps(j, JSON_COMPACT))) {
        size_t n = strlen(text);
        char *line = xrealloc(text, n + 2);
        if (line) {
            line[n++] = '\n';
            client_send(c, line, n);
            free(line);
        } else {
            free(text);
        }
    }
    json_decref(j);
}

static void reply(struct client *c, int ok, const char *error, json_t *extra)
{
    json_t *r = json_pack("{ss sb}", "type", event_type_name(EVT_REPLY), "ok",
                          ok);

    if (error)
        json_object_set_new(r, "error", json_string(error));
    if (extra) {
        json_object_update(r, extra);
        json_decref(extra);
    }
    client_send_json(c, r);
}

static void on_command_done(struct command *cmd)
{
    struct client *c = cmd->arg;

    if (!c->closed)
        reply(c, cmd->ok, cmd->ok ? NULL : cmd->error,
              json_pack("{ss}", "cmd", command_name(cmd->kind)));
    client_unref(c);
    free(cmd);
}

static void handle_line(struct client *c, const char *line, size_t n)
{
    struct progress_server *srv = c->srv;
    struct request req;
    struct command *cmd;
    char error[256];

    if (n == 0)
        return;
    if (protocol_parse(line, n, &req, error, sizeof error) < 0) {
        reply(c, 0, error, NULL);
        return;
    }
    if (protocol_is_control(&req) && !c->control) {
        snprintf(error, sizeof error, "not permitted: only uid %d or root may "
                 "change the migration; watching is allowed", (int)getuid());
        reply(c, 0, error, NULL);
        return;
    }
    if (req.kind == REQ_STATUS) {
        reply(c, 1, NULL, json_pack("{so}", "status", orch_status(srv->o)));
        return;
    }
    if (req.kind == REQ_ALERT) {
        int fired = srv->o->triggers
                        ? trigger_engine_alert(srv->o->triggers, req.name,
                                               req.severity)
                        : 0;
        reply(c, 1, NULL, json_pack("{ss si}", "cmd", request_name(REQ_ALERT),
                                    "rules_fired", fired));
        return;
    }
    cmd = xcalloc(1, sizeof *cmd);
    cmd->kind = (enum command_kind)req.kind;     /* same numbers */
    cmd->number = req.rows_per_s;
    snprintf(cmd->origin, sizeof cmd->origin, "socket, uid %d", (int)c->uid);
    cmd->done = on_command_done;
    cmd->arg = c;
    c->refs++;
    orch_command(srv->o, cmd);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = xmalloc(suggested);
    buf->len = buf->base ? suggested : 0;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct client *c = s->data;

    if (nread < 0) {
        free(buf->base);
        client_close(c);
        return;
    }
    for (ssize_t i = 0; i < nread; i++) {
        char ch = buf->base[i];
        if (!c->line_since)
            c->line_since = mono_s();
        if (ch == '\n') {
            c->line_since = 0;
            if (c->discarding)
                reply(c, 0, "line too long (limit 65536 bytes); ignored",
                      NULL);
            else
                handle_line(c, c->in, c->inlen);
            c->inlen = 0;
            c->discarding = 0;
            continue;
        }
        if (c->discarding)
            continue;
        if (c->inlen >= PROTOCOL_MAX_LINE) {
            c->discarding = 1;
            continue;
        }
        if (c->inlen + 1 > c->incap) {
            c->incap = c->incap ? c->incap * 2 : 1024;
            c->in = xrealloc(c->in, c->incap);
        }
        c->in[c->inlen++] = ch;
    }
    free(buf->base);
}

/* No slot for this client: one line saying so, then close. */
static void refuse(struct client *c, const char *why)
{
    struct progress_server *srv = c->srv;
    char line[256];
    uv_buf_t buf;

    snprintf(line, sizeof line, "{\"type\":\"error\",\"error\":\"%s\"}\n",
             why);
    buf = uv_buf_init(line, (unsigned int)strlen(line));
    uv_try_write((uv_stream_t *)&c->pipe, &buf, 1);
    if (mono_s() - srv->refused_logged > 10) {
        srv->refused_logged = mono_s();
        log_warnx("progress socket: refused a client of uid %d: %s",
                  (int)c->uid, why);
    }
    c->closed = c->closing = 1;
    c->refs++;
    uv_close((uv_handle_t *)&c->grace, on_client_closed);
    uv_close((uv_handle_t *)&c->pipe, on_client_closed);
}

static void on_connection(uv_stream_t *l, int status)
{
    struct progress_server *srv = l->data;
    struct client *c;
    struct ucred cred;
    socklen_t len = sizeof cred;
    uv_os_fd_t fd;

    if (status < 0)
        return;
    c = xcalloc(1, sizeof *c);
    c->srv = srv;
    c->refs = 1;
    uv_pipe_init(&srv->o->loop, &c->pipe, 0);
    uv_timer_init(&srv->o->loop, &c->grace);
    c->pipe.data = c;
    c->grace.data = c;
    if (uv_accept(l, (uv_stream_t *)&c->pipe) < 0) {
        c->closed = 1;
        c->refs++;
        uv_close((uv_handle_t *)&c->grace, on_client_closed);
        uv_close((uv_handle_t *)&c->pipe, on_client_closed);
        return;
    }
    c->uid = (uid_t)-1;
    if (uv_fileno((uv_handle_t *)&c->pipe, &fd) == 0 &&
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
        c->uid = cred.uid;
    c->control = c->uid == getuid() || c->uid == 0;
    if (!c->control && srv->nwatchers >= srv->watcher_slots) {
        refuse(c, "too many watchers are connected; try again later");
        return;
    }
    if (srv->nclients >= srv->watcher_slots + RESERVED_SLOTS) {
        refuse(c, "too many clients are connected; try again later");
        return;
    }
    c->next = srv->clients;
    srv->clients = c;
    srv->nclients++;
    srv->nwatchers += !c->control;
    client_send_json(c, json_pack("{ss si so}", "type", event_type_name(EVT_HELLO), "version", 1,
                                  "status", orch_status(srv->o)));
    uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

/* Every SWEEP_MS: drop watchers whose output has not moved, and clients
 * whose half command line has not been finished, for too long. (Our own
 * uid's and root's clients may read late: they are few and trusted.) */
static void on_sweep(uv_timer_t *t)
{
    struct progress_server *srv = t->data;
    double now = mono_s();

    for (struct client *c = srv->clients, *next; c; c = next) {
        next = c->next;
        int out = !c->control && c->pending &&
                  now - c->out_since > STALLED_OUT_S;
        int in = c->line_since && now - c->line_since > STALLED_LINE_S;
        if (c->closing || !(out || in))
            continue;
        log_warnx("progress socket: dropped a client of uid %d that %s for "
                  "%.0f s", (int)c->uid, out ? "read nothing"
                                             : "left a command unfinished",
                  out ? STALLED_OUT_S : STALLED_LINE_S);
        client_close(c);
    }
}

/* Room for every slot beside what the migration opens: raise the soft
 * limit on descriptors as far as needed, or take fewer watchers. */
static int fit_descriptors(void)
{
    rlim_t need = OWN_FDS + WATCHER_SLOTS + RESERVED_SLOTS;
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return WATCHER_SLOTS;
    if (rl.rlim_cur < need) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need
                          ? need : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur >= need)
        return WATCHER_SLOTS;
    /* A hard limit below what we want: fewer watchers, never fewer
     * descriptors for the migration or the owner. */
    if (rl.rlim_cur <= OWN_FDS + RESERVED_SLOTS + 8)
        return 8;
    log_warnx("progress socket: the descriptor limit is %llu (ulimit -n); "
              "watchers are limited to %llu", (unsigned long long)rl.rlim_cur,
              (unsigned long long)(rl.rlim_cur - OWN_FDS - RESERVED_SLOTS));
    return (int)(rl.rlim_cur - OWN_FDS - RESERVED_SLOTS);
}

/* Any thread: queue an event line for the loop. */
static void on_event(void *arg, const char *p, size_t n, json_t *ev)
{
    struct progress_server *srv = arg;
    struct line *l = xmalloc(sizeof *l);

    (void)ev;
    l->p = xmalloc(n);
    memcpy(l->p, p, n);
    l->n = n;
    l->next = NULL;
    pthread_mutex_lock(&srv->mu);
    if (srv->tail)
        srv->tail->next = l;
    else
        srv->head = l;
    srv->tail = l;
    pthread_mutex_unlock(&srv->mu);
    uv_async_send(&srv->async);
}

static void on_async(uv_async_t *h)
{
    struct progress_server *srv = h->data;
    struct line *list, *l;

    pthread_mutex_lock(&srv->mu);
    list = srv->head;
    srv->head = srv->tail = NULL;
    pthread_mutex_unlock(&srv->mu);
    while ((l = list)) {
        struct client *c = srv->clients, *next;
        list = l->next;
        for (; c; c = next) {
            next = c->next;    /* client_send may drop c */
            client_send(c, l->p, l->n);
        }
        free(l->p);
        free(l);
    }
}

/* A socket file left by a crashed run is removed; a live one is not. */
static int clear_stale(const char *path, struct co_err *err)
{
    struct stat st;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd, live;

    if (lstat(path, &st) < 0)
        return 0;
    if (!S_ISSOCK(st.st_mode))
        return co_errf(err, CO_EEXISTS, "progress.socket %s exists and is not "
                       "a socket; refusing to replace it", path);
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    live = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0)
        close(fd);
    if (live)
        return co_errf(err, CO_EEXISTS, "progress.socket %s is in use by "
                       "another process", path);
    unlink(path);
    return 0;
}

struct progress_server *server_start(struct orch *o, struct co_err *err)
{
    struct progress_server *srv = xcalloc(1, sizeof *srv);
    const char *path = o->rb->progress.socket;
    int rc;

    srv->o = o;
    srv->path = xstrdup(path);
    srv->watcher_slots = fit_descriptors();
    pthread_mutex_init(&srv->mu, NULL);
    if (clear_stale(path, err) < 0)
        goto fail;
    uv_pipe_init(&o->loop, &srv->listener, 0);
    srv->listener.data = srv;
    /* Born with progress.mode: the umask at bind gives it, so nothing
     * touches the path afterwards (a chmod would follow a link put in
     * its place). */
    mode_t ours = umask_enter(0777 & ~(mode_t)o->rb->progress.mode);
    rc = uv_pipe_bind(&srv->listener, path);
    umask_leave(ours);
    if (rc < 0) {
        co_errf(err, CO_EIO, "progress.socket %s: %s", path, uv_strerror(rc));
        uv_close((uv_handle_t *)&srv->listener, NULL);
        goto fail;
    }
    if ((rc = uv_listen((uv_stream_t *)&srv->listener, 128,
                        on_connection)) < 0) {
        co_errf(err, CO_EIO, "progress.socket %s: %s", path, uv_strerror(rc));
        uv_close((uv_handle_t *)&srv->listener, NULL);
        unlink(path);
        goto fail;
    }
    uv_async_init(&o->loop, &srv->async, on_async);
    srv->async.data = srv;
    uv_timer_init(&o->loop, &srv->sweep);
    srv->sweep.data = srv;
    uv_timer_start(&srv->sweep, on_sweep, SWEEP_MS, SWEEP_MS);
    srv->listen_id = events_listen(on_event, srv);
    return srv;
fail:
    pthread_mutex_destroy(&srv->mu);
    free(srv->path);
    free(srv);
    return NULL;
}

void server_stop(struct progress_server *srv)
{
    struct line *l;

    if (!srv)
        return;
    events_unlisten(srv->listen_id);
    /* Deliver what is queued (the final outcome) before closing: every
     * client is shut down gracefully, the loop runs until they are gone
     * or the grace period ends. */
    on_async(&srv->async);
    for (struct client *c = srv->clients, *next; c; c = next) {
        next = c->next;
        client_finish(c, (unsigned int)(STOP_GRACE_S * 1000));
    }
    /* Each client's grace timer bounds this: a blocking run returns at the
     * latest when it fires. */
    for (double until = mono_s() + STOP_GRACE_S;
         srv->clients && mono_s() < until;)
        uv_run(&srv->o->loop, UV_RUN_ONCE);
    while (srv->clients)
        client_close(srv->clients);
    if (!uv_is_closing((uv_handle_t *)&srv->listener))
        uv_close((uv_handle_t *)&srv->listener, NULL);
    if (!uv_is_closing((uv_handle_t *)&srv->async))
        uv_close((uv_handle_t *)&srv->async, NULL);
    if (!uv_is_closing((uv_handle_t *)&srv->sweep))
        uv_close((uv_handle_t *)&srv->sweep, NULL);
    uv_run(&srv->o->loop, UV_RUN_NOWAIT);
    unlink(srv->path);
    while ((l = srv->head)) {
        srv->head = l->next;
        free(l->p);
        free(l);
    }
    pthread_mutex_destroy(&srv->mu);
    free(srv->path);
    free(srv);
}
