/*
 * object_name.h — names of cutover's own objects that fit an engine's
 * identifier limit.
 */
#ifndef CO_OBJECT_NAME_H
#define CO_OBJECT_NAME_H

#include <stddef.h>

/* prefix+base into out when it fits max bytes; otherwise prefix, base cut
 * on a UTF-8 boundary, "_" and the first hash_bytes of SHA-256(base) in
 * hex, max bytes in all: distinct bases keep distinct names. */
void object_name_fit(char *out, size_t cap, const char *prefix,
                     const char *base, size_t max, int hash_bytes);

#endif
