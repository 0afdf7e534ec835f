/* SPDX-License-Identifier: Apache-2.0 */
#include "test/unit/fake.h"

#include <string.h>

#include "net/error.h"

static uint32_t fake_now(void *ctx)
{
    return ((fake_clock *)ctx)->now_ms;
}

static void fake_sleep(void *ctx, uint32_t ms)
{
    ((fake_clock *)ctx)->now_ms += ms;
}

void fake_clock_as(fake_clock *c, mqtls_clock *out)
{
    out->ctx = c;
    out->now_ms = fake_now;
    out->sleep_ms = fake_sleep;
}

void fake_transport_init(fake_transport *f, fake_clock *clock)
{
    memset(f, 0, sizeof *f);
    f->fail_after = -1;
    f->fail_at_tx = -1;
    f->fail_with = MQTLS_ERR_NET_CLOSED;
    f->clock = clock;
}

void fake_transport_feed(fake_transport *f, const void *bytes, size_t n)
{
    if (n > FAKE_BUF - f->rx_len)
        n = FAKE_BUF - f->rx_len;
    memcpy(f->rx + f->rx_len, bytes, n);
    f->rx_len += n;
}

void fake_transport_clear_tx(fake_transport *f)
{
    f->tx_len = 0;
}

static size_t limit(const fake_transport *f, size_t len)
{
    return f->max_per_call != 0 && len > f->max_per_call ? f->max_per_call : len;
}

/* Counts the call; nonzero when it must fail. */
static int failing(fake_transport *f)
{
    f->calls++;
    return f->fail_after >= 0 && f->calls > (unsigned long)f->fail_after;
}

static int fake_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    fake_transport *f = ctx;
    (void)timeout_ms;
    if (f->closed) {
        f->after_close++;
        return MQTLS_ERR_NET_NOT_CONNECTED;
    }
    if (failing(f))
        return f->fail_with;
    len = limit(f, len);
    if (f->fail_at_tx >= 0) {
        if ((long)f->tx_len >= f->fail_at_tx)
            return f->fail_with;
        if ((long)len > f->fail_at_tx - (long)f->tx_len)
            len = (size_t)(f->fail_at_tx - (long)f->tx_len);
    }
    if (len > FAKE_BUF - f->tx_len)
        len = FAKE_BUF - f->tx_len;
    memcpy(f->tx + f->tx_len, buf, len);
    f->tx_len += len;
    f->sends++;
    return (int)len;
}

static int fake_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    fake_transport *f = ctx;
    size_t n;
    f->last_wait_ms = timeout_ms;
    if (f->closed) {
        f->after_close++;
        return MQTLS_ERR_NET_NOT_CONNECTED;
    }
    if (failing(f))
        return f->fail_with;
    n = limit(f, len < f->rx_len - f->rx_pos ? len : f->rx_len - f->rx_pos);
    if (n == 0) {
        /* Nothing to deliver: the wait passes, in fake time. */
        if (f->clock != NULL && timeout_ms != MQTLS_WAIT_FOREVER)
            f->clock->now_ms += timeout_ms;
        return 0;
    }
    memcpy(buf, f->rx + f->rx_pos, n);
    f->rx_pos += n;
    return (int)n;
}

static void fake_close(void *ctx)
{
    fake_transport *f = ctx;
    if (f->closed)
        f->after_close++;
    f->closed = 1;
}

void fake_transport_as(fake_transport *f, mqtls_transport *out)
{
    out->ctx = f;
    out->send = fake_send;
    out->recv = fake_recv;
    out->close = fake_close;
}
