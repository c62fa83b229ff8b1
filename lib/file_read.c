/* file_read.c — whole-file reads. */
#include "lib/file_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/xalloc.h"

#define CHUNK 65536

int file_read_fd(int fd, size_t max, char **text, size_t *len)
{
    char *buf = NULL;
    size_t used = 0, cap = 0;
    ssize_t n;

    *text = NULL;
    *len = 0;
    for (;;) {
        if (cap - used < CHUNK / 2 + 1) {
            char *grown = xrealloc(buf, cap + CHUNK);
            buf = grown;
            cap += CHUNK;
        }
        n = read(fd, buf + used, cap - used - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            return -e;
        }
        if (n == 0)
            break;
        used += (size_t)n;
        if (max > 0 && used > max) {
            free(buf);
            return -EFBIG;
        }
    }
    buf[used] = '\0';
    *text = buf;
    *len = used;
    return 0;
}

int file_read_path(const char *path, size_t max, char **text, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

    *text = NULL;
    *len = 0;
    if (fd < 0)
        return -errno;
    rc = file_read_fd(fd, max, text, len);
    close(fd);
    return rc;
}
