/*
 * version.h — what `cutover --version` prints.
 */
#ifndef CO_VERSION_H
#define CO_VERSION_H

#include <stdio.h>

void version_print(FILE *f);

#endif
