/*
 * unit_util.h — small helpers shared by the cmocka unit tests: temp dirs,
 * whole-file read/write, and string assertions that print both sides on
 * failure. Header-only (static inline) because the Makefile builds each
 * tests/unit/test_*.c as one translation unit.
 *
 * Include after <cmocka.h> (and its prerequisites).
 */
#ifndef CO_UNIT_UTIL_H
#define CO_UNIT_UTIL_H

#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/value.h"

/* s starts with prefix. */
#define assert_prefix(s, prefix)                                              \
    do {                                                                     \
        const char *s_ = (s), *p_ = (prefix);                                \
        if (strncmp(s_, p_, strlen(p_)) != 0)                                \
            fail_msg("expected a message starting with\n  \"%s\"\ngot\n  "  \
                     "\"%s\"", p_, s_);                                      \
    } while (0)

/* needle occurs in s. */
#define assert_contains(s, needle)                                            \
    do {                                                                     \
        const char *s_ = (s), *n_ = (needle);                                \
        if (!strstr(s_, n_))                                                 \
            fail_msg("expected \"%s\" to contain \"%s\"", s_, n_);           \
    } while (0)

#define assert_not_contains(s, needle)                                        \
    do {                                                                     \
        const char *s_ = (s), *n_ = (needle);                                \
        if (strstr(s_, n_))                                                  \
            fail_msg("\"%s\" must not contain \"%s\"", s_, n_);              \
    } while (0)

/* A fresh private directory under $TMPDIR (or /tmp); caller frees. */
static inline char *ut_tempdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[4096];

    snprintf(tmpl, sizeof tmpl, "%s/cutover-unit-XXXXXX",
             base && *base ? base : "/tmp");
    if (!mkdtemp(tmpl))
        return NULL;
    return strdup(tmpl);
}

static inline int ut_rm_one(const char *path, const struct stat *st, int flag,
                            struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* rm -rf dir, then free the string. */
static inline void ut_rmtree(char *dir)
{
    if (!dir)
        return;
    nftw(dir, ut_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

/* Whole file, NUL-terminated; *len (optional) gets its size. NULL when
 * the file cannot be read. */
static inline char *ut_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, got;

    if (len)
        *len = 0;
    if (!f)
        return NULL;
    do {
        if (n + 4096 + 1 > cap) {
            char *grown = realloc(buf, cap + 65536);
            if (!grown) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
            cap += 65536;
        }
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
    } while (got > 0);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static inline int ut_write_file(const char *path, const void *data,
                                size_t len)
{
    FILE *f = fopen(path, "wb");
    int ok;

    if (!f)
        return -1;
    ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* "dir/name" in a static-free way: caller frees. */
static inline char *ut_path(const char *dir, const char *name)
{
    char *p;

    if (asprintf(&p, "%s/%s", dir, name) < 0)
        return NULL;
    return p;
}

static inline int ut_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* tests/unit/files (or $CUTOVER_UNIT_FILES), where the fixtures are;
 * caller frees. */
static inline char *ut_fixture_dir(void)
{
    const char *env = getenv("CUTOVER_UNIT_FILES");
    char buf[PATH_MAX], exe[PATH_MAX];
    ssize_t n;
    char *out;

    if (env && *env)
        return strdup(env);
    /* Built by `make` from the repository root: __FILE__ is relative. */
    snprintf(buf, sizeof buf, "%s", __FILE__);
    out = ut_path(dirname(buf), "files");
    if (ut_exists(out))
        return out;
    free(out);
    /* Otherwise relative to build/tests/test_NAME. */
    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    snprintf(buf, sizeof buf, "%s/../../tests/unit/files", dirname(exe));
    return strdup(buf);
}

/* Values to write. */
static inline struct value ut_vint(int64_t i)
{
    return (struct value){V_INT, i, 0, NULL, 0};
}
static inline struct value ut_vtext(const char *s)
{
    return (struct value){V_TEXT, 0, 0, (const unsigned char *)s, strlen(s)};
}
static inline struct value ut_vnull(void)
{
    return (struct value){V_NULL, 0, 0, NULL, 0};
}

#endif
