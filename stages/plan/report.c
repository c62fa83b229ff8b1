/* stages/plan/report.c — the pre-validation report: a readable table and JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/runbook.h"
#include "lib/trigger_rules.h"
#include "stages/pre_validate.h"

json_t *plan_to_json(const struct plan *p, const struct runbook *rb)
{
    json_t *tables = json_array(), *findings = json_array(), *rules;
    const struct rb_trigger *tr;
    char desc[512];
    int nrules;

    for (int i = 0; i < p->schema.ntables; i++) {
        const struct table *t = &p->schema.tables[i];
        json_t *cols = json_array(), *key = json_array();
        for (int k = 0; k < t->nkey; k++)
            json_array_append_new(key, json_string(t->cols[t->key[k]].name));
        for (int c = 0; c < t->ncols; c++)
            json_array_append_new(cols, json_pack(
                "{ss ss ss ss}", "name", t->cols[c].name, "declared",
                t->cols[c].decl, "type", t->cols[c].map.type, "reason",
                t->cols[c].map.reason));
        json_array_append_new(tables, json_pack(
            "{ss sI so so}", "name", t->name, "rows",
            (json_int_t)t->rows_estimate, "key", key, "columns", cols));
    }
    for (int i = 0; i < p->nfindings; i++) {
        const struct finding *f = &p->findings[i];
        json_t *o = json_pack("{ss ss ss}", "severity", severity_name(f->sev),
                              "code", f->code, "message", f->message);
        if (f->table)
            json_object_set_new(o, "table", json_string(f->table));
        if (f->column)
            json_object_set_new(o, "column", json_string(f->column));
        if (f->hint)
            json_object_set_new(o, "hint", json_string(f->hint));
        if (f->examples)
            json_object_set(o, "examples", f->examples);
        if (f->values)
            json_object_set(o, "values", f->values);
        json_array_append_new(findings, o);
    }
    rules = json_array();
    tr = trigger_rules(rb, &nrules);
    for (int i = 0; i < nrules; i++) {
        trigger_describe(&tr[i], desc, sizeof desc);
        json_array_append_new(rules, json_string(desc));
    }
    return json_pack("{ss ss sf si so so so sb}", "name", rb->name, "target",
                     p->target_info, "seconds", p->seconds, "blocking",
                     p->blocking, "tables", tables, "findings", findings,
                     "triggers", rules, "default_triggers",
                     !rb->triggers_given);
}

void plan_print(const struct plan *p, const struct runbook *rb, FILE *f)
{
    const struct rb_trigger *tr;
    char desc[512];
    int nrules;

    fprintf(f, "cutover plan %s: %s → %s (database %s), analysed in %.1f s\n\n",
            rb->name, rb->source.label, p->target_info, rb->target.database,
            p->seconds);
    for (int i = 0; i < p->schema.ntables; i++) {
        const struct table *t = &p->schema.tables[i];
        fprintf(f, "%s  (%lld rows, key", t->name,
                (long long)t->rows_estimate);
        for (int k = 0; k < t->nkey; k++)
            fprintf(f, "%s%s", k ? ", " : " ", t->cols[t->key[k]].name);
        fprintf(f, "%s)\n", t->nkey ? "" : " none");
        for (int c = 0; c < t->ncols; c++)
            fprintf(f, "  %-24s %-16s → %-22s %s\n", t->cols[c].name,
                    t->cols[c].decl[0] ? t->cols[c].decl : "(none)",
                    t->cols[c].map.type, t->cols[c].map.reason);
    }
    fprintf(f, "\nfindings:\n");
    if (p->nfindings == 0)
        fprintf(f, "  none\n");
    for (int sev = SEV_BLOCKING; sev >= SEV_INFO; sev--)
        for (int i = 0; i < p->nfindings; i++) {
            const struct finding *x = &p->findings[i];
            if ((int)x->sev != sev)
                continue;
            fprintf(f, "  %-8s %s%s%s%s%s: %s\n", severity_name(x->sev),
                    x->table ? x->table : "", x->column ? "." : "",
                    x->column ? x->column : "", x->table ? " " : "",
                    x->code, x->message);
            if (x->examples) {
                char *ex = json_dumps(x->examples, JSON_COMPACT);
                fprintf(f, "           examples: %s\n", ex);
                free(ex);
            }
            if (x->values) {
                char *ex = json_dumps(x->values, JSON_COMPACT);
                fprintf(f, "           values: %s\n", ex);
                free(ex);
            }
            if (x->hint)
                fprintf(f, "           → %s\n", x->hint);
        }
    fprintf(f, "\nrules in force%s:\n", rb->triggers_given ? "" :
            " (defaults: the runbook lists none)");
    tr = trigger_rules(rb, &nrules);
    for (int i = 0; i < nrules; i++) {
        trigger_describe(&tr[i], desc, sizeof desc);
        fprintf(f, "  %s\n", desc);
    }
    if (p->blocking)
        fprintf(f, "\n%d blocking finding%s: `cutover run` refuses to start "
                "until %s resolved.\n", p->blocking, p->blocking == 1 ? "" :
                "s", p->blocking == 1 ? "it is" : "they are");
    else
        fprintf(f, "\nnothing blocks the migration.\n");
}
