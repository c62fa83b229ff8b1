/*
 * fuzz_util.h — what every libFuzzer harness in tests/fuzz/ sets up once.
 * Header-only (static inline) because fuzz.mk builds each harness as one
 * translation unit against the library objects.
 *
 * The fuzzers run millions of inputs: nothing may print per input (log
 * lines would drown the fuzzer's own output and slow it down), and a crash
 * must reproduce when its input is run again, so jansson's hash seed is
 * fixed (object iteration order, hence which error is found first, depends
 * on it).
 */
#ifndef CO_FUZZ_UTIL_H
#define CO_FUZZ_UTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_init_common(void)
{
    json_object_seed(1);
    log_init("cutover-fuzz", LOG_ERROR);
    log_set_quiet(1);
}

#endif
