/* secrets.c — the secret registry and redaction (secrets.h). */
#include "lib/secrets.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

#define MAX_SECRETS 32
#define MAX_SECRET_ENVS 16

static pthread_mutex_t secrets_mutex = PTHREAD_MUTEX_INITIALIZER;
static char *secrets[MAX_SECRETS];
static int nsecrets;
static char *secret_envs[MAX_SECRET_ENVS];
static int nsecret_envs;

void secret_add(const char *secret)
{
    /* Too short a secret would redact ordinary words; such passwords are
     * rejected by no one, so redact them only inside longer matches. */
    if (!secret || strlen(secret) < 3)
        return;
    pthread_mutex_lock(&secrets_mutex);
    for (int i = 0; i < nsecrets; i++)
        if (strcmp(secrets[i], secret) == 0)
            goto out;
    if (nsecrets < MAX_SECRETS)
        secrets[nsecrets++] = xstrdup(secret);
out:
    pthread_mutex_unlock(&secrets_mutex);
}

void secret_env_add(const char *name)
{
    if (!name || !*name)
        return;
    pthread_mutex_lock(&secrets_mutex);
    if (nsecret_envs < MAX_SECRET_ENVS)
        secret_envs[nsecret_envs++] = xstrdup(name);
    pthread_mutex_unlock(&secrets_mutex);
}

void secret_clear(void)
{
    pthread_mutex_lock(&secrets_mutex);
    while (nsecrets > 0)
        free(secrets[--nsecrets]);
    while (nsecret_envs > 0)
        free(secret_envs[--nsecret_envs]);
    pthread_mutex_unlock(&secrets_mutex);
}

int secret_env_entry(const char *entry)
{
    size_t n = strcspn(entry, "=");
    int hit = 0;

    pthread_mutex_lock(&secrets_mutex);
    for (int i = 0; i < nsecret_envs && !hit; i++)
        hit = strlen(secret_envs[i]) == n &&
              strncmp(secret_envs[i], entry, n) == 0;
    pthread_mutex_unlock(&secrets_mutex);
    return hit;
}

/* Replace s in buf, scanning on after each replacement: "***" is never
 * looked at again, whatever the secrets are. A secret is at least as long
 * as its replacement, so the text never grows. */
static void redact_one(char *buf, const char *s)
{
    size_t slen = strlen(s);
    char *p = buf;

    while ((p = strstr(p, s)) != NULL) {
        memmove(p + 3, p + slen, strlen(p + slen) + 1);
        memcpy(p, "***", 3);
        p += 3;
    }
}

static void redact_locked(char *buf)
{
    for (int i = 0; i < nsecrets; i++)
        redact_one(buf, secrets[i]);
}

void redact(char *buf, size_t cap)
{
    (void)cap;    /* redaction only shortens */
    pthread_mutex_lock(&secrets_mutex);
    redact_locked(buf);
    pthread_mutex_unlock(&secrets_mutex);
}

/* A redacted copy of s, or NULL when s holds no secret. */
static char *redacted_copy(const char *s)
{
    char *copy;

    for (int i = 0; i < nsecrets; i++)
        if (strstr(s, secrets[i]))
            goto found;
    return NULL;
found:
    if ((copy = xstrdup(s)))
        redact_locked(copy);
    return copy;
}

static void redact_json_locked(json_t *j)
{
    const char *key;
    json_t *v, *renamed;
    size_t i;
    char *r;

    switch (json_typeof(j)) {
    case JSON_STRING:
        if ((r = redacted_copy(json_string_value(j)))) {
            json_string_set(j, r);
            free(r);
        }
        break;
    case JSON_ARRAY:
        json_array_foreach(j, i, v)
            redact_json_locked(v);
        break;
    case JSON_OBJECT:
        renamed = json_array();
        json_object_foreach(j, key, v) {
            redact_json_locked(v);
            if ((r = redacted_copy(key))) {
                json_array_append_new(renamed, json_string(key));
                free(r);
            }
        }
        /* keys change after the walk: the object is not edited under it */
        json_array_foreach(renamed, i, v) {
            key = json_string_value(v);
            r = redacted_copy(key);
            json_object_set(j, r, json_object_get(j, key));
            json_object_del(j, key);
            free(r);
        }
        json_decref(renamed);
        break;
    default:
        break;
    }
}

void redact_json(json_t *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&secrets_mutex);
    if (nsecrets > 0)
        redact_json_locked(j);
    pthread_mutex_unlock(&secrets_mutex);
}

/* The parts of scheme://[userinfo@]host[:port][/path][?query][#fragment]. */
struct url_parts {
    const char *scheme_end;    /* after "://" */
    const char *userinfo;      /* NULL when none */
    size_t userinfo_len;
    const char *host;          /* host[:port] */
    size_t host_len;
    const char *path;          /* "/..." up to '?' or '#' */
    size_t path_len;
    const char *query;         /* after '?', up to '#'; NULL when none */
    size_t query_len;
    int has_fragment;
};

static void url_split(const char *url, struct url_parts *u)
{
    const char *p = strstr(url, "://"), *auth_end, *at;

    memset(u, 0, sizeof *u);
    p = p ? p + 3 : url;
    u->scheme_end = p;
    auth_end = p + strcspn(p, "/?#");
    /* the last '@' of the authority ends the userinfo */
    at = NULL;
    for (const char *q = p; q < auth_end; q++)
        if (*q == '@')
            at = q;
    if (at) {
        u->userinfo = p;
        u->userinfo_len = (size_t)(at - p);
        p = at + 1;
    }
    u->host = p;
    u->host_len = (size_t)(auth_end - p);
    p = auth_end;
    u->path = p;
    u->path_len = strcspn(p, "?#");
    p += u->path_len;
    if (*p == '?') {
        u->query = p + 1;
        u->query_len = strcspn(p + 1, "#");
        p += 1 + u->query_len;
    }
    u->has_fragment = *p == '#';
}

void url_for_message(const char *url, int flags, char *out, size_t cap)
{
    struct url_parts u;
    const char *path;
    int path_len;

    url_split(url, &u);
    path = u.path;
    path_len = (int)u.path_len;
    if ((flags & URL_HIDE_PATH) && u.path_len > 1) {
        path = "/***";
        path_len = 4;
    }
    snprintf(out, cap, "%.*s%s%.*s%.*s%s%s", (int)(u.scheme_end - url), url,
             u.userinfo ? "***@" : "", (int)u.host_len, u.host, path_len,
             path, u.query ? "?***" : "", u.has_fragment ? "#***" : "");
}

static void secret_add_span(const char *p, size_t n)
{
    char *s = xstrndup(p, n);

    secret_add(s);
    free(s);
}

void secret_add_url(const char *url)
{
    struct url_parts u;
    const char *colon;

    url_split(url, &u);
    if (u.userinfo) {
        secret_add_span(u.userinfo, u.userinfo_len);
        colon = memchr(u.userinfo, ':', u.userinfo_len);
        if (colon)
            secret_add_span(colon + 1, u.userinfo_len -
                                           (size_t)(colon + 1 - u.userinfo));
    }
    if (u.query)
        secret_add_span(u.query, u.query_len);
}
