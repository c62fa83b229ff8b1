/*
 * secrets.h — what must never be printed, and redaction.
 *
 * Secrets are values (passwords, the backup key, credentials and query
 * strings of URLs) registered when the runbook is read. redact() replaces
 * each occurrence with "***" in text; redact_json() does the same in every
 * string of a JSON value before it is serialized (redacting serialized
 * JSON would miss escaped secrets and could break the document). A
 * replacement is never scanned again, so a secret that is itself "***"
 * terminates.
 *
 * The environment variables that hold secrets are registered too, so that
 * child processes (actions, hooks) never inherit them.
 */
#ifndef CO_SECRETS_H
#define CO_SECRETS_H

#include <jansson.h>
#include <stddef.h>

void secret_add(const char *secret);
void secret_clear(void);
/* Rewrite every occurrence of a secret in buf (NUL-terminated) as "***". */
void redact(char *buf, size_t cap);
/* The same for every string (and object key) inside j, in place. */
void redact_json(json_t *j);

/* Variables whose values are secrets (password_env, encrypt_key_env):
 * kept out of every child's environment. */
void secret_env_add(const char *name);
/* Does "NAME=value" (an environ entry) name such a variable? */
int secret_env_entry(const char *entry);

/* A URL as messages show it: credentials, query string and fragment
 * replaced by "***", and the path too with URL_HIDE_PATH (webhook paths
 * are often the token). Always NUL-terminates out. */
#define URL_HIDE_PATH 1
void url_for_message(const char *url, int flags, char *out, size_t cap);
/* Register the credentials and query string of url as secrets. */
void secret_add_url(const char *url);

#endif
