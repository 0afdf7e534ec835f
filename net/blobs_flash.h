/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — named blobs on NOR flash (net/flash.h), for devices without a
 * file system: the CA store's bundle and the identity slots.
 *
 * The promise of net/blobs.h holds at a power cut at any instant: a blob
 * reads as its old content or its new content, whole. How: the sectors
 * are used one at a time; blobs are appended as records (header, name,
 * data, CRC-32) to the current sector, the newest record of a name wins,
 * and a torn record fails its check and is not believed. When the current
 * sector is full, or its free space is not clean, the live blobs are
 * copied into the next sector, which becomes current only when a commit
 * record, written last, says the copy is complete. Every sector starts
 * with a header carrying the format version (1) and a sequence number; a
 * sector of another format (a newer firmware's) makes every call fail with
 * MQTLS_ERR_FLASH_FORMAT and nothing is written.
 *
 * RAM: the struct below; no heap, no cache. A read or a write scans the
 * current sector (sectors are a few KB; blobs change rarely).
 */
#ifndef MQTLS_NET_BLOBS_FLASH_H
#define MQTLS_NET_BLOBS_FLASH_H

#include <stddef.h>
#include <stdint.h>

#include "blobs.h"
#include "flash.h"
#include "api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

#define MQTLS_BLOBS_FLASH_FORMAT 1u

typedef struct mqtls_blobs_flash {
    mqtls_flash flash; /* the sectors given to the blobs, all of them */
    /* statistics */
    uint32_t compactions; /* copies into the next sector */
} mqtls_blobs_flash;

/* Uses flash (copied) for blobs: MQTLS_OK, or what mqtls_flash_check()
 * says. Nothing is written until the first write. */
int mqtls_blobs_flash_init(mqtls_blobs_flash *b, const mqtls_flash *flash);
/* Fills *out with the blob interface over b (ctx = b; b must outlive it). */
void mqtls_blobs_flash_interface(mqtls_blobs_flash *b, mqtls_blobs *out);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
