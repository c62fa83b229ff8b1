/*
 * runbook_http.h — the runbook's "http" section: where the HTTP endpoint
 * listens (loopback unless the runbook names another address) and which
 * environment variable holds the bearer token of POST /alerts.
 */
#ifndef CO_RUNBOOK_HTTP_H
#define CO_RUNBOOK_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

#define RB_HTTP_DEFAULT_LISTEN "127.0.0.1:9464"

/* "HOST:PORT" with HOST a numeric IPv4 address or a bracketed IPv6 one
 * ("[::1]:9464") → a socket address. Returns 0, or -1 with the reason in
 * `why` (no name lookups: the listen address must not depend on DNS). */
int rb_http_listen_address(const char *listen, struct sockaddr_storage *ss,
                           socklen_t *len, char *why, size_t cap);

#endif
