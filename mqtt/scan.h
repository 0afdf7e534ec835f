/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — internal: the plain-ASCII string scan shared by utf8.c and the
 * codec's hot paths. Not installed; not part of the API.
 *
 * A byte is "plain" when it is ASCII, not NUL, and (with wild set) neither
 * '+' nor '#'. Strings of plain bytes are valid MQTT strings (and topic
 * names, with wild set); anything else goes to the byte-at-a-time check in
 * utf8.c, which decides. MQTLS_CONFIG_STRING_SCAN picks the kernel.
 */
#ifndef MQTLS_MQTT_SCAN_H
#define MQTLS_MQTT_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#if MQTLS_CONFIG_STRING_SCAN == 2
#include <emmintrin.h>
#endif

#if MQTLS_CONFIG_STRING_SCAN == 1
#define SCAN_BLOCK 8
typedef uint64_t scan_mask;
/* Non-zero unless the 8 bytes at p are all plain: ASCII, not NUL, and
 * (with wild set) neither '+' (0x2B) nor '#' (0x23). For ASCII, x -
 * 0x0101..01 sets a byte's top bit only where some byte of x is zero; '+'
 * and '#' differ only in bit 3, so (v | 0x0808..08) ^ 0x2B2B..2B is zero in
 * a byte exactly where v holds either. Without wildcards the pattern is
 * 0x0808..08 itself, which makes that term the NUL test again. */
static inline scan_mask block_mask(const uint8_t *p, int wild)
{
    const uint64_t ones = 0x0101010101010101u, eights = 0x0808080808080808u;
    const uint64_t pattern = wild ? 0x2B2B2B2B2B2B2B2Bu : eights;
    uint64_t v;

    memcpy(&v, p, 8);
    return (v | (v - ones) | (((v | eights) ^ pattern) - ones)) & 0x8080808080808080u;
}
#elif MQTLS_CONFIG_STRING_SCAN == 2
#define SCAN_BLOCK 16
typedef int scan_mask;
/* The same test on 16 bytes: the top bit of each byte of v | (v == 0) |
 * ((v | 0x08) == '+') says "not plain". Without wildcards the pattern is
 * 0xFF, which only bytes the top-bit test already refuses can equal. */
static inline scan_mask block_mask(const uint8_t *p, int wild)
{
    const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    const __m128i nul = _mm_cmpeq_epi8(v, _mm_setzero_si128());
    const __m128i wc = _mm_cmpeq_epi8(_mm_or_si128(v, _mm_set1_epi8(0x08)),
                                      wild ? _mm_set1_epi8(0x2B) : _mm_set1_epi8(-1));
    return _mm_movemask_epi8(_mm_or_si128(v, _mm_or_si128(nul, wc)));
}
#endif

#ifdef SCAN_BLOCK
/* Whether 1..2 blocks' worth of bytes at s (SCAN_BLOCK <= len <=
 * 2 * SCAN_BLOCK: most topics) are all plain. Small enough to inline. */
static inline int plain_short(const uint8_t *s, size_t len, int wild)
{
    return (block_mask(s, wild) | block_mask(s + len - SCAN_BLOCK, wild)) == 0;
}

/* How many leading bytes of s (len >= SCAN_BLOCK) are certainly plain.
 * Up to two blocks long (most topics), the first and the last block are
 * tested together; longer strings go block by block. The last block
 * overlaps the one before it, so a plain string needs no byte loop. */
static inline size_t plain_prefix(const uint8_t *s, size_t len, int wild)
{
    size_t i;

    if (len <= 2 * SCAN_BLOCK)
        return plain_short(s, len, wild) ? len : 0;
    for (i = 0; i + SCAN_BLOCK < len; i += SCAN_BLOCK)
        if (block_mask(s + i, wild) != 0)
            return i;
    return block_mask(s + len - SCAN_BLOCK, wild) == 0 ? len : i;
}
#endif


#endif
