/*
 * names.h — the lookup behind every X-macro list's *_by_name(): states,
 * events, cutover steps, event types, commands.
 */
#ifndef CO_NAMES_H
#define CO_NAMES_H

#include <string.h>

/* Index of name in names[0..n), or -1 (also for a NULL name). */
static inline int names_index(const char *const *names, int n,
                              const char *name)
{
    for (int i = 0; name && i < n; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

/* names[i], or "?" when i is out of range. */
static inline const char *names_at(const char *const *names, int n, int i)
{
    return i >= 0 && i < n ? names[i] : "?";
}

#endif
