/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — named blobs that survive power loss: where trust and identity
 * live (the CA bundle, the device's key and certificate).
 *
 * A port supplies three calls. The one promise that matters is in write:
 * a crash or power cut at any moment leaves the blob holding either its
 * old content or its new content, never a mix, never nothing-but-old-gone.
 * net/blobs_posix.h keeps that promise with write-new, fsync, rename;
 * net/blobs_flash.h on NOR flash with checked records and a committed
 * copy between sectors.
 *
 * Names are short ASCII ([A-Za-z0-9._-], at most MQTLS_BLOB_NAME_MAX
 * bytes), chosen by mqtls ("ca.active", "id.current.crt", ...).
 */
#ifndef MQTLS_NET_BLOBS_H
#define MQTLS_NET_BLOBS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

#define MQTLS_BLOB_NAME_MAX 32

typedef struct mqtls_blobs {
    void *ctx; /* the implementation's state, passed to read and write */
    /* Copies blob name into buf and sets *len. MQTLS_ERR_BLOB_NOT_FOUND if
     * there is none; MQTLS_ERR_BUFFER_TOO_SMALL with *len the size needed;
     * MQTLS_ERR_BLOB_CORRUPT if it fails its check. */
    int (*read)(void *ctx, const char *name, uint8_t *buf, size_t cap, size_t *len);
    /* Replaces (or creates) blob name, atomically and durably: when it
     * returns MQTLS_OK the new content survives power loss; if power fails
     * before, the old content (or no blob, if there was none) remains. */
    int (*write)(void *ctx, const char *name, const uint8_t *data, size_t len);
    /* Removes blob name; MQTLS_OK also when there was none. */
    int (*remove)(void *ctx, const char *name);
} mqtls_blobs;

/* MQTLS_OK if name is a valid blob name, else MQTLS_ERR_INVALID_ARG. */
int mqtls_blob_name_check(const char *name);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
