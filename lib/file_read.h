/*
 * file_read.h — read a whole file into memory: the one reader for the
 * small files cutover loads at once (runbook, checkpoint).
 */
#ifndef CO_FILE_READ_H
#define CO_FILE_READ_H

#include <stddef.h>

/* Read fd to its end into *text (NUL-terminated, caller frees; *len
 * without the NUL). max > 0 refuses a file longer than max bytes rather
 * than cutting it. Returns 0, or -errno (-EFBIG past max, -ENOMEM); fd
 * stays open. */
int file_read_fd(int fd, size_t max, char **text, size_t *len);

/* The same for a path (opened read-only). */
int file_read_path(const char *path, size_t max, char **text, size_t *len);

#endif
