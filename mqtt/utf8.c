/* SPDX-License-Identifier: Apache-2.0 */
#include "mqtt/utf8.h"

#include "mqtt/config.h"
#include "mqtt/scan.h"
#include "net/error.h"

/* Checks the multi-byte sequence whose lead byte c was just taken; *p is
 * the next byte, end the end of the string. Advances *p past the sequence
 * and returns 1 when it is well-formed, else 0. The ranges are RFC 3629's:
 * they exclude overlong forms (C0, C1, E0 80..9F, F0 80..8F), surrogates
 * (ED A0..BF) and code points above U+10FFFF (F4 90.., F5..FF). */
static int take_sequence(unsigned c, const uint8_t **p, const uint8_t *end)
{
    const uint8_t *q = *p;
    unsigned lo = 0x80, hi = 0xBF, more;

    if (c < 0xC2 || c > 0xF4)
        return 0;
    more = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if ((size_t)(end - q) < more || *q < lo || *q > hi)
        return 0;
    while (--more != 0)
        if ((*++q & 0xC0) != 0x80)
            return 0;
    *p = q + 1;
    return 1;
}

/* The byte-at-a-time check, for non-ASCII text, wildcards and short
 * strings. */
MQTLS_NOINLINE static int check_bytes(const uint8_t *s, const uint8_t *end, unsigned flags)
{
    unsigned prev = '/';

    while (s != end) {
        unsigned c = *s++;
        if (c == 0)
            return MQTLS_ERR_BAD_UTF8; /* [MQTT-1.5.3-2] */
        if (c == '+' || c == '#') {
            if (flags & MQTLS_UTF8_NO_WILDCARDS)
                return MQTLS_ERR_BAD_TOPIC_NAME; /* [MQTT-4.7.1-1] */
            /* A wildcard fills its level: it follows '/' or the start, and
             * '+' precedes '/' or the end, '#' only the end [MQTT-4.7.1-2],
             * [MQTT-4.7.1-3]. */
            if ((flags & MQTLS_UTF8_FILTER) &&
                (prev != '/' || (s != end && (c == '#' || *s != '/'))))
                return MQTLS_ERR_BAD_TOPIC_FILTER;
        } else if (c >= 0x80 && !take_sequence(c, &s, end)) {
            return MQTLS_ERR_BAD_UTF8; /* [MQTT-1.5.3-1] */
        }
        prev = c;
    }
    return MQTLS_OK;
}

int mqtls_utf8_check(const uint8_t *s, size_t len, unsigned flags)
{
#ifdef SCAN_BLOCK
    if (len >= SCAN_BLOCK) {
        /* Two calls with a constant flag, so each gets constant patterns.
         * A filter scans like a name: a wildcard sends the whole filter to
         * the byte check, which judges where it stands. */
        size_t plain = (flags & (MQTLS_UTF8_NO_WILDCARDS | MQTLS_UTF8_FILTER))
                           ? plain_prefix(s, len, 1)
                           : plain_prefix(s, len, 0);
        if (plain == len)
            return MQTLS_OK;
        if (!(flags & MQTLS_UTF8_FILTER)) {
            s += plain;
            len -= plain;
        }
    }
#endif
    return check_bytes(s, s + len, flags);
}

int mqtls_utf8_validate(const char *s, size_t len)
{
    if (len == 0)
        return MQTLS_OK;
    if (s == NULL)
        return MQTLS_ERR_INVALID_ARG;
    if (len > MQTLS_MAX_FIELD_LEN)
        return MQTLS_ERR_FIELD_TOO_LONG;
    return mqtls_utf8_check((const uint8_t *)s, len, 0);
}
