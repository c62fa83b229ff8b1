/*
 * typemap_priv.h — what the source drivers' type decisions (create mode:
 * types decided from the source, e.g. sync/drivers/sqlite/typemap.c) and
 * typemap_existing.c (existing mode: the target's types) share: the
 * decision context and the notes they write.
 */
#ifndef CO_TYPEMAP_PRIV_H
#define CO_TYPEMAP_PRIV_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sync/typemap.h"

struct target_ops;

struct ctx {
    const struct runbook *rb;
    struct table *t;
    struct map_note *notes;
    int max_notes, nnotes;
    const struct target_ops *tops;    /* create mode: renders, limits */
};

static inline void note(struct ctx *x, int col, enum map_severity sev,
                        const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A note about column col at the end of notes[*nnotes] (none past
 * max_notes), its message formatted from fmt and ap (typemap.c). */
void typemap_vappend_note(struct map_note *notes, int *nnotes, int max_notes,
                          int col, enum map_severity sev, const char *fmt,
                          va_list ap) __attribute__((format(printf, 6, 0)));

static inline void note(struct ctx *x, int col, enum map_severity sev,
                        const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    typemap_vappend_note(x->notes, &x->nnotes, x->max_notes, col, sev, fmt,
                         ap);
    va_end(ap);
}

/* Which rows the last note is about, so the plan can show example keys. */
static inline struct row_filter *note_rows(struct ctx *x,
                                           enum row_filter_kind kind,
                                           long arg)
{
    struct map_note *n;

    if (x->nnotes == 0)
        return NULL;
    n = &x->notes[x->nnotes - 1];
    n->has_rows = 1;
    n->rows.kind = kind;
    n->rows.col = n->column;
    n->rows.arg = arg;
    return &n->rows;
}

/* note_rows for a pitfall the census does not count: the last note
 * stands only if some row matches, with its finding code and hint. */
static inline struct row_filter *note_when_rows(struct ctx *x,
                                                enum row_filter_kind kind,
                                                const char *code,
                                                const char *hint)
{
    struct row_filter *f = note_rows(x, kind, 0);

    if (f) {
        struct map_note *n = &x->notes[x->nnotes - 1];
        n->only_if_rows = 1;
        n->code = code;
        n->hint = hint;
    }
    return f;
}

/* A column the target types as JSON (jsonb) keeps a document's strings
 * as text, which on a target refusing NUL in text has none: the copy
 * would stop at the first \u0000, so the rows holding one block. */
void typemap_note_json_nul(struct ctx *x, int ci);

static inline void set(struct colmap *m, enum ltype lt,
                       const char *reason_fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline void set(struct colmap *m, enum ltype lt,
                       const char *reason_fmt, ...)
{
    va_list ap;

    m->lt = lt;
    va_start(ap, reason_fmt);
    vsnprintf(m->reason, sizeof m->reason, reason_fmt, ap);
    va_end(ap);
}

#endif
