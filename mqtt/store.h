/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — the store of outgoing QoS 1 and 2 messages.
 *
 * Every message promised at QoS 1 or 2 stays here, as the encoded packet,
 * from publish until its acknowledgement, so a drop loses nothing and a
 * reconnect resends in the original order [MQTT-4.4.0-1]. The client talks
 * to a store only through mqtls_store, so the RAM ring below (devices) and
 * a file-backed store (hosts) are interchangeable.
 *
 * Stored bytes are never rewritten: the client sets DUP on the way out.
 * Entries are kept in the order they were added. A full store refuses the
 * new message with MQTLS_ERR_STORE_FULL and keeps everything it holds:
 * never a silent drop.
 */
#ifndef MQTLS_MQTT_STORE_H
#define MQTLS_MQTT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "../net/error.h"
#include "../net/api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

/* Where a stored message is in its flow. */
typedef enum mqtls_store_state {
    MQTLS_STORE_PUBLISH = 1, /* PUBLISH to (re)send; waiting for PUBACK or PUBREC */
    MQTLS_STORE_PUBREL = 2   /* QoS 2 after PUBREC: PUBREL to (re)send, waiting for PUBCOMP;
                                the PUBLISH bytes stay, so a new session can publish it again */
} mqtls_store_state;

/* Entry flags: what a store that survives a reboot remembers of a flow. */
#define MQTLS_STORE_SENT 1u /* put on the wire at least once (mark_sent) */

typedef struct mqtls_store_entry {
    const uint8_t *packet; /* the encoded PUBLISH; valid until the next add, set_state,
                              remove, next or find */
    size_t len;            /* its length */
    uint32_t time;         /* the time given to add (seconds; 0: unknown) */
    uint16_t packet_id;    /* the PUBLISH's packet id (never 0) */
    uint8_t state;         /* an mqtls_store_state */
    uint8_t flags;         /* MQTLS_STORE_SENT, where the store keeps it */
} mqtls_store_entry;

/* A walk through the entries, oldest first. Zero it to start. */
typedef struct mqtls_store_iter {
    size_t pos;   /* implementation's position */
    int started;  /* 0 before the first call */
} mqtls_store_iter;

typedef struct mqtls_store {
    void *ctx; /* the implementation's state, owned by the caller */
    /* Appends a copy of packet (len bytes) as packet_id in state PUBLISH,
     * stamped with time (the client's age clock, seconds; 0 when unknown).
     * MQTLS_OK, MQTLS_ERR_STORE_FULL, MQTLS_ERR_STORE_ID_IN_USE,
     * MQTLS_ERR_PACKET_TOO_LARGE (could never fit). */
    int (*add)(void *ctx, uint16_t packet_id, const uint8_t *packet, size_t len, uint32_t time);
    /* MQTLS_OK or MQTLS_ERR_STORE_NOT_FOUND. */
    int (*set_state)(void *ctx, uint16_t packet_id, mqtls_store_state state);
    /* Forgets packet_id (acknowledged). MQTLS_OK or MQTLS_ERR_STORE_NOT_FOUND. */
    int (*remove)(void *ctx, uint16_t packet_id);
    /* The next entry, oldest first: 1 and *out filled, or 0 at the end.
     * Adding or removing entries ends a walk (start a new one). */
    int (*next)(void *ctx, mqtls_store_iter *it, mqtls_store_entry *out);
    /* The entry with packet_id: MQTLS_OK or MQTLS_ERR_STORE_NOT_FOUND. */
    int (*find)(void *ctx, uint16_t packet_id, mqtls_store_entry *out);
    /* Optional (NULL: the store forgets across a reboot, like the RAM
     * ring). Remembers, durably, that packet_id is about to go on the wire
     * for the first time; entries then carry MQTLS_STORE_SENT. The client
     * calls it before the first send, so after a reboot it knows which
     * messages need DUP and which were never sent (only those may be
     * dropped by a policy). Does not end a walk or move entry.packet.
     * MQTLS_OK, MQTLS_ERR_STORE_NOT_FOUND or an I/O error (then the
     * client does not send it). Without it, every entry found in the store
     * when the client is set up counts as sent. */
    int (*mark_sent)(void *ctx, uint16_t packet_id);
} mqtls_store;

/* ---- the RAM ring --------------------------------------------------------
 * Records sit in one caller-owned buffer, each contiguous (a record that
 * would cross the end starts again at the beginning), so a resend is one
 * write straight from the buffer. Each record costs 12 bytes of header plus
 * the packet, rounded up to 8. Removing from the middle leaves a gap that
 * is reclaimed when everything before it is gone: ordered acknowledgements
 * (the usual case) free space at once. */
typedef struct mqtls_ram_store {
    /* private */
    uint8_t *buf; /* caller's buffer */
    size_t cap;   /* its usable size (a multiple of 8) */
    size_t head;  /* offset of the oldest record */
    size_t tail;  /* offset where the next record goes */
    size_t used;  /* bytes from head to tail, gaps and pads included */
    size_t live;  /* entries not yet removed */
} mqtls_ram_store;

/* Cannot fail; the store holds nothing until set up. */
void mqtls_ram_store_init(mqtls_ram_store *s);
/* Uses buf (cap bytes, at least 64) for the records; the caller keeps it
 * alive and untouched while the store is used. Returns MQTLS_OK, or
 * MQTLS_ERR_INVALID_ARG (NULL, or cap too small). */
int mqtls_ram_store_setup(mqtls_ram_store *s, uint8_t *buf, size_t cap);
/* Fills *out with s's operations (ctx = s). Returns MQTLS_OK, or
 * MQTLS_ERR_INVALID_ARG for NULL. */
int mqtls_ram_store_interface(mqtls_ram_store *s, mqtls_store *out);
/* Returns the number of entries not yet removed. */
size_t mqtls_ram_store_count(const mqtls_ram_store *s);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
