/*
 * unit_runbook.h — a runbook for a unit test, read as the program reads
 * one: parsed, then what it says in the target's language judged (and
 * defaulted) by the target driver. Include after <cmocka.h>.
 */
#ifndef CO_UNIT_RUNBOOK_H
#define CO_UNIT_RUNBOOK_H

#include <string.h>

#include "lib/runbook.h"
#include "sync/drivers/registry.h"

static inline struct runbook *ut_runbook(const char *text, const char *dir)
{
    struct runbook *rb = NULL;
    struct co_err err = {0};

    if (runbook_parse(text, strlen(text), dir, &rb, &err) != 0 ||
        driver_target(rb->target.type)->check_runbook(rb, &err) != 0)
        fail_msg("runbook: %s", err.msg);
    return rb;
}

#endif
