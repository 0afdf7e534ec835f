#include "mqtt/topic.h"

#include <stdint.h>

#include "mqtt/utf8.h"
#include "net/error.h"

static int check_length(const char *s, size_t len, int empty_err)
{
    if (s == NULL)
        return MQTLS_ERR_INVALID_ARG;
    if (len == 0)
        return empty_err;
    if (len > MQTLS_MAX_FIELD_LEN)
        return MQTLS_ERR_FIELD_TOO_LONG;
    return MQTLS_OK;
}

int mqtls_topic_validate_name(const char *name, size_t len)
{
    int ret = check_length(name, len, MQTLS_ERR_BAD_TOPIC_NAME);
    if (ret != MQTLS_OK)
        return ret;
    return mqtls_utf8_check((const uint8_t *)name, len, MQTLS_UTF8_NO_WILDCARDS);
}

int mqtls_topic_validate_filter(const char *filter, size_t len)
{
    size_t i;
    int ret = check_length(filter, len, MQTLS_ERR_BAD_TOPIC_FILTER);
    if (ret != MQTLS_OK)
        return ret;
    ret = mqtls_utf8_check((const uint8_t *)filter, len, 0);
    if (ret != MQTLS_OK)
        return ret;
    for (i = 0; i < len; i++) {
        char c = filter[i];
        if (c != '+' && c != '#')
            continue;
        /* Both wildcards must start a level [MQTT-4.7.1-2], [MQTT-4.7.1-3]. */
        if (i > 0 && filter[i - 1] != '/')
            return MQTLS_ERR_BAD_TOPIC_FILTER;
        /* '+' must end its level; '#' must end the filter. */
        if (i + 1 < len && (c == '#' || filter[i + 1] != '/'))
            return MQTLS_ERR_BAD_TOPIC_FILTER;
    }
    return MQTLS_OK;
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
