#include "mqtt/utf8.h"

#include <string.h>

#include "mqtt/config.h"
#if MQTLS_CONFIG_STRING_SCAN == 2
#include <emmintrin.h>
#endif
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

#if MQTLS_CONFIG_STRING_SCAN == 1
#define SCAN_BLOCK 8
/* Whether the 8 bytes at p are all plain: ASCII, not NUL, and (with wild
 * set) neither '+' (0x2B) nor '#' (0x23). For ASCII, x - 0x0101..01 sets a
 * byte's top bit only where some byte of x is zero; '+' and '#' differ
 * only in bit 3, so (v | 0x0808..08) ^ 0x2B2B..2B is zero in a byte exactly
 * where v holds either. */
static int plain_block(const uint8_t *p, int wild)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    const uint64_t w = wild ? 0x2B2B2B2B2B2B2B2Bu : 0, eights = wild ? 0x0808080808080808u : 0;
    uint64_t v;

    memcpy(&v, p, 8);
    return ((v | (v - ones) | (((v | eights) ^ w) - ones)) & highs) == 0;
}
#elif MQTLS_CONFIG_STRING_SCAN == 2
#define SCAN_BLOCK 16
/* The same test on 16 bytes: the top bit of each byte of v | (v == 0) |
 * ((v | 0x08) == '+') says "not plain". With wild clear, (v | 0) == 0 is
 * the NUL test again. */
static int plain_block(const uint8_t *p, int wild)
{
    const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    const __m128i nul = _mm_cmpeq_epi8(v, _mm_setzero_si128());
    const __m128i wc = _mm_cmpeq_epi8(_mm_or_si128(v, _mm_set1_epi8(wild ? 0x08 : 0)),
                                      _mm_set1_epi8(wild ? 0x2B : 0));
    return _mm_movemask_epi8(_mm_or_si128(v, _mm_or_si128(nul, wc))) == 0;
}
#endif

#ifdef SCAN_BLOCK
/* How many leading bytes of s (len >= SCAN_BLOCK) are certainly plain:
 * whole blocks, then one last block that overlaps the one before, so a
 * plain string needs no byte loop for its tail. */
static size_t plain_prefix(const uint8_t *s, size_t len, int wild)
{
    size_t i;
    for (i = 0; i + SCAN_BLOCK < len; i += SCAN_BLOCK)
        if (!plain_block(s + i, wild))
            return i;
    return plain_block(s + len - SCAN_BLOCK, wild) ? len : i;
}
#endif

/* The byte-at-a-time check, for non-ASCII text and short strings. */
MQTLS_NOINLINE static int check_bytes(const uint8_t *s, const uint8_t *end, unsigned flags)
{
    /* With wildcards allowed, a and b are 0: the NUL check already covers
     * them, so one loop serves both kinds of string. */
    const unsigned a = (flags & MQTLS_UTF8_NO_WILDCARDS) ? '+' : 0;
    const unsigned b = (flags & MQTLS_UTF8_NO_WILDCARDS) ? '#' : 0;

    while (s != end) {
        unsigned c = *s++;
        if (c == 0)
            return MQTLS_ERR_BAD_UTF8;
        if (c == a || c == b)
            return MQTLS_ERR_BAD_TOPIC_NAME;
        if (c >= 0x80 && !take_sequence(c, &s, end))
            return MQTLS_ERR_BAD_UTF8;
    }
    return MQTLS_OK;
}

int mqtls_utf8_check(const uint8_t *s, size_t len, unsigned flags)
{
#ifdef SCAN_BLOCK
    if (len >= SCAN_BLOCK) {
        size_t plain = plain_prefix(s, len, (int)(flags & MQTLS_UTF8_NO_WILDCARDS));
        if (plain == len)
            return MQTLS_OK;
        s += plain;
        len -= plain;
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
