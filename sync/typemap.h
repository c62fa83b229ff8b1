/*
 * typemap.h — deciding each column's target type from what the source
 * declares, the census of its values and the runbook's overrides.
 *
 * The rule: no value may be truncated, rounded, clamped or reinterpreted.
 * Where the declared type would do that, the type is widened and the reason
 * says so; where nothing can hold the values as they are, the column is
 * marked blocking with what to do (an override, a runbook policy). Widening
 * stays within the declared type's family: a decision that would leave it
 * (an INTEGER column becoming text or DOUBLE, a DATETIME becoming text)
 * blocks until an override says what the column becomes, because the
 * application's model would read another kind of value.
 */
#ifndef CO_TYPEMAP_H
#define CO_TYPEMAP_H

#include "sync/census.h"
#include "lib/schema.h"
#include "sync/drivers/source.h"

struct runbook;

/* A problem found while deciding: severity and message. */
enum map_severity { MAP_OK, MAP_INFO, MAP_WARNING, MAP_BLOCKING };

struct map_note {
    enum map_severity severity;
    char message[640];
    int column;
    const char *code;       /* the finding's code; NULL: "type" */
    const char *hint;       /* what to do; NULL: the usual advice */
    int has_rows;           /* `rows` finds the rows it is about */
    int only_if_rows;       /* ... and the note stands only if some match
                               (what the census cannot count) */
    struct row_filter rows;
};

/* Decide map for every column of t: the source driver decides each
 * column's logical type within the target's limits, the target renders
 * it (map.type), and the words "{type}" in reasons and notes become what
 * it rendered. Notes (at most max_notes) explain anything beyond the
 * obvious; returns the number written. */
struct target_ops;
int typemap_decide(const struct runbook *rb, const struct source_ops *sops,
                   const struct target_ops *tops, struct table *t,
                   const struct col_census *census, struct map_note *notes,
                   int max_notes);

/* Every "{type}" in s (of capacity cap) becomes `type`; what no longer
 * fits is cut, as snprintf would have cut it. */
void typemap_put_type(char *s, size_t cap, const char *type);

/* Record beside every column's type the logical type it stands for, as
 * the target driver reads its own type (schema.mode "existing"). */
void typemap_record_logical(const struct target_ops *tops, struct table *t);

/* schema.mode "existing": every column's map comes from the target
 * column of the same name in `tt` (its type is the type), and the notes say
 * which source values that column would refuse or change, each blocking. */
struct ttable;
int typemap_existing(const struct runbook *rb, struct table *t,
                     const struct col_census *census, const struct ttable *tt,
                     struct map_note *notes, int max_notes);

#endif
