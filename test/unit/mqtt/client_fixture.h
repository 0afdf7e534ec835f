/* SPDX-License-Identifier: Apache-2.0 */
/* The client test fixture: a scripted transport, a fake clock, a RAM
 * store, every event counted in `seen`. Shared by the client suites. */
#ifndef MQTLS_TEST_CLIENT_FIXTURE_H
#define MQTLS_TEST_CLIENT_FIXTURE_H

#include <check.h>
#include <stdint.h>

#include "mqtt/client.h"
#include "test/unit/fake.h"

extern fake_clock clk;
extern fake_transport ft;
extern uint8_t tx[512], rx[512], ring[4096];
extern uint16_t qos2_ids[4];
extern mqtls_ram_store rs;
extern mqtls_client_config cfg;
extern mqtls_client cl;

/* What the events saw. */
struct seen {
    int received, acked, subscribed, closed, connected, dropped;
    uint16_t last_acked, last_message_id, last_dropped;
    uint8_t last_qos;
    bool last_dup, last_session_present;
    uint8_t codes[8];
    size_t ncodes;
    int closed_reason, dropped_reason;
    char last_payload[32];
};
extern struct seen seen;

/* Check fixtures: a fresh client config (clean session, keep-alive 10 s,
 * window 20, 4 inbound QoS 2 slots); the teardown fails a test whose
 * client touched its transport after closing it. */
void client_setup(void);
void client_teardown(void);

#define FEED(...) fake_transport_feed(&ft, (const uint8_t[]){__VA_ARGS__}, \
                                      sizeof((const uint8_t[]){__VA_ARGS__}))

/* The bytes sent since the last check are exactly these. */
#define SENT(...)                                                                  \
    do {                                                                           \
        const uint8_t want_[] = {__VA_ARGS__};                                     \
        ck_assert_uint_eq(ft.tx_len, sizeof want_);                                \
        ck_assert_mem_eq(ft.tx, want_, sizeof want_);                              \
        fake_transport_clear_tx(&ft);                                              \
    } while (0)

/* Sets up cl with cfg, connects (CONNACK session present 0), checks the
 * CONNECT byte for byte and clears what was sent. */
void connect_ok(void);
/* A message to t/x with this payload. */
mqtls_publish message(uint8_t qos, const char *payload);
/* Backoff randomness at its top: every delay is its cap. */
uint32_t top_of_window(void *ctx);
/* The transport dies at its next call. */
void cut(void);
/* A fresh link whose broker answers CONNACK; polls until a CONNECT went
 * out (bounded) and returns the fake time it took. */
uint32_t reconnect_with(uint8_t session_present, uint8_t code);
/* The packets the client sent since the last clear, decoded in order. */
size_t sent_packets(mqtls_packet *out, size_t max);

#endif
