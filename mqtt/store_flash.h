/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — the message store on NOR flash (net/flash.h): every QoS 1/2
 * message from publish() to its acknowledgement, kept across a power cut
 * at any instant, with no file system, no heap and no POSIX.
 *
 * How (docs/store.md has the layout and the argument):
 *  - the sectors form a ring; each starts with a checked header (format
 *    version, sector sequence, erase count); messages are appended as
 *    records (header, the encoded PUBLISH, CRC-32) to the newest sector;
 *  - what happens to a message later is a mark: one program unit after
 *    its record, programmed once (SENT, PUBREL, DONE). Records are never
 *    rewritten, so the store also suits flash with ECC that forbids a
 *    second program of a unit;
 *  - a record cut short by a power cut fails its check and was never
 *    accepted (add had not returned); a mark cut short counts as made
 *    (each mark only records what had already happened);
 *  - when space runs out, the oldest sector is reclaimed: its live
 *    messages are copied to the newest one (keeping their order number
 *    and marks), a reclaim record is written, and only then is the sector
 *    free, erased when next used. A cut at any point leaves each
 *    message in at least one checked copy; duplicates are settled at
 *    mount, the newer copy winning.
 *
 * RAM: this struct, 16 bytes per entry (mqtls_flash_store_slot) and 16
 * per sector (mqtls_flash_store_sector), all the caller's, plus one packet
 * buffer as large as the largest message (resends are read into it).
 * Operations use the RAM index; only mount reads the whole flash.
 */
#ifndef MQTLS_MQTT_STORE_FLASH_H
#define MQTLS_MQTT_STORE_FLASH_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "../net/flash.h"
#include "../net/api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

/* The layout written; mount also reads format 1 (records without a time
 * stamp) and migrates its messages as sectors are reclaimed. */
#define MQTLS_FLASH_STORE_FORMAT 2u

typedef struct mqtls_flash_store_slot { /* one stored message: 16 bytes */
    uint32_t seq;       /* order of adding */
    uint32_t addr;      /* its record */
    uint16_t len;       /* packet bytes */
    uint16_t packet_id; /* the message's packet id */
    uint8_t flags;      /* private */
    uint8_t format;     /* private: the record's layout */
    uint8_t spare[2];   /* private: padding, 0 */
} mqtls_flash_store_slot;

typedef struct mqtls_flash_store_sector { /* one sector: 16 bytes */
    uint32_t seq;    /* 0: free */
    uint32_t erases; /* times erased, from its header (kept across erases) */
    uint32_t end;    /* bytes in use from the start of the sector */
    uint32_t live;   /* bytes of records still live */
} mqtls_flash_store_sector;

typedef struct mqtls_flash_store {
    /* statistics since mount */
    uint32_t reclaims; /* sectors reclaimed */
    uint32_t copies;   /* records copied (by reclaims, and rewrites back to PUBLISH) */
    uint32_t damaged;  /* at mount: sectors whose records end in bytes that are
                          not a whole record (a write cut short, or damage):
                          what they held was never accepted or is lost */
    /* private */
    mqtls_flash flash;
    mqtls_flash_store_slot *slots;
    mqtls_flash_store_sector *sectors;
    uint8_t *buf;
    size_t cap, count, buf_cap;
    uint32_t head;       /* the sector appended to; sector_count: none */
    uint32_t next_seq;   /* order number of the next message */
    uint32_t sector_seq; /* the highest sector sequence in use or seen */
    uint32_t floor;      /* sectors with seq <= floor have been reclaimed */
    uint32_t cached;     /* the record whose packet is in buf; 0xFFFFFFFF none */
    int failed;          /* a reclaim failed part way: mount again */
} mqtls_flash_store;

/* Reads the flash and builds the index: slots (cap of them: the most
 * messages the store holds), sectors (flash->sector_count of them), buf
 * (buf_cap bytes: the largest packet the store takes). Settles what a
 * power cut left (a duplicate from a cut reclaim, a torn record). Returns
 * MQTLS_OK; MQTLS_ERR_FLASH_FORMAT (a sector of a layout this code does
 * not know: nothing was written), MQTLS_ERR_STORE_FULL (more messages
 * than slots), MQTLS_ERR_PACKET_TOO_LARGE (a stored packet larger than
 * buf), a flash error, or MQTLS_ERR_INVALID_ARG / MQTLS_ERR_FLASH_ALIGN. */
int mqtls_flash_store_mount(mqtls_flash_store *s, const mqtls_flash *flash,
                            mqtls_flash_store_slot *slots, size_t cap,
                            mqtls_flash_store_sector *sectors, uint8_t *buf, size_t buf_cap);

/* Fills *out with s's operations (ctx = s), mark_sent included. Besides
 * the store codes they return flash errors; after a failed reclaim every
 * change returns MQTLS_ERR_FLASH_IO until the next mount. */
int mqtls_flash_store_interface(mqtls_flash_store *s, mqtls_store *out);

/* Returns the number of messages held. */
size_t mqtls_flash_store_count(const mqtls_flash_store *s);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
