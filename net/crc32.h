/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — CRC-32 (IEEE 802.3, reflected 0xEDB88320), bitwise: small, no
 * table. Catches torn and corrupted records in the host-side stores; not a
 * defence against an attacker (signatures are, tls/ca_update.h). */
#ifndef MQTLS_NET_CRC32_H
#define MQTLS_NET_CRC32_H

#include <stddef.h>
#include <stdint.h>
#include "api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

/* Returns the CRC-32 (IEEE 802.3) of p[0..n), continuing from crc (start
 * with 0; pass the last result to go on over more bytes). */
uint32_t mqtls_crc32(uint32_t crc, const uint8_t *p, size_t n);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
