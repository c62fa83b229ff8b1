/* target_text.c — see target_text.h. */
#include "sync/drivers/target_text.h"

#include <ctype.h>

#include "lib/runbook.h"
#include "lib/xalloc.h"

int target_words_check(struct runbook *rb, const struct target_words *w,
                       struct co_err *err)
{
    int rc;

    if (!rb->schema.collation &&
        !(rb->schema.collation = xstrdup(w->default_collation)))
        return co_errf(err, CO_ENOMEM, "out of memory");
    if ((rc = w->check_collation(rb->schema.collation, err)) < 0)
        return rc;
    for (int i = 0; i < rb->schema.noverrides; i++) {
        const struct rb_override *ov = &rb->schema.overrides[i];
        if (!w->type_valid(ov->type))
            return co_errf(err, CO_ERUNBOOK, "schema.overrides.%s.%s: "
                           "expected %s", ov->table, ov->column,
                           w->type_examples);
    }
    return 0;
}

int target_number_text(const char *p, size_t n, int integer)
{
    size_t i = 0;
    int digits = 0, dot = 0;

    if (i < n && (p[i] == '-' || p[i] == '+'))
        i++;
    for (; i < n; i++) {
        if (isdigit((unsigned char)p[i]))
            digits++;
        else if (p[i] == '.' && !dot && !integer)
            dot = 1;
        else
            return 0;
    }
    return digits > 0;
}
