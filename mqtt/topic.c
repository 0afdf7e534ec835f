/* SPDX-License-Identifier: Apache-2.0 */
#include "mqtt/topic.h"

#include <stdint.h>

#include "mqtt/config.h"
#include "mqtt/utf8.h"
#include "net/error.h"

/* Both kinds of topic: 1..65,535 bytes [MQTT-4.7.3-1], [MQTT-4.7.3-3], then
 * the characters, checked by the flags' rules. */
MQTLS_NOINLINE static int validate(const char *s, size_t len, unsigned flags, int empty_err)
{
    if (s == NULL)
        return MQTLS_ERR_INVALID_ARG;
    if (len == 0)
        return empty_err;
    if (len > MQTLS_MAX_FIELD_LEN)
        return MQTLS_ERR_FIELD_TOO_LONG;
    return mqtls_utf8_check((const uint8_t *)s, len, flags);
}

int mqtls_topic_validate_name(const char *name, size_t len)
{
    return validate(name, len, MQTLS_UTF8_NO_WILDCARDS, MQTLS_ERR_BAD_TOPIC_NAME);
}

int mqtls_topic_validate_filter(const char *filter, size_t len)
{
    return validate(filter, len, MQTLS_UTF8_FILTER, MQTLS_ERR_BAD_TOPIC_FILTER);
}

bool mqtls_topic_match(const char *filter, size_t filter_len,
                       const char *name, size_t name_len)
{
    size_t f = 0, n = 0;

    if (filter_len == 0 || name_len == 0)
        return false;
    /* [MQTT-4.7.2-1] */
    if (name[0] == '$' && (filter[0] == '+' || filter[0] == '#'))
        return false;
    while (f < filter_len) {
        char c = filter[f];
        if (c == '#')
            return true;
        if (c == '+') {
            while (n < name_len && name[n] != '/')
                n++;
            f++;
            continue;
        }
        if (n == name_len || name[n] != c) {
            /* "a/#" also matches its parent "a". */
            return n == name_len && c == '/' && f + 2 == filter_len &&
                   filter[f + 1] == '#';
        }
        f++;
        n++;
    }
    return n == name_len;
}
