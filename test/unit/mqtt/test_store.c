/* SPDX-License-Identifier: Apache-2.0 */
/* The RAM ring store: order, states, removal anywhere, wrap-around, a full
 * store that refuses without losing anything, and a long randomized run
 * checked against a plain array model after every operation. */
#include <check.h>
#include <string.h>

#include "mqtt/store.h"
#include "test/unit/suites.h"
#include "test/unit/testutil.h"

static uint8_t ring[1024];
static mqtls_ram_store rs;
static mqtls_store st;

static void setup_cap(size_t cap)
{
    mqtls_ram_store_init(&rs);
    ck_assert_int_eq(mqtls_ram_store_setup(&rs, ring, cap), MQTLS_OK);
    ck_assert_int_eq(mqtls_ram_store_interface(&rs, &st), MQTLS_OK);
}

static int add(uint16_t id, size_t len)
{
    return test_store_add(&st, id, len);
}

static void assert_holds(const uint16_t *ids, const size_t *lens, const uint8_t *states, size_t n)
{
    test_store_holds(&st, ids, lens, states, n);
    if (mqtls_ram_store_count(&rs) != n)
        ck_abort_msg("count %zu, want %zu", mqtls_ram_store_count(&rs), n);
}

START_TEST(keeps_order_states_and_removal_anywhere)
{
    const uint16_t ids3[] = {1, 2, 3}, ids2[] = {1, 3};
    const size_t lens3[] = {10, 20, 30}, lens2[] = {10, 30};
    const uint8_t states2[] = {MQTLS_STORE_PUBLISH, MQTLS_STORE_PUBREL};
    mqtls_store_entry e;

    setup_cap(sizeof ring);
    ck_assert_int_eq(add(1, 10), MQTLS_OK);
    ck_assert_int_eq(add(2, 20), MQTLS_OK);
    ck_assert_int_eq(add(3, 30), MQTLS_OK);
    assert_holds(ids3, lens3, NULL, 3);
    ck_assert_int_eq(st.set_state(st.ctx, 3, MQTLS_STORE_PUBREL), MQTLS_OK);
    ck_assert_int_eq(st.remove(st.ctx, 2), MQTLS_OK); /* from the middle */
    assert_holds(ids2, lens2, states2, 2);
    ck_assert_int_eq(st.find(st.ctx, 3, &e), MQTLS_OK);
    ck_assert_uint_eq(e.state, MQTLS_STORE_PUBREL);
    ck_assert_int_eq(st.find(st.ctx, 2, &e), MQTLS_ERR_STORE_NOT_FOUND);
    ck_assert_int_eq(st.remove(st.ctx, 2), MQTLS_ERR_STORE_NOT_FOUND);
    ck_assert_int_eq(st.set_state(st.ctx, 2, MQTLS_STORE_PUBREL), MQTLS_ERR_STORE_NOT_FOUND);
    ck_assert_int_eq(st.remove(st.ctx, 1), MQTLS_OK);
    ck_assert_int_eq(st.remove(st.ctx, 3), MQTLS_OK);
    assert_holds(NULL, NULL, NULL, 0);
    ck_assert_uint_eq(rs.used, 0);
}
END_TEST

START_TEST(refuses_what_it_cannot_hold)
{
    setup_cap(sizeof ring);
    ck_assert_int_eq(add(7, 5), MQTLS_OK);
    ck_assert_int_eq(add(7, 5), MQTLS_ERR_STORE_ID_IN_USE);
    ck_assert_int_eq(st.add(st.ctx, 9, ring, sizeof ring, 0), MQTLS_ERR_PACKET_TOO_LARGE);
    /* Lengths whose record size would wrap around size_t (a 32-bit target's
     * 4 GB; here the 64-bit one): refused, never stored. */
    ck_assert_int_eq(st.add(st.ctx, 9, ring, SIZE_MAX - 3, 0), MQTLS_ERR_PACKET_TOO_LARGE);
    ck_assert_int_eq(st.add(st.ctx, 9, ring, SIZE_MAX, 0), MQTLS_ERR_PACKET_TOO_LARGE);
    ck_assert_int_eq(st.add(st.ctx, 9, ring, sizeof ring - 7, 0), MQTLS_ERR_PACKET_TOO_LARGE);
    ck_assert_int_eq(st.add(st.ctx, 9, NULL, 3, 0), MQTLS_ERR_INVALID_ARG);
    ck_assert_int_eq(st.set_state(st.ctx, 7, (mqtls_store_state)9), MQTLS_ERR_INVALID_ARG);
    ck_assert_int_eq(mqtls_ram_store_setup(&rs, ring, 32), MQTLS_ERR_INVALID_ARG);
}
END_TEST

/* Full: the new message is refused, every stored one is still there, and
 * an acknowledgement makes room again. */
START_TEST(a_full_store_refuses_and_loses_nothing)
{
    uint16_t ids[64];
    size_t lens[64], n = 0;
    int ret = MQTLS_OK;

    setup_cap(256);
    while (n < 64) {
        ret = add((uint16_t)(n + 1), 40);
        if (ret != MQTLS_OK)
            break;
        ids[n] = (uint16_t)(n + 1);
        lens[n] = 40;
        n++;
    }
    ck_assert_int_eq(ret, MQTLS_ERR_STORE_FULL);
    ck_assert_uint_eq(n, 256 / 56); /* 12 header + 40, rounded to 8 */
    assert_holds(ids, lens, NULL, n);
    ck_assert_int_eq(st.remove(st.ctx, ids[0]), MQTLS_OK);
    ck_assert_int_eq(add(100, 40), MQTLS_OK);
    ids[n] = 100;
    lens[n] = 40;
    assert_holds(ids + 1, lens + 1, NULL, n);
}
END_TEST

/* Records that do not fit before the end start again at the beginning,
 * whole, so each packet stays one contiguous run. */
START_TEST(wraps_around_and_keeps_records_whole)
{
    uint16_t id = 1;
    int round;

    setup_cap(200);
    for (round = 0; round < 50; round++) {
        uint16_t ids[2];
        size_t lens[2] = {50, 70};
        ck_assert_int_eq(add(id, 50), MQTLS_OK);
        ck_assert_int_eq(add((uint16_t)(id + 1), 70), MQTLS_OK);
        ids[0] = id;
        ids[1] = (uint16_t)(id + 1);
        assert_holds(ids, lens, NULL, 2);
        ck_assert_int_eq(st.remove(st.ctx, id), MQTLS_OK);
        ck_assert_int_eq(st.remove(st.ctx, (uint16_t)(id + 1)), MQTLS_OK);
        id = (uint16_t)(id + 2);
        /* Leave one behind sometimes, so the ring really goes round. */
        if (round % 3 == 0) {
            ck_assert_int_eq(add(id, 30), MQTLS_OK);
            ck_assert_int_eq(add((uint16_t)(id + 1), 60), MQTLS_OK);
            ck_assert_int_eq(st.remove(st.ctx, id), MQTLS_OK);
            ck_assert_int_eq(st.remove(st.ctx, (uint16_t)(id + 1)), MQTLS_OK);
            id = (uint16_t)(id + 2);
        }
    }
    assert_holds(NULL, NULL, NULL, 0);
}
END_TEST

/* ---- randomized, against a model ------------------------------------------ */

static uint64_t rng = 0x73746f7265ull; /* "store" */

static uint32_t rnd(uint32_t bound)
{
    return test_rand(&rng, bound);
}

START_TEST(random_operations_match_a_model)
{
    uint16_t ids[256];
    size_t lens[256], n = 0, step, fulls = 0;
    uint8_t states[256];
    uint16_t next_id = 1;

    setup_cap(512 + 8 * (size_t)_i); /* a few capacities, so wraps land differently */
    for (step = 0; step < 20000; step++) {
        uint32_t op = rnd(10);
        if (op < 5) { /* add */
            size_t len = rnd(8) == 0 ? rnd(200) : rnd(40);
            int ret = add(next_id, len);
            if (ret == MQTLS_OK) {
                ck_assert_uint_lt(n, 256);
                ids[n] = next_id;
                lens[n] = len;
                states[n] = MQTLS_STORE_PUBLISH;
                n++;
            } else {
                ck_assert_int_eq(ret, MQTLS_ERR_STORE_FULL);
                ck_assert_uint_gt(n, 0); /* an empty store takes any record that fits */
                fulls++;
            }
            next_id = (uint16_t)(next_id % 65535u + 1u);
        } else if (op < 9 && n > 0) { /* remove: mostly the oldest, as acks come */
            size_t k = rnd(4) == 0 ? rnd((uint32_t)n) : 0;
            ck_assert_int_eq(st.remove(st.ctx, ids[k]), MQTLS_OK);
            memmove(ids + k, ids + k + 1, (n - k - 1) * sizeof ids[0]);
            memmove(lens + k, lens + k + 1, (n - k - 1) * sizeof lens[0]);
            memmove(states + k, states + k + 1, (n - k - 1) * sizeof states[0]);
            n--;
        } else if (n > 0) { /* PUBREC came */
            size_t k = rnd((uint32_t)n);
            ck_assert_int_eq(st.set_state(st.ctx, ids[k], MQTLS_STORE_PUBREL), MQTLS_OK);
            states[k] = MQTLS_STORE_PUBREL;
        }
        assert_holds(ids, lens, states, n);
        if (rs.used > rs.cap)
            ck_abort_msg("used %zu > cap %zu", rs.used, rs.cap);
    }
    ck_assert_uint_gt(fulls, 10); /* the run did reach a full store */
}
END_TEST

Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("ram");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, keeps_order_states_and_removal_anywhere);
    tcase_add_test(tc, refuses_what_it_cannot_hold);
    tcase_add_test(tc, a_full_store_refuses_and_loses_nothing);
    tcase_add_test(tc, wraps_around_and_keeps_records_whole);
    tcase_add_loop_test(tc, random_operations_match_a_model, 0, 4);
    suite_add_tcase(s, tc);
    return s;
}
