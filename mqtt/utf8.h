/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — UTF-8 strings as MQTT 3.1.1 defines them (section 1.5.3).
 *
 * Pure functions over caller memory: no allocation, no I/O, no state.
 */
#ifndef MQTLS_MQTT_UTF8_H
#define MQTLS_MQTT_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include "../net/api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

/* The longest string or binary field MQTT can carry (16-bit length). */
#define MQTLS_MAX_FIELD_LEN 65535u

/* Flags for mqtls_utf8_check(). */
#define MQTLS_UTF8_NO_WILDCARDS 1u /* refuse '+' and '#' (topic names) */
#define MQTLS_UTF8_FILTER 2u       /* '+' and '#' only where a filter may have them */

/* Checks len bytes at s: well-formed UTF-8 [MQTT-1.5.3-1] (no overlong
 * forms, no surrogates U+D800..U+DFFF, nothing above U+10FFFF), no U+0000
 * [MQTT-1.5.3-2], at most 65,535 bytes. s may be NULL only when len is 0.
 * Returns MQTLS_OK, MQTLS_ERR_BAD_UTF8 or MQTLS_ERR_FIELD_TOO_LONG. */
int mqtls_utf8_validate(const char *s, size_t len);

/* The same check of s[0..len), with flags: with MQTLS_UTF8_NO_WILDCARDS a '+' or '#'
 * gives MQTLS_ERR_BAD_TOPIC_NAME [MQTT-4.7.1-1]; with MQTLS_UTF8_FILTER a
 * misplaced one gives MQTLS_ERR_BAD_TOPIC_FILTER [MQTT-4.7.1-2],
 * [MQTT-4.7.1-3]. Does not check the length limit: callers that read a
 * 16-bit length cannot exceed it. */
int mqtls_utf8_check(const uint8_t *s, size_t len, unsigned flags);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
