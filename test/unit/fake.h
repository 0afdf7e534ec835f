/* SPDX-License-Identifier: Apache-2.0 */
/* Hand-written fakes for driving protocol code without a network or real
 * time: a clock the test owns, and a scripted in-memory transport. */
#ifndef MQTLS_TEST_FAKE_H
#define MQTLS_TEST_FAKE_H

#include <stddef.h>
#include <stdint.h>

#include "net/clock.h"
#include "net/transport.h"

typedef struct fake_clock {
    uint32_t now_ms; /* the time; tests move it, and so does a waiting recv */
} fake_clock;

void fake_clock_as(fake_clock *c, mqtls_clock *out);

#define FAKE_BUF 16384

typedef struct fake_transport {
    uint8_t rx[FAKE_BUF]; /* what the peer will deliver, in order */
    size_t rx_len, rx_pos;
    uint8_t tx[FAKE_BUF]; /* everything the code under test sent */
    size_t tx_len;
    size_t max_per_call;  /* move at most this many bytes per call; 0: no limit */
    long fail_after;      /* calls before every call fails with fail_with; -1: never */
    int fail_with;        /* the error then, e.g. MQTLS_ERR_NET_CLOSED */
    long fail_at_tx;      /* sends stop taking bytes at this tx_len and then fail
                             with fail_with; -1: never */
    unsigned long sends;  /* send calls that moved bytes */
    unsigned long calls;  /* send and recv calls so far */
    int closed;           /* close was called */
    unsigned long after_close; /* calls of send, recv or close after close: a bug */
    uint32_t last_wait_ms; /* the timeout of the last recv */
    fake_clock *clock;    /* if set: a recv with nothing to deliver waits, in fake time */
} fake_transport;

void fake_transport_init(fake_transport *f, fake_clock *clock);
/* Queues bytes for the code under test to receive. */
void fake_transport_feed(fake_transport *f, const void *bytes, size_t n);
/* Forgets what was sent so far. */
void fake_transport_clear_tx(fake_transport *f);
void fake_transport_as(fake_transport *f, mqtls_transport *out);

#endif
