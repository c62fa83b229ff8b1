/*
 * typemap.c — each column's target type in create mode: the source driver
 * decides its logical type (what the values are, within the target's
 * limits), the target driver renders it in its own language, and the
 * reasons and notes written with "{type}" name what it rendered.
 */
#include "sync/typemap.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/runbook.h"
#include "sync/drivers/source.h"
#include "sync/drivers/target.h"
#include "sync/typemap_priv.h"

#define TYPE_WORD "{type}"

/* In the source drivers' terms (typemap_priv.h): the target's limits
 * decide whether it applies. */
void typemap_note_json_nul(struct ctx *x, int ci)
{
    if (!x->tops->types->text_refuses_nul)
        return;
    note(x, ci, MAP_BLOCKING, "holds JSON documents with the escape "
         "\\u0000, which %s's {type} refuses", x->tops->types->engine);
    note_when_rows(x, RF_JSON_NUL, "json_nul", "override the column to "
                   "json (kept as written) in schema.overrides, or remove "
                   "the \\u0000 escapes in the source");
}

void typemap_put_type(char *s, size_t cap, const char *type)
{
    char out[1024];
    size_t o = 0, wlen = strlen(TYPE_WORD);
    const char *p = s, *hit;

    if (!strstr(s, TYPE_WORD))
        return;
    while ((hit = strstr(p, TYPE_WORD)) && o < sizeof out) {
        o += (size_t)snprintf(out + o, sizeof out - o, "%.*s%s",
                              (int)(hit - p), p, type);
        p = hit + wlen;
    }
    if (o < sizeof out)
        snprintf(out + o, sizeof out - o, "%s", p);
    o = strnlen(out, cap - 1);
    memcpy(s, out, o);
    s[o] = '\0';
}

/* A note about column `col` after the source driver's, if there is room. */
static void append_note(struct map_note *notes, int *nnotes, int max_notes,
                        int col, enum map_severity sev, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

void typemap_vappend_note(struct map_note *notes, int *nnotes, int max_notes,
                          int col, enum map_severity sev, const char *fmt,
                          va_list ap)
{
    struct map_note *n;

    if (*nnotes >= max_notes)
        return;
    n = &notes[(*nnotes)++];
    memset(n, 0, sizeof *n);
    n->severity = sev;
    n->column = col;
    vsnprintf(n->message, sizeof n->message, fmt, ap);
}

static void append_note(struct map_note *notes, int *nnotes, int max_notes,
                        int col, enum map_severity sev, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    typemap_vappend_note(notes, nnotes, max_notes, col, sev, fmt, ap);
    va_end(ap);
}

/* On engines that index text only with a length (InnoDB), the key's
 * columns together must fit one index entry. */
static void check_key_length(const struct target_ops *tops,
                             const struct table *t, struct map_note *notes,
                             int *nnotes, int max_notes)
{
    const struct type_limits *L = tops->types;
    int64_t bytes = 0;

    if (!L->index_needs_length || t->nkey == 0)
        return;
    for (int k = 0; k < t->nkey; k++) {
        const struct logical_type *lt = &t->cols[t->key[k]].map.logical;
        if (lt->kind == LK_TEXT && lt->max_chars > 0)
            bytes += L->bytes_per_char * lt->max_chars;
        else if (lt->kind == LK_BYTES && lt->max_bytes > 0)
            bytes += lt->max_bytes;
        else
            bytes += 8;
    }
    if (bytes > L->key_max_bytes)
        append_note(notes, nnotes, max_notes, t->key[0], MAP_BLOCKING,
                    "the key takes up to %lld bytes on the target; %s "
                    "allows %d", (long long)bytes, L->index_engine,
                    L->key_max_bytes);
}

/* schema.datetimes "utc": the source's datetimes are instants in UTC,
 * kept as such where the target has a type for them; elsewhere they stay
 * wall-clock values that happen to be UTC, which plan says once. */
static void datetimes_in_utc(const struct runbook *rb,
                             const struct target_ops *tops, struct table *t,
                             struct map_note *notes, int *nnotes,
                             int max_notes)
{
    int said = 0;

    if (rb->schema.datetimes != LZONE_UTC)
        return;
    for (int i = 0; i < t->ncols; i++) {
        struct colmap *m = &t->cols[i].map;
        if (m->type[0] || m->logical.kind != LK_DATETIME)
            continue;
        if (tops->types->zoned_datetime) {
            m->logical.zone = LZONE_UTC;
            continue;
        }
        if (!said++)
            append_note(notes, nnotes, max_notes, i, MAP_INFO,
                        "schema.datetimes \"utc\": %s has no type for "
                        "instants that holds every date, so {type} keeps "
                        "the UTC wall-clock values", tops->types->engine);
    }
}

int typemap_decide(const struct runbook *rb, const struct source_ops *sops,
                   const struct target_ops *tops, struct table *t,
                   const struct col_census *census, struct map_note *notes,
                   int max_notes)
{
    int n = sops->decide_types(rb, t, census, tops, notes, max_notes);

    datetimes_in_utc(rb, tops, t, notes, &n, max_notes);
    for (int i = 0; i < t->ncols; i++) {
        struct colmap *m = &t->cols[i].map;
        if (m->type[0])          /* an override, in the target's words */
            m->has_logical =
                tops->logical_of_type(m->type, &m->logical) == 0;
        else {
            tops->render_type(&m->logical, m->type, sizeof m->type);
            m->has_logical = 1;
        }
        typemap_put_type(m->reason, sizeof m->reason, m->type);
    }
    for (int i = 0; i < n; i++)
        if (notes[i].column >= 0 && notes[i].column < t->ncols)
            typemap_put_type(notes[i].message, sizeof notes[i].message,
                 t->cols[notes[i].column].map.type);
    check_key_length(tops, t, notes, &n, max_notes);
    return n;
}

void typemap_record_logical(const struct target_ops *tops, struct table *t)
{
    for (int i = 0; i < t->ncols; i++) {
        struct colmap *m = &t->cols[i].map;
        m->has_logical = tops->logical_of_type(m->type, &m->logical) == 0;
    }
}
