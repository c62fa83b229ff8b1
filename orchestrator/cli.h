/*
 * cli.h — the commands of DESIGN §2, one function each. They return the
 * process exit code: 0 ok, 1 error, 2 usage or invalid runbook, 3 blocking
 * findings or mismatches, 4 aborted, 5 rolled back, 6 paused/interrupted.
 */
#ifndef CO_CLI_H
#define CO_CLI_H

#include "lib/errors.h"

/* The exit codes themselves (EXIT_OK .. EXIT_PAUSED) are in errors.h: the
 * model picks the code of a final state too. */

struct runbook;

int cmd_plan(const char *runbook, int json);
int cmd_run(const char *runbook);
int cmd_resume(const char *runbook);
int cmd_status(const char *runbook, int json);
int cmd_watch(const char *runbook);
int cmd_ctl(const char *runbook, const char *cmd, const char *arg,
            const char *arg2);
int cmd_verify(const char *runbook, int json);
int cmd_check_checkpoint(const char *runbook);
int cmd_restore_backup(const char *runbook, const char *dest);

/* Load a runbook for a command needing `secrets` (enum rb_secrets),
 * reporting errors; exit code in *code on failure. */
struct runbook *cli_load_runbook(const char *path, int secrets, int *code);
/* The migration model from a checkpoint (source schema re-read). */
struct migration;
#include <jansson.h>
int cli_load_model(struct runbook *rb, json_t *cp, struct migration **out,
                   struct co_err *err);

/* Exit code for an error value. */
int cli_exit_code(int err);

#endif
