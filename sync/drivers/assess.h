/*
 * assess.h — what only an engine knows, added to the plan by its driver
 * (a SQLite source's journal mode and its applications' busy handling, a
 * MySQL target's identifier limits): findings in the plan's terms, without
 * the driver seeing the plan (stages/ is a floor above).
 */
#ifndef CO_ASSESS_H
#define CO_ASSESS_H

enum assess_severity { ASSESS_INFO, ASSESS_WARNING, ASSESS_BLOCKING };

/* Where a driver's findings go: add() records one (table and column NULL
 * for the database as a whole; hint NULL when there is nothing to do). */
struct assess_sink {
    void (*add)(void *arg, enum assess_severity sev, const char *code,
                const char *table, const char *column, const char *hint,
                const char *message);
    void *arg;
};

/* add() with a formatted message. */
void assess_add(const struct assess_sink *to, enum assess_severity sev,
                const char *code, const char *table, const char *column,
                const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

#endif
