/* state_dir.c — a trusted state dir and its files (state_dir.h). */
#include "lib/state_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/faults.h"
#include "lib/log.h"

/* System calls go through these wrappers so tests can make any of them
 * fail (CUTOVER_FAULT_IO) the way a full disk or a dying device would. */
static ssize_t io_write(int fd, const void *p, size_t n)
{
    int e = fault_io("write");
    if (e) {
        errno = e;
        return -1;
    }
    return write(fd, p, n);
}

static int io_fsync(int fd)
{
    int e = fault_io("fsync");
    if (e) {
        errno = e;
        return -1;
    }
    return fsync(fd);
}

static int io_renameat(int dfd, const char *from, const char *to)
{
    int e = fault_io("rename");
    if (e) {
        errno = e;
        return -1;
    }
    return renameat(dfd, from, dfd, to);
}

static int trust(int dfd, const char *state_dir, struct co_err *err)
{
    struct stat st;

    if (fstat(dfd, &st) < 0)
        return co_errf(err, CO_EIO, "state dir %s: %s", state_dir,
                       strerror(errno));
    if (st.st_uid != geteuid())
        return co_errf(err, CO_EIO, "state dir %s belongs to uid %d, not to "
                       "the user running cutover (uid %d): run cutover as "
                       "its owner, or choose a state dir of your own",
                       state_dir, (int)st.st_uid, (int)geteuid());
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return co_errf(err, CO_EIO, "state dir %s can be written by %s (mode "
                       "%04o): whoever can write there can replace the "
                       "checkpoint; `chmod 700 %s`", state_dir,
                       st.st_mode & S_IWOTH ? "anyone" : "its group",
                       (unsigned)(st.st_mode & 07777), state_dir);
    return 0;
}

int state_dir_open(const char *state_dir, struct co_err *err)
{
    struct stat st;
    int dfd, rc;

    dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) {
        int e = errno;
        if (lstat(state_dir, &st) == 0 && S_ISLNK(st.st_mode))
            return co_errf(err, CO_EIO, "state dir %s is a symbolic link; "
                           "give the directory's real path", state_dir);
        return co_errf(err, CO_EIO, "state dir %s: %s", state_dir,
                       strerror(e));
    }
    if ((rc = trust(dfd, state_dir, err)) < 0) {
        close(dfd);
        return rc;
    }
    return dfd;
}

int state_file_openat(int dfd, const char *state_dir, const char *name,
                      int flags, struct co_err *err)
{
    int fd = openat(dfd, name, flags | O_NOFOLLOW | O_CLOEXEC, 0600);

    if (fd < 0 && errno == ELOOP)
        return co_errf(err, CO_EIO, "%s/%s is a symbolic link: files in the "
                       "state dir are never followed (remove it)", state_dir,
                       name);
    if (fd < 0)
        return co_errf(err, CO_EIO, "%s/%s: %s", state_dir, name,
                       strerror(errno));
    return fd;
}

int state_file_open(const char *state_dir, const char *name, int flags,
                    struct co_err *err)
{
    int dfd = state_dir_open(state_dir, err), fd;

    if (dfd < 0)
        return dfd;
    fd = state_file_openat(dfd, state_dir, name, flags, err);
    close(dfd);
    return fd;
}

int state_file_exists(const char *state_dir, const char *name)
{
    char path[PATH_MAX];
    struct stat st;

    snprintf(path, sizeof path, "%s/%s", state_dir, name);
    return lstat(path, &st) == 0;
}

int state_file_remove(const char *state_dir, const char *name,
                      struct co_err *err)
{
    int dfd = state_dir_open(state_dir, err), rc = 0;

    if (dfd < 0)
        return dfd;
    if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
        rc = co_errf(err, CO_EIO, "%s/%s: cannot remove: %s", state_dir,
                     name, strerror(errno));
    close(dfd);
    return rc;
}

int state_file_rename(const char *state_dir, const char *from,
                      const char *to, struct co_err *err)
{
    int dfd = state_dir_open(state_dir, err), rc = 0;

    if (dfd < 0)
        return dfd;
    if (io_renameat(dfd, from, to) < 0)
        rc = co_errf(err, CO_EIO, "rename %s/%s: %s", state_dir, from,
                     strerror(errno));
    else if (io_fsync(dfd) < 0)
        log_warn("fsync of %s (the rename of %s is done; it may not survive "
                 "a power loss)", state_dir, to);
    close(dfd);
    return rc;
}

int state_file_write(const char *state_dir, const char *name,
                     const void *data, size_t len, struct co_err *err)
{
    char tmp[NAME_MAX + 1];
    const char *p = data, *step = "writing";
    int dfd, fd, e;

    snprintf(tmp, sizeof tmp, "%s.tmp", name);
    if ((dfd = state_dir_open(state_dir, err)) < 0)
        return dfd;
    if (unlinkat(dfd, tmp, 0) < 0 && errno != ENOENT) {
        e = errno;
        close(dfd);
        return co_errf(err, CO_EIO, "%s/%s: cannot remove stale temp file: "
                       "%s", state_dir, tmp, strerror(e));
    }
    fd = state_file_openat(dfd, state_dir, tmp, O_WRONLY | O_CREAT | O_EXCL,
                           err);
    if (fd < 0) {
        close(dfd);
        return fd;
    }
    while (len > 0) {
        ssize_t n = io_write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            e = errno;
            goto fail;
        }
        p += n;
        len -= (size_t)n;
    }
    step = "fsync";
    if (io_fsync(fd) < 0) {
        e = errno;
        goto fail;
    }
    close(fd);
    fd = -1;
    fault_point("checkpoint", "before_rename");
    step = "rename";
    if (io_renameat(dfd, tmp, name) < 0) {
        e = errno;
        goto fail;
    }
    /* The rename already made the new file the current one; failing here
     * would make the caller believe the old one still is. A directory that
     * cannot be synced only weakens durability across a power loss. */
    if (io_fsync(dfd) < 0)
        log_warn("fsync of the directory of %s/%s (the file is written; it "
                 "may not survive a power loss)", state_dir, name);
    close(dfd);
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    unlinkat(dfd, tmp, 0);
    close(dfd);
    return co_errf(err, CO_EIO, "%s %s/%s: %s (the previous file is intact)",
                   step, state_dir, tmp, strerror(e));
}

int state_dir_create(const char *state_dir, struct co_err *err)
{
    char buf[PATH_MAX];
    int dfd;

    snprintf(buf, sizeof buf, "%s", state_dir);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) < 0 && errno != EEXIST)
            return co_errf(err, CO_EIO, "state dir %s: %s", buf,
                           strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0700) < 0 && errno != EEXIST)
        return co_errf(err, CO_EIO, "state dir %s: %s", buf, strerror(errno));
    if ((dfd = state_dir_open(state_dir, err)) < 0)
        return dfd;
    close(dfd);
    return 0;
}

/* The names a backup may have in the state dir: the checkpoint's
 * backup.file is one of these, never a path. */
static const char *const backup_names[] = {BACKUP_PLAIN, BACKUP_SEALED, NULL};

int state_backup_name_valid(const char *name)
{
    for (int i = 0; backup_names[i]; i++)
        if (strcmp(name, backup_names[i]) == 0)
            return 1;
    return 0;
}
