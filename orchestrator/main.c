/* main.c — cutover's command line (DESIGN §2). */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "orchestrator/version.h"
#include "orchestrator/cli.h"
#include "lib/log.h"
#include "orchestrator/protocol.h"
#include "lib/umask.h"
#include "lib/xalloc.h"

#define USAGE_INDENT "                              "

/* The ctl commands (protocol.h), "pause | resume | ...", wrapped. */
static void ctl_usage(FILE *f)
{
    int col = 0;

    for (int k = REQ_PAUSE; k < REQ__COUNT; k++) {
        char item[64];
        int n = snprintf(item, sizeof item, "%s%s%s", request_name(k),
                         *request_usage(k) ? " " : "", request_usage(k));
        if (col > 0 && col + n + 3 > 48) {
            fprintf(f, " |\n" USAGE_INDENT);
            col = 0;
        } else if (col > 0) {
            fprintf(f, " | ");
            col += 3;
        }
        fputs(item, f);
        col += n;
    }
    fputc('\n', f);
}

static int usage(FILE *f)
{
    fprintf(f,
        "usage: cutover COMMAND RUNBOOK [options]\n"
        "\n"
        "  plan   RUNBOOK [--json]     pre-validate only: assessment, no changes\n"
        "  run    RUNBOOK              start a new migration\n"
        "  resume RUNBOOK              continue after any stop\n"
        "  status RUNBOOK [--json]     one-shot status\n"
        "  watch  RUNBOOK              live progress\n"
        "  ctl    RUNBOOK CMD [ARG]    ");
    ctl_usage(f);
    fprintf(f,
        "  verify RUNBOOK [--json]     standalone verification report\n"
        "  check-checkpoint RUNBOOK    validate the checkpoint, print its state\n"
        "  restore-backup RUNBOOK DEST restore the source backup taken at start\n"
        "  --version                   version, and the libraries built with\n"
        "\n"
        "exit codes: 0 ok, 1 error, 2 usage/invalid runbook, 3 blocking findings\n"
        "or mismatches, 4 aborted, 5 rolled back, 6 paused or interrupted\n");
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    const char *cmd, *rb;
    int json = 0, rc;

    xalloc_install();      /* jansson allocates through xmalloc too */
    umask_private();
    log_init("cutover", LOG_INFO);
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
                      strcmp(argv[1], "--help") == 0 ||
                      strcmp(argv[1], "help") == 0))
        return usage(stdout), 0;
    if (argc == 2 && strcmp(argv[1], "--version") == 0)
        return version_print(stdout), 0;
    if (argc < 3)
        return usage(stderr);
    cmd = argv[1];
    rb = argv[2];
    for (int i = 3; i < argc; i++)
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (strcmp(cmd, "plan") == 0)
        rc = cmd_plan(rb, json);
    else if (strcmp(cmd, "run") == 0 && argc == 3)
        rc = cmd_run(rb);
    else if (strcmp(cmd, "resume") == 0 && argc == 3)
        rc = cmd_resume(rb);
    else if (strcmp(cmd, "status") == 0)
        rc = cmd_status(rb, json);
    else if (strcmp(cmd, "watch") == 0 && argc == 3)
        rc = cmd_watch(rb);
    else if (strcmp(cmd, "ctl") == 0 && argc >= 4 && argc <= 6)
        rc = cmd_ctl(rb, argv[3], argc > 4 ? argv[4] : NULL,
                     argc > 5 ? argv[5] : NULL);
    else if (strcmp(cmd, "verify") == 0)
        rc = cmd_verify(rb, json);
    else if (strcmp(cmd, "check-checkpoint") == 0 && argc == 3)
        rc = cmd_check_checkpoint(rb);
    else if (strcmp(cmd, "restore-backup") == 0 && argc == 4)
        rc = cmd_restore_backup(rb, argv[3]);
    else
        rc = usage(stderr);
    curl_global_cleanup();
    return rc;
}
