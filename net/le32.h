/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — 32-bit little-endian fields, as the on-flash and on-disk
 * layouts (stores, blobs) write them. */
#ifndef MQTLS_NET_LE32_H
#define MQTLS_NET_LE32_H

#include <stdint.h>

static inline void mqtls_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t mqtls_get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif
