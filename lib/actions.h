/*
 * actions.h — running the runbook's actions: `exec` (a program, no shell
 * unless argv says so, CUTOVER_* variables in its environment, killed with
 * its process group at the timeout) and `http` (libcurl, TLS verified,
 * expected statuses). Switch actions must be safe to run twice: a crash
 * between running one and recording it runs it again on resume.
 */
#ifndef CO_ACTIONS_H
#define CO_ACTIONS_H

#include "lib/errors.h"
#include "lib/runbook.h"

/* Extra environment for exec actions: NULL-terminated "NAME=value". */
struct action_env {
    const char *vars[16];
    int n;
};

void action_env_add(struct action_env *e, const char *name, const char *value);
void action_env_free(struct action_env *e);

/* Run one action to completion. `what` names it in messages
 * ("cutover.switch[0]"). Returns 0 or CO_EACTION / CO_ETIMEOUT. */
int action_run(const struct rb_action *a, const char *what,
               const struct action_env *env, struct co_err *err);

/* One HTTP request; *status gets the response code (0 when none). Fails
 * with CO_EACTION when the status is not expected. */
int http_request(const struct rb_action *a, const char *what, long *status,
                 double *ms, struct co_err *err);

/* POST a JSON body (webhooks). */
int http_post_json(const char *url, const struct rb_header *headers,
                   int nheaders, const char *body, int timeout_ms,
                   long *status, struct co_err *err);

#endif
