/*
 * backup.h — the online backup of the source taken before anything is
 * changed (DESIGN §5 pre_validate), optionally AES-256-GCM encrypted, and
 * its restore (`cutover restore-backup`).
 */
#ifndef CO_BACKUP_H
#define CO_BACKUP_H

#include "orchestrator/errors.h"
#include "orchestrator/migration.h"
#include "sync/source.h"

/* Back up into state_dir and record file name and SHA-256 in m. */
int backup_take(const struct runbook *rb, const struct source_ops *sops,
                struct source *src, struct migration *m, struct co_err *err);

/* Restore the backup recorded in the checkpoint cp into dest (decrypting
 * and checking its SHA-256). */
int backup_restore(const struct runbook *rb, json_t *cp, const char *dest,
                   struct co_err *err);

/* SHA-256 of a file as hex. */
int file_sha256(const char *path, char hex[65], struct co_err *err);

#endif
