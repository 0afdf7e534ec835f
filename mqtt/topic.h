/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — MQTT 3.1.1 topic names and topic filters (section 4.7).
 *
 * Pure functions over caller memory. Topics are byte strings with a length;
 * they need not be NUL-terminated.
 */
#ifndef MQTLS_MQTT_TOPIC_H
#define MQTLS_MQTT_TOPIC_H

#include <stdbool.h>
#include <stddef.h>
#include "../net/api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

/* Checks name[0..len) (not NUL-terminated) as a topic name, as carried
 * by PUBLISH and the will: 1..65,535 bytes
 * [MQTT-4.7.3-1], [MQTT-4.7.3-3], valid UTF-8 without U+0000 [MQTT-4.7.3-2],
 * no '+' or '#' [MQTT-4.7.1-1]. Returns MQTLS_OK, MQTLS_ERR_BAD_TOPIC_NAME
 * (empty, or a wildcard), MQTLS_ERR_BAD_UTF8, MQTLS_ERR_FIELD_TOO_LONG or
 * MQTLS_ERR_INVALID_ARG (NULL name). */
int mqtls_topic_validate_name(const char *name, size_t len);

/* Checks filter[0..len) as a topic filter, as carried by SUBSCRIBE and
 * UNSUBSCRIBE: the name rules,
 * except that '#' may only stand alone as the last level [MQTT-4.7.1-2] and
 * '+' may only fill a whole level [MQTT-4.7.1-3]. Returns MQTLS_OK,
 * MQTLS_ERR_BAD_TOPIC_FILTER, MQTLS_ERR_BAD_UTF8, MQTLS_ERR_FIELD_TOO_LONG
 * or MQTLS_ERR_INVALID_ARG. */
int mqtls_topic_validate_filter(const char *filter, size_t len);

/* Returns true when filter[0..filter_len) matches name[0..name_len), both
 * valid, else false (section 4.7): '+' matches
 * exactly one level (possibly empty), '#' the rest including the parent
 * ("a/#" matches "a"), and a name starting with '$' is not matched by a
 * filter starting with a wildcard [MQTT-4.7.2-1]. A predicate, not a
 * status: inputs that fail validation give an unspecified answer but are
 * never read out of bounds. */
bool mqtls_topic_match(const char *filter, size_t filter_len,
                       const char *name, size_t name_len);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
