/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — the version of the SDK. The Makefile, CMake and mqtls.pc read
 * it from here; the shared library's soname carries the major number. */
#ifndef MQTLS_NET_VERSION_H
#define MQTLS_NET_VERSION_H

#define MQTLS_VERSION_MAJOR 0
#define MQTLS_VERSION_MINOR 2
#define MQTLS_VERSION_PATCH 0
#define MQTLS_VERSION_STRING "0.2.0"
/* One number to compare: 0x00MMmmpp. */
#define MQTLS_VERSION_NUMBER \
    ((MQTLS_VERSION_MAJOR << 16) | (MQTLS_VERSION_MINOR << 8) | MQTLS_VERSION_PATCH)

#include "api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

/* The version of the library linked in ("0.2.0"), which may differ from
 * the MQTLS_VERSION_STRING a program was compiled with. Never NULL. */
const char *mqtls_version(void);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
