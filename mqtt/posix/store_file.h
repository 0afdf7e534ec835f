/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — a message store that survives the process: for hosts (POSIX).
 *
 * The live entries sit in a RAM ring (the caller's buffer, as for
 * mqtls_ram_store), mirrored by an append-only journal file. Every add,
 * state change and removal is written to the journal as one record with a
 * CRC-32 and made durable with fdatasync() before it takes effect, so
 * after a crash or a kill -9 the next open replays the journal and every
 * message not yet acknowledged is still there, in order.
 *
 * A record cut short by a crash (power lost mid-write) fails its CRC: it
 * and anything after it are dropped on open, and counted in torn_bytes.
 * When the journal grows past twice the ring, it is compacted: the live
 * entries are written to PATH.tmp, synced, and renamed over PATH, so a
 * crash during compaction leaves either the old journal or the new one.
 *
 * Not for microcontrollers: a firmware port maps the same mqtls_store calls
 * onto flash pages.
 */
#ifndef MQTLS_MQTT_POSIX_STORE_FILE_H
#define MQTLS_MQTT_POSIX_STORE_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "../store.h"
#include "../../net/api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

typedef struct mqtls_file_store {
    mqtls_ram_store ram;  /* the live entries */
    size_t torn_bytes;    /* bytes dropped from a torn journal tail at open */
    size_t journal_bytes; /* current size of the journal */
    int last_errno;       /* errno behind the last MQTLS_ERR_STORE_IO */
    /* private */
    int fd;               /* the journal, or -1 */
    char path[256];
} mqtls_file_store;

/* Cannot fail. */
void mqtls_file_store_init(mqtls_file_store *s);

/* Opens (or creates) the journal at path and replays it into buf (cap
 * bytes, the same sizing as mqtls_ram_store). Returns MQTLS_OK,
 * MQTLS_ERR_STORE_IO, MQTLS_ERR_STORE_CORRUPT, MQTLS_ERR_STORE_FULL (the
 * journal holds more than buf can) or MQTLS_ERR_INVALID_ARG. */
int mqtls_file_store_open(mqtls_file_store *s, const char *path, uint8_t *buf, size_t cap);

/* Fills *out with s's operations (ctx = s); they return the RAM store's
 * codes plus MQTLS_ERR_STORE_IO when the journal cannot be written (the
 * operation then has no effect). */
int mqtls_file_store_interface(mqtls_file_store *s, mqtls_store *out);

/* Closes the journal; the entries stay in the file for the next open. */
void mqtls_file_store_close(mqtls_file_store *s);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
