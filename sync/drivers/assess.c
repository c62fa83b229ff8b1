/* assess.c — a driver's findings, formatted (assess.h). */
#include "sync/drivers/assess.h"

#include <stdarg.h>
#include <stdio.h>

void assess_add(const struct assess_sink *to, enum assess_severity sev,
                const char *code, const char *table, const char *column,
                const char *hint, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    to->add(to->arg, sev, code, table, column, hint, msg);
}
