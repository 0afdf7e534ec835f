#include "mqtt/utf8.h"

#include <string.h>

#include "mqtt/config.h"
#include "net/error.h"

/* Length of the multi-byte sequence starting at p (p[0] >= 0x80), or 0 when
 * it is not well-formed. n is how many bytes are available at p. The ranges
 * are RFC 3629's table: they exclude overlong forms (C0, C1, E0 80..9F,
 * F0 80..8F), surrogates (ED A0..BF) and code points above U+10FFFF. */
static size_t sequence_len(const uint8_t *p, size_t n)
{
    uint8_t c = p[0], lo = 0x80, hi = 0xBF;
    size_t len, i;

    if (c < 0xC2) {
        return 0;
    } else if (c < 0xE0) {
        len = 2;
    } else if (c < 0xF0) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c < 0xF5) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (len > n || p[1] < lo || p[1] > hi)
        return 0;
    for (i = 2; i < len; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

#if MQTLS_CONFIG_WORD_SCAN
/* How many leading bytes of s are certainly plain: ASCII, not NUL and equal
 * to neither a nor b. Works eight bytes at a time, and stops at the first
 * word that holds anything else; the byte loop takes it from there. For
 * ASCII bytes, (x - 0x01..01) sets a byte's top bit only if some byte of x
 * is zero, so x ^ (a * 0x01..01) finds bytes equal to a. */
static size_t plain_prefix(const uint8_t *s, size_t len, uint8_t a, uint8_t b)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    const uint64_t pa = a * ones, pb = b * ones;
    size_t i = 0;
    uint64_t v;

    for (; i + 8 <= len; i += 8) {
        memcpy(&v, s + i, 8);
        if ((v | (v - ones) | ((v ^ pa) - ones) | ((v ^ pb) - ones)) & highs)
            break;
    }
    return i;
}
#endif

int mqtls_utf8_check(const uint8_t *s, size_t len, unsigned flags)
{
    /* With wildcards allowed, a and b are 0: the NUL check already covers
     * them, so one loop serves both kinds of string. */
    const uint8_t a = (flags & MQTLS_UTF8_NO_WILDCARDS) ? '+' : 0;
    const uint8_t b = (flags & MQTLS_UTF8_NO_WILDCARDS) ? '#' : 0;
    size_t i = 0, n;

#if MQTLS_CONFIG_WORD_SCAN
    i = plain_prefix(s, len, a, b);
#endif
    while (i < len) {
        uint8_t c = s[i];
        if (c == 0)
            return MQTLS_ERR_BAD_UTF8;
        if (c == a || c == b)
            return MQTLS_ERR_BAD_TOPIC_NAME;
        if (c < 0x80) {
            i++;
            continue;
        }
        n = sequence_len(s + i, len - i);
        if (n == 0)
            return MQTLS_ERR_BAD_UTF8;
        i += n;
    }
    return MQTLS_OK;
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
