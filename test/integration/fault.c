/* SPDX-License-Identifier: Apache-2.0 */
#include "test/integration/fault.h"

static int stall(fault *f)
{
    if (++f->calls % 2 == 0) {
        f->stalls++;
        return 1;
    }
    return 0;
}

static int fault_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    fault *f = ctx;
    if (stall(f))
        return 0;
    return f->lower.send(f->lower.ctx, buf, len < f->max_bytes ? len : f->max_bytes, timeout_ms);
}

static int fault_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    fault *f = ctx;
    if (stall(f))
        return 0;
    return f->lower.recv(f->lower.ctx, buf, len < f->max_bytes ? len : f->max_bytes, timeout_ms);
}

static void fault_close(void *ctx)
{
    fault *f = ctx;
    f->lower.close(f->lower.ctx);
}

void fault_wrap(fault *f, const mqtls_transport *lower, size_t max_bytes, mqtls_transport *out)
{
    f->lower = *lower;
    f->max_bytes = max_bytes != 0 ? max_bytes : 1;
    f->calls = 0;
    f->stalls = 0;
    out->ctx = f;
    out->send = fault_send;
    out->recv = fault_recv;
    out->close = fault_close;
}
