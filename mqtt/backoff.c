/* SPDX-License-Identifier: Apache-2.0 */
#include "mqtt/backoff.h"

#include <stddef.h>

static uint32_t xorshift32(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

static uint32_t random32(mqtls_backoff *b)
{
    return b->random != NULL ? b->random(b->random_ctx) : xorshift32(&b->seed);
}

/* Uniform in [0, bound], without the bias of a plain modulo worth noting
 * at these sizes: a 64-bit product keeps the top bits. */
static uint32_t uniform(mqtls_backoff *b, uint32_t bound)
{
    return (uint32_t)(((uint64_t)random32(b) * ((uint64_t)bound + 1u)) >> 32);
}

void mqtls_backoff_init(mqtls_backoff *b, uint32_t seed)
{
    if (b == NULL)
        return;
    b->min_ms = 500;
    b->max_ms = 60000;
    b->refused_ms = 600000;
    b->failures = 0;
    b->random = NULL;
    b->random_ctx = NULL;
    b->seed = seed != 0 ? seed : 0x6d71746cu; /* xorshift must not start at 0 */
}

int mqtls_backoff_configure(mqtls_backoff *b, uint32_t min_ms, uint32_t max_ms,
                            uint32_t refused_ms)
{
    if (b == NULL || min_ms == 0 || min_ms > max_ms || max_ms > refused_ms)
        return MQTLS_ERR_INVALID_ARG;
    b->min_ms = min_ms;
    b->max_ms = max_ms;
    b->refused_ms = refused_ms;
    return MQTLS_OK;
}

int mqtls_backoff_next(mqtls_backoff *b, mqtls_backoff_reason reason, uint32_t *delay_ms)
{
    uint32_t cap;

    if (b == NULL || delay_ms == NULL)
        return MQTLS_ERR_INVALID_ARG;
    if (reason == MQTLS_BACKOFF_REFUSED) {
        if (b->failures < UINT32_MAX)
            b->failures++;
        *delay_ms = b->refused_ms / 2 + uniform(b, b->refused_ms - b->refused_ms / 2);
        return MQTLS_OK;
    }
    if (reason != MQTLS_BACKOFF_TRANSIENT)
        return MQTLS_ERR_INVALID_ARG;
    /* cap = min * 2^failures, stopped at max before it can overflow. */
    cap = b->min_ms;
    {
        uint32_t n;
        for (n = 0; n < b->failures && cap < b->max_ms; n++)
            cap = cap > b->max_ms / 2 ? b->max_ms : cap * 2;
    }
    if (cap > b->max_ms)
        cap = b->max_ms;
    if (b->failures < UINT32_MAX)
        b->failures++;
    *delay_ms = uniform(b, cap);
    return MQTLS_OK;
}

int mqtls_backoff_reset(mqtls_backoff *b)
{
    if (b == NULL)
        return MQTLS_ERR_INVALID_ARG;
    b->failures = 0;
    return MQTLS_OK;
}
