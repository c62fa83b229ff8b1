/* protocol.c — parsing socket requests. */
#include "orchestrator/protocol.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lib/names.h"

static const char *const command_names[] = {
#define X(id, name, args) name,
    CTL_COMMANDS(X)
#undef X
};

static const char *const command_args[] = {
#define X(id, name, args) args,
    CTL_COMMANDS(X)
#undef X
};

const char *request_name(enum request_kind k)
{
    return names_at(command_names, REQ__COUNT, (int)k);
}

int request_by_name(const char *name)
{
    return names_index(command_names, REQ__COUNT, name);
}

const char *request_usage(enum request_kind k)
{
    return (unsigned)k < REQ__COUNT ? command_args[k] : "";
}

void request_names(enum request_kind first, char *out, size_t cap)
{
    size_t o = 0;

    out[0] = '\0';
    for (int i = (int)first; i < REQ__COUNT && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%s", i > (int)first
                              ? ", " : "", command_names[i]);
}

int protocol_is_control(const struct request *r)
{
    return r->kind != REQ_STATUS;
}

static int only_keys(json_t *o, const char *const *allowed, char *error,
                     size_t cap)
{
    const char *key;
    json_t *v;

    json_object_foreach(o, key, v) {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            ok |= strcmp(*a, key) == 0;
        if (!ok) {
            snprintf(error, cap, "unknown field \"%.40s\"", key);
            return -1;
        }
    }
    return 0;
}

int protocol_parse(const char *line, size_t len, struct request *out,
                   char *error, size_t cap)
{
    static const char *const plain[] = {"cmd", NULL};
    static const char *const throttle[] = {"cmd", "rows_per_s", NULL};
    static const char *const alert[] = {"cmd", "name", "severity", NULL};
    json_error_t jerr;
    json_t *o, *cmd, *v;
    const char *s;
    int kind = -1, rc = -1;

    memset(out, 0, sizeof *out);
    if (len > PROTOCOL_MAX_LINE) {
        snprintf(error, cap, "line longer than %d bytes", PROTOCOL_MAX_LINE);
        return -1;
    }
    o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o) {
        snprintf(error, cap, "not JSON: %s", jerr.text);
        return -1;
    }
    if (!json_is_object(o)) {
        snprintf(error, cap, "expected a JSON object");
        goto out;
    }
    cmd = json_object_get(o, "cmd");
    if (!json_is_string(cmd)) {
        char all[160];
        request_names(REQ_STATUS, all, sizeof all);
        snprintf(error, cap, "missing \"cmd\" (one of %s)", all);
        goto out;
    }
    s = json_string_value(cmd);
    kind = request_by_name(s);
    if (kind < 0) {
        snprintf(error, cap, "unknown command \"%.40s\"", s);
        goto out;
    }
    out->kind = (enum request_kind)kind;
    if (out->kind == REQ_THROTTLE) {
        if (only_keys(o, throttle, error, cap) < 0)
            goto out;
        v = json_object_get(o, "rows_per_s");
        if (!json_is_number(v) || !isfinite(json_number_value(v)) ||
            json_number_value(v) < 0) {
            snprintf(error, cap, "throttle needs \"rows_per_s\": a number >= "
                     "0 (0 = unlimited)");
            goto out;
        }
        out->rows_per_s = json_number_value(v);
    } else if (out->kind == REQ_ALERT) {
        if (only_keys(o, alert, error, cap) < 0)
            goto out;
        v = json_object_get(o, "name");
        if (!json_is_string(v) || !json_string_length(v) ||
            json_string_length(v) >= sizeof out->name) {
            snprintf(error, cap, "alert needs \"name\": a string of 1 to %zu "
                     "bytes", sizeof out->name - 1);
            goto out;
        }
        snprintf(out->name, sizeof out->name, "%s", json_string_value(v));
        v = json_object_get(o, "severity");
        if (v && (!json_is_string(v) ||
                  json_string_length(v) >= sizeof out->severity)) {
            snprintf(error, cap, "\"severity\" must be a short string");
            goto out;
        }
        snprintf(out->severity, sizeof out->severity, "%s",
                 v ? json_string_value(v) : "");
    } else if (only_keys(o, plain, error, cap) < 0) {
        goto out;
    }
    rc = 0;
out:
    json_decref(o);
    return rc;
}
