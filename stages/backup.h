/*
 * backup.h — the online backup of the source taken before anything is
 * changed (DESIGN §5 pre_validate), optionally AES-256-GCM encrypted page
 * by page, and its restore (`cutover restore-backup`).
 */
#ifndef CO_BACKUP_H
#define CO_BACKUP_H

#include "lib/errors.h"
#include "lib/state_dir.h"
#include "checkpoints/migration.h"
#include "sync/drivers/source.h"

/* Back up into state_dir and record file name and SHA-256 in m. */
int backup_take(const struct runbook *rb, const struct source_ops *sops,
                struct source *src, struct migration *m, struct co_err *err);

/* Restore the backup recorded in the checkpoint cp into dest (decrypting
 * and checking its SHA-256); dest is created 0600 and never replaced. */
int backup_restore(const struct runbook *rb, json_t *cp, const char *dest,
                   struct co_err *err);

/* Remove backup files an interrupted run left in the state dir (partial
 * ones, and any but `keep`, the one the checkpoint records; may be NULL).
 * Called by the owner of the state dir when it starts. */
void backup_remove_leftovers(const char *state_dir, const char *keep);

#endif
