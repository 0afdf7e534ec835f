/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — the byte-stream interface every layer speaks.
 *
 * TCP fills it; TLS consumes one and fills another; the MQTT client
 * consumes one. A platform port is one file that fills this struct (plus a
 * clock, net/clock.h).
 *
 * Contract for send and recv:
 *   > 0  that many bytes moved (partial moves are normal: callers loop)
 *     0  nothing moved before timeout_ms ran out; try again later
 *   < 0  an mqtls_err: the stream is broken. A peer that closed the
 *        connection is MQTLS_ERR_NET_CLOSED, never 0.
 * timeout_ms 0 means "do not wait"; MQTLS_WAIT_FOREVER means no limit.
 * len must be at most INT_MAX. Neither call blocks longer than timeout_ms.
 * close releases the connection; it may be called once, and the context
 * must not be used for send or recv after it.
 */
#ifndef MQTLS_NET_TRANSPORT_H
#define MQTLS_NET_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

#define MQTLS_WAIT_FOREVER UINT32_MAX

typedef struct mqtls_transport {
    void *ctx; /* the implementation's state, owned by the caller */
    /* writes up to len bytes of buf: > 0 bytes written, 0, < 0 (above) */
    int (*send)(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms);
    /* reads up to len bytes into buf: > 0 bytes read, 0, < 0 (above) */
    int (*recv)(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms);
    /* releases the connection (above) */
    void (*close)(void *ctx);
} mqtls_transport;

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
