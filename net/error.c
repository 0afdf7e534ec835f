/* SPDX-License-Identifier: Apache-2.0 */
#include "net/error.h"

/* MQTLS_ERROR_TEXT 0 (a device short of flash): mqtls_strerror() returns
 * the error's name instead of its sentence, saving the sentences' bytes. */
#ifndef MQTLS_ERROR_TEXT
#define MQTLS_ERROR_TEXT 1
#endif

const char *mqtls_strerror(int err)
{
#if MQTLS_ERROR_TEXT
    switch (err) {
#define MQTLS_ERROR_TEXT_(name, value, text) case (value): return (text);
    MQTLS_ERROR_TABLE(MQTLS_ERROR_TEXT_)
#undef MQTLS_ERROR_TEXT_
    default: return "unknown mqtls error";
    }
#else
    return mqtls_errname(err);
#endif
}

const char *mqtls_errname(int err)
{
    switch (err) {
#define MQTLS_ERROR_NAME_(name, value, text) case (value): return #name;
    MQTLS_ERROR_TABLE(MQTLS_ERROR_NAME_)
#undef MQTLS_ERROR_NAME_
    default: return "MQTLS_ERR_UNKNOWN";
    }
}
