/*
 * backup_seal.h — the encrypted backup format: the database's pages, each
 * sealed on its own with AES-256-GCM. A backup written this way can be
 * written in any page order (SQLite's backup API writes pages as its cache
 * spills) and no plaintext page ever reaches the disk: the file is
 * encrypted from its first byte.
 *
 *   header   "CUTOVERBK2" 0 0 | page size, u32 LE | file id, 16 random bytes
 *   page i   nonce (12 random bytes) | ciphertext (page size) | tag (16)
 *            at SEAL_HEADER + i * (page size + SEAL_OVERHEAD); the GCM
 *            additional data is the file id and i (u64 LE), so a page
 *            cannot be moved within a file or between files unnoticed.
 *
 * The plain database is the pages in order; its SHA-256 is what the
 * checkpoint records and what a restore checks.
 */
#ifndef CO_BACKUP_SEAL_H
#define CO_BACKUP_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "lib/errors.h"

#define SEAL_MAGIC "CUTOVERBK2"
#define SEAL_HEADER 32
#define SEAL_OVERHEAD 28            /* nonce + tag */
#define SEAL_MAX_PAGE 65536

struct seal {
    unsigned char key[32];
    unsigned char file_id[16];
    uint32_t page_size;             /* 0 until the first page */
};

/* A new file: a random file id for the page size. 0, or -1 when the
 * system has no randomness to give. */
int seal_start(struct seal *s, uint32_t page_size);
void seal_header(const struct seal *s, unsigned char out[SEAL_HEADER]);
/* Read a header into s (whose key is set). 0, or -1 when it is not one. */
int seal_parse_header(struct seal *s, const unsigned char in[SEAL_HEADER]);

/* Where page i's record starts. */
uint64_t seal_offset(const struct seal *s, uint64_t i);
/* Seal page i (page_size bytes) into record (page_size + SEAL_OVERHEAD). */
int seal_page(const struct seal *s, uint64_t i, const void *plain,
              unsigned char *record);
/* Open record i into plain; -1 when it does not authenticate. */
int seal_open_page(const struct seal *s, uint64_t i,
                   const unsigned char *record, void *plain);

/* Read the sealed file fd from its start and hand every plain page, in
 * order, to sink (which returns 0 or a negative CO_E*). Returns 0, the
 * sink's error, CO_ECRYPTO (not a sealed file, a page that does not
 * authenticate: a wrong key or damage) or CO_EIO. */
typedef int (*seal_sink_fn)(void *arg, const void *page, size_t n,
                            struct co_err *err);
int seal_read_all(int fd, const unsigned char key[32], seal_sink_fn sink,
                  void *arg, struct co_err *err);

#endif
