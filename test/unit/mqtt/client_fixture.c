/* SPDX-License-Identifier: Apache-2.0 */
#include "test/unit/mqtt/client_fixture.h"

#include <string.h>

fake_clock clk;
fake_transport ft;
uint8_t tx[512], rx[512], ring[4096];
uint16_t qos2_ids[4];
mqtls_ram_store rs;
mqtls_client_config cfg;
mqtls_client cl;
struct seen seen;

static void on_received(void *ctx, const mqtls_publish *m)
{
    (void)ctx;
    seen.received++;
    seen.last_message_id = m->packet_id;
    seen.last_qos = m->qos;
    seen.last_dup = m->dup;
    memset(seen.last_payload, 0, sizeof seen.last_payload);
    memcpy(seen.last_payload, m->payload.ptr,
           m->payload.len < sizeof seen.last_payload - 1 ? m->payload.len : sizeof seen.last_payload - 1);
}

static void on_acked(void *ctx, uint16_t id)
{
    (void)ctx;
    seen.acked++;
    seen.last_acked = id;
}

static void on_dropped(void *ctx, uint16_t id, int reason)
{
    (void)ctx;
    seen.dropped++;
    seen.last_dropped = id;
    seen.dropped_reason = reason;
}

static void on_subscribed(void *ctx, uint16_t id, const uint8_t *codes, size_t n)
{
    (void)ctx;
    (void)id;
    seen.subscribed++;
    seen.ncodes = n < sizeof seen.codes ? n : sizeof seen.codes;
    memcpy(seen.codes, codes, seen.ncodes);
}

static void on_connected(void *ctx, bool session_present)
{
    (void)ctx;
    seen.connected++;
    seen.last_session_present = session_present;
}

static void on_closed(void *ctx, int reason)
{
    (void)ctx;
    seen.closed++;
    seen.closed_reason = reason;
}

static int open_fake(void *ctx, mqtls_transport *out)
{
    (void)ctx;
    fake_transport_as(&ft, out);
    return MQTLS_OK;
}

void client_setup(void)
{
    memset(&seen, 0, sizeof seen);
    clk.now_ms = 5000;
    fake_transport_init(&ft, &clk);
    mqtls_ram_store_init(&rs);
    ck_assert_int_eq(mqtls_ram_store_setup(&rs, ring, sizeof ring), MQTLS_OK);
    memset(&cfg, 0, sizeof cfg);
    cfg.connect.client_id = (mqtls_str){"dev1", 4};
    cfg.connect.clean_session = true;
    cfg.connect.keepalive_s = 10;
    cfg.tx_buf = tx;
    cfg.tx_cap = sizeof tx;
    cfg.rx_buf = rx;
    cfg.rx_cap = sizeof rx;
    cfg.qos2_ids = qos2_ids;
    cfg.qos2_cap = 4;
    mqtls_ram_store_interface(&rs, &cfg.store);
    fake_clock_as(&clk, &cfg.clock);
    cfg.open = open_fake;
    cfg.events.received = on_received;
    cfg.events.publish_acked = on_acked;
    cfg.events.publish_dropped = on_dropped;
    cfg.events.subscribe_acked = on_subscribed;
    cfg.events.connected = on_connected;
    cfg.events.closed = on_closed;
    cfg.window = 20;
    mqtls_client_init(&cl);
}

void client_teardown(void)
{
    ck_assert_uint_eq(ft.after_close, 0);
}

void connect_ok(void)
{
    uint8_t want[64];
    int n;

    ck_assert_int_eq(mqtls_client_setup(&cl, &cfg), MQTLS_OK);
    FEED(0x20, 0x02, 0x00, 0x00);
    ck_assert_int_eq(mqtls_client_connect(&cl, 3000), MQTLS_OK);
    ck_assert_int_eq(cl.state, MQTLS_CLIENT_CONNECTED);
    n = mqtls_codec_encode_connect(want, sizeof want, &cfg.connect);
    ck_assert_uint_eq(ft.tx_len, (size_t)n);
    ck_assert_mem_eq(ft.tx, want, (size_t)n);
    fake_transport_clear_tx(&ft);
}

mqtls_publish message(uint8_t qos, const char *payload)
{
    mqtls_publish p = {0};
    p.topic = (mqtls_str){"t/x", 3};
    p.payload = (mqtls_bytes){(const uint8_t *)payload, strlen(payload)};
    p.qos = qos;
    return p;
}

uint32_t top_of_window(void *ctx)
{
    (void)ctx;
    return UINT32_MAX;
}

void cut(void)
{
    ft.fail_after = (long)ft.calls;
    ft.fail_with = MQTLS_ERR_NET_RESET;
}

uint32_t reconnect_with(uint8_t session_present, uint8_t code)
{
    const uint32_t t0 = clk.now_ms;
    int i;
    fake_transport_init(&ft, &clk);
    FEED(0x20, 0x02, session_present, code);
    for (i = 0; i < 1000 && ft.tx_len == 0; i++)
        (void)mqtls_client_poll(&cl, 1000);
    ck_assert_uint_gt(ft.tx_len, 0); /* a CONNECT went out */
    return clk.now_ms - t0;
}

size_t sent_packets(mqtls_packet *out, size_t max)
{
    size_t off = 0, n = 0;
    while (off < ft.tx_len && n < max) {
        int used = mqtls_codec_decode_from_client(ft.tx + off, ft.tx_len - off, &out[n]);
        ck_assert_int_gt(used, 0);
        off += (size_t)used;
        n++;
    }
    return n;
}
