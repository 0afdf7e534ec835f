/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — compile-time configuration of the MQTT layer.
 *
 * Every option has a default here. To change one, write your own header and
 * build with -DMQTLS_CONFIG_FILE='"my_mqtls_config.h"'; it is included first,
 * so its #defines win.
 */
#ifndef MQTLS_MQTT_CONFIG_H
#define MQTLS_MQTT_CONFIG_H

#ifdef MQTLS_CONFIG_FILE
#include MQTLS_CONFIG_FILE
#endif

#include <stdint.h>
#include "../net/api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

/* The profile: 1 favours flash (32-bit microcontrollers: no inline fast
 * paths, byte-at-a-time string checks), 0 favours speed (hosts and
 * gateways: fast paths for the common packet shapes). Both accept and
 * refuse exactly the same packets; make check runs the unit tests under
 * each. The default follows the target. */
#ifndef MQTLS_CONFIG_SMALL
#if defined(__SSE2__) || UINTPTR_MAX > 0xFFFFFFFFu
#define MQTLS_CONFIG_SMALL 0
#else
#define MQTLS_CONFIG_SMALL 1
#endif
#endif

/* How strings (topics, client ids) are checked while they are plain ASCII,
 * the common case:
 *   0  a byte at a time: the least code
 *   1  eight bytes at a time in a 64-bit word (about 100 bytes more code)
 *   2  sixteen bytes at a time with SSE2 (x86-64 always has it)
 * The default is 0 with MQTLS_CONFIG_SMALL, else the fastest the target
 * allows. */
#ifndef MQTLS_CONFIG_STRING_SCAN
#if MQTLS_CONFIG_SMALL
#define MQTLS_CONFIG_STRING_SCAN 0
#elif defined(__SSE2__)
#define MQTLS_CONFIG_STRING_SCAN 2
#elif UINTPTR_MAX > 0xFFFFFFFFu
#define MQTLS_CONFIG_STRING_SCAN 1
#else
#define MQTLS_CONFIG_STRING_SCAN 0
#endif
#endif

/* Keeps a cold path out of line so the hot caller stays a leaf. */
#if defined(__GNUC__)
#define MQTLS_NOINLINE __attribute__((noinline))
#else
#define MQTLS_NOINLINE
#endif

/* Folds a small helper into its hot callers even where it has two. */
#if defined(__GNUC__)
#define MQTLS_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define MQTLS_ALWAYS_INLINE inline
#endif

#if MQTLS_CONFIG_SMALL != 0 && MQTLS_CONFIG_SMALL != 1
#error "MQTLS_CONFIG_SMALL must be 0 or 1"
#endif
#if MQTLS_CONFIG_STRING_SCAN < 0 || MQTLS_CONFIG_STRING_SCAN > 2
#error "MQTLS_CONFIG_STRING_SCAN must be 0, 1 or 2"
#endif
#if MQTLS_CONFIG_STRING_SCAN == 2 && !defined(__SSE2__)
#error "MQTLS_CONFIG_STRING_SCAN 2 needs SSE2"
#endif

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
