/*
 * backoff.h — the one retry pacing of cutover: after each failure in a
 * row the wait doubles, from first_s up to max_s; a success starts it
 * again. Used wherever something is tried again after a failure: a lost
 * database connection (conductor, applier, replica monitor), a webhook,
 * a cutover attempt.
 */
#ifndef CO_BACKOFF_H
#define CO_BACKOFF_H

struct backoff {
    double first_s, max_s;
    int failures;              /* in a row */
    double next_at;            /* mono_s() from which to try again; 0: now */
};

void backoff_init(struct backoff *b, double first_s, double max_s);

/* Record a failure; returns the wait before the next try (also kept in
 * next_at). */
double backoff_failed(struct backoff *b);

/* A success: the next failure waits first_s again. */
void backoff_reset(struct backoff *b);

/* May the next try happen now? */
int backoff_due(const struct backoff *b);

/* Sleep until the next try, in short slices, returning early once *stop
 * is set (may be NULL). */
void backoff_sleep(const struct backoff *b, const volatile int *stop);

/* The wait after `failures` failures in a row (>= 1): first_s doubled
 * failures - 1 times, at most max_s. For counters kept elsewhere (the
 * checkpointed cutover attempts). */
double backoff_delay(double first_s, double max_s, int failures);

#endif
