/* SPDX-License-Identifier: Apache-2.0 */
/* The client with a store that survives a reboot (the flash store over
 * the simulator), and the telemetry policies: a message is marked sent on
 * flash before its bytes go out; after a reboot, what went out is resent
 * with DUP and what never did without [MQTT-3.3.1-1]; drop_oldest and
 * max_age_s drop only messages never put on the wire, each reported. */
#include <check.h>
#include <string.h>

#include "mqtt/store_flash.h"
#include "test/unit/flash_sim.h"
#include "test/unit/mqtt/client_fixture.h"
#include "test/unit/suites.h"

static flash_sim sim;
static mqtls_flash fl;
static mqtls_flash_store fs;
static mqtls_flash_store_slot slots[16];
static mqtls_flash_store_sector sectors[4];
static uint8_t pbuf[256];
static mqtls_store inner;
static size_t tx_at_mark[8], marks;
static uint32_t wall_s;

/* mark_sent, recording how many bytes had gone out when it was called. */
static int mark_spy(void *ctx, uint16_t id)
{
    if (marks < 8)
        tx_at_mark[marks++] = ft.tx_len;
    return inner.mark_sent(ctx, id);
}

static uint32_t wall(void *ctx)
{
    (void)ctx;
    return wall_s;
}

static void flash_store(void)
{
    ck_assert_int_eq(mqtls_flash_store_mount(&fs, &fl, slots, 16, sectors, pbuf, sizeof pbuf),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_flash_store_interface(&fs, &inner), MQTLS_OK);
    cfg.store = inner;
    cfg.store.mark_sent = mark_spy;
}

static void setup(void)
{
    client_setup();
    flash_sim_init(&sim, 512, 4, 8);
    flash_sim_as(&sim, &fl);
    marks = 0;
    wall_s = 0;
}

START_TEST(after_a_reboot_what_went_out_is_resent_with_dup_and_the_rest_without)
{
    mqtls_packet pk[4];
    uint16_t id1, id2;
    mqtls_publish m = message(1, "one");
    flash_store();
    cfg.window = 1;
    cfg.connect.clean_session = false;
    connect_ok();
    ck_assert_int_eq(mqtls_client_publish(&cl, &m, &id1), MQTLS_OK);
    m = message(1, "two");
    ck_assert_int_eq(mqtls_client_publish(&cl, &m, &id2), MQTLS_OK);
    /* The first went out, marked on flash before a byte of it was sent;
     * the second waits for the window. */
    ck_assert_uint_eq(marks, 1);
    ck_assert_uint_eq(tx_at_mark[0], 0);
    ck_assert_uint_eq(sent_packets(pk, 4), 1);
    ck_assert(!pk[0].u.publish.dup && pk[0].packet_id == id1);

    /* Power cut: a new client over the same flash, the broker kept the session. */
    fake_transport_clear_tx(&ft);
    mqtls_client_init(&cl);
    flash_store();
    FEED(0x20, 0x02, 0x01, 0x00);
    ck_assert_int_eq(mqtls_client_setup(&cl, &cfg), MQTLS_OK);
    ck_assert_int_eq(mqtls_client_connect(&cl, 3000), MQTLS_OK);
    ck_assert_uint_eq(sent_packets(pk, 4), 2);
    ck_assert(pk[1].u.publish.dup && pk[1].packet_id == id1); /* it may have arrived */
    fake_transport_clear_tx(&ft);
    FEED(0x40, 0x02, (uint8_t)(id1 >> 8), (uint8_t)id1);
    ck_assert_int_eq(mqtls_client_poll(&cl, 100), MQTLS_OK);
    ck_assert_uint_eq(sent_packets(pk, 4), 1);
    ck_assert(!pk[0].u.publish.dup && pk[0].packet_id == id2); /* never sent before */
    ck_assert_int_eq(seen.acked, 1);
}
END_TEST

START_TEST(drop_oldest_takes_only_a_message_never_sent)
{
    mqtls_publish m = message(1, "0123456789012345678901234567890123456789");
    uint16_t ids[16], id;
    int n = 0, ret;
    ck_assert_int_eq(mqtls_ram_store_setup(&rs, ring, 256), MQTLS_OK);
    cfg.window = 1;
    connect_ok();
    for (ret = MQTLS_OK; n < 16; n++) { /* fill it: the first is on the wire */
        ret = mqtls_client_publish(&cl, &m, &ids[n]);
        if (ret != MQTLS_OK)
            break;
    }
    ck_assert_int_eq(ret, MQTLS_ERR_STORE_FULL);
    cl.cfg.drop_oldest = true;
    ck_assert_int_ge(n, 3);
    ck_assert_int_eq(seen.dropped, 0);
    ck_assert_int_eq(mqtls_client_publish(&cl, &m, &id), MQTLS_OK);
    /* The RAM ring reuses room only at its ends: the oldest unsent ones go
     * until the new one fits, each reported; the one on the wire stays. */
    ck_assert_int_ge(seen.dropped, 1);
    ck_assert_int_eq(seen.dropped_reason, MQTLS_ERR_STORE_DROPPED);
    {
        mqtls_store_entry e;
        int k, gone = 0;
        ck_assert_int_eq(cfg.store.find(cfg.store.ctx, ids[0], &e), MQTLS_OK);
        ck_assert_int_eq(cfg.store.find(cfg.store.ctx, ids[1], &e), MQTLS_ERR_STORE_NOT_FOUND);
        ck_assert_int_eq(cfg.store.find(cfg.store.ctx, id, &e), MQTLS_OK);
        for (k = 1; k < n; k++) {
            const int missing = cfg.store.find(cfg.store.ctx, ids[k], &e) != MQTLS_OK;
            ck_assert(!missing || gone == k - 1); /* oldest first */
            gone += missing;
        }
        ck_assert_int_eq(gone, seen.dropped);
    }
    /* Setup takes the policy only where it is compiled in. */
    cfg.drop_oldest = true;
    ck_assert_int_eq(mqtls_client_setup(&cl, &cfg),
                     MQTLS_CLIENT_STORE_POLICY ? MQTLS_OK : MQTLS_ERR_CONFIG_POLICY);
}
END_TEST

START_TEST(max_age_drops_what_waited_too_long_and_was_never_sent)
{
    mqtls_publish m = message(1, "x");
    uint16_t a, b, c, d;
    cfg.clock.now_s = wall;
    cfg.max_age_s = 60;
    cfg.window = 1;
    wall_s = 1000;
    connect_ok();
    ck_assert_int_eq(mqtls_client_publish(&cl, &m, &a), MQTLS_OK); /* on the wire */
    ck_assert_int_eq(mqtls_client_publish(&cl, &m, &b), MQTLS_OK);
    wall_s = 0; /* the clock lost: no time stamp, never dropped for age */
    ck_assert_int_eq(mqtls_client_publish(&cl, &m, &c), MQTLS_OK);
    wall_s = 1030;
    ck_assert_int_eq(mqtls_client_publish(&cl, &m, &d), MQTLS_OK);
    wall_s = 1061;
    clk.now_ms += 1000;
    ck_assert_int_eq(mqtls_client_poll(&cl, 0), MQTLS_OK);
    ck_assert_int_eq(seen.dropped, 1); /* b: 61 s old and never sent */
    ck_assert_uint_eq(seen.last_dropped, b);
    ck_assert_int_eq(seen.dropped_reason, MQTLS_ERR_STORE_EXPIRED);
    wall_s = 1091;
    clk.now_ms += 1000;
    ck_assert_int_eq(mqtls_client_poll(&cl, 0), MQTLS_OK);
    ck_assert_int_eq(seen.dropped, 2); /* d; a is on the wire, c has no time */
    ck_assert_uint_eq(seen.last_dropped, d);
    {
        mqtls_store_entry e;
        ck_assert_int_eq(cfg.store.find(cfg.store.ctx, a, &e), MQTLS_OK);
        ck_assert_int_eq(cfg.store.find(cfg.store.ctx, c, &e), MQTLS_OK);
    }
    /* Age needs calendar seconds. */
    cfg.clock.now_s = NULL;
    ck_assert_int_eq(mqtls_client_setup(&cl, &cfg), MQTLS_ERR_CONFIG_POLICY);
}
END_TEST

Suite *client_store_suite(void)
{
    Suite *s = suite_create("client_store");
    TCase *tc = tcase_create("durable");
    tcase_add_checked_fixture(tc, setup, client_teardown);
    tcase_add_test(tc, after_a_reboot_what_went_out_is_resent_with_dup_and_the_rest_without);
    tcase_add_test(tc, drop_oldest_takes_only_a_message_never_sent);
    tcase_add_test(tc, max_age_drops_what_waited_too_long_and_was_never_sent);
    suite_add_tcase(s, tc);
    return s;
}
