/* lock.c — one orchestrator per state dir (flock on state_dir/lock). */
#include "checkpoints/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "lib/state_dir.h"

int state_dir_lock(const char *state_dir, struct co_err *err)
{
    char path[PATH_MAX], pid[32] = "";
    int fd;
    ssize_t n;

    snprintf(path, sizeof path, "%s/lock", state_dir);
    fd = state_file_open(state_dir, "lock", O_RDWR | O_CREAT, err);
    if (fd < 0)
        return co_err_prefix(err, "lock file");
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        close(fd);
        if (e == EWOULDBLOCK)
            return co_errf(err, CO_ELOCKED, "state dir %s is in use by "
                           "another cutover (pid %s); only one orchestrator "
                           "may drive a migration", state_dir,
                           pid[0] ? pid : "unknown");
        return co_errf(err, CO_EIO, "lock %s: %s", path, strerror(e));
    }
    /* The pid is informational only; the flock is the lock. */
    if (ftruncate(fd, 0) == 0) {
        n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
        if (pwrite(fd, pid, (size_t)n, 0) < 0) {
            /* harmless: the message above falls back to "unknown" */
        }
    }
    return fd;
}
