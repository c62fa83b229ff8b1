/* registry.c — the drivers by engine name, and what each member is for. */
#include "sync/drivers/registry.h"

#include <string.h>

#include "lib/runbook.h"

/* Each engine folder exports its ops table; only this file names them. */
extern const struct source_ops source_sqlite_ops;
extern const struct source_ops source_mysql_ops;
extern const struct target_ops target_mysql_ops;
extern const struct target_ops target_postgresql_ops;

static const struct source_ops *const sources[] = {
    &source_sqlite_ops,
    &source_mysql_ops,
    NULL
};

static const struct target_ops *const targets[] = {
    &target_mysql_ops,
    &target_postgresql_ops,
    NULL
};

const struct source_ops *driver_source(const char *type)
{
    for (int i = 0; type && sources[i]; i++)
        if (strcmp(sources[i]->name, type) == 0)
            return sources[i];
    return NULL;
}

const struct target_ops *driver_target(const char *type)
{
    for (int i = 0; type && targets[i]; i++)
        if (strcmp(targets[i]->name, type) == 0)
            return targets[i];
    return NULL;
}

const struct source_ops *const *driver_sources(void)
{
    return sources;
}

const struct target_ops *const *driver_targets(void)
{
    return targets;
}

int driver_pair(const struct runbook *rb, const struct source_ops **sops,
                const struct target_ops **tops, struct co_err *err)
{
    /* The runbook reader accepts only engines it knows; this is where a
     * known engine without a driver in this build would show. */
    if (!(*sops = driver_source(rb->source.type)))
        return co_errf(err, CO_ERUNBOOK, "source.type: no driver for \"%s\"",
                       rb->source.type ? rb->source.type : "");
    if (!(*tops = driver_target(rb->target.type)))
        return co_errf(err, CO_ERUNBOOK, "target.type: no driver for \"%s\"",
                       rb->target.type ? rb->target.type : "");
    return 0;
}

/* Members a driver may leave NULL, and when a runbook needs them. */
int driver_unsupported(const struct runbook *rb,
                       const struct source_ops *sops,
                       const struct target_ops *tops, unsupported_fn emit,
                       void *arg)
{
    int n = 0;
    const int replicas = rb->nreplicas > 0;

#define NEED(ops, side, member, when, blocking, what)                        \
    do {                                                                     \
        if (!(ops)->member && (when)) {                                      \
            emit(arg, side, #member, what, blocking);                        \
            n++;                                                             \
        }                                                                    \
    } while (0)
    NEED(sops, "source", backup, rb->backup.enabled, 1,
         "the backup taken before anything changes (backup.enabled)");
    NEED(sops, "source", next_autoinc, 1, 0,
         "carrying AUTOINCREMENT counters over at the switch");
    NEED(tops, "target", describe_table, rb->schema.mode == SCHEMA_EXISTING,
         1, "schema.mode \"existing\"");
    NEED(tops, "target", find_collisions, 1, 0,
         "predicting unique-key collisions under the target's comparison");
    NEED(sops, "source", assess, 1, 0,
         "the source's own settings checked by plan");
    NEED(sops, "source", assess_table, 1, 0,
         "the source's own remarks on each table checked by plan");
    NEED(tops, "target", assess_table, 1, 0,
         "the target's own limits checked by plan (identifier lengths)");
    NEED(tops, "target", column_default, 1, 0,
         "carrying column defaults over");
    NEED(tops, "target", probe_rows, 1, 0,
         "naming the row a refused chunk stopped at");
    NEED(tops, "target", set_next_id, 1, 0,
         "setting the target's counters past the copied keys");
    NEED(tops, "target", load_sample, 1, 0,
         "the target.threads_running metric");
    NEED(tops, "target", server_role, replicas, 1, "target.replicas");
    NEED(tops, "target", replica_status, replicas, 1, "target.replicas");
    NEED(tops, "target", replication_position, replicas, 1, "target.replicas");
    NEED(tops, "target", position_wait, replicas, 1, "target.replicas");
    NEED(tops, "target", heartbeat_write, replicas, 1, "target.replicas");
    NEED(tops, "target", heartbeat_read, replicas, 1, "target.replicas");
    NEED(tops, "target", heartbeat_drop, replicas, 1, "target.replicas");
#undef NEED
    return n;
}

int driver_replicas_supported(const struct target_ops *t)
{
    return t->server_role && t->replica_status &&
           t->replication_position && t->position_wait && t->heartbeat_write && t->heartbeat_read &&
           t->heartbeat_drop;
}

/* Members every driver has: the stages call them without asking. */
#define REQUIRE(ops, member)                                                 \
    do {                                                                     \
        if (!(ops)->member)                                                  \
            return #member;                                                  \
    } while (0)

const char *driver_source_incomplete(const struct source_ops *o)
{
    REQUIRE(o, name);
    REQUIRE(o, engine);
    REQUIRE(o, generated_key);
    REQUIRE(o, open);
    REQUIRE(o, close);
    REQUIRE(o, read_schema);
    REQUIRE(o, schema_version);
    REQUIRE(o, count_rows);
    REQUIRE(o, census);
    REQUIRE(o, decide_types);
    REQUIRE(o, split_points);
    REQUIRE(o, scan);
    REQUIRE(o, cursor_next);
    REQUIRE(o, cursor_close);
    REQUIRE(o, fetch);
    REQUIRE(o, set_owner);
    REQUIRE(o, foreign_objects);
    REQUIRE(o, capture_install);
    REQUIRE(o, capture_remove);
    REQUIRE(o, capture_installed);
    REQUIRE(o, log_read);
    REQUIRE(o, log_batch_free);
    REQUIRE(o, log_stats);
    REQUIRE(o, log_trim);
    REQUIRE(o, freeze_writes);
    REQUIRE(o, fence_commit);
    REQUIRE(o, thaw_commit);
    REQUIRE(o, thaw);
    REQUIRE(o, fence_remove);
    REQUIRE(o, fence_installed);
    REQUIRE(o, put_row);
    REQUIRE(o, find_rows);
    REQUIRE(o, scan_columns);
    return NULL;
}

const char *driver_target_incomplete(const struct target_ops *o)
{
    REQUIRE(o, name);
    REQUIRE(o, check_runbook);
    REQUIRE(o, logical_of_type);
    REQUIRE(o, render_type);
    REQUIRE(o, types);
    REQUIRE(o, open);
    REQUIRE(o, close);
    REQUIRE(o, server_info);
    REQUIRE(o, database_exists);
    REQUIRE(o, create_database);
    REQUIRE(o, table_state);
    REQUIRE(o, create_table);
    REQUIRE(o, create_indexes);
    REQUIRE(o, create_foreign_keys);
    REQUIRE(o, drop_table);
    REQUIRE(o, load);
    REQUIRE(o, begin);
    REQUIRE(o, put_row);
    REQUIRE(o, delete_key);
    REQUIRE(o, commit);
    REQUIRE(o, rollback);
    REQUIRE(o, scan);
    REQUIRE(o, cursor_next);
    REQUIRE(o, cursor_close);
    REQUIRE(o, fetch);
    REQUIRE(o, count_rows);
    REQUIRE(o, set_owner);
    REQUIRE(o, foreign_objects);
    REQUIRE(o, generated_names);
    REQUIRE(o, rcapture_install);
    REQUIRE(o, rcapture_remove);
    REQUIRE(o, rlog_read);
    REQUIRE(o, rlog_batch_free);
    REQUIRE(o, fence_install);
    REQUIRE(o, fence_remove);
    REQUIRE(o, probe);
    REQUIRE(o, query_number);
    return NULL;
}
#undef REQUIRE
