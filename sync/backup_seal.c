/* backup_seal.c — pages sealed one by one with AES-256-GCM. */
#include "sync/backup_seal.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/xalloc.h"

#define NONCE 12
#define TAG 16

int seal_start(struct seal *s, uint32_t page_size)
{
    s->page_size = page_size;
    return RAND_bytes(s->file_id, sizeof s->file_id) == 1 ? 0 : -1;
}

void seal_header(const struct seal *s, unsigned char out[SEAL_HEADER])
{
    memset(out, 0, SEAL_HEADER);
    memcpy(out, SEAL_MAGIC, strlen(SEAL_MAGIC));
    for (int b = 0; b < 4; b++)
        out[12 + b] = (unsigned char)(s->page_size >> (8 * b));
    memcpy(out + 16, s->file_id, sizeof s->file_id);
}

int seal_parse_header(struct seal *s, const unsigned char in[SEAL_HEADER])
{
    uint32_t size = 0;

    if (memcmp(in, SEAL_MAGIC, strlen(SEAL_MAGIC)) != 0)
        return -1;
    for (int b = 0; b < 4; b++)
        size |= (uint32_t)in[12 + b] << (8 * b);
    /* SQLite's page sizes: powers of two from 512 to 65536 */
    if (size < 512 || size > SEAL_MAX_PAGE || (size & (size - 1)))
        return -1;
    s->page_size = size;
    memcpy(s->file_id, in + 16, sizeof s->file_id);
    return 0;
}

uint64_t seal_offset(const struct seal *s, uint64_t i)
{
    return SEAL_HEADER + i * ((uint64_t)s->page_size + SEAL_OVERHEAD);
}

static void additional_data(const struct seal *s, uint64_t i,
                            unsigned char aad[24])
{
    memcpy(aad, s->file_id, 16);
    for (int b = 0; b < 8; b++)
        aad[16 + b] = (unsigned char)(i >> (8 * b));
}

int seal_page(const struct seal *s, uint64_t i, const void *plain,
              unsigned char *record)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    unsigned char aad[24];
    int n, ok;

    additional_data(s, i, aad);
    ok = c && RAND_bytes(record, NONCE) == 1 &&
         EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, s->key, record) &&
         EVP_EncryptUpdate(c, NULL, &n, aad, sizeof aad) &&
         EVP_EncryptUpdate(c, record + NONCE, &n, plain,
                           (int)s->page_size) &&
         EVP_EncryptFinal_ex(c, record + NONCE + s->page_size, &n) &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG,
                             record + NONCE + s->page_size);
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

int seal_open_page(const struct seal *s, uint64_t i,
                   const unsigned char *record, void *plain)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    unsigned char aad[24], fin[16];
    int n, ok;

    additional_data(s, i, aad);
    ok = c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, s->key, record) &&
         EVP_DecryptUpdate(c, NULL, &n, aad, sizeof aad) &&
         EVP_DecryptUpdate(c, plain, &n, record + NONCE, (int)s->page_size) &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG,
                             (void *)(record + NONCE + s->page_size)) &&
         EVP_DecryptFinal_ex(c, fin, &n) > 0;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

/* Read exactly n bytes: 1, 0 at a clean end of file, -1 on an error
 * (errno), -2 on a short record. */
static int read_full(int fd, unsigned char *p, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            return got == 0 ? 0 : -2;
        got += (size_t)r;
    }
    return 1;
}

int seal_read_all(int fd, const unsigned char key[32], seal_sink_fn sink,
                  void *arg, struct co_err *err)
{
    unsigned char header[SEAL_HEADER], *record = NULL, *plain = NULL;
    struct seal s;
    int rc = 0, r;

    memcpy(s.key, key, sizeof s.key);
    if (read_full(fd, header, sizeof header) != 1 ||
        seal_parse_header(&s, header) < 0) {
        rc = co_errf(err, CO_ECRYPTO, "not an encrypted cutover backup");
        goto out;
    }
    record = xmalloc(s.page_size + SEAL_OVERHEAD);
    plain = xmalloc(s.page_size);
    for (uint64_t i = 0;; i++) {
        r = read_full(fd, record, s.page_size + SEAL_OVERHEAD);
        if (r == 0)
            break;
        if (r < 0) {
            rc = co_errf(err, r == -1 ? CO_EIO : CO_ECRYPTO, "page %llu: %s",
                         (unsigned long long)i + 1,
                         r == -1 ? strerror(errno) : "truncated");
            goto out;
        }
        if (seal_open_page(&s, i, record, plain) < 0) {
            rc = co_errf(err, CO_ECRYPTO, "page %llu does not authenticate: "
                         "wrong key, or the file was damaged",
                         (unsigned long long)i + 1);
            goto out;
        }
        if ((rc = sink(arg, plain, s.page_size, err)) < 0)
            goto out;
    }
out:
    OPENSSL_cleanse(s.key, sizeof s.key);
    if (plain)
        OPENSSL_cleanse(plain, s.page_size);
    free(plain);
    free(record);
    return rc;
}
