/*
 * state_dir.h — the state dir and the files in it (DESIGN §8).
 *
 * The state dir holds what a migration must be able to trust: the
 * checkpoint, the event log, the lock, the source backup. So it is trusted
 * only when it is a real directory (not a symbolic link) owned by the user
 * running cutover and writable by no one else, and every file in it is
 * opened relative to that directory, never following a symbolic link, and
 * created mode 0600. Whoever could plant a link or a file there could
 * otherwise make cutover overwrite a file of theirs choosing or believe a
 * checkpoint of theirs.
 */
#ifndef CO_STATE_DIR_H
#define CO_STATE_DIR_H

#include <stddef.h>

#include "lib/errors.h"

/* Create the state dir (and missing parents) mode 0700, then check it as
 * state_dir_open() does; 0 or a negative CO_E*. */
int state_dir_create(const char *state_dir, struct co_err *err);

/* Open the state dir and check that it can be trusted. Returns a directory
 * descriptor (close-on-exec) or CO_EIO naming what is wrong: missing, not
 * a directory, a symbolic link, another owner, writable by group/others. */
int state_dir_open(const char *state_dir, struct co_err *err);

/* Open `name` in the trusted dir `dfd` (whose path is state_dir, for
 * messages) with open(2) flags; never follows a symbolic link; created
 * 0600. Returns the fd or CO_EIO ("state_dir/name: reason"). */
int state_file_openat(int dfd, const char *state_dir, const char *name,
                      int flags, struct co_err *err);
/* state_dir_open() + state_file_openat(). */
int state_file_open(const char *state_dir, const char *name, int flags,
                    struct co_err *err);

/* Is there an entry `name` (a link counts: it is refused when opened)? */
int state_file_exists(const char *state_dir, const char *name);
/* Remove `name` if it is there; 0, or CO_EIO. */
int state_file_remove(const char *state_dir, const char *name,
                      struct co_err *err);

/* Rename `from` to `to` inside the state dir; 0, or CO_EIO. */
int state_file_rename(const char *state_dir, const char *from,
                      const char *to, struct co_err *err);

/* Write a whole file atomically: unlink a stale temp, write the temp,
 * fsync, rename over `name`, fsync the directory. The previous file is
 * intact on failure. */
int state_file_write(const char *state_dir, const char *name,
                     const void *data, size_t len, struct co_err *err);

/* The names an online backup of the source has in the state dir
 * (stages/backup.c): a checkpoint's backup.file is one of them. */
#define BACKUP_PLAIN "source-backup.sqlite3"
#define BACKUP_SEALED "source-backup.sqlite3.enc"
int state_backup_name_valid(const char *name);

#endif
