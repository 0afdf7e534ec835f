/* SPDX-License-Identifier: Apache-2.0 */
/* The fakes themselves behave as the client's tests will assume. */
#include <check.h>

#include "test/unit/fake.h"
#include "test/unit/suites.h"

START_TEST(scripted_transport_delivers_sends_fails_and_waits)
{
    fake_clock clock = {1000};
    fake_transport f;
    mqtls_transport t;
    mqtls_clock c;
    uint8_t b[8];

    fake_transport_init(&f, &clock);
    fake_transport_as(&f, &t);
    fake_clock_as(&clock, &c);
    fake_transport_feed(&f, "abc", 3);
    f.max_per_call = 1;
    ck_assert_int_eq(t.recv(t.ctx, b, sizeof b, 50), 1);
    ck_assert_int_eq(b[0], 'a');
    ck_assert_int_eq(t.send(t.ctx, (const uint8_t *)"xyz", 3, 50), 1);
    f.max_per_call = 0;
    ck_assert_int_eq(t.recv(t.ctx, b, sizeof b, 50), 2);
    ck_assert_uint_eq(c.now_ms(c.ctx), 1000);
    ck_assert_int_eq(t.recv(t.ctx, b, sizeof b, 250), 0); /* nothing: the wait passes */
    ck_assert_uint_eq(c.now_ms(c.ctx), 1250);
    ck_assert_uint_eq(f.tx_len, 1);
    ck_assert_int_eq(f.tx[0], 'x');
    f.fail_after = (long)f.calls;
    ck_assert_int_eq(t.send(t.ctx, b, 1, 0), MQTLS_ERR_NET_CLOSED);
    t.close(t.ctx);
    ck_assert(f.closed);
    ck_assert_int_eq(t.recv(t.ctx, b, 1, 0), MQTLS_ERR_NET_NOT_CONNECTED);
}
END_TEST

Suite *fake_suite(void)
{
    Suite *s = suite_create("fake");
    TCase *tc = tcase_create("fake");
    tcase_add_test(tc, scripted_transport_delivers_sends_fails_and_waits);
    suite_add_tcase(s, tc);
    return s;
}
