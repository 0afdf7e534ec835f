/* SPDX-License-Identifier: Apache-2.0 */
/* An open made in slices (a TLS handshake that must not hold a superloop
 * for seconds): the open function returns MQTLS_ERR_IN_PROGRESS, the
 * client (state OPENING) calls it again from each poll(), sends CONNECT
 * once it returns MQTLS_OK and waits for the CONNACK from then; giving up
 * half-way closes what the open made; a failure ends the attempt once. */
#include <check.h>
#include <string.h>

#include "test/unit/mqtt/client_fixture.h"
#include "test/unit/suites.h"

static int opens, slices, fail_with;

/* In progress `slices` times (each a slice that takes 100 ms of fake
 * time), then connected, or failed with fail_with. */
static int open_sliced(void *ctx, mqtls_transport *out)
{
    (void)ctx;
    opens++;
    fake_transport_as(&ft, out); /* closes the half-made connection too */
    clk.now_ms += 100;
    if (opens <= slices)
        return MQTLS_ERR_IN_PROGRESS;
    return fail_with;
}

static void setup(void)
{
    client_setup();
    opens = 0;
    slices = 3;
    fail_with = MQTLS_OK;
    cfg.open = open_sliced;
    cfg.connect_timeout_ms = 150;
    cfg.reconnect = true;
    cfg.backoff_min_ms = 1000;
    cfg.backoff_max_ms = 1000;
    cfg.backoff_refused_ms = 1000;
    ck_assert_int_eq(mqtls_client_setup(&cl, &cfg), MQTLS_OK);
}

START_TEST(each_poll_is_one_slice_and_connect_follows_the_last)
{
    int i;
    ck_assert_int_eq(mqtls_client_start(&cl), MQTLS_OK);
    for (i = 1; i <= 3; i++) {
        ck_assert_int_eq(cl.state, MQTLS_CLIENT_OPENING);
        ck_assert_int_eq(opens, i);
        ck_assert_uint_eq(ft.tx_len, 0); /* nothing before the connection is made */
        ck_assert_int_eq(mqtls_client_poll(&cl, 0), MQTLS_OK);
    }
    /* The fourth call made it: CONNECT went out in the same poll. */
    ck_assert_int_eq(opens, 4);
    ck_assert_int_eq(cl.state, MQTLS_CLIENT_CONNECTING);
    ck_assert_uint_gt(ft.tx_len, 0);
    ck_assert_uint_eq(ft.tx[0], 0x10);
    /* The opening took 400 ms, longer than the 150 ms CONNACK wait: that
     * wait counts from the CONNECT. */
    FEED(0x20, 0x02, 0x00, 0x00);
    ck_assert_int_eq(mqtls_client_poll(&cl, 100), MQTLS_OK);
    ck_assert_int_eq(cl.state, MQTLS_CLIENT_CONNECTED);
    ck_assert_int_eq(seen.connected, 1);
    ck_assert_int_eq(seen.closed, 0);
}
END_TEST

START_TEST(connect_goes_through_every_slice)
{
    slices = 7;
    FEED(0x20, 0x02, 0x00, 0x00);
    ck_assert_int_eq(mqtls_client_connect(&cl, 150), MQTLS_OK);
    ck_assert_int_eq(opens, 8);
    ck_assert_int_eq(cl.state, MQTLS_CLIENT_CONNECTED);
}
END_TEST

START_TEST(giving_up_half_way_closes_what_the_open_made)
{
    ck_assert_int_eq(mqtls_client_start(&cl), MQTLS_OK);
    ck_assert_int_eq(mqtls_client_poll(&cl, 0), MQTLS_OK);
    ck_assert_int_eq(cl.state, MQTLS_CLIENT_OPENING);
    ck_assert_int_eq(mqtls_client_disconnect(&cl), MQTLS_OK);
    ck_assert_int_eq(ft.closed, 1);
    ck_assert_int_eq(cl.state, MQTLS_CLIENT_DISCONNECTED);
    ck_assert_int_eq(seen.closed, 1);
    ck_assert_int_eq(seen.closed_reason, MQTLS_OK);
    ck_assert_uint_eq(ft.tx_len, 0);
    /* abort, the same */
    fake_transport_init(&ft, &clk);
    opens = 0;
    ck_assert_int_eq(mqtls_client_start(&cl), MQTLS_OK);
    ck_assert_int_eq(mqtls_client_abort(&cl), MQTLS_OK);
    ck_assert_int_eq(ft.closed, 1);
    ck_assert_int_eq(seen.closed, 2);
    ck_assert_int_eq(seen.closed_reason, MQTLS_ERR_ABORTED);
}
END_TEST

START_TEST(a_failure_after_slices_ends_the_attempt_once_and_backs_off)
{
    int i;
    fail_with = MQTLS_ERR_TLS_CERT_UNTRUSTED;
    ck_assert_int_eq(mqtls_client_start(&cl), MQTLS_OK);
    for (i = 0; i < 2; i++)
        ck_assert_int_eq(mqtls_client_poll(&cl, 0), MQTLS_OK);
    ck_assert_int_eq(mqtls_client_poll(&cl, 0), MQTLS_ERR_TLS_CERT_UNTRUSTED);
    ck_assert_int_eq(cl.state, MQTLS_CLIENT_DISCONNECTED);
    ck_assert_int_eq(seen.closed, 1);
    ck_assert_int_eq(seen.closed_reason, MQTLS_ERR_TLS_CERT_UNTRUSTED);
    ck_assert_int_eq(ft.closed, 0); /* a failing open released what it had */
    ck_assert_int_eq(opens, 4);
    /* The next attempt waits out the backoff, then opens afresh. */
    (void)mqtls_client_poll(&cl, 0);
    ck_assert_int_eq(opens, 4);
    opens = 0;
    fail_with = MQTLS_OK;
    for (i = 0; i < 20 && opens == 0; i++)
        (void)mqtls_client_poll(&cl, 1000);
    ck_assert_int_eq(opens, 1);
    ck_assert_int_eq(cl.state, MQTLS_CLIENT_OPENING);
    ck_assert_int_eq(seen.closed, 1);
}
END_TEST

/* What an event loop sleeps on: nothing while OPENING (the open's own
 * input decides), the CONNACK deadline while CONNECTING, the keep-alive
 * while connected, the backoff once lost, and nothing after disconnect. */
START_TEST(next_due_follows_each_state)
{
    int i;
    ck_assert_uint_eq(mqtls_client_next_due_ms(NULL), MQTLS_WAIT_FOREVER);
    slices = 1;
    ck_assert_int_eq(mqtls_client_start(&cl), MQTLS_OK);
    ck_assert_int_eq(cl.state, MQTLS_CLIENT_OPENING);
    ck_assert_uint_eq(mqtls_client_next_due_ms(&cl), MQTLS_WAIT_FOREVER);
    ck_assert_int_eq(mqtls_client_poll(&cl, 0), MQTLS_OK); /* the open ends: CONNECT */
    ck_assert_int_eq(cl.state, MQTLS_CLIENT_CONNECTING);
    ck_assert_uint_eq(mqtls_client_next_due_ms(&cl), 150);
    clk.now_ms += 100;
    ck_assert_uint_eq(mqtls_client_next_due_ms(&cl), 50);
    FEED(0x20, 0x02, 0x00, 0x00);
    ck_assert_int_eq(mqtls_client_poll(&cl, 0), MQTLS_OK);
    ck_assert_int_eq(cl.state, MQTLS_CLIENT_CONNECTED);
    /* Keep-alive 10 s since the CONNECT went, 100 ms ago. */
    ck_assert_uint_eq(mqtls_client_next_due_ms(&cl), 9900);
    clk.now_ms += 9900;
    ck_assert_uint_eq(mqtls_client_next_due_ms(&cl), 0);
    ck_assert_int_eq(mqtls_client_poll(&cl, 0), MQTLS_OK); /* PINGREQ */
    ck_assert(cl.ping_outstanding);
    clk.now_ms += 4000; /* the PINGRESP is due within another period */
    ck_assert_uint_eq(mqtls_client_next_due_ms(&cl), 6000);
    /* Lost: the backoff (1,000 ms here) decides. */
    cut();
    (void)mqtls_client_poll(&cl, 0);
    ck_assert_int_eq(cl.state, MQTLS_CLIENT_DISCONNECTED);
    ck_assert_uint_le(mqtls_client_next_due_ms(&cl), 1000);
    clk.now_ms += 1000;
    ck_assert_uint_eq(mqtls_client_next_due_ms(&cl), 0);
    opens = 0;
    fake_transport_init(&ft, &clk); /* a fresh link */
    for (i = 0; i < 3 && opens == 0; i++)
        (void)mqtls_client_poll(&cl, 0);
    ck_assert_int_eq(opens, 1); /* due meant due */
    /* After disconnect() nothing is due. */
    (void)mqtls_client_disconnect(&cl);
    ck_assert_uint_eq(mqtls_client_next_due_ms(&cl), MQTLS_WAIT_FOREVER);
}
END_TEST

Suite *client_open_suite(void)
{
    Suite *s = suite_create("client_open");
    TCase *tc = tcase_create("slices");
    tcase_add_checked_fixture(tc, setup, client_teardown);
    tcase_add_test(tc, each_poll_is_one_slice_and_connect_follows_the_last);
    tcase_add_test(tc, connect_goes_through_every_slice);
    tcase_add_test(tc, giving_up_half_way_closes_what_the_open_made);
    tcase_add_test(tc, a_failure_after_slices_ends_the_attempt_once_and_backs_off);
    tcase_add_test(tc, next_due_follows_each_state);
    suite_add_tcase(s, tc);
    return s;
}
