/* object_name.c — names of cutover's own objects within a length limit. */
#include "lib/object_name.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

void object_name_fit(char *out, size_t cap, const char *prefix,
                     const char *base, size_t max, int hash_bytes)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen;
    size_t plen = strlen(prefix), blen = strlen(base), keep, o;

    if (plen + blen <= max) {
        snprintf(out, cap, "%s%s", prefix, base);
        return;
    }
    EVP_Digest(base, blen, md, &mdlen, EVP_sha256(), NULL);
    /* Cut on a UTF-8 boundary so the name stays valid text. */
    keep = max - plen - 1 - 2 * (size_t)hash_bytes;
    while (keep > 0 && ((unsigned char)base[keep] & 0xC0) == 0x80)
        keep--;
    o = (size_t)snprintf(out, cap, "%s%.*s_", prefix, (int)keep, base);
    for (int i = 0; i < hash_bytes && o + 2 < cap; i++, o += 2)
        snprintf(out + o, cap - o, "%02x", md[i]);
}
