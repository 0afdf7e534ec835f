/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L

#include "net/clock_posix.h"

#include <errno.h>
#include <stddef.h>
#include <time.h>

#include "net/error.h"

static uint32_t monotonic_ms(void *ctx)
{
    struct timespec ts;
    (void)ctx;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

static void sleep_for(void *ctx, uint32_t ms)
{
    struct timespec ts;
    (void)ctx;
    ts.tv_sec = (time_t)(ms / 1000u);
    ts.tv_nsec = (long)(ms % 1000u) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ; /* interrupted: sleep what is left */
}

static uint32_t calendar_s(void *ctx)
{
    const time_t t = time(NULL);
    (void)ctx;
    return t > 0 ? (uint32_t)t : 0u;
}

int mqtls_clock_posix(mqtls_clock *out)
{
    if (out == NULL)
        return MQTLS_ERR_INVALID_ARG;
    out->ctx = NULL;
    out->now_ms = monotonic_ms;
    out->sleep_ms = sleep_for;
    out->now_s = calendar_s;
    return MQTLS_OK;
}
