/* SPDX-License-Identifier: Apache-2.0 */
/* The client session on a scripted transport and a fake clock: every flow
 * byte for byte, refusals, keep-alive in fake time, the window, exactly
 * once for inbound QoS 2, and a malformed packet that loses nothing. */
#include <check.h>
#include <string.h>

#include "test/unit/mqtt/client_fixture.h"
#include "test/unit/suites.h"

START_TEST(connect_sends_connect_and_takes_connack)
{
    connect_ok();
    ck_assert(!cl.session_present);
}
END_TEST

START_TEST(each_connack_refusal_is_its_own_error)
{
    const int want[] = {MQTLS_ERR_CONNACK_PROTOCOL_VERSION, MQTLS_ERR_CONNACK_IDENTIFIER_REJECTED,
                        MQTLS_ERR_CONNACK_SERVER_UNAVAILABLE, MQTLS_ERR_CONNACK_BAD_CREDENTIALS,
                        MQTLS_ERR_CONNACK_NOT_AUTHORIZED};
    ck_assert_int_eq(mqtls_client_setup(&cl, &cfg), MQTLS_OK);
    FEED(0x20, 0x02, 0x00, (uint8_t)(_i + 1));
    ck_assert_int_eq(mqtls_client_connect(&cl, 3000), want[_i]);
    ck_assert_int_eq(cl.state, MQTLS_CLIENT_DISCONNECTED);
    ck_assert(ft.closed);
}
END_TEST

START_TEST(no_connack_times_out_in_fake_time)
{
    ck_assert_int_eq(mqtls_client_setup(&cl, &cfg), MQTLS_OK);
    ck_assert_int_eq(mqtls_client_connect(&cl, 3000), MQTLS_ERR_CONNACK_TIMEOUT);
    ck_assert_uint_ge(clk.now_ms, 5000 + 3000);
    ck_assert(ft.closed);
}
END_TEST

START_TEST(qos0_publish_is_sent_at_once)
{
    mqtls_publish p = message(0, "hi");
    connect_ok();
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_OK);
    SENT(0x30, 0x07, 0x00, 0x03, 't', '/', 'x', 'h', 'i');
    ck_assert_uint_eq(mqtls_ram_store_count(&rs), 0);
}
END_TEST

START_TEST(qos1_flow)
{
    mqtls_publish p = message(1, "a");
    uint16_t id = 0;
    connect_ok();
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, &id), MQTLS_OK);
    ck_assert_uint_eq(id, 1);
    SENT(0x32, 0x08, 0x00, 0x03, 't', '/', 'x', 0x00, 0x01, 'a');
    ck_assert_uint_eq(mqtls_ram_store_count(&rs), 1);
    FEED(0x40, 0x02, 0x00, 0x01);
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(seen.acked, 1);
    ck_assert_uint_eq(seen.last_acked, 1);
    ck_assert_uint_eq(mqtls_ram_store_count(&rs), 0);
}
END_TEST

START_TEST(qos2_flow)
{
    mqtls_publish p = message(2, "b");
    connect_ok();
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_OK);
    SENT(0x34, 0x08, 0x00, 0x03, 't', '/', 'x', 0x00, 0x01, 'b');
    FEED(0x50, 0x02, 0x00, 0x01);
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    SENT(0x62, 0x02, 0x00, 0x01);
    ck_assert_int_eq(seen.acked, 0);
    ck_assert_uint_eq(mqtls_ram_store_count(&rs), 1); /* kept until PUBCOMP */
    FEED(0x70, 0x02, 0x00, 0x01);
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(seen.acked, 1);
    ck_assert_uint_eq(mqtls_ram_store_count(&rs), 0);
}
END_TEST

/* The answers to what one read brought go out in one write, in order
 * (MQTLS_CLIENT_ACK_BATCH, on in the host library): three PUBRECs and an
 * inbound QoS 1 message make three PUBRELs and a PUBACK, one send call. */
START_TEST(the_answers_to_one_read_go_in_one_write)
{
    mqtls_publish p = message(2, "b");
    unsigned long sends;
    int i;
    connect_ok();
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_OK);
    fake_transport_clear_tx(&ft);
    FEED(0x50, 0x02, 0x00, 0x01, 0x50, 0x02, 0x00, 0x02, 0x50, 0x02, 0x00, 0x03, /* PUBRECs */
         0x32, 0x06, 0x00, 0x01, 'q', 0x00, 0x07, 'm'); /* a QoS 1 PUBLISH, id 7 */
    sends = ft.sends;
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
#if MQTLS_CLIENT_ACK_BATCH
    ck_assert_uint_eq(ft.sends - sends, 1);
#else
    ck_assert_uint_eq(ft.sends - sends, 4);
#endif
    SENT(0x62, 0x02, 0x00, 0x01, 0x62, 0x02, 0x00, 0x02, 0x62, 0x02, 0x00, 0x03, 0x40, 0x02, 0x00,
         0x07);
    ck_assert_int_eq(seen.received, 1);
}
END_TEST

/* Window 2: two on the wire, the rest wait in order; each PUBACK lets one
 * more out. */
START_TEST(the_window_pipelines_and_holds_the_rest_in_order)
{
    mqtls_publish p = message(1, "w");
    int i;
    cfg.window = 2;
    connect_ok();
    for (i = 0; i < 5; i++)
        ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_OK);
    ck_assert_uint_eq(ft.tx_len, 2u * 10u); /* ids 1 and 2 */
    ck_assert_uint_eq(ft.tx[8], 1);
    ck_assert_uint_eq(ft.tx[18], 2);
    fake_transport_clear_tx(&ft);
    FEED(0x40, 0x02, 0x00, 0x01);
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    SENT(0x32, 0x08, 0x00, 0x03, 't', '/', 'x', 0x00, 0x03, 'w');
    FEED(0x40, 0x02, 0x00, 0x02, 0x40, 0x02, 0x00, 0x03);
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_uint_eq(ft.tx_len, 20u); /* 4 and 5 */
    ck_assert_uint_eq(ft.tx[8], 4);
    ck_assert_uint_eq(ft.tx[18], 5);
    ck_assert_int_eq(seen.acked, 3);
    ck_assert_uint_eq(mqtls_ram_store_count(&rs), 2);
}
END_TEST

START_TEST(inbound_qos0_and_qos1)
{
    connect_ok();
    FEED(0x30, 0x06, 0x00, 0x01, 'a', 'z', 'e', 'r');
    FEED(0x32, 0x07, 0x00, 0x01, 'a', 0x00, 0x07, 'o', 'k');
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(seen.received, 2);
    ck_assert_str_eq(seen.last_payload, "ok");
    SENT(0x40, 0x02, 0x00, 0x07);
}
END_TEST

/* The broker resends a QoS 2 PUBLISH (DUP) before PUBREL: delivered once,
 * PUBREC each time; after PUBREL the id may carry a new message. */
START_TEST(inbound_qos2_is_delivered_exactly_once)
{
    connect_ok();
    FEED(0x34, 0x06, 0x00, 0x01, 'a', 0x00, 0x09, 'x');
    FEED(0x3C, 0x06, 0x00, 0x01, 'a', 0x00, 0x09, 'x');
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(seen.received, 1);
    SENT(0x50, 0x02, 0x00, 0x09, 0x50, 0x02, 0x00, 0x09);
    FEED(0x62, 0x02, 0x00, 0x09);
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    SENT(0x70, 0x02, 0x00, 0x09);
    FEED(0x34, 0x06, 0x00, 0x01, 'a', 0x00, 0x09, 'y');
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(seen.received, 2);
    ck_assert_str_eq(seen.last_payload, "y");
}
END_TEST

START_TEST(subscribe_and_a_refused_filter)
{
    const mqtls_subscription subs[2] = {{{"a/#", 3}, 1}, {{"b", 1}, 2}};
    uint16_t id = 0;
    connect_ok();
    ck_assert_int_eq(mqtls_client_subscribe(&cl, subs, 2, &id), MQTLS_OK);
    ck_assert_uint_eq(id, 1);
    SENT(0x82, 0x0C, 0x00, 0x01, 0x00, 0x03, 'a', '/', '#', 0x01, 0x00, 0x01, 'b', 0x02);
    FEED(0x90, 0x04, 0x00, 0x01, 0x01, 0x80);
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(seen.subscribed, 1);
    ck_assert_uint_eq(seen.ncodes, 2);
    ck_assert_uint_eq(seen.codes[1], MQTLS_SUBACK_FAILURE);
}
END_TEST

/* Quiet for the keep-alive period: PINGREQ. Silent broker for another
 * period: the connection is declared lost. All in fake time. */
START_TEST(keep_alive_pings_and_then_gives_up)
{
    int i, ret = MQTLS_OK;
    connect_ok();
    for (i = 0; i < 20 && ft.tx_len == 0; i++)
        ck_assert_int_eq(mqtls_client_poll(&cl, 1000), MQTLS_OK);
    SENT(0xC0, 0x00);
    ck_assert_uint_ge(clk.now_ms, 5000 + 10000);
    FEED(0xD0, 0x00); /* PINGRESP: alive */
    ck_assert_int_eq(mqtls_client_poll(&cl, 1000), MQTLS_OK);
    ck_assert(!cl.ping_outstanding);
    for (i = 0; i < 40 && ret == MQTLS_OK; i++)
        ret = mqtls_client_poll(&cl, 1000);
    ck_assert_int_eq(ret, MQTLS_ERR_KEEPALIVE_TIMEOUT);
    ck_assert_int_eq(seen.closed, 1);
    ck_assert_int_eq(seen.closed_reason, MQTLS_ERR_KEEPALIVE_TIMEOUT);
    ck_assert(ft.closed);
}
END_TEST

/* A malformed packet closes the connection with the reason; the messages
 * promised at QoS 1 are all still in the store. */
START_TEST(a_malformed_packet_closes_and_loses_nothing)
{
    mqtls_publish p = message(1, "keep");
    connect_ok();
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_OK);
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_OK);
    FEED(0x36, 0x03, 0x00, 0x01, 'a'); /* QoS 3 */
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_ERR_BAD_QOS);
    ck_assert_int_eq(cl.state, MQTLS_CLIENT_DISCONNECTED);
    ck_assert_int_eq(seen.closed_reason, MQTLS_ERR_BAD_QOS);
    ck_assert_uint_eq(mqtls_ram_store_count(&rs), 2);
    /* Publishing while down still stores. */
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_OK);
    ck_assert_uint_eq(mqtls_ram_store_count(&rs), 3);
}
END_TEST

START_TEST(a_second_connack_is_a_protocol_error)
{
    connect_ok();
    FEED(0x20, 0x02, 0x00, 0x00);
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_ERR_UNEXPECTED_PACKET);
}
END_TEST

/* Everything above, with the transport moving one byte per call. */
START_TEST(one_byte_per_call)
{
    mqtls_publish p = message(2, "slow");
    int i;
    ft.max_per_call = 1;
    connect_ok();
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_OK);
    fake_transport_clear_tx(&ft);
    FEED(0x50, 0x02, 0x00, 0x01, 0x70, 0x02, 0x00, 0x01);
    for (i = 0; i < 20 && seen.acked == 0; i++)
        ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(seen.acked, 1);
    SENT(0x62, 0x02, 0x00, 0x01);
}
END_TEST

/* Ids wrap from 65535 to 1 and skip one still in flight. */
START_TEST(packet_ids_wrap_and_skip_ids_in_flight)
{
    mqtls_publish p = message(1, "i");
    uint16_t id;
    cfg.window = 1;
    connect_ok();
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, &id), MQTLS_OK);
    ck_assert_uint_eq(id, 1); /* still in flight */
    cl.next_id = 65535;
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, &id), MQTLS_OK);
    ck_assert_uint_eq(id, 65535);
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, &id), MQTLS_OK);
    ck_assert_uint_eq(id, 2);
}
END_TEST

START_TEST(a_full_store_is_an_error_not_a_drop)
{
    static uint8_t small[128];
    mqtls_publish p = message(1, "0123456789012345678901234567890123456789");
    int i, ret = MQTLS_OK;
    ck_assert_int_eq(mqtls_ram_store_setup(&rs, small, sizeof small), MQTLS_OK);
    connect_ok();
    for (i = 0; i < 10 && ret == MQTLS_OK; i++)
        ret = mqtls_client_publish(&cl, &p, NULL);
    ck_assert_int_eq(ret, MQTLS_ERR_STORE_FULL);
    ck_assert_uint_eq(mqtls_ram_store_count(&rs), (size_t)(i - 1));
}
END_TEST

START_TEST(publish_wait_returns_when_the_flow_completes)
{
    mqtls_publish p = message(2, "w");
    connect_ok();
    FEED(0x50, 0x02, 0x00, 0x01, 0x70, 0x02, 0x00, 0x01); /* PUBREC, PUBCOMP */
    ck_assert_int_eq(mqtls_client_publish_wait(&cl, &p, 5000), MQTLS_OK);
    ck_assert_int_eq(seen.acked, 1);
    /* No answer: a timeout in fake time, and the message stays stored. */
    ck_assert_int_eq(mqtls_client_publish_wait(&cl, &p, 5000), MQTLS_ERR_NET_TIMEOUT);
    ck_assert_uint_eq(mqtls_ram_store_count(&rs), 1);
}
END_TEST

/* Dropped with three QoS 1 messages on the wire and one waiting: after the
 * reconnect the three go again, in order, with DUP; then the new one, without. */
START_TEST(a_drop_resends_in_order_with_dup)
{
    mqtls_publish p = message(1, "m");
    mqtls_packet pk[8];
    size_t n;
    cfg.reconnect = true;
    cfg.connect.clean_session = false; /* the broker may keep the session */
    connect_ok();
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_OK);
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_OK);
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_OK);
    cut();
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_ERR_NET_RESET);
    ck_assert_int_eq(seen.closed, 1);
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_OK); /* while down */
    reconnect_with(1, 0);
    ck_assert_int_eq(cl.state, MQTLS_CLIENT_CONNECTED);
    n = sent_packets(pk, 8);
    ck_assert_uint_eq(n, 5);
    ck_assert_int_eq(pk[0].type, MQTLS_CONNECT);
    ck_assert(pk[1].u.publish.dup && pk[1].packet_id == 1);
    ck_assert(pk[2].u.publish.dup && pk[2].packet_id == 2);
    ck_assert(pk[3].u.publish.dup && pk[3].packet_id == 3);
    ck_assert(!pk[4].u.publish.dup && pk[4].packet_id == 4);
}
END_TEST

/* Window 2: 1 and 2 on the wire, dropped, 3 published while down. After
 * the reconnect 1 and 2 go again with DUP; once 1 is acknowledged, 3 goes
 * out for the first time: without DUP. */
START_TEST(only_what_was_on_the_wire_gets_dup)
{
    mqtls_publish p = message(1, "d");
    mqtls_packet pk[4];
    cfg.reconnect = true;
    cfg.connect.clean_session = false; /* the broker may keep the session */
    cfg.window = 2;
    connect_ok();
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_OK);
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_OK);
    cut();
    ck_assert_int_lt(mqtls_client_poll(&cl, 10), 0);
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_OK);
    reconnect_with(1, 0);
    ck_assert_uint_eq(sent_packets(pk, 4), 3);
    ck_assert(pk[1].u.publish.dup && pk[2].u.publish.dup);
    fake_transport_clear_tx(&ft);
    FEED(0x40, 0x02, 0x00, 0x01);
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_uint_eq(sent_packets(pk, 4), 1);
    ck_assert_uint_eq(pk[0].packet_id, 3);
    ck_assert(!pk[0].u.publish.dup);
}
END_TEST

/* Messages that wait go out together: after a reconnect, the three owed
 * and one new are one write (one TLS record over TLS), in order. */
START_TEST(waiting_messages_go_out_in_one_write)
{
    mqtls_publish p = message(1, "b");
    mqtls_packet pk[8];
    int i;
    cfg.reconnect = true;
    cfg.connect.clean_session = false; /* the broker may keep the session */
    connect_ok();
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_OK);
    cut();
    ck_assert_int_lt(mqtls_client_poll(&cl, 10), 0);
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_OK);
    reconnect_with(1, 0);
    ck_assert_uint_eq(ft.sends, 2); /* CONNECT, then all four */
    ck_assert_uint_eq(sent_packets(pk, 8), 5);
    for (i = 1; i <= 4; i++) {
        ck_assert_uint_eq(pk[i].packet_id, (uint16_t)i);
        ck_assert(pk[i].u.publish.dup == (i <= 3));
    }
}
END_TEST

/* The link breaks part way through such a write: the packets the transport
 * took whole may have arrived, so they go again with DUP; the one cut in
 * two, and those after it, cannot have, and go without. */
START_TEST(a_break_part_way_through_a_write_marks_only_whole_packets)
{
    mqtls_publish p = message(1, "c"); /* 10 bytes on the wire */
    mqtls_packet pk[8];
    size_t connect_len;
    int i;
    cfg.reconnect = true;
    cfg.connect.clean_session = false; /* the broker may keep the session */
    connect_ok();
    ck_assert_int_eq(mqtls_client_disconnect(&cl), MQTLS_OK);
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_OK);
    /* Reconnect; the transport takes the CONNECT and 15 more bytes: the
     * first PUBLISH whole, half of the second. */
    fake_transport_init(&ft, &clk);
    FEED(0x20, 0x02, 0x00, 0x00);
    connect_len = 18;
    ft.fail_at_tx = (long)(connect_len + 15);
    ft.fail_with = MQTLS_ERR_NET_RESET;
    ck_assert_int_eq(mqtls_client_connect(&cl, 3000), MQTLS_ERR_NET_RESET);
    ck_assert_uint_eq(ft.tx_len, connect_len + 15);
    reconnect_with(1, 0);
    ck_assert_uint_eq(sent_packets(pk, 8), 4);
    ck_assert(pk[1].packet_id == 1 && pk[1].u.publish.dup);
    ck_assert(pk[2].packet_id == 2 && !pk[2].u.publish.dup);
    ck_assert(pk[3].packet_id == 3 && !pk[3].u.publish.dup);
}
END_TEST

/* Mosquitto restarted from persistence resends, with DUP and the same id,
 * a PUBLISH whose flow had completed (PUBREL, PUBCOMP). Answered, not
 * delivered again. The same id with another payload, or without DUP, is
 * a new message, and after a clean session nothing is remembered. */
#define RECENT 20

START_TEST(the_opt_in_guard_answers_a_resent_completed_qos2_message)
{
    static uint32_t recent[RECENT];
    mqtls_packet pk[4];
    int i;
    cfg.qos2_recent = recent;
    cfg.qos2_recent_cap = RECENT;
    cfg.reconnect = true;
    cfg.connect.clean_session = false; /* the broker may keep the session */
    connect_ok();
    FEED(0x34, 0x06, 0x00, 0x01, 'a', 0x00, 0x09, 'x', 0x62, 0x02, 0x00, 0x09);
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    SENT(0x50, 0x02, 0x00, 0x09, 0x70, 0x02, 0x00, 0x09);
    ck_assert_int_eq(seen.received, 1);
    cut();
    ck_assert_int_lt(mqtls_client_poll(&cl, 10), 0);
    reconnect_with(1, 0);
    fake_transport_clear_tx(&ft);
    FEED(0x3C, 0x06, 0x00, 0x01, 'a', 0x00, 0x09, 'x', 0x62, 0x02, 0x00, 0x09);
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    SENT(0x50, 0x02, 0x00, 0x09, 0x70, 0x02, 0x00, 0x09);
    ck_assert_int_eq(seen.received, 1);
    /* Same id, DUP, another payload: a new message whose first send was lost. */
    FEED(0x3C, 0x06, 0x00, 0x01, 'a', 0x00, 0x09, 'z');
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(seen.received, 2);
    ck_assert_str_eq(seen.last_payload, "z");
    FEED(0x62, 0x02, 0x00, 0x09);
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    /* Same id and payload without DUP: sent anew, delivered. */
    FEED(0x34, 0x06, 0x00, 0x01, 'a', 0x00, 0x09, 'x', 0x62, 0x02, 0x00, 0x09);
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(seen.received, 3);
    /* A clean session: the broker cannot owe an old flow, nothing is held. */
    cut();
    ck_assert_int_lt(mqtls_client_poll(&cl, 10), 0);
    reconnect_with(0, 0);
    fake_transport_clear_tx(&ft);
    FEED(0x3C, 0x06, 0x00, 0x01, 'a', 0x00, 0x09, 'x');
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(seen.received, 4);
    ck_assert_uint_eq(sent_packets(pk, 4), 1);
    ck_assert_int_eq(pk[0].type, MQTLS_PUBREC);
    /* Only the last qos2_recent_cap are remembered: the oldest is
     * forgotten once that many more were delivered. */
    FEED(0x62, 0x02, 0x00, 0x09);
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    for (i = 0; i < RECENT; i++) {
        FEED(0x34, 0x06, 0x00, 0x01, 'b', 0x01, (uint8_t)i, 'w', 0x62, 0x02, 0x01, (uint8_t)i);
        ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    }
    ck_assert_int_eq(seen.received, 4 + RECENT);
    FEED(0x3C, 0x06, 0x00, 0x01, 'b', 0x01, 0x00, 'w'); /* the newest ones: known */
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(seen.received, 4 + RECENT);
    FEED(0x3C, 0x06, 0x00, 0x01, 'a', 0x00, 0x09, 'x'); /* the oldest: gone */
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(seen.received, 5 + RECENT);
}
END_TEST

/* The default follows the spec: a completed flow is complete. The same
 * id, topic and payload again with DUP is a new message (a broker may
 * reuse an id at once) and is delivered. */
START_TEST(by_default_a_resent_completed_qos2_message_is_delivered_again)
{
    cfg.reconnect = true;
    cfg.connect.clean_session = false;
    connect_ok();
    FEED(0x34, 0x06, 0x00, 0x01, 'a', 0x00, 0x09, 'x', 0x62, 0x02, 0x00, 0x09);
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    SENT(0x50, 0x02, 0x00, 0x09, 0x70, 0x02, 0x00, 0x09);
    FEED(0x3C, 0x06, 0x00, 0x01, 'a', 0x00, 0x09, 'x');
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(seen.received, 2);
    ck_assert(seen.last_dup);
    SENT(0x50, 0x02, 0x00, 0x09);
}
END_TEST

/* The id table alone keeps exactly once: message 9 awaits PUBREL while 30
 * other QoS 2 messages come and complete (more than any fingerprint ring
 * would hold, and the ring is off); 9 resent with DUP is answered, not
 * delivered; after its PUBREL the id is free. */
START_TEST(the_id_table_alone_keeps_exactly_once)
{
    int i;
    connect_ok();
    FEED(0x34, 0x06, 0x00, 0x01, 'a', 0x00, 0x09, 'x');
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    for (i = 0; i < 30; i++) {
        FEED(0x34, 0x06, 0x00, 0x01, 'b', 0x01, (uint8_t)i, 'w', 0x62, 0x02, 0x01, (uint8_t)i);
        ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    }
    ck_assert_int_eq(seen.received, 31);
    fake_transport_clear_tx(&ft);
    FEED(0x3C, 0x06, 0x00, 0x01, 'a', 0x00, 0x09, 'x');
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(seen.received, 31);
    SENT(0x50, 0x02, 0x00, 0x09);
    FEED(0x62, 0x02, 0x00, 0x09, 0x34, 0x06, 0x00, 0x01, 'a', 0x00, 0x09, 'x');
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(seen.received, 32);
}
END_TEST

#define READS 64

/* With reads_per_poll, everything that has arrived is handled in one poll,
 * even when the transport hands it over a few bytes at a time; a flood
 * still returns after that many reads. Without it, one read per poll. */
START_TEST(one_poll_handles_everything_already_received)
{
    mqtls_publish p = message(1, "d");
    int i;
    connect_ok();
    FEED(0x30, 0x04, 0x00, 0x01, 'a', 'q', 0x30, 0x04, 0x00, 0x01, 'a', 'q');
    ft.max_per_call = 6;
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(seen.received, 1);
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(seen.received, 2);
    seen.received = 0;
    cl.cfg.reads_per_poll = READS;
    for (i = 0; i < 10; i++)
        ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_OK);
    for (i = 1; i <= 10; i++)
        FEED(0x40, 0x02, 0x00, (uint8_t)i);
    ft.max_per_call = 4;
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(seen.acked, 10);
    ck_assert_uint_eq(mqtls_ram_store_count(&rs), 0);
    /* More than READS reads' worth: poll comes back
     * after that many, and the next poll goes on. */
    for (i = 0; i < READS + 10; i++)
        FEED(0x30, 0x04, 0x00, 0x01, 'a', 'q');
    ft.max_per_call = 6;
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(seen.received, READS);
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(seen.received, READS + 10);
}
END_TEST

/* More inbound QoS 2 messages than the table holds (cap 4 here), with
 * either session setting: the fifth waits in rx_buf, unanswered, while the
 * PUBREL behind it is handled; the slot that frees takes it. No reconnect,
 * none lost, none twice, in order. */
START_TEST(a_full_qos2_table_parks_the_message_until_a_slot_frees)
{
    mqtls_packet pk[16];
    int i;
    cfg.connect.clean_session = _i == 0;
    connect_ok();
    for (i = 1; i <= 5; i++)
        FEED(0x34, 0x06, 0x00, 0x01, 'q', 0x00, (uint8_t)i, (uint8_t)('0' + i));
    FEED(0x30, 0x04, 0x00, 0x01, 'q', '6'); /* QoS 0, behind the parked one */
    for (i = 1; i <= 4; i++)
        FEED(0x62, 0x02, 0x00, (uint8_t)i);
    for (i = 0; i < 5; i++)
        ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(seen.received, 6);
    ck_assert_str_eq(seen.last_payload, "6");
    ck_assert_int_eq(cl.state, MQTLS_CLIENT_CONNECTED);
    ck_assert_uint_eq(sent_packets(pk, 16), 9);
    for (i = 0; i < 4; i++)
        ck_assert(pk[i].type == MQTLS_PUBREC && pk[i].packet_id == i + 1);
    ck_assert(pk[4].type == MQTLS_PUBCOMP && pk[4].packet_id == 1);
    ck_assert(pk[5].type == MQTLS_PUBREC && pk[5].packet_id == 5); /* took 1's slot */
    for (i = 6; i < 9; i++)
        ck_assert(pk[i].type == MQTLS_PUBCOMP && pk[i].packet_id == i - 4);
}
END_TEST

/* The table full and rx_buf full of QoS 2 messages waiting for it: the
 * PUBRELs cannot be read. With a kept session the client reconnects at
 * once and the broker resends them; with a clean session (no resend would
 * come) the oldest is delivered untracked. Never lost. */
START_TEST(a_full_table_and_a_full_rx_buf_lose_nothing)
{
    mqtls_packet pk[16];
    int i;
    cfg.connect.clean_session = _i == 0;
    cfg.reconnect = true;
    cfg.rx_cap = 16; /* two of these PUBLISHes */
    connect_ok();
    for (i = 1; i <= 6; i++)
        FEED(0x34, 0x06, 0x00, 0x01, 'q', 0x00, (uint8_t)i, (uint8_t)('0' + i));
    for (i = 0; i < 8 && cl.state == MQTLS_CLIENT_CONNECTED; i++)
        (void)mqtls_client_poll(&cl, 10);
    if (_i == 0) { /* 5 untracked; 6 fits the buffer now and waits for a slot */
        ck_assert_int_eq(cl.state, MQTLS_CLIENT_CONNECTED);
        ck_assert_int_eq(seen.received, 5);
        ck_assert_uint_eq(sent_packets(pk, 16), 5);
        for (i = 0; i < 5; i++)
            ck_assert(pk[i].type == MQTLS_PUBREC && pk[i].packet_id == i + 1);
        fake_transport_clear_tx(&ft);
        FEED(0x62, 0x02, 0x00, 0x01);
        ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
        ck_assert_int_eq(seen.received, 6);
        ck_assert_str_eq(seen.last_payload, "6");
        SENT(0x70, 0x02, 0x00, 0x01, 0x50, 0x02, 0x00, 0x06);
        return;
    }
    ck_assert_int_eq(seen.received, 4);
    ck_assert_int_eq(cl.state, MQTLS_CLIENT_DISCONNECTED);
    ck_assert_int_eq(cl.last_error, MQTLS_ERR_QOS2_TABLE_FULL);
    ck_assert_uint_eq(sent_packets(pk, 16), 4); /* PUBREC 1..4 only */
    ck_assert_uint_eq(cl.retry_at_ms, clk.now_ms); /* at once, not on the backoff */
    reconnect_with(1, 0);
    fake_transport_clear_tx(&ft);
    for (i = 1; i <= 4; i++)
        FEED(0x62, 0x02, 0x00, (uint8_t)i);
    FEED(0x3c, 0x06, 0x00, 0x01, 'q', 0x00, 0x05, '5', 0x3c, 0x06, 0x00, 0x01, 'q', 0x00, 0x06, '6');
    for (i = 0; i < 8; i++)
        ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(seen.received, 6);
    ck_assert_str_eq(seen.last_payload, "6");
}
END_TEST

/* A drop at every point of a QoS 1 and a QoS 2 flow: what goes out again
 * is exactly what was still owed. */
static const struct {
    uint8_t qos;
    uint8_t ack[4]; /* fed before the drop, or all zero */
    int resend;     /* packet type resent, or 0 */
} drop_points[] = {
    {1, {0}, MQTLS_PUBLISH},
    {1, {0x40, 0x02, 0x00, 0x01}, 0},
    {2, {0}, MQTLS_PUBLISH},
    {2, {0x50, 0x02, 0x00, 0x01}, MQTLS_PUBREL},
};

START_TEST(a_drop_at_every_point_of_a_flow)
{
    mqtls_publish p = message(drop_points[_i].qos, "f");
    mqtls_packet pk[4];
    size_t n;
    cfg.reconnect = true;
    cfg.connect.clean_session = false; /* the broker may keep the session */
    connect_ok();
    ck_assert_int_eq(mqtls_client_publish(&cl, &p, NULL), MQTLS_OK);
    if (drop_points[_i].ack[0] != 0) {
        fake_transport_feed(&ft, drop_points[_i].ack, 4);
        ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    }
    cut();
    ck_assert_int_lt(mqtls_client_poll(&cl, 10), 0);
    reconnect_with(1, 0);
    n = sent_packets(pk, 4);
    ck_assert_int_eq(pk[0].type, MQTLS_CONNECT);
    if (drop_points[_i].resend == 0) {
        ck_assert_uint_eq(n, 1);
        return;
    }
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(pk[1].type, drop_points[_i].resend);
    ck_assert_uint_eq(pk[1].packet_id, 1);
    if (pk[1].type == MQTLS_PUBLISH)
        ck_assert(pk[1].u.publish.dup);
}
END_TEST

/* A broker that drops us right after CONNACK: the delays grow (no storm),
 * and only a stable connection starts them over. */
START_TEST(reconnect_delays_grow_until_a_connection_is_stable)
{
    static const uint32_t caps[] = {500, 1000, 2000, 4000, 8000};
    size_t i;
    cfg.reconnect = true;
    connect_ok();
    cl.backoff.random = top_of_window;
    for (i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        uint32_t took;
        cut();
        ck_assert_int_lt(mqtls_client_poll(&cl, 10), 0);
        took = reconnect_with(0, 0);
        ck_assert_uint_ge(took, caps[i]);
        ck_assert_uint_lt(took, caps[i] + 1000);
    }
    /* Up for the stable period: the next drop waits the shortest again. */
    clk.now_ms += 60000;
    FEED(0xD0, 0x00);
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    cut();
    ck_assert_int_lt(mqtls_client_poll(&cl, 10), 0);
    ck_assert_uint_lt(reconnect_with(0, 0), 500 + 1000);
}
END_TEST

/* "Not authorised" will not go away by retrying soon: the slow schedule. */
START_TEST(a_refusal_waits_on_the_slow_schedule)
{
    uint32_t t0;
    int i;
    cfg.reconnect = true;
    connect_ok();
    cut();
    ck_assert_int_lt(mqtls_client_poll(&cl, 10), 0);
    reconnect_with(0, 5); /* refused: CONNACK 5 */
    ck_assert_int_eq(cl.last_error, MQTLS_ERR_CONNACK_NOT_AUTHORIZED);
    t0 = clk.now_ms;
    fake_transport_init(&ft, &clk);
    FEED(0x20, 0x02, 0x00, 0x00);
    for (i = 0; i < 2000 && cl.state != MQTLS_CLIENT_CONNECTED; i++)
        (void)mqtls_client_poll(&cl, 1000);
    ck_assert_int_eq(cl.state, MQTLS_CLIENT_CONNECTED);
    ck_assert_uint_ge(clk.now_ms - t0, 300000 - 1000);
}
END_TEST

START_TEST(subscriptions_are_restored_when_the_broker_has_no_session)
{
    const mqtls_subscription subs[1] = {{{"cmd/#", 5}, 1}};
    mqtls_packet pk[4];
    cfg.reconnect = true;
    cfg.connect.clean_session = false; /* the broker may keep the session */
    cfg.resubscribe = subs;
    cfg.resubscribe_count = 1;
    ck_assert_int_eq(mqtls_client_setup(&cl, &cfg), MQTLS_OK);
    FEED(0x20, 0x02, 0x00, 0x00);
    ck_assert_int_eq(mqtls_client_connect(&cl, 3000), MQTLS_OK);
    /* The first CONNACK says no session either: it subscribes at once. */
    ck_assert_uint_eq(sent_packets(pk, 4), 2);
    ck_assert_int_eq(pk[1].type, MQTLS_SUBSCRIBE);
    fake_transport_clear_tx(&ft);
    cut();
    ck_assert_int_lt(mqtls_client_poll(&cl, 10), 0);
    reconnect_with(0, 0);
    ck_assert_uint_eq(sent_packets(pk, 4), 2);
    ck_assert_int_eq(pk[1].type, MQTLS_SUBSCRIBE);
    cut();
    ck_assert_int_lt(mqtls_client_poll(&cl, 10), 0);
    reconnect_with(1, 0); /* session kept: nothing to restore */
    ck_assert_uint_eq(sent_packets(pk, 4), 1);
}
END_TEST

/* An inbound QoS 2 message awaiting PUBREL when the link drops; the broker
 * then has no session: its next message with that id is new, and must be
 * delivered. */
START_TEST(a_new_session_forgets_inbound_qos2_ids)
{
    cfg.reconnect = true;
    connect_ok();
    FEED(0x34, 0x06, 0x00, 0x01, 'a', 0x00, 0x09, 'x');
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(seen.received, 1);
    cut();
    ck_assert_int_lt(mqtls_client_poll(&cl, 10), 0);
    reconnect_with(0, 0); /* no session */
    FEED(0x34, 0x06, 0x00, 0x01, 'a', 0x00, 0x09, 'y');
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_OK);
    ck_assert_int_eq(seen.received, 2);
    ck_assert_str_eq(seen.last_payload, "y");
}
END_TEST

START_TEST(after_disconnect_poll_does_not_reconnect)
{
    cfg.reconnect = true;
    connect_ok();
    ck_assert_int_eq(mqtls_client_disconnect(&cl), MQTLS_OK);
    SENT(0xE0, 0x00);
    ck_assert(ft.closed);
    fake_transport_init(&ft, &clk);
    clk.now_ms += 100000;
    ck_assert_int_eq(mqtls_client_poll(&cl, 10), MQTLS_ERR_NET_NOT_CONNECTED);
    ck_assert_uint_eq(ft.tx_len, 0);
}
END_TEST

Suite *client_suite(void)
{
    Suite *s = suite_create("client");
    TCase *tc = tcase_create("flows");
    tcase_add_checked_fixture(tc, client_setup, client_teardown);
    tcase_add_test(tc, connect_sends_connect_and_takes_connack);
    tcase_add_loop_test(tc, each_connack_refusal_is_its_own_error, 0, 5);
    tcase_add_test(tc, no_connack_times_out_in_fake_time);
    tcase_add_test(tc, qos0_publish_is_sent_at_once);
    tcase_add_test(tc, qos1_flow);
    tcase_add_test(tc, qos2_flow);
    tcase_add_test(tc, the_answers_to_one_read_go_in_one_write);
    tcase_add_test(tc, the_window_pipelines_and_holds_the_rest_in_order);
    tcase_add_test(tc, inbound_qos0_and_qos1);
    tcase_add_test(tc, inbound_qos2_is_delivered_exactly_once);
    tcase_add_test(tc, the_opt_in_guard_answers_a_resent_completed_qos2_message);
    tcase_add_test(tc, by_default_a_resent_completed_qos2_message_is_delivered_again);
    tcase_add_test(tc, the_id_table_alone_keeps_exactly_once);
    tcase_add_test(tc, one_poll_handles_everything_already_received);
    tcase_add_test(tc, subscribe_and_a_refused_filter);
    tcase_add_test(tc, keep_alive_pings_and_then_gives_up);
    tcase_add_test(tc, a_malformed_packet_closes_and_loses_nothing);
    tcase_add_test(tc, a_second_connack_is_a_protocol_error);
    tcase_add_test(tc, one_byte_per_call);
    tcase_add_test(tc, packet_ids_wrap_and_skip_ids_in_flight);
    tcase_add_test(tc, a_full_store_is_an_error_not_a_drop);
    tcase_add_test(tc, publish_wait_returns_when_the_flow_completes);
    tcase_add_test(tc, a_drop_resends_in_order_with_dup);
    tcase_add_test(tc, only_what_was_on_the_wire_gets_dup);
    tcase_add_test(tc, waiting_messages_go_out_in_one_write);
    tcase_add_loop_test(tc, a_full_qos2_table_parks_the_message_until_a_slot_frees, 0, 2);
    tcase_add_loop_test(tc, a_full_table_and_a_full_rx_buf_lose_nothing, 0, 2);
    tcase_add_test(tc, a_break_part_way_through_a_write_marks_only_whole_packets);
    tcase_add_loop_test(tc, a_drop_at_every_point_of_a_flow, 0,
                        (int)(sizeof drop_points / sizeof drop_points[0]));
    tcase_add_test(tc, reconnect_delays_grow_until_a_connection_is_stable);
    tcase_add_test(tc, a_refusal_waits_on_the_slow_schedule);
    tcase_add_test(tc, subscriptions_are_restored_when_the_broker_has_no_session);
    tcase_add_test(tc, a_new_session_forgets_inbound_qos2_ids);
    tcase_add_test(tc, after_disconnect_poll_does_not_reconnect);
    suite_add_tcase(s, tc);
    return s;
}
