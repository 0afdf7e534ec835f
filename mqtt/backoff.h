/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — reconnect delays: exponential backoff with full jitter.
 *
 * After the n-th failure in a row the delay is uniform in
 * [0, min(max_ms, min_ms * 2^n)], so a fleet that lost its broker at the
 * same moment does not come back at the same moment. A refusal that
 * retrying cannot fix (bad credentials, not authorised, certificate
 * refused) waits on a slower schedule: uniform in [refused_ms / 2,
 * refused_ms]. The caller resets the backoff only once a connection has
 * proved stable, so a broker that drops us right after CONNACK still
 * meets growing delays, not a reconnect storm.
 *
 * Pure arithmetic: no clock, no heap; the random source is injected (a
 * seeded xorshift by default, so tests are repeatable).
 */
#ifndef MQTLS_MQTT_BACKOFF_H
#define MQTLS_MQTT_BACKOFF_H

#include <stdint.h>

#include "../net/error.h"
#include "../net/api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

/* Why the last attempt failed. */
typedef enum mqtls_backoff_reason {
    MQTLS_BACKOFF_TRANSIENT = 0, /* network, broker down, timeout: try again soon */
    MQTLS_BACKOFF_REFUSED = 1    /* refused for a reason retrying cannot fix */
} mqtls_backoff_reason;

typedef struct mqtls_backoff {
    uint32_t min_ms;      /* cap of the first delay; default 500 */
    uint32_t max_ms;      /* largest cap; default 60,000 */
    uint32_t refused_ms;  /* upper end after a refusal; default 600,000 */
    uint32_t failures;    /* failures in a row since the last reset */
    /* Uniform 32-bit values; NULL: the built-in xorshift on seed. */
    uint32_t (*random)(void *ctx);
    void *random_ctx;
    uint32_t seed;        /* state of the built-in generator (never 0) */
} mqtls_backoff;

/* The defaults above, the built-in generator seeded with seed (a device
 * should pass something unique to it, such as a hash of its id). Cannot
 * fail. */
void mqtls_backoff_init(mqtls_backoff *b, uint32_t seed);

/* Sets the schedule: 0 < min_ms <= max_ms <= refused_ms. Returns MQTLS_OK,
 * or MQTLS_ERR_INVALID_ARG (and b unchanged) when they are out of order. */
int mqtls_backoff_configure(mqtls_backoff *b, uint32_t min_ms, uint32_t max_ms,
                            uint32_t refused_ms);

/* Counts one more failure and sets *delay_ms to the delay before the next
 * attempt: random up to a cap that doubles with each failure, from min_ms
 * to max_ms for a transient reason, or up to refused_ms after a refusal
 * (reason). Returns MQTLS_OK, or MQTLS_ERR_INVALID_ARG for NULL. */
int mqtls_backoff_next(mqtls_backoff *b, mqtls_backoff_reason reason, uint32_t *delay_ms);

/* A connection proved stable: the next failure starts from min_ms again.
 * Returns MQTLS_OK, or MQTLS_ERR_INVALID_ARG for NULL. */
int mqtls_backoff_reset(mqtls_backoff *b);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
