/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — the POSIX monotonic clock as an mqtls_clock. */
#ifndef MQTLS_NET_CLOCK_POSIX_H
#define MQTLS_NET_CLOCK_POSIX_H

#include "net/clock.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Fills *out with a clock reading CLOCK_MONOTONIC. */
int mqtls_clock_posix(mqtls_clock *out);

#ifdef __cplusplus
}
#endif

#endif
