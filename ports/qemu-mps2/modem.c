/* SPDX-License-Identifier: Apache-2.0 */
#include "ports/qemu-mps2/modem.h"

#include <string.h>

static const char NO_CARRIER[] = "\r\nNO CARRIER\r\n";
#define NC_LEN (sizeof NO_CARRIER - 1)
/* A modem sends its result code whole, back to back: bytes held as the
 * start of NO CARRIER and then this long without the next one were data. */
#define HOLD_MS 250u

static uint32_t now(const modem *m)
{
    return m->line.now_ms(m->line.ctx);
}

static void idle(const modem *m)
{
    if (m->line.idle != NULL)
        m->line.idle(m->line.ctx);
}

static int left(const modem *m, uint32_t t0, uint32_t timeout_ms)
{
    return timeout_ms == MQTLS_WAIT_FOREVER || (uint32_t)(now(m) - t0) < timeout_ms;
}

void modem_init(modem *m, const modem_line *line)
{
    memset(m, 0, sizeof *m);
    m->line = *line;
    m->guard_ms = 1000;
}

static int send_all(modem *m, const uint8_t *p, size_t n, uint32_t t0, uint32_t timeout_ms)
{
    size_t done = 0;
    while (done < n) {
        if (m->line.putc(m->line.ctx, p[done]))
            done++;
        else if (!left(m, t0, timeout_ms))
            break;
    }
    return (int)done;
}

/* Reads a line ending in "\r\n" (CR LF dropped) into buf, skipping empty
 * ones. 1, or 0 on timeout. */
static int read_line(modem *m, char *buf, size_t cap, uint32_t t0, uint32_t timeout_ms)
{
    size_t n = 0;
    uint8_t c;
    while (left(m, t0, timeout_ms)) {
        if (!m->line.getc(m->line.ctx, &c)) {
            idle(m);
            continue;
        }
        if (c == '\n') {
            if (n > 0 && buf[n - 1] == '\r')
                n--;
            if (n == 0)
                continue;
            buf[n] = '\0';
            return 1;
        }
        if (n + 1 < cap)
            buf[n++] = (char)c;
    }
    return 0;
}

int modem_dial(modem *m, const char *host_port, uint32_t timeout_ms)
{
    const uint32_t t0 = now(m);
    char line[32];
    size_t n = strlen(host_port);

    m->held = m->nrelease = m->released = 0;
    if (send_all(m, (const uint8_t *)"ATD", 3, t0, timeout_ms) != 3 ||
        send_all(m, (const uint8_t *)host_port, n, t0, timeout_ms) != (int)n ||
        send_all(m, (const uint8_t *)"\r", 1, t0, timeout_ms) != 1)
        return MQTLS_ERR_NET_TIMEOUT;
    while (read_line(m, line, sizeof line, t0, timeout_ms)) {
        if (strcmp(line, "CONNECT") == 0) {
            m->carrier = 1;
            return MQTLS_OK;
        }
        if (strcmp(line, "NO CARRIER") == 0 || strcmp(line, "ERROR") == 0)
            return MQTLS_ERR_NET_REFUSED;
    }
    return MQTLS_ERR_NET_TIMEOUT;
}

static void wait_ms(modem *m, uint32_t ms)
{
    const uint32_t t0 = now(m);
    uint8_t c;
    while ((uint32_t)(now(m) - t0) < ms)
        (void)m->line.getc(m->line.ctx, &c); /* whatever still arrives is dropped */
}

/* Reads lines until "OK": 1, or 0 when the time is up. */
static int wait_ok(modem *m, uint32_t t0, uint32_t timeout_ms)
{
    char line[32];
    while (read_line(m, line, sizeof line, t0, timeout_ms))
        if (strcmp(line, "OK") == 0)
            return 1;
    return 0;
}

int modem_hangup(modem *m, uint32_t timeout_ms)
{
    if (m->carrier) {
        /* Silence, "+++", then the modem's OK once its own second of
         * silence has passed; late data from the link is dropped. */
        wait_ms(m, m->guard_ms);
        if (send_all(m, (const uint8_t *)"+++", 3, now(m), timeout_ms) != 3)
            return MQTLS_ERR_NET_TIMEOUT;
        m->carrier = 0;
        (void)wait_ok(m, now(m), 2 * m->guard_ms + 1000);
    }
    if (send_all(m, (const uint8_t *)"ATH\r", 4, now(m), timeout_ms) != 4)
        return MQTLS_ERR_NET_TIMEOUT;
    return wait_ok(m, now(m), timeout_ms) ? MQTLS_OK : MQTLS_ERR_NET_TIMEOUT;
}

static int m_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    modem *m = ctx;
    const uint32_t t0 = now(m);
    if (!m->carrier)
        return MQTLS_ERR_NET_CLOSED;
    if (len == 0)
        return 0;
    return send_all(m, buf, len, t0, timeout_ms);
}

/* What was held proved to be data: it is read next. */
static void release_held(modem *m)
{
    memcpy(m->release, NO_CARRIER, m->held);
    m->nrelease = m->held;
    m->released = 0;
    m->held = 0;
}

/* Bytes in, NO CARRIER out: a byte that continues the pattern is held;
 * one that breaks it, or HOLD_MS of silence, releases what was held (it
 * was data) and starts over. Without the silence rule a burst that ended
 * in such bytes (a record whose last byte is CR: 1 in 256) stayed held
 * while the peer waited for the device's answer, and the link stalled. */
static int m_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    modem *m = ctx;
    const uint32_t t0 = now(m);
    size_t n = 0;
    uint8_t c;

    for (;;) {
        while (n < len && m->released < m->nrelease)
            buf[n++] = m->release[m->released++];
        if (n == len || !m->carrier)
            break;
        if (!m->line.getc(m->line.ctx, &c)) {
            if (m->held > 0 && (uint32_t)(now(m) - m->held_at) >= HOLD_MS) {
                release_held(m);
                continue;
            }
            if (n > 0 || !left(m, t0, timeout_ms))
                break;
            idle(m);
            continue;
        }
        if (c == (uint8_t)NO_CARRIER[m->held]) {
            m->held_at = now(m);
            if (++m->held == NC_LEN) {
                m->carrier = 0; /* the link is gone; the modem is in command mode */
                m->held = 0;
            }
            continue;
        }
        /* Not the pattern: what was held is data, then this byte (which
         * may itself start the pattern again). */
        release_held(m);
        if (c == (uint8_t)NO_CARRIER[0]) {
            m->held = 1;
            m->held_at = now(m);
        } else {
            m->release[m->nrelease++] = c;
        }
    }
    if (n > 0)
        return (int)n;
    return m->carrier ? 0 : MQTLS_ERR_NET_CLOSED;
}

static void m_close(void *ctx)
{
    modem *m = ctx;
    (void)modem_hangup(m, 5000);
}

void modem_transport(modem *m, mqtls_transport *out)
{
    out->ctx = m;
    out->send = m_send;
    out->recv = m_recv;
    out->close = m_close;
}
