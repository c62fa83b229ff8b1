/*
 * xalloc.h — cutover's one policy for allocation failure: every
 * allocation of ours goes through these functions, which never return
 * NULL. When memory runs out they print what happened and exit (status 1)
 * at once, without allocating.
 *
 * Why exit rather than check everywhere: everything a resume needs is in
 * the checkpoint, written atomically (temp, fsync, rename, fsync dir), so
 * dying is always safe — `cutover resume` continues from the last
 * checkpoint, as after kill -9, which the tests exercise at every step.
 * A hand-written check at each of hundreds of sites (and inside every
 * jansson call, whose allocations go through xmalloc too, see
 * xalloc_install) would be code nobody can test, on a path where the
 * process has no memory left to report anything useful anyway.
 * Sizes that come from outside (a binlog event, a file) are bounded
 * before they are allocated and refused as errors naming the input; the
 * database client libraries report their own allocation failures as
 * errors.
 */
#ifndef CO_XALLOC_H
#define CO_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Route jansson's allocations through xmalloc (once, at start). */
void xalloc_install(void);

#endif
