/*
 * jsonread.h — read a jansson tree while tracking the JSON path, so every
 * validation error names where it is ("cutover.switch[1].exec: expected an
 * array of strings").
 *
 * All readers return 0 or CO_ERUNBOOK (message in r->err, prefixed with the
 * current path). A key that is absent leaves *out at its default. Strings
 * are strdup'ed; the caller owns them.
 */
#ifndef CO_JSONREAD_H
#define CO_JSONREAD_H

#include <jansson.h>

#include "lib/errors.h"

struct jread {
    struct co_err *err;
    int code;               /* error code to report (default CO_ERUNBOOK) */
    char path[512];
};

void jr_init(struct jread *r, struct co_err *err, int code);

/* Path bookkeeping: push returns a mark to pass to pop. */
size_t jr_push_key(struct jread *r, const char *key);
size_t jr_push_index(struct jread *r, size_t index);
void jr_pop(struct jread *r, size_t mark);

/* Fail at the current path (or at path.key when key != NULL). */
int jr_fail(struct jread *r, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* obj must be an object whose keys all appear in `allowed` (NULL-ended). */
int jr_object(struct jread *r, json_t *obj, const char *const *allowed);

int jr_require(struct jread *r, json_t *obj, const char *key);
int jr_str(struct jread *r, json_t *obj, const char *key, char **out);
int jr_int(struct jread *r, json_t *obj, const char *key, long min, long max,
           int *out);
int jr_num(struct jread *r, json_t *obj, const char *key, double min,
           double max, double *out);
int jr_bool(struct jread *r, json_t *obj, const char *key, int *out);
/* One of names[] (NULL-ended); *out is its index. */
int jr_enum(struct jread *r, json_t *obj, const char *key,
            const char *const *names, int *out);
/* Array of strings; allow_empty=0 rejects []. */
int jr_strv(struct jread *r, json_t *obj, const char *key, int allow_empty,
            char ***out, int *n);

void strv_free(char **v, int n);

#endif
