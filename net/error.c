/* SPDX-License-Identifier: Apache-2.0 */
#include "net/error.h"

#include <stddef.h>
#include <stdint.h>

/* MQTLS_ERROR_TEXT 0 (a device short of flash): mqtls_strerror() returns
 * the error's name instead of its sentence, saving the sentences' bytes. */
#ifndef MQTLS_ERROR_TEXT
#define MQTLS_ERROR_TEXT 1
#endif

/* The codes in table order, and their sentences and names in the same
 * order. A switch over codes spread from 0 to -515 in groups of a hundred
 * compiles to a 516-entry jump table (2 KB of a device's flash); these
 * are 2 bytes a code plus a pointer a string, and errors are rare enough
 * to be looked up one by one. */
static const int16_t codes[] = {
#define MQTLS_ERROR_CODE_(name, value, text) (value),
    MQTLS_ERROR_TABLE(MQTLS_ERROR_CODE_)
#undef MQTLS_ERROR_CODE_
};

static const char *const names[] = {
#define MQTLS_ERROR_NAME_(name, value, text) #name,
    MQTLS_ERROR_TABLE(MQTLS_ERROR_NAME_)
#undef MQTLS_ERROR_NAME_
};

#if MQTLS_ERROR_TEXT
static const char *const texts[] = {
#define MQTLS_ERROR_TEXT_(name, value, text) text,
    MQTLS_ERROR_TABLE(MQTLS_ERROR_TEXT_)
#undef MQTLS_ERROR_TEXT_
};
#endif

/* err's place in the table, or -1. */
static int find(int err)
{
    size_t i;
    for (i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i] == err)
            return (int)i;
    return -1;
}

const char *mqtls_strerror(int err)
{
#if MQTLS_ERROR_TEXT
    const int i = find(err);
    return i >= 0 ? texts[i] : "unknown mqtls error";
#else
    return mqtls_errname(err);
#endif
}

const char *mqtls_errname(int err)
{
    const int i = find(err);
    return i >= 0 ? names[i] : "MQTLS_ERR_UNKNOWN";
}
