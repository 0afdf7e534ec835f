/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — the POSIX monotonic clock as an mqtls_clock. */
#ifndef MQTLS_NET_CLOCK_POSIX_H
#define MQTLS_NET_CLOCK_POSIX_H

#include "clock.h"
#include "api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

/* Fills *out with a clock reading CLOCK_MONOTONIC. Returns MQTLS_OK, or
 * MQTLS_ERR_INVALID_ARG for NULL. */
int mqtls_clock_posix(mqtls_clock *out);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
