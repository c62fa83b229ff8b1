/*
 * client.h — the progress socket seen from `status`, `watch` and `ctl`:
 * connect, read the hello, send a command and wait for its reply, read
 * event lines.
 */
#ifndef CO_CLIENT_H
#define CO_CLIENT_H

#include <jansson.h>

#include "lib/errors.h"

struct client_conn {
    int fd;
    char *buf;
    size_t len, cap;
};

/* Connect and read the hello. The server must run as our own user, root
 * or `owner` (the state dir's owner, -1 if unknown): a socket served by
 * anyone else is neither believed nor sent anything (CO_EPROTOCOL). CO_EIO
 * when nothing listens (no orchestrator running) or it refuses us. */
int client_open(const char *path, long owner, struct client_conn *c,
                json_t **hello, struct co_err *err);
void client_close_conn(struct client_conn *c);
/* Next line as JSON (timeout_ms < 0: wait forever). 0 ok, CO_ETIMEOUT,
 * CO_EIO at end of stream. */
int client_next(struct client_conn *c, int timeout_ms, json_t **out,
                struct co_err *err);
/* Send a request object and wait for its reply (events before it are
 * skipped). */
int client_request(struct client_conn *c, json_t *req, json_t **reply,
                   struct co_err *err);

#endif
