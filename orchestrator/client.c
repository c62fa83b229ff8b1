/* client.c — a blocking client of the progress socket. */
#include "orchestrator/client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/events.h"
#include "lib/xalloc.h"

/* Is the process at the other end of fd one we believe: our own user,
 * root, or the owner of the state dir (the orchestrator's user)? */
static int peer_trusted(int fd, const char *path, long owner,
                        struct co_err *err)
{
    struct ucred cred;
    socklen_t len = sizeof cred;

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return co_errf(err, CO_EPROTOCOL, "progress socket %s: cannot tell "
                       "who serves it: %s", path, strerror(errno));
    if (cred.uid == getuid() || cred.uid == geteuid() || cred.uid == 0 ||
        (owner >= 0 && cred.uid == (uid_t)owner))
        return 0;
    return co_errf(err, CO_EPROTOCOL, "progress socket %s is served by uid %d "
                   "(pid %d), not by the owner of the state dir or root: not "
                   "believing it, nothing was sent", path, (int)cred.uid,
                   (int)cred.pid);
}

int client_open(const char *path, long owner, struct client_conn *c,
                json_t **hello, struct co_err *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    const char *type;
    int rc;

    memset(c, 0, sizeof *c);
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return co_errf(err, CO_EIO, "socket: %s", strerror(errno));
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(c->fd);
        c->fd = -1;
        return co_errf(err, CO_EIO, "progress socket %s: %s", path,
                       strerror(e));
    }
    if ((rc = peer_trusted(c->fd, path, owner, err)) < 0 ||
        (rc = client_next(c, 10000, hello, err)) < 0) {
        client_close_conn(c);
        return rc;
    }
    /* A full server answers with one error line instead of the hello. */
    type = json_string_value(json_object_get(*hello, "type"));
    if (event_type_by_name(type) != EVT_HELLO) {
        rc = co_errf(err, CO_EIO, "progress socket %s: %s", path,
                     json_string_value(json_object_get(*hello, "error"))
                         ? json_string_value(json_object_get(*hello, "error"))
                         : "no hello from the orchestrator");
        json_decref(*hello);
        *hello = NULL;
        client_close_conn(c);
        return rc;
    }
    return 0;
}

void client_close_conn(struct client_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->buf);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

int client_next(struct client_conn *c, int timeout_ms, json_t **out,
                struct co_err *err)
{
    for (;;) {
        char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - c->buf);
            json_error_t jerr;
            *out = json_loadb(c->buf, n, 0, &jerr);
            memmove(c->buf, nl + 1, c->len - n - 1);
            c->len -= n + 1;
            if (!*out)
                return co_errf(err, CO_EPROTOCOL, "malformed line from the "
                               "orchestrator: %s", jerr.text);
            return 0;
        }
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int pr = poll(&p, 1, timeout_ms);
        if (pr == 0)
            return co_errf(err, CO_ETIMEOUT, "no answer from the orchestrator");
        if (pr < 0 && errno == EINTR)
            continue;
        if (c->len + 65536 > c->cap) {
            c->cap = c->cap ? c->cap * 2 : 131072;
            c->buf = xrealloc(c->buf, c->cap);
        }
        ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len);
        if (n <= 0)
            return co_errf(err, CO_EIO, "the orchestrator closed the "
                           "connection");
        c->len += (size_t)n;
    }
}

int client_request(struct client_conn *c, json_t *req, json_t **reply,
                   struct co_err *err)
{
    char *text = json_dumps(req, JSON_COMPACT);
    size_t n = strlen(text);
    int rc;

    text = xrealloc(text, n + 2);
    text[n++] = '\n';
    if (write(c->fd, text, n) != (ssize_t)n) {
        free(text);
        return co_errf(err, CO_EIO, "writing to the progress socket: %s",
                       strerror(errno));
    }
    free(text);
    for (;;) {
        json_t *line;
        if ((rc = client_next(c, 120000, &line, err)) < 0)
            return rc;
        const char *type = json_string_value(json_object_get(line, "type"));
        if (event_type_by_name(type) == EVT_REPLY) {
            *reply = line;
            return 0;
        }
        json_decref(line);
    }
}
