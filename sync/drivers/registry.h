/*
 * registry.h — the drivers, found by the runbook's source.type and
 * target.type (DESIGN §10), as OpenSMTPD finds its table backends.
 *
 * A member a driver cannot provide is NULL and means "not supported":
 * callers ask (a NULL check, or driver_unsupported() for what a runbook
 * needs) and never call it. Which members a driver must have and which it
 * may leave out is listed once, in registry.c.
 */
#ifndef CO_REGISTRY_H
#define CO_REGISTRY_H

#include <stddef.h>

#include "sync/drivers/source.h"
#include "sync/drivers/target.h"

struct runbook;

/* The driver of that engine, NULL when there is none. */
const struct source_ops *driver_source(const char *type);
const struct target_ops *driver_target(const char *type);

/* The registered drivers, NULL-terminated (tests, messages). */
const struct source_ops *const *driver_sources(void);
const struct target_ops *const *driver_targets(void);

/* The runbook's two drivers; CO_ERUNBOOK naming source.type or
 * target.type when an engine has no driver. */
int driver_pair(const struct runbook *rb, const struct source_ops **sops,
                const struct target_ops **tops, struct co_err *err);

/* What this runbook needs that a driver leaves out: emit(arg, side
 * ("source", "target"), member, what it is needed for) for each, with
 * `blocking` set when the migration cannot run without it (else it runs
 * without that part, which plan should say). Returns how many. */
typedef void (*unsupported_fn)(void *arg, const char *side,
                               const char *member, const char *needed_for,
                               int blocking);
int driver_unsupported(const struct runbook *rb,
                       const struct source_ops *sops,
                       const struct target_ops *tops, unsupported_fn emit,
                       void *arg);

/* Does the target driver have every member replicas need? */
int driver_replicas_supported(const struct target_ops *tops);

/* A required member the driver leaves NULL (its name), or NULL when
 * every required member is there. */
const char *driver_source_incomplete(const struct source_ops *ops);
const char *driver_target_incomplete(const struct target_ops *ops);

#endif
