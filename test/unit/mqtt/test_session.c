/* SPDX-License-Identifier: Apache-2.0 */
/* Sessions and the client's contract with the application: what a new
 * session does with the old flows [MQTT-3.1.2-6], acknowledgements that do
 * not fit, nothing on a closed transport, the keep-alive wait, every end
 * of a connection reported, start/abort, errors that name the fix, the
 * lock and log hooks. On the scripted transport, byte for byte. */
#include <check.h>
#include <string.h>

#include "test/unit/mqtt/client_fixture.h"
#include "test/unit/suites.h"

/* The PUBLISH the client stores for message(qos, payload) under id. */
static size_t encoded(uint8_t qos, const char *payload, uint16_t id, bool dup, uint8_t *out)
{
    mqtls_publish p = message(qos, payload);
    int n;
    p.packet_id = id;
    p.dup = dup;
    n = mqtls_codec_encode_publish(out, 64, &p);
    ck_assert_int_gt(n, 0);
    return (size_t)n;
}

/* Appends to want what a PUBLISH of (qos, payload, id, dup) looks like. */
static size_t expect(uint8_t *want, size_t len, uint8_t qos, const char *payload, uint16_t id,
                     bool dup)
{
    return len + encoded(qos, payload, id, dup, want + len);
}

/* Four stored messages at every stage, window 3: 1 (QoS 1) and 2 (QoS 2)
 * on the wire, 3 (QoS 2) past PUBREC, 4 (QoS 1) never sent. Then the link
 * breaks. */
static void four_stages(void)
{
    mqtls_publish p1 = message(1, "one"), p2 = message(2, "two"), p3 = message(2, "three"),
                  p4 = message(1, "four");
    cfg.reconnect = true;
    cfg.window = 3;
    connect_ok();
    ck_assert_int_eq(mqtls_client_publish(&cl, &p3, NULL), MQTLS_OK); /* id 1 */
    FEED(0x50, 0x02, 0x00, 0x01);                                     /* PUBREC 1 */
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(mqtls_client_publish(&cl, &p1, NULL), MQTLS_OK); /* id 2 */
    ck_assert_int_eq(mqtls_client_publish(&cl, &p2, NULL), MQTLS_OK); /* id 3 */
    ck_assert_int_eq(mqtls_client_publish(&cl, &p4, NULL), MQTLS_OK); /* id 4: waits */
    cut();
    ck_assert_int_lt(mqtls_client_poll(&cl, 10), 0);
    ck_assert_uint_eq(mqtls_ram_store_count(&rs), 4);
}

/* A new session, whether asked for (clean session 1) or lost by the
 * broker (clean session 0 answered by session present 0): none of the old
 * flows go out, no DUP, no PUBREL; every stored message is published again
 * as new, under its own id, the one past PUBREC as a PUBLISH, in order. */
START_TEST(a_new_session_republishes_the_old_flows_as_new_messages)
{
    uint8_t want[256];
    size_t n = 0;
    cfg.connect.clean_session = _i == 0;
    four_stages();
    reconnect_with(0, 0);
    for (;;) { /* the window lets the fourth out once the first completes */
        mqtls_packet pk[8];
        size_t k = sent_packets(pk, 8);
        ck_assert_uint_eq(k, 4); /* CONNECT and three PUBLISHes */
        ck_assert_int_eq(pk[0].type, MQTLS_CONNECT);
        break;
    }
    {
        size_t connect_len = (size_t)mqtls_codec_packet_length(ft.tx, ft.tx_len);
        n = expect(want, n, 2, "three", 1, false);
        n = expect(want, n, 1, "one", 2, false);
        n = expect(want, n, 2, "two", 3, false);
        ck_assert_uint_eq(ft.tx_len, connect_len + n);
        ck_assert_mem_eq(ft.tx + connect_len, want, n);
    }
    fake_transport_clear_tx(&ft);
    FEED(0x40, 0x02, 0x00, 0x02); /* PUBACK 2: room for 4 */
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    n = expect(want, 0, 1, "four", 4, false);
    ck_assert_uint_eq(ft.tx_len, n);
    ck_assert_mem_eq(ft.tx, want, n);
    ck_assert_int_eq(seen.dropped, 0);
    ck_assert_uint_eq(mqtls_ram_store_count(&rs), 3);
}
END_TEST

/* The same with session present 1 (clean session 0): the flows go on,
 * PUBLISH with DUP, PUBREL as PUBREL, in order [MQTT-4.4.0-1]. */
START_TEST(a_kept_session_resumes_the_old_flows)
{
    uint8_t want[256];
    size_t n = 0, connect_len;
    cfg.connect.clean_session = false;
    four_stages();
    reconnect_with(1, 0);
    connect_len = (size_t)mqtls_codec_packet_length(ft.tx, ft.tx_len);
    memcpy(want, (const uint8_t[]){0x62, 0x02, 0x00, 0x01}, 4);
    n = expect(want, 4, 1, "one", 2, true);
    n = expect(want, n, 2, "two", 3, true);
    ck_assert_uint_eq(ft.tx_len, connect_len + n);
    ck_assert_mem_eq(ft.tx + connect_len, want, n);
}
END_TEST

/* The discard policy: the messages whose flow had begun are given up, each
 * reported; the one never sent goes out as usual. */
START_TEST(the_discard_policy_reports_each_message_it_gives_up)
{
    uint8_t want[64];
    size_t n, connect_len;
    cfg.new_session = MQTLS_NEW_SESSION_DISCARD;
    four_stages();
    reconnect_with(0, 0);
    ck_assert_int_eq(seen.dropped, 3);
    ck_assert_int_eq(seen.dropped_reason, MQTLS_ERR_SESSION_DISCARDED);
    ck_assert_uint_eq(mqtls_ram_store_count(&rs), 1);
    connect_len = (size_t)mqtls_codec_packet_length(ft.tx, ft.tx_len);
    n = expect(want, 0, 1, "four", 4, false);
    ck_assert_uint_eq(ft.tx_len, connect_len + n);
    ck_assert_mem_eq(ft.tx + connect_len, want, n);
}
END_TEST

/* Session present 1 in answer to clean session 1 is a broker fault
 * [MQTT-3.2.2-1]: closed with its own error, the store untouched. */
START_TEST(session_present_after_a_clean_connect_is_a_protocol_error)
{
    mqtls_publish p = message(1, "k");
    ck_assert_int_eq(mqtls_client_setup(&cl, &cfg), MQTLS_OK);
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_OK);
    FEED(0x20, 0x02, 0x01, 0x00);
    ck_assert_int_eq(mqtls_client_connect(&cl, 3000), MQTLS_ERR_CONNACK_SESSION_PRESENT);
    ck_assert_int_eq(cl.state, MQTLS_CLIENT_DISCONNECTED);
    ck_assert_int_eq(seen.closed_reason, MQTLS_ERR_CONNACK_SESSION_PRESENT);
    ck_assert_uint_eq(mqtls_ram_store_count(&rs), 1);
}
END_TEST

/* Acknowledgements that do not fit the message: PUBACK for QoS 2, PUBREC
 * for QoS 1, PUBCOMP before PUBREC. Each closes with a protocol error and
 * the message stays stored. */
static const struct {
    uint8_t qos;
    uint8_t ack; /* first byte */
} misfits[] = {{2, 0x40}, {1, 0x50}, {2, 0x70}, {1, 0x70}};

START_TEST(an_acknowledgement_that_does_not_fit_is_a_protocol_error)
{
    mqtls_publish p = message(misfits[_i].qos, "m");
    connect_ok();
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_OK);
    FEED(misfits[_i].ack, 0x02, 0x00, 0x01);
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_ERR_UNEXPECTED_PACKET);
    ck_assert_int_eq(cl.state, MQTLS_CLIENT_DISCONNECTED);
    ck_assert_uint_eq(mqtls_ram_store_count(&rs), 1);
    ck_assert_int_eq(seen.acked, 0);
}
END_TEST

/* A message callback publishes, and that write breaks the link. The
 * client must not answer the message on the closed transport, must keep
 * the first reason, and must step the backoff once. */
static void publish_from_callback(void *ctx, const mqtls_publish *m)
{
    mqtls_publish p = message(1, "reply");
    (void)ctx;
    (void)m;
    seen.received++;
    cut();
    (void)mqtls_client_publish(&cl, &p, NULL);
}

START_TEST(nothing_touches_the_transport_after_it_closed)
{
    cfg.reconnect = true;
    cfg.events.received = publish_from_callback;
    connect_ok();
    FEED(0x32, 0x07, 0x00, 0x01, 'a', 0x00, 0x07, 'o', 'k'); /* QoS 1: wants a PUBACK */
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_ERR_NET_RESET);
    ck_assert_int_eq(seen.received, 1);
    ck_assert_int_eq(seen.closed, 1);
    ck_assert_int_eq(cl.last_error, MQTLS_ERR_NET_RESET);
    ck_assert_uint_eq(cl.backoff.failures, 1);
    ck_assert_uint_eq(ft.after_close, 0);
    ck_assert_uint_eq(mqtls_ram_store_count(&rs), 1); /* the reply, kept */
}
END_TEST

/* poll(30000) with a 10 s keep-alive: the wait ends when the PINGREQ is
 * due, and it goes out on time [MQTT-3.1.2-23]. */
START_TEST(a_long_poll_wakes_for_the_pingreq)
{
    connect_ok();
    ck_assert_int_eq(mqtls_client_poll(&cl, 30000), MQTLS_OK);
    ck_assert_uint_le(ft.last_wait_ms, 10000);
    SENT(0xC0, 0x00);
    ck_assert_uint_eq(clk.now_ms, 5000 + 10000);
}
END_TEST

/* A stored message larger than tx_buf (stored by a run with a larger
 * one): sent in two writes, and again with DUP after a drop, the stored
 * bytes untouched [MQTT-3.3.1-1]. */
START_TEST(a_stored_message_larger_than_tx_buf_is_resent_with_dup)
{
    uint8_t big[200], copy[200];
    mqtls_publish p = message(1, "");
    mqtls_packet pk[4];
    int n;
    memset(copy, 'z', sizeof copy);
    p.payload = (mqtls_bytes){copy, 150};
    p.packet_id = 7;
    n = mqtls_codec_encode_publish(big, sizeof big, &p);
    ck_assert_int_gt(n, 64);
    ck_assert_int_eq(cfg.store.add(cfg.store.ctx, 7, big, (size_t)n, 0), MQTLS_OK);
    cfg.tx_cap = 64;
    cfg.reconnect = true;
    cfg.connect.clean_session = false;
    ck_assert_int_eq(mqtls_client_setup(&cl, &cfg), MQTLS_OK);
    FEED(0x20, 0x02, 0x00, 0x00);
    ck_assert_int_eq(mqtls_client_connect(&cl, 3000), MQTLS_OK);
    ck_assert_uint_eq(sent_packets(pk, 4), 2);
    ck_assert_uint_eq(ft.tx_len, 18 + (size_t)n); /* CONNECT, then it, no DUP: first time */
    ck_assert_mem_eq(ft.tx + 18, big, (size_t)n);
    cut();
    ck_assert_int_lt(mqtls_client_poll(&cl, 10), 0);
    reconnect_with(1, 0);
    ck_assert_uint_eq(sent_packets(pk, 4), 2);
    ck_assert(pk[1].u.publish.dup && pk[1].packet_id == 7);
    ck_assert_uint_eq(pk[1].u.publish.payload.len, 150);
    {
        mqtls_store_entry e;
        ck_assert_int_eq(cfg.store.find(cfg.store.ctx, 7, &e), MQTLS_OK);
        ck_assert_mem_eq(e.packet, big, (size_t)n); /* DUP not written into the store */
    }
}
END_TEST

/* start() sends CONNECT and returns; poll() finishes the connection, each
 * call within its own timeout, and events.connected says so. */
START_TEST(start_then_poll_finishes_the_connection)
{
    int i;
    ck_assert_int_eq(mqtls_client_setup(&cl, &cfg), MQTLS_OK);
    ck_assert_int_eq(mqtls_client_start(&cl), MQTLS_OK);
    ck_assert_int_eq(cl.state, MQTLS_CLIENT_CONNECTING);
    ck_assert_uint_eq(sent_packets((mqtls_packet[2]){0}, 2), 1);
    for (i = 0; i < 3; i++) {
        const uint32_t t0 = clk.now_ms;
        ck_assert_int_eq(mqtls_client_poll(&cl, 100), MQTLS_OK);
        ck_assert_uint_le(clk.now_ms - t0, 100);
        ck_assert_int_eq(cl.state, MQTLS_CLIENT_CONNECTING);
    }
    FEED(0x20, 0x02, 0x00, 0x00);
    ck_assert_int_eq(mqtls_client_poll(&cl, 100), MQTLS_OK);
    ck_assert_int_eq(cl.state, MQTLS_CLIENT_CONNECTED);
    ck_assert_int_eq(seen.connected, 1);
    ck_assert_int_eq(seen.closed, 0);
}
END_TEST

/* A started connection that gets no CONNACK ends at connect_timeout_ms,
 * polled in short calls: events.closed with the timeout. */
START_TEST(a_started_connection_times_out)
{
    int i, ret = MQTLS_OK;
    cfg.connect_timeout_ms = 2000;
    ck_assert_int_eq(mqtls_client_setup(&cl, &cfg), MQTLS_OK);
    ck_assert_int_eq(mqtls_client_start(&cl), MQTLS_OK);
    for (i = 0; i < 100 && ret == MQTLS_OK; i++)
        ret = mqtls_client_poll(&cl, 100);
    ck_assert_int_eq(ret, MQTLS_ERR_CONNACK_TIMEOUT);
    ck_assert_int_eq(i, 20);
    ck_assert_int_eq(seen.closed, 1);
    ck_assert_int_eq(seen.closed_reason, MQTLS_ERR_CONNACK_TIMEOUT);
}
END_TEST

static int open_refused(void *ctx, mqtls_transport *out)
{
    (void)ctx;
    (void)out;
    return MQTLS_ERR_NET_REFUSED;
}

/* Every end of a connection or an attempt is one closed event, with its
 * reason: refused by the network, refused by CONNACK, lost, aborted,
 * closed by disconnect(). connected for each success. */
START_TEST(every_end_of_a_connection_is_reported_once)
{
    cfg.reconnect = true;
    cfg.open = open_refused;
    ck_assert_int_eq(mqtls_client_setup(&cl, &cfg), MQTLS_OK);
    ck_assert_int_eq(mqtls_client_connect(&cl, 1000), MQTLS_ERR_NET_REFUSED);
    ck_assert_int_eq(seen.closed, 1);
    ck_assert_int_eq(seen.closed_reason, MQTLS_ERR_NET_REFUSED);
    client_setup();
    cfg.reconnect = true;
    ck_assert_int_eq(mqtls_client_setup(&cl, &cfg), MQTLS_OK);
    FEED(0x20, 0x02, 0x00, 0x05);
    ck_assert_int_eq(mqtls_client_connect(&cl, 1000), MQTLS_ERR_CONNACK_NOT_AUTHORIZED);
    ck_assert_int_eq(seen.closed, 1);
    ck_assert_int_eq(seen.closed_reason, MQTLS_ERR_CONNACK_NOT_AUTHORIZED);
    fake_transport_init(&ft, &clk);
    FEED(0x20, 0x02, 0x00, 0x00);
    ck_assert_int_eq(mqtls_client_connect(&cl, 1000), MQTLS_OK);
    ck_assert_int_eq(seen.connected, 1);
    cut();
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_ERR_NET_RESET);
    ck_assert_int_eq(seen.closed, 2);
    ck_assert_int_eq(seen.closed_reason, MQTLS_ERR_NET_RESET);
    reconnect_with(0, 0);
    ck_assert_int_eq(seen.connected, 2);
    fake_transport_clear_tx(&ft);
    /* abort: no DISCONNECT, and poll reconnects later */
    ck_assert_int_eq(mqtls_client_abort(&cl), MQTLS_OK);
    ck_assert_uint_eq(ft.tx_len, 0);
    ck_assert(ft.closed);
    ck_assert_int_eq(seen.closed, 3);
    ck_assert_int_eq(seen.closed_reason, MQTLS_ERR_ABORTED);
    reconnect_with(0, 0);
    ck_assert_int_eq(seen.connected, 3);
    fake_transport_clear_tx(&ft);
    ck_assert_int_eq(mqtls_client_disconnect(&cl), MQTLS_OK);
    SENT(0xE0, 0x00);
    ck_assert_int_eq(seen.closed, 4);
    ck_assert_int_eq(seen.closed_reason, MQTLS_OK);
    ck_assert_int_eq(mqtls_client_disconnect(&cl), MQTLS_OK); /* already closed: nothing */
    ck_assert_int_eq(seen.closed, 4);
}
END_TEST

/* setup names the field that is missing or wrong. */
START_TEST(setup_names_the_field_that_is_wrong)
{
    mqtls_client_config bad = cfg;
    bad.tx_cap = 8;
    ck_assert_int_eq(mqtls_client_setup(&cl, &bad), MQTLS_ERR_CONFIG_TX_BUF);
    bad = cfg;
    bad.rx_buf = NULL;
    ck_assert_int_eq(mqtls_client_setup(&cl, &bad), MQTLS_ERR_CONFIG_RX_BUF);
    bad = cfg;
    bad.qos2_ids = NULL;
    ck_assert_int_eq(mqtls_client_setup(&cl, &bad), MQTLS_ERR_CONFIG_QOS2_IDS);
    bad = cfg;
    bad.qos2_recent_cap = 4;
    ck_assert_int_eq(mqtls_client_setup(&cl, &bad), MQTLS_ERR_CONFIG_QOS2_IDS);
    bad = cfg;
    bad.store.set_state = NULL;
    ck_assert_int_eq(mqtls_client_setup(&cl, &bad), MQTLS_ERR_CONFIG_STORE);
    bad = cfg;
    bad.clock.now_ms = NULL;
    ck_assert_int_eq(mqtls_client_setup(&cl, &bad), MQTLS_ERR_CONFIG_CLOCK);
    bad = cfg;
    bad.open = NULL;
    ck_assert_int_eq(mqtls_client_setup(&cl, &bad), MQTLS_ERR_CONFIG_OPEN);
    ck_assert_int_eq(mqtls_client_setup(&cl, &cfg), MQTLS_OK);
}
END_TEST

/* Buffers too small say which, and how big they must be. */
START_TEST(a_buffer_too_small_says_which_and_how_big)
{
    static uint8_t payload[600];
    mqtls_publish p = message(1, "");
    p.payload = (mqtls_bytes){payload, sizeof payload};
    connect_ok();
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_ERR_TX_BUF_TOO_SMALL);
    ck_assert_uint_eq(cl.needed, 3 + 2 + 3 + 2 + 600);
    ck_assert_uint_eq(mqtls_ram_store_count(&rs), 0);
    p.qos = 0;
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_ERR_TX_BUF_TOO_SMALL);
    ck_assert_uint_eq(cl.needed, 3 + 2 + 3 + 600);
    ck_assert_int_eq(cl.state, MQTLS_CLIENT_CONNECTED);
    /* 1000 bytes of payload from the broker for a 512-byte rx_buf */
    FEED(0x30, 0xEE, 0x07, 0x00, 0x01, 'a');
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_ERR_RX_BUF_TOO_SMALL);
    ck_assert_uint_eq(cl.needed, 3 + 0x3EE);
}
END_TEST

/* ---- the lock hook ------------------------------------------------------ */

static int held, lock_calls, callbacks_locked;

static void take(void *ctx)
{
    (void)ctx;
    ck_assert_int_eq(held, 0); /* non-recursive: a second take would deadlock */
    held = 1;
    lock_calls++;
}

static void give(void *ctx)
{
    (void)ctx;
    ck_assert_int_eq(held, 1);
    held = 0;
}

static void received_and_publish(void *ctx, const mqtls_publish *m)
{
    mqtls_publish p = message(1, "echo");
    (void)ctx;
    (void)m;
    callbacks_locked += held;
    seen.received++;
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_OK);
}

static void acked_unlocked(void *ctx, uint16_t id)
{
    (void)ctx;
    (void)id;
    callbacks_locked += held;
    seen.acked++;
}

/* Every call takes the lock and gives it back; callbacks run without it,
 * so one may publish with a non-recursive mutex. */
START_TEST(callbacks_run_without_the_lock_and_may_publish)
{
    mqtls_publish p = message(1, "x");
    held = lock_calls = callbacks_locked = 0;
    cfg.lock = (mqtls_client_lock){NULL, take, give};
    cfg.events.received = received_and_publish;
    cfg.events.publish_acked = acked_unlocked;
    connect_ok();
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_OK);
    FEED(0x30, 0x04, 0x00, 0x01, 'a', 'q', 0x40, 0x02, 0x00, 0x01);
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(seen.received, 1);
    ck_assert_int_eq(seen.acked, 1);
    ck_assert_uint_eq(mqtls_ram_store_count(&rs), 1); /* the echo */
    ck_assert_int_eq(callbacks_locked, 0);
    ck_assert_int_eq(held, 0);
    ck_assert_int_ge(lock_calls, 4);
}
END_TEST

/* ---- the log hook ----------------------------------------------------- */

static char logged[2048];

static void log_line(void *ctx, int level, const char *what, bool out, const uint8_t *pkt,
                     size_t len)
{
    size_t used = strlen(logged);
    (void)ctx;
    (void)level;
    (void)out;
    if (used + strlen(what) + 64 < sizeof logged)
        memcpy(logged + used, what, strlen(what) + 1);
    if (pkt != NULL && len > 0) {
        used = strlen(logged);
        logged[used] = (char)('A' + (pkt[0] >> 4)); /* the packet type, as a letter */
        logged[used + 1] = ';';
        logged[used + 2] = '\0';
    }
    ck_assert(len == 0 || pkt != NULL);
    for (used = 0; pkt != NULL && used + 6 <= len; used++)
        ck_assert(memcmp(pkt + used, "s3cret", 6) != 0);
}

/* Each packet sent and received reaches the log (where it is compiled
 * in); a CONNECT's fields, and so the password, never do. */
START_TEST(the_log_sees_each_packet_and_no_password)
{
    mqtls_publish p = message(1, "x");
#if !MQTLS_CLIENT_LOG
    return; /* compiled out */
#endif
    logged[0] = '\0';
    cfg.connect.username = (mqtls_str){"u", 1};
    cfg.connect.password = (mqtls_bytes){(const uint8_t *)"s3cret", 6};
    cfg.log = log_line;
    connect_ok();
    ck_assert_ptr_null(strstr(logged, "s3cret"));
    ck_assert_ptr_nonnull(strstr(logged, "CONNECT"));
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_OK);
    FEED(0x40, 0x02, 0x00, 0x01);
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_ptr_nonnull(strstr(logged, "receivedC;")); /* CONNACK */
    ck_assert_ptr_nonnull(strstr(logged, "sentD;"));     /* PUBLISH */
    ck_assert_ptr_nonnull(strstr(logged, "receivedE;")); /* PUBACK */
}
END_TEST

Suite *session_suite(void)
{
    Suite *s = suite_create("session");
    TCase *tc = tcase_create("session");
    tcase_add_checked_fixture(tc, client_setup, client_teardown);
    tcase_add_loop_test(tc, a_new_session_republishes_the_old_flows_as_new_messages, 0, 2);
    tcase_add_test(tc, a_kept_session_resumes_the_old_flows);
    tcase_add_test(tc, the_discard_policy_reports_each_message_it_gives_up);
    tcase_add_test(tc, session_present_after_a_clean_connect_is_a_protocol_error);
    tcase_add_loop_test(tc, an_acknowledgement_that_does_not_fit_is_a_protocol_error, 0,
                        (int)(sizeof misfits / sizeof misfits[0]));
    tcase_add_test(tc, nothing_touches_the_transport_after_it_closed);
    tcase_add_test(tc, a_long_poll_wakes_for_the_pingreq);
    tcase_add_test(tc, a_stored_message_larger_than_tx_buf_is_resent_with_dup);
    tcase_add_test(tc, start_then_poll_finishes_the_connection);
    tcase_add_test(tc, a_started_connection_times_out);
    tcase_add_test(tc, every_end_of_a_connection_is_reported_once);
    tcase_add_test(tc, setup_names_the_field_that_is_wrong);
    tcase_add_test(tc, a_buffer_too_small_says_which_and_how_big);
    tcase_add_test(tc, callbacks_run_without_the_lock_and_may_publish);
    tcase_add_test(tc, the_log_sees_each_packet_and_no_password);
    suite_add_tcase(s, tc);
    return s;
}
