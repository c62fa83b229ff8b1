/*
 * value_literals.h — struct value initializers for table-driven unit tests:
 * TXT("abc"), INT(42), REAL(0.5), BLOB("a\0b"), NUL. Lengths come from the
 * string literal, so embedded NUL bytes count.
 */
#ifndef CO_VALUE_LITERALS_H
#define CO_VALUE_LITERALS_H

#include "lib/value.h"

#define TXT(s) {.type = V_TEXT, .p = (const unsigned char *)(s), \
                .n = sizeof(s) - 1}
#define INT(x) {.type = V_INT, .i = (x)}
#define REAL(x) {.type = V_REAL, .r = (x)}
#define BLOB(s) {.type = V_BLOB, .p = (const unsigned char *)(s), \
                 .n = sizeof(s) - 1}
#define NUL {.type = V_NULL}

#endif
