/* umask.c — the process umask: 077 for us, the caller's for children. */
#include "lib/umask.h"

#include <pthread.h>
#include <sys/stat.h>

static pthread_mutex_t umask_mutex = PTHREAD_MUTEX_INITIALIZER;
static mode_t caller_umask = 022;

void umask_private(void)
{
    caller_umask = umask(077);
}

mode_t umask_caller(void)
{
    return caller_umask;
}

mode_t umask_enter(mode_t mask)
{
    pthread_mutex_lock(&umask_mutex);
    return umask(mask);
}

void umask_leave(mode_t previous)
{
    umask(previous);
    pthread_mutex_unlock(&umask_mutex);
}
