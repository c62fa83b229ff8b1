/* log_scope.c — see log_scope.h. */
#include "sync/drivers/log_scope.h"

#include <stdlib.h>
#include <string.h>

void log_scope_filter(struct sbuf *b, const struct apply_scope *scope,
                      const char *how, key_bound_fn bound, void *arg,
                      int *any)
{
    *any = 0;
    if (scope->all) {
        *any = 1;
        return;
    }
    for (int r = 0; r < scope->nranges; r++) {
        const struct key_range *kr = &scope->ranges[r];
        const struct tuple *up = scope->frontiers[r];
        int has_lo = kr->lo && kr->lo->n;
        if (!up)
            continue;   /* nothing copied in this range yet */
        if (*any) {
            sbuf_adds(b, " OR (");
        } else {
            sbuf_adds(b, how);
            sbuf_adds(b, "((");
        }
        if (has_lo)
            bound(arg, b, kr->lo, 0);
        if (has_lo && up->n)
            sbuf_adds(b, " AND ");
        if (up->n)
            bound(arg, b, up, 1);
        if (!has_lo && !up->n)
            sbuf_adds(b, "1");
        sbuf_addc(b, ')');
        *any = 1;
    }
    if (*any)
        sbuf_addc(b, ')');
}

void log_batch_release(struct log_batch *b)
{
    for (int i = 0; i < b->nkeys; i++)
        tuple_free(&b->keys[i]);
    free(b->keys);
    for (int i = 0; i < b->nahead; i++)
        tuple_free(&b->ahead[i]);
    free(b->ahead);
    memset(b, 0, sizeof *b);
}
