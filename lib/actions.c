/* actions.c — exec and http actions. An exec action's process gets
 * stdin, stdout and stderr only, and our environment without the
 * variables that hold secrets. */
#include "lib/actions.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/events.h"
#include "lib/log.h"
#include "lib/umask.h"
#include "lib/xalloc.h"

extern char **environ;

void action_env_add(struct action_env *e, const char *name, const char *value)
{
    if (e->n >= 15)
        return;
    e->vars[e->n++] = xasprintf("%s=%s", name, value);
    e->vars[e->n] = NULL;
}

void action_env_free(struct action_env *e)
{
    for (int i = 0; i < e->n; i++)
        free((void *)e->vars[i]);
    e->n = 0;
    e->vars[0] = NULL;
}

/* Our environment minus the variables that hold secrets (the passwords,
 * the backup key), plus the CUTOVER_* variables. */
static char **build_env(const struct action_env *extra)
{
    int n = 0, k = 0;
    char **env;

    while (environ[n])
        n++;
    env = xcalloc((size_t)n + (extra ? (size_t)extra->n : 0) + 1, sizeof *env);
    for (int i = 0; i < n; i++)
        if (!secret_env_entry(environ[i]))
            env[k++] = environ[i];
    for (int i = 0; extra && i < extra->n; i++)
        env[k++] = (char *)extra->vars[i];
    return env;
}

/* Wait for the child until `deadline` (mono_s): 0 with its status, -1
 * with errno ETIMEDOUT or another. The switch actions run inside the write
 * pause, so the wait ends when the child does (a pidfd becomes readable),
 * not at the next tick of a polling loop; without pidfds (old kernels),
 * polled every millisecond. */
static int wait_child(pid_t pid, double deadline, int *status)
{
    int fd = pidfd_open(pid, 0);

    for (;;) {
        pid_t w = waitpid(pid, status, WNOHANG);
        double left = deadline - mono_s();
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            goto fail;
        if (left <= 0) {
            errno = ETIMEDOUT;
            goto fail;
        }
        if (fd >= 0) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            poll(&p, 1, (int)(left * 1000) + 1);
        } else {
            usleep(1000);
        }
    }
    if (fd >= 0)
        close(fd);
    return 0;
fail:
    if (fd >= 0) {
        int saved = errno;
        close(fd);
        errno = saved;
    }
    return -1;
}

static int run_exec(const struct rb_action *a, const char *what,
                    const struct action_env *extra, struct co_err *err)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    char **env = build_env(extra);
    pid_t pid;
    int status = 0, rc;
    double deadline = mono_s() + a->timeout_ms / 1000.0;

    if (!env)
        return co_errf(err, CO_ENOMEM, "%s: out of memory", what);
    posix_spawn_file_actions_init(&fa);
    /* Keep our stdout clean for --json output: the action's goes to
     * stderr. */
    posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
    /* Nothing else of ours: no database connection, no state dir lock,
     * no progress socket (whatever the libraries' close-on-exec habits). */
    posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID |
                                        POSIX_SPAWN_SETSIGMASK);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    /* The child starts with the caller's umask: files an action writes
     * (a flag file, a .env) are the application's, not ours. */
    mode_t ours = umask_enter(umask_caller());
    rc = posix_spawnp(&pid, a->argv[0], &fa, &attr, a->argv, env);
    umask_leave(ours);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    free(env);
    if (rc != 0)
        return co_errf(err, CO_EACTION, "%s: cannot run %s: %s", what,
                       a->argv[0], strerror(rc));
    if ((rc = wait_child(pid, deadline, &status)) < 0 && errno == ETIMEDOUT) {
        kill(-pid, SIGKILL);
        waitpid(pid, &status, 0);
        return co_errf(err, CO_ETIMEOUT, "%s (%s) did not finish within "
                       "%d ms and was killed", what, a->argv[0],
                       a->timeout_ms);
    }
    if (rc < 0)
        return co_errf(err, CO_EACTION, "%s: waitpid: %s", what,
                       strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status))
        return co_errf(err, CO_EACTION, "%s (%s) exited with status %d", what,
                       a->argv[0], WEXITSTATUS(status));
    return co_errf(err, CO_EACTION, "%s (%s) was killed by signal %d", what,
                   a->argv[0], WTERMSIG(status));
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

/* One request. Messages show `shown`, the URL without its secrets. */
static int perform(const char *url, const char *shown, const char *method,
                   const struct rb_header *headers, int nheaders,
                   const char *body, int timeout_ms, long *status, double *ms,
                   const char *what, struct co_err *err)
{
    CURL *c = curl_easy_init();
    struct curl_slist *hl = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    double t0 = mono_s();
    CURLcode rc;

    *status = 0;
    if (!c)
        return co_errf(err, CO_ENOMEM, "%s: curl_easy_init failed", what);
    for (int i = 0; i < nheaders; i++) {
        char *h = xasprintf("%s: %s", headers[i].name, headers[i].value);
        hl = curl_slist_append(hl, h);
        free(h);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "cutover/1");
    if (strcmp(method, "GET") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    if (hl)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    if (ms)
        *ms = (mono_s() - t0) * 1000;
    if (rc != CURLE_OK)
        return co_errf(err, rc == CURLE_OPERATION_TIMEDOUT ? CO_ETIMEOUT
                                                           : CO_EACTION,
                       "%s: %s %s: %s", what, method, shown,
                       errbuf[0] ? errbuf : curl_easy_strerror(rc));
    return 0;
}

int http_request(const struct rb_action *a, const char *what, long *status,
                 double *ms, struct co_err *err)
{
    char shown[512];
    int rc, ok = 0;

    url_for_message(a->url, 0, shown, sizeof shown);
    rc = perform(a->url, shown, a->method ? a->method : "GET", a->headers,
                 a->nheaders, a->body, a->timeout_ms, status, ms, what, err);
    if (rc < 0)
        return rc;
    if (a->nexpect == 0)
        ok = *status >= 200 && *status < 300;
    for (int i = 0; i < a->nexpect; i++)
        ok |= a->expect_status[i] == *status;
    if (!ok)
        return co_errf(err, CO_EACTION, "%s: %s %s answered %ld", what,
                       a->method ? a->method : "GET", shown, *status);
    return 0;
}

int http_post_json(const char *url, const struct rb_header *headers,
                   int nheaders, const char *body, int timeout_ms,
                   long *status, struct co_err *err)
{
    struct rb_header all[nheaders + 1];
    char shown[512];

    all[0].name = "Content-Type";
    all[0].value = "application/json";
    for (int i = 0; i < nheaders; i++)
        all[i + 1] = headers[i];
    url_for_message(url, URL_HIDE_PATH, shown, sizeof shown);
    return perform(url, shown, "POST", all, nheaders + 1, body, timeout_ms,
                   status, NULL, "webhook", err);
}

int action_run(const struct rb_action *a, const char *what,
               const struct action_env *env, struct co_err *err)
{
    long status;
    double ms;
    int rc;

    if (a->kind == ACTION_EXEC)
        rc = run_exec(a, what, env, err);
    else
        rc = http_request(a, what, &status, &ms, err);
    events_emit(EVT_LOG, json_pack("{ss ss ss}", "level", rc ? "error" : "info",
                                 "action", what, "message",
                                 rc ? co_err_text(err) : "action done"));
    return rc;
}
