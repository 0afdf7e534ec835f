/* SPDX-License-Identifier: Apache-2.0 */
/* Reconnect backoff: caps double from min to max, delays are full-jitter
 * within the cap, refusals wait on the slow schedule, reset starts over. */
#include <check.h>

#include "mqtt/backoff.h"
#include "test/unit/suites.h"

static uint32_t always_max(void *ctx)
{
    (void)ctx;
    return UINT32_MAX;
}

static uint32_t always_zero(void *ctx)
{
    (void)ctx;
    return 0;
}

START_TEST(caps_double_from_min_to_max)
{
    static const uint32_t want[] = {100, 200, 400, 800, 1000, 1000, 1000};
    mqtls_backoff b;
    uint32_t d;
    size_t i;

    mqtls_backoff_init(&b, 1);
    ck_assert_int_eq(mqtls_backoff_configure(&b, 100, 1000, 5000), MQTLS_OK);
    b.random = always_max; /* the top of each window: the cap itself */
    for (i = 0; i < sizeof want / sizeof want[0]; i++) {
        ck_assert_int_eq(mqtls_backoff_next(&b, MQTLS_BACKOFF_TRANSIENT, &d), MQTLS_OK);
        ck_assert_uint_eq(d, want[i]);
    }
    b.random = always_zero; /* full jitter reaches down to 0 */
    ck_assert_int_eq(mqtls_backoff_next(&b, MQTLS_BACKOFF_TRANSIENT, &d), MQTLS_OK);
    ck_assert_uint_eq(d, 0);
}
END_TEST

/* With the built-in generator and a fixed seed: every delay within its
 * window, the windows' upper halves actually used, and the same sequence
 * for the same seed. */
START_TEST(jitter_stays_in_the_window_and_repeats_with_the_seed)
{
    mqtls_backoff a, b;
    uint32_t da, db, cap = 250, high = 0;
    int i;

    mqtls_backoff_init(&a, 42);
    mqtls_backoff_init(&b, 42);
    ck_assert_int_eq(mqtls_backoff_configure(&a, 250, 8000, 60000), MQTLS_OK);
    ck_assert_int_eq(mqtls_backoff_configure(&b, 250, 8000, 60000), MQTLS_OK);
    for (i = 0; i < 1000; i++) {
        ck_assert_int_eq(mqtls_backoff_next(&a, MQTLS_BACKOFF_TRANSIENT, &da), MQTLS_OK);
        ck_assert_int_eq(mqtls_backoff_next(&b, MQTLS_BACKOFF_TRANSIENT, &db), MQTLS_OK);
        ck_assert_uint_eq(da, db);
        ck_assert_uint_le(da, cap);
        high += da > cap / 2;
        if (cap < 8000)
            cap *= 2;
        if (i % 10 == 9) { /* a stable connection now and then */
            mqtls_backoff_reset(&a);
            mqtls_backoff_reset(&b);
            cap = 250;
        }
    }
    ck_assert_uint_gt(high, 300);
    ck_assert_uint_lt(high, 700);
}
END_TEST

/* A broker that accepts and drops us at once: the caller does not reset
 * (the connection never proved stable), so delays keep growing. */
START_TEST(no_reset_no_storm)
{
    mqtls_backoff b;
    uint32_t d;
    int i;

    mqtls_backoff_init(&b, 7);
    b.random = always_max;
    for (i = 0; i < 20; i++)
        ck_assert_int_eq(mqtls_backoff_next(&b, MQTLS_BACKOFF_TRANSIENT, &d), MQTLS_OK);
    ck_assert_uint_eq(d, b.max_ms);
    ck_assert_uint_eq(b.failures, 20);
}
END_TEST

START_TEST(refusals_wait_on_the_slow_schedule)
{
    mqtls_backoff b;
    uint32_t d;
    int i;

    mqtls_backoff_init(&b, 9);
    for (i = 0; i < 200; i++) {
        ck_assert_int_eq(mqtls_backoff_next(&b, MQTLS_BACKOFF_REFUSED, &d), MQTLS_OK);
        ck_assert_uint_ge(d, 300000);
        ck_assert_uint_le(d, 600000);
    }
    ck_assert_int_eq(mqtls_backoff_reset(&b), MQTLS_OK);
    b.random = always_max;
    ck_assert_int_eq(mqtls_backoff_next(&b, MQTLS_BACKOFF_TRANSIENT, &d), MQTLS_OK);
    ck_assert_uint_eq(d, 500);
}
END_TEST

START_TEST(bad_arguments)
{
    mqtls_backoff b;
    uint32_t d;

    mqtls_backoff_init(&b, 0); /* seed 0 is replaced: xorshift would stick at 0 */
    ck_assert_uint_ne(b.seed, 0);
    ck_assert_int_eq(mqtls_backoff_configure(&b, 0, 10, 20), MQTLS_ERR_INVALID_ARG);
    ck_assert_int_eq(mqtls_backoff_configure(&b, 20, 10, 30), MQTLS_ERR_INVALID_ARG);
    ck_assert_int_eq(mqtls_backoff_configure(&b, 10, 20, 15), MQTLS_ERR_INVALID_ARG);
    ck_assert_int_eq(mqtls_backoff_next(&b, (mqtls_backoff_reason)5, &d), MQTLS_ERR_INVALID_ARG);
    ck_assert_int_eq(mqtls_backoff_next(&b, MQTLS_BACKOFF_TRANSIENT, NULL), MQTLS_ERR_INVALID_ARG);
    /* The largest settings do not overflow. */
    ck_assert_int_eq(mqtls_backoff_configure(&b, UINT32_MAX, UINT32_MAX, UINT32_MAX), MQTLS_OK);
    b.random = always_max;
    ck_assert_int_eq(mqtls_backoff_next(&b, MQTLS_BACKOFF_TRANSIENT, &d), MQTLS_OK);
    ck_assert_uint_eq(d, UINT32_MAX);
    ck_assert_int_eq(mqtls_backoff_next(&b, MQTLS_BACKOFF_REFUSED, &d), MQTLS_OK);
    ck_assert_uint_eq(d, UINT32_MAX);
}
END_TEST

Suite *backoff_suite(void)
{
    Suite *s = suite_create("backoff");
    TCase *tc = tcase_create("backoff");
    tcase_add_test(tc, caps_double_from_min_to_max);
    tcase_add_test(tc, jitter_stays_in_the_window_and_repeats_with_the_seed);
    tcase_add_test(tc, no_reset_no_storm);
    tcase_add_test(tc, refusals_wait_on_the_slow_schedule);
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}
