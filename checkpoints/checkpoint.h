/*
 * checkpoint.h — the checkpoint file store (DESIGN §8).
 *
 * state_dir/checkpoint.json holds a JSON object written atomically:
 * unlink a stale temp, write the temp, fsync it, rename it over the old
 * file, fsync the directory. The object carries "format" and "sha256" (of
 * its canonical compact form without "sha256"); a file that is missing,
 * truncated, not JSON, of another format or fails its hash is reported as
 * exactly that and never treated as "no migration yet".
 *
 * What the object contains is the migration model's business
 * (checkpoints/migration.c); this module only stores it safely.
 */
#ifndef CO_CHECKPOINT_H
#define CO_CHECKPOINT_H

#include <jansson.h>
#include <stddef.h>

#include "lib/state_dir.h"
#include "lib/errors.h"

/* Format 2 keeps each column's logical type (lib/ltype.h) beside its
 * target type; format 1 files are still read (checkpoints/migration.c
 * fills the logical type from the stored type) and rewritten as 2. */
#define CHECKPOINT_FORMAT 2
#define CHECKPOINT_FORMAT_OLDEST 1
#define CHECKPOINT_FILE "checkpoint.json"

/* Write `body` (an object; "format" and "sha256" are set here). Returns 0
 * or CO_EIO with the failing step named; the previous file is intact on
 * failure. */
int checkpoint_write(const char *state_dir, json_t *body, struct co_err *err);

/* Read and check. Returns 0 with *body (without "sha256"), or
 * CO_ECHECKPOINT naming the problem: missing, truncated, not an object,
 * a format older than CHECKPOINT_FORMAT_OLDEST or newer than
 * CHECKPOINT_FORMAT, hash mismatch. The body keeps its "format". */
int checkpoint_read(const char *state_dir, json_t **body, struct co_err *err);

/* The same checks on bytes in memory (tests and the fuzzer). */
int checkpoint_parse(const char *text, size_t len, const char *what,
                     json_t **body, struct co_err *err);

/* Is there a checkpoint file at all (valid or not)? */
int checkpoint_exists(const char *state_dir);

#endif
