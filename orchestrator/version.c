/*
 * version.c — `cutover --version`: the version (the tree's VERSION file,
 * its one place, passed in by the Makefile) and the libraries this binary
 * was built with, so a bug report says which SQLite, client libraries and
 * TLS it ran on. The drivers name their own client libraries.
 */
#include "orchestrator/version.h"

#include <curl/curlver.h>
#include <jansson.h>
#include <microhttpd.h>
#include <openssl/opensslv.h>
#include <string.h>
#include <uv.h>
#include <zlib.h>

#include "sync/drivers/registry.h"

#ifndef CUTOVER_VERSION
#error "CUTOVER_VERSION is set by the Makefile from the VERSION file"
#endif


/* A library named once though several drivers use it (MySQL's source and
 * target share Connector/C). */
static void print_library(FILE *f, const char *lib, const char **seen,
                          int *nseen)
{
    for (int i = 0; i < *nseen; i++)
        if (strcmp(seen[i], lib) == 0)
            return;
    seen[(*nseen)++] = lib;
    fprintf(f, "  %s\n", lib);
}

void version_print(FILE *f)
{
    const struct source_ops *const *src = driver_sources();
    const struct target_ops *const *tgt = driver_targets();
    const char *seen[16];
    int nseen = 0;

    fprintf(f, "cutover %s\nbuilt with:\n", CUTOVER_VERSION);
    for (int i = 0; src[i] && nseen < 8; i++)
        if (src[i]->client_library)
            print_library(f, src[i]->client_library, seen, &nseen);
    for (int i = 0; tgt[i] && nseen < 8; i++)
        if (tgt[i]->client_library)
            print_library(f, tgt[i]->client_library, seen, &nseen);
    fprintf(f, "  %s\n", OPENSSL_VERSION_TEXT);
    fprintf(f, "  libcurl %s\n", LIBCURL_VERSION);
    fprintf(f, "  libuv %d.%d.%d\n", UV_VERSION_MAJOR, UV_VERSION_MINOR,
            UV_VERSION_PATCH);
    fprintf(f, "  jansson %s\n", JANSSON_VERSION);
    fprintf(f, "  libmicrohttpd %x.%x.%x\n", (MHD_VERSION >> 24) & 0xff,
            (MHD_VERSION >> 16) & 0xff, (MHD_VERSION >> 8) & 0xff);
    fprintf(f, "  zlib %s\n", ZLIB_VERSION);
}
