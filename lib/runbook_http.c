/* runbook_http.c — read and check the runbook's "http" section. */
#include "lib/runbook_http.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/runbook_rules.h"

int rb_http_listen_address(const char *listen, struct sockaddr_storage *ss,
                           socklen_t *len, char *why, size_t cap)
{
    struct addrinfo hints = {0}, *res = NULL;
    const char *colon = strrchr(listen, ':');
    char host[64];
    size_t hlen;
    char *end;
    long port;
    int rc;

    if (!colon) {
        snprintf(why, cap, "expected HOST:PORT such as \"%s\"",
                 RB_HTTP_DEFAULT_LISTEN);
        return -1;
    }
    port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 1 || port > 65535) {
        snprintf(why, cap, "the port must be a number from 1 to 65535");
        return -1;
    }
    hlen = (size_t)(colon - listen);
    if (hlen >= 2 && listen[0] == '[' && listen[hlen - 1] == ']') {
        listen++;                      /* "[::1]" → "::1" */
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= sizeof host) {
        snprintf(why, cap, "expected a numeric address before the port "
                 "(\"127.0.0.1\", \"[::1]\", \"0.0.0.0\")");
        return -1;
    }
    memcpy(host, listen, hlen);
    host[hlen] = '\0';
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    hints.ai_socktype = SOCK_STREAM;
    if ((rc = getaddrinfo(host, colon + 1, &hints, &res)) != 0 || !res) {
        snprintf(why, cap, "\"%s\" is not a numeric IPv4 or [IPv6] address",
                 host);
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

int rb_read_http(struct jread *r, json_t *o, struct runbook *rb)
{
    static const char *const keys[] = {"listen", "token_env",
                                       "max_connections", NULL};
    struct sockaddr_storage ss;
    socklen_t len;
    char why[160];

    TRY(jr_object(r, o, keys));
    rb->http.enabled = 1;
    rb->http.max_connections = 32;
    TRY(jr_str(r, o, "listen", &rb->http.listen));
    TRY(jr_str(r, o, "token_env", &rb->http.token_env));
    TRY(jr_int(r, o, "max_connections", 1, 1024,
               &rb->http.max_connections));
    if (!rb->http.listen && !(rb->http.listen = strdup(RB_HTTP_DEFAULT_LISTEN)))
        return CO_ENOMEM;
    if (rb_http_listen_address(rb->http.listen, &ss, &len, why, sizeof why))
        return jr_fail(r, "listen", "%s", why);
    if (rb->http.token_env && !rb->http.token_env[0])
        return jr_fail(r, "token_env", "expected the name of an environment "
                                       "variable");
    return 0;
}
