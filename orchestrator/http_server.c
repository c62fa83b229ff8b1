/*
 * http_server.c — the HTTP endpoint's daemon (see http.h for the routes).
 *
 * Threads: libmicrohttpd runs one thread per connection, at most
 * http.max_connections of them, and closes a connection idle for
 * HTTP_TIMEOUT_S; the migration never waits for a client. The model, the
 * trigger engine and the status belong to the libuv loop, so a handler
 * that needs them queues a `loop_call` (woken by a uv_async) and waits at
 * most LOOP_WAIT_S for the loop to run it — answering 503 otherwise.
 * Server-Sent Events come from an events listener into a bounded buffer
 * per client; a client that falls SSE_MAX_PENDING behind is ended (an
 * EventSource reconnects), never waited for.
 *
 * POST /alerts checks, in order: the bearer token (401; compared as
 * SHA-256 digests with CRYPTO_memcmp, so the time taken says nothing about
 * the token), the size (413), the payload (400). Only then does it act.
 */
#include "orchestrator/http.h"

#include <errno.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/events.h"
#include "lib/log.h"
#include "orchestrator/orch.h"
#include "lib/runbook_http.h"

#define HTTP_TIMEOUT_S 30          /* an idle connection is closed */
#define LOOP_WAIT_S 5              /* a handler waiting for the loop */
#define SSE_KEEPALIVE_S 10         /* a comment line when nothing happens */
#define SSE_MAX_PENDING (1 << 20)  /* bytes queued to one SSE client */
#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct http_server;

/* A piece of work for the loop thread, and its answer. */
struct loop_call {
    void (*run)(struct http_server *s, struct loop_call *c);
    json_t *alerts;            /* POST /alerts: the parsed payload */
    int status;                /* the answer: HTTP status, body */
    char *body;
    size_t len;
    const char *content_type;
    int taken, done;
    struct loop_call *next;
};

struct sse_client {
    struct http_server *srv;
    char *buf;
    size_t len, cap;
    int ended;                 /* fell behind, or the server stops */
    struct sse_client *next;
};

/* What a POST accumulates between the handler's calls. */
struct upload {
    char *body;
    size_t len;
    int too_big;
};

struct http_server {
    struct orch *o;
    struct MHD_Daemon *daemon;
    uv_async_t async;
    pthread_mutex_t mu;        /* calls, SSE clients, stopping */
    pthread_cond_t cond;       /* a call done, SSE data, stopping */
    struct loop_call *calls;
    struct sse_client *sse;
    int stopping;
    int listen_id;
    int has_token;
    unsigned char token_sha[SHA256_DIGEST_LENGTH];
    json_t *firing;            /* alerts handed on (loop thread only) */
};

/* ---- the loop's side ---------------------------------------------- */

static void on_async(uv_async_t *h)
{
    struct http_server *s = h->data;
    struct loop_call *list, *c;

    pthread_mutex_lock(&s->mu);
    list = s->calls;
    s->calls = NULL;
    for (c = list; c; c = c->next)
        c->taken = 1;
    pthread_mutex_unlock(&s->mu);
    while ((c = list)) {
        list = c->next;
        c->run(s, c);
        pthread_mutex_lock(&s->mu);
        c->done = 1;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->mu);
    }
}

static void answer_json(struct loop_call *c, int status, json_t *j)
{
    c->status = status;
    c->body = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    c->len = c->body ? strlen(c->body) : 0;
    c->content_type = "application/json";
    json_decref(j);
    if (c->body) {                 /* `status --json` ends with a newline */
        char *p = realloc(c->body, c->len + 2);
        if (p) {
            c->body = p;
            c->body[c->len++] = '\n';
            c->body[c->len] = '\0';
        }
    }
}

static void run_status(struct http_server *s, struct loop_call *c)
{
    answer_json(c, 200, orch_status(s->o));
}

static void run_metrics(struct http_server *s, struct loop_call *c)
{
    c->body = http_metrics_render(s->o, &c->len);
    c->status = c->body ? 200 : 500;
    c->content_type = PROM_CONTENT_TYPE;
}

static void run_alerts(struct http_server *s, struct loop_call *c)
{
    if (!s->o->triggers) {
        answer_json(c, 503, json_pack("{sb ss}", "ok", 0, "error",
                                      "the rules are not running"));
        return;
    }
    answer_json(c, 200, http_alerts_apply(s->o->triggers, s->firing,
                                          c->alerts));
}

static void run_hello(struct http_server *s, struct loop_call *c)
{
    json_t *hello = json_pack("{ss si so}", "type", "hello", "version", 1,
                              "status", orch_status(s->o));

    c->body = json_dumps(hello, JSON_COMPACT);
    c->len = c->body ? strlen(c->body) : 0;
    json_decref(hello);
}

/* ---- a handler's side ---------------------------------------------- */

/* Run c on the loop and wait for it. -1 when the loop did not take it in
 * time (or the server stops): nothing was done. */
static int loop_call(struct http_server *s, struct loop_call *c)
{
    struct timespec deadline;
    int rc = 0;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += LOOP_WAIT_S;
    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->mu);
        return -1;
    }
    c->next = s->calls;
    s->calls = c;
    uv_async_send(&s->async);
    while (!c->done) {
        if (c->taken) {            /* the loop is running it: it ends */
            pthread_cond_wait(&s->cond, &s->mu);
            continue;
        }
        if (s->stopping ||
            pthread_cond_timedwait(&s->cond, &s->mu, &deadline) == ETIMEDOUT)
            if (!c->taken) {
                struct loop_call **pp = &s->calls;
                while (*pp != c)
                    pp = &(*pp)->next;
                *pp = c->next;
                rc = -1;
                break;
            }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static enum MHD_Result send_buffer(struct MHD_Connection *conn, int status,
                                   const char *type, char *body, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, body, MHD_RESPMEM_MUST_FREE);
    enum MHD_Result rc;

    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    rc = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

/* {"ok": false, "error": ...} with `status`. */
static enum MHD_Result send_error(struct MHD_Connection *conn, int status,
                                  const char *error)
{
    json_t *j = json_pack("{sb ss}", "ok", 0, "error", error);
    char *body = json_dumps(j, JSON_COMPACT);
    struct MHD_Response *r;
    enum MHD_Result rc;

    json_decref(j);
    if (!body)
        return MHD_NO;
    r = MHD_create_response_from_buffer(strlen(body), body,
                                        MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "application/json");
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Bearer realm=\"cutover\"");
    rc = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result send_loop_answer(struct http_server *s,
                                        struct MHD_Connection *conn,
                                        struct loop_call *c)
{
    if (loop_call(s, c) < 0)
        return send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                          "the migration did not answer in time");
    if (!c->body)
        return send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
                          "out of memory");
    return send_buffer(conn, c->status, c->content_type, c->body, c->len);
}

/* "Authorization: Bearer TOKEN" matches the runbook's token. */
static int authorized(struct http_server *s, struct MHD_Connection *conn)
{
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_AUTHORIZATION);
    unsigned char got[SHA256_DIGEST_LENGTH];

    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return 0;
    h += 7;
    while (*h == ' ')
        h++;
    SHA256((const unsigned char *)h, strlen(h), got);
    return CRYPTO_memcmp(got, s->token_sha, sizeof got) == 0;
}

static enum MHD_Result handle_alerts(struct http_server *s,
                                     struct MHD_Connection *conn,
                                     const char *data, size_t *data_size,
                                     void **con_cls)
{
    struct upload *u = *con_cls;
    struct loop_call c = {.run = run_alerts};
    const char *clen;
    char why[256];

    if (!u) {                      /* headers only, so far */
        if (!s->has_token)
            return send_error(conn, MHD_HTTP_FORBIDDEN, "POST /alerts needs "
                              "http.token_env in the runbook");
        if (!authorized(s, conn))
            return send_error(conn, MHD_HTTP_UNAUTHORIZED, "a bearer token "
                              "is required (Authorization: Bearer ...)");
        clen = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                           MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (clen && strtoull(clen, NULL, 10) > HTTP_ALERTS_MAX_BODY)
            return send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE,
                              "the body is larger than 262144 bytes");
        if (!(u = calloc(1, sizeof *u)))
            return MHD_NO;
        *con_cls = u;
        return MHD_YES;
    }
    if (*data_size) {              /* more of the body */
        if (!u->too_big && u->len + *data_size > HTTP_ALERTS_MAX_BODY) {
            u->too_big = 1;
            free(u->body);
            u->body = NULL;
        }
        if (!u->too_big) {
            char *p = realloc(u->body, u->len + *data_size);
            if (!p)
                return MHD_NO;
            memcpy(p + u->len, data, *data_size);
            u->body = p;
            u->len += *data_size;
        }
        *data_size = 0;
        return MHD_YES;
    }
    if (u->too_big)
        return send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE,
                          "the body is larger than 262144 bytes");
    if (!(c.alerts = http_alerts_parse(u->body ? u->body : "", u->len, why,
                                       sizeof why)))
        return send_error(conn, MHD_HTTP_BAD_REQUEST, why);
    enum MHD_Result rc = send_loop_answer(s, conn, &c);
    json_decref(c.alerts);
    return rc;
}

/* ---- Server-Sent Events -------------------------------------------- */

static void sse_append(struct sse_client *c, const char *p, size_t n)
{
    if (c->ended || n == 0)
        return;
    if (c->len + n > SSE_MAX_PENDING) {
        c->ended = 1;              /* fell behind: it reconnects */
        return;
    }
    if (c->len + n > c->cap) {
        size_t cap = (c->len + n) * 2;
        char *b = realloc(c->buf, cap);
        if (!b) {
            c->ended = 1;
            return;
        }
        c->buf = b;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, p, n);
    c->len += n;
}

/* One SSE message: "event: TYPE\nid: SEQ\ndata: JSON\n\n". */
static void sse_message(struct sse_client *c, const char *type, long long id,
                        const char *json, size_t n)
{
    char head[160];
    int h = id ? snprintf(head, sizeof head, "event: %s\nid: %lld\ndata: ",
                          type, id)
               : snprintf(head, sizeof head, "event: %s\ndata: ", type);

    sse_append(c, head, (size_t)h);
    sse_append(c, json, n);
    sse_append(c, "\n\n", 2);
}

/* The events listener (under the bus lock: only queue). */
static void on_event(void *arg, const char *line, size_t len, json_t *ev)
{
    struct http_server *s = arg;
    const char *type = json_string_value(json_object_get(ev, "type"));
    long long seq = json_integer_value(json_object_get(ev, "seq"));

    if (len && line[len - 1] == '\n')
        len--;
    pthread_mutex_lock(&s->mu);
    for (struct sse_client *c = s->sse; c; c = c->next)
        sse_message(c, type ? type : "event", seq, line, len);
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct sse_client *c = cls;
    struct http_server *s = c->srv;
    struct timespec deadline;
    size_t n;

    (void)pos;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += SSE_KEEPALIVE_S;
    pthread_mutex_lock(&s->mu);
    while (!c->len && !c->ended && !s->stopping)
        if (pthread_cond_timedwait(&s->cond, &s->mu, &deadline) ==
            ETIMEDOUT) {
            pthread_mutex_unlock(&s->mu);
            n = strlen(": keepalive\n\n");
            memcpy(buf, ": keepalive\n\n", n < max ? n : max);
            return (ssize_t)(n < max ? n : max);
        }
    if (!c->len) {
        pthread_mutex_unlock(&s->mu);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    n = c->len < max ? c->len : max;
    memcpy(buf, c->buf, n);
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
    pthread_mutex_unlock(&s->mu);
    return (ssize_t)n;
}

static void sse_free(void *cls)
{
    struct sse_client *c = cls;
    struct http_server *s = c->srv;
    struct sse_client **pp;

    pthread_mutex_lock(&s->mu);
    for (pp = &s->sse; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    pthread_mutex_unlock(&s->mu);
    free(c->buf);
    free(c);
}

/* The stream starts with a `hello` carrying the status, as the progress
 * socket's does; events queue from the moment the client is listed. */
static enum MHD_Result handle_events(struct http_server *s,
                                     struct MHD_Connection *conn)
{
    struct sse_client *c = calloc(1, sizeof *c);
    struct loop_call hello = {.run = run_hello};
    struct MHD_Response *r;
    enum MHD_Result rc;

    if (!c)
        return MHD_NO;
    c->srv = s;
    pthread_mutex_lock(&s->mu);
    c->next = s->sse;
    s->sse = c;
    pthread_mutex_unlock(&s->mu);
    if (loop_call(s, &hello) == 0 && hello.body) {
        struct sse_client first = {0};
        sse_message(&first, "hello", 0, hello.body, hello.len);
        pthread_mutex_lock(&s->mu);
        sse_append(&first, c->buf, c->len);
        free(c->buf);
        c->buf = first.buf;
        c->len = first.len;
        c->cap = first.cap;
        c->ended |= first.ended;
        pthread_mutex_unlock(&s->mu);
    }
    free(hello.body);
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
                                          sse_read, c, sse_free);
    if (!r) {
        sse_free(c);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "text/event-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    rc = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}

/* ---- routing --------------------------------------------------------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    struct http_server *s = cls;
    int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
    int post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    struct loop_call c = {0};

    (void)version;
    if (strcmp(url, "/alerts") == 0 && post)
        return handle_alerts(s, conn, data, data_size, con_cls);
    if (*data_size) {              /* a body nobody asked for */
        *data_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/metrics") == 0 && get)
        c.run = run_metrics;
    else if (strcmp(url, "/status") == 0 && get)
        c.run = run_status;
    else if (strcmp(url, "/events") == 0 && get)
        return handle_events(s, conn);
    else if (strcmp(url, "/metrics") == 0 || strcmp(url, "/status") == 0 ||
             strcmp(url, "/events") == 0 || strcmp(url, "/alerts") == 0)
        return send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not "
                          "allowed: GET /metrics, /status, /events; POST "
                          "/alerts");
    else
        return send_error(conn, MHD_HTTP_NOT_FOUND, "not found: GET "
                          "/metrics, /status, /events; POST /alerts");
    return send_loop_answer(s, conn, &c);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
                         void **con_cls, enum MHD_RequestTerminationCode t)
{
    struct upload *u = *con_cls;

    (void)cls;
    (void)conn;
    (void)t;
    if (u) {
        free(u->body);
        free(u);
        *con_cls = NULL;
    }
}

/* ---- start and stop -------------------------------------------------- */

static int read_token(struct http_server *s, const struct runbook *rb,
                      struct co_err *err)
{
    const char *token;

    if (!rb->http.token_env)
        return 0;
    token = getenv(rb->http.token_env);
    if (!token || !token[0])
        return co_errf(err, CO_ERUNBOOK, "runbook %s: http.token_env: "
                          "environment variable %s is not set (POST /alerts "
                          "needs its token)", rb->path, rb->http.token_env);
    SHA256((const unsigned char *)token, strlen(token), s->token_sha);
    s->has_token = 1;
    return 0;
}

struct http_server *http_server_start(struct orch *o, struct co_err *err)
{
    const struct runbook *rb = o->rb;
    struct http_server *s;
    struct sockaddr_storage ss;
    socklen_t sslen;
    char why[160];

    if (!rb->http.enabled)
        return NULL;
    if (rb_http_listen_address(rb->http.listen, &ss, &sslen, why,
                               sizeof why) < 0) {
        co_errf(err, CO_ERUNBOOK, "runbook %s: http.listen: %s", rb->path,
                   why);
        return NULL;
    }
    if (!(s = calloc(1, sizeof *s)) || !(s->firing = json_object())) {
        free(s);
        co_errf(err, CO_ENOMEM, "http: out of memory");
        return NULL;
    }
    s->o = o;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cond, NULL);
    if (read_token(s, rb, err) < 0)
        goto err;
    s->daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_AUTO_INTERNAL_THREAD |
            (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
        0, NULL, NULL, on_request, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)rb->http.max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_END);
    if (!s->daemon) {
        co_errf(err, CO_EIO, "http: cannot listen on %s (http.listen): %s",
                   rb->http.listen, strerror(errno));
        goto err;
    }
    uv_async_init(&o->loop, &s->async, on_async);
    s->async.data = s;
    s->listen_id = events_listen(on_event, s);
    log_info("http: serving /metrics, /status, /events%s on %s",
             s->has_token ? " and /alerts" : "", rb->http.listen);
    return s;
err:
    json_decref(s->firing);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cond);
    free(s);
    return NULL;
}

static void on_async_closed(uv_handle_t *h)
{
    struct http_server *s = h->data;

    json_decref(s->firing);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cond);
    free(s);
}

void http_server_stop(struct http_server *s)
{
    if (!s)
        return;
    events_unlisten(s->listen_id);
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    for (struct sse_client *c = s->sse; c; c = c->next)
        c->ended = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
    MHD_stop_daemon(s->daemon);      /* joins the connection threads */
    uv_close((uv_handle_t *)&s->async, on_async_closed);
}
