/*
 * random.c — the writer's generator (splitmix64, seeded by --seed) and the
 * values it makes: prices, Django-style datetimes, text in Greek with emoji
 * (multibyte UTF-8 must survive the migration), session keys.
 */
#include <stdio.h>
#include <time.h>

#include "tests/lib/writer/writer.h"

static const char *const GREEK[] = {"Αθήνα", "Θεσσαλονίκη", "Πάτρα", "Ηράκλειο",
                                    "Λάρισα", "Βόλος", "Χανιά", "Ρόδος"};
static const char *const WORDS[] = {"ελιές", "μέλι", "φέτα", "λάδι", "κρασί",
                                    "olive", "honey", "cheese", "wine", "tea"};
static const char *const EMOJI[] = {"😀", "🫒", "🍯", "🧀", "🍷", "🚚", "✨"};

long long rng_below(struct writer *w, long long n)
{
    uint64_t z = (w->rng += 0x9e3779b97f4a7c15ULL); /* splitmix64 */

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return n > 0 ? (long long)(z % (uint64_t)n) : 0;
}

void make_decimal(struct writer *w, char *buf, size_t size,
                  long long max_cents)
{
    long long cents = 1 + rng_below(w, max_cents);

    snprintf(buf, size, "%lld.%02lld", cents / 100, cents % 100);
}

/* Now (UTC) plus some days, with microseconds, the way Django writes it. */
void make_datetime(char *buf, size_t size, int days_ahead)
{
    struct timespec ts;
    struct tm tm;
    time_t t;
    size_t n;

    clock_gettime(CLOCK_REALTIME, &ts);
    t = ts.tv_sec + (time_t)days_ahead * 86400;
    gmtime_r(&t, &tm);
    n = strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(buf + n, size - n, ".%06ld", ts.tv_nsec / 1000);
}

void make_text(struct writer *w, char *buf, size_t size)
{
    snprintf(buf, size, "%s %s, %s %s", rng_pick(w, WORDS), rng_pick(w, WORDS),
             rng_pick(w, GREEK), rng_pick(w, EMOJI));
}

void make_session_key(struct writer *w, char *key)
{
    for (int i = 0; i < SESSION_KEY_LEN; i++)
        key[i] = "0123456789abcdef"[rng_below(w, 16)];
    key[SESSION_KEY_LEN] = '\0';
}

/* A display name for a user. */
void make_name(struct writer *w, char *buf, size_t size)
{
    snprintf(buf, size, "%s %s", rng_pick(w, GREEK), rng_pick(w, EMOJI));
}
