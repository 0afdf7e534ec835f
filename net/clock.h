/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — the millisecond clock every timer (keep-alive, retry, backoff,
 * handshake timeout) reads. Injected, so tests run hours of protocol time
 * in microseconds with a clock they advance themselves.
 *
 * now_ms returns a monotonic count of milliseconds from any origin. It
 * wraps at 2^32 (about 49.7 days): compare times only by unsigned
 * difference, as mqtls_clock_elapsed_ms() does. */
#ifndef MQTLS_NET_CLOCK_H
#define MQTLS_NET_CLOCK_H

#include <stdint.h>
#include "api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

typedef struct mqtls_clock {
    void *ctx;                        /* the implementation's state, or NULL */
    uint32_t (*now_ms)(void *ctx);    /* monotonic milliseconds, wrapping */
    /* Optional: waits ms (a test clock just moves on). Used while there
     * is nothing to wait on, such as the pause before a reconnect; NULL
     * makes such calls return at once. */
    void (*sleep_ms)(void *ctx, uint32_t ms);
    /* Optional: calendar time in seconds (Unix time from an RTC or SNTP,
     * which survives a reboot), 0 while not known. Stamps each stored
     * message for the client's max_age_s; NULL: messages carry no time
     * and are never dropped for age. Do not pass seconds since boot with
     * a store that survives a reboot: after one, old messages would look
     * new (a time stamp later than now counts as unknown age). */
    uint32_t (*now_s)(void *ctx);
} mqtls_clock;

/* Milliseconds from since to now, correct across one wrap. */
static inline uint32_t mqtls_clock_elapsed_ms(uint32_t since, uint32_t now)
{
    return (uint32_t)(now - since);
}

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
