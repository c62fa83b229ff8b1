/*
 * lock.h — one orchestrator per state dir (DESIGN §4): a flock held on
 * state_dir/lock for the life of the process.
 */
#ifndef CO_LOCK_H
#define CO_LOCK_H

#include "lib/errors.h"

/* The state dir lock: flock on state_dir/lock, held for the process's
 * life. Returns the fd, or CO_ELOCKED naming the holder's pid. */
int state_dir_lock(const char *state_dir, struct co_err *err);

#endif
