/* SPDX-License-Identifier: Apache-2.0 */
/* The flash simulator the flash stores are proven on: NOR semantics, the
 * geometry check, and the power cut at operation N (torn program units,
 * interrupted erases, every later call failing, the image kept). */
#include <check.h>
#include <string.h>

#include "net/flash.h"
#include "test/unit/flash_sim.h"
#include "test/unit/suites.h"

static flash_sim sim;
static mqtls_flash fl;

static void setup(void)
{
    flash_sim_init(&sim, 4096, 4, 8);
    flash_sim_as(&sim, &fl);
}

START_TEST(the_geometry_is_checked)
{
    mqtls_flash bad = fl;
    ck_assert_int_eq(mqtls_flash_check(&fl), MQTLS_OK);
    bad.program_unit = 3;
    ck_assert_int_eq(mqtls_flash_check(&bad), MQTLS_ERR_FLASH_ALIGN);
    bad = fl;
    bad.sector_count = 1;
    ck_assert_int_eq(mqtls_flash_check(&bad), MQTLS_ERR_FLASH_ALIGN);
    bad = fl;
    bad.erase = NULL;
    ck_assert_int_eq(mqtls_flash_check(&bad), MQTLS_ERR_INVALID_ARG);
    ck_assert_int_eq(mqtls_flash_check(NULL), MQTLS_ERR_INVALID_ARG);
}
END_TEST

START_TEST(program_only_clears_bits_and_erase_sets_them)
{
    static const uint8_t a[8] = {0xF0, 0x0F, 0xAA, 0x55, 0, 1, 2, 3};
    static const uint8_t b[8] = {0xFF, 0xFF, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    uint8_t got[8];
    ck_assert_int_eq(fl.program(fl.ctx, 8, a, 8), MQTLS_OK);
    ck_assert_int_eq(fl.read(fl.ctx, 8, got, 8), MQTLS_OK);
    ck_assert_mem_eq(got, a, 8);
    ck_assert_uint_eq(sim.violations, 0);
    /* Over written bytes: ANDed, and the 0 -> 1 wishes are counted. */
    ck_assert_int_eq(fl.program(fl.ctx, 8, b, 8), MQTLS_OK);
    ck_assert_int_eq(fl.read(fl.ctx, 8, got, 8), MQTLS_OK);
    ck_assert_uint_eq(got[2], 0x0A);
    ck_assert_uint_eq(got[0], 0xF0);
    ck_assert_uint_gt(sim.violations, 0);
    ck_assert_int_eq(fl.erase(fl.ctx, 0), MQTLS_OK);
    ck_assert_int_eq(fl.read(fl.ctx, 8, got, 8), MQTLS_OK);
    {
        static const uint8_t erased[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
        ck_assert_mem_eq(got, erased, 8);
    }
    ck_assert_uint_eq(sim.erases[0], 1);
    ck_assert_uint_eq(sim.erases[1], 0);
}
END_TEST

START_TEST(programs_are_whole_aligned_units_within_a_sector)
{
    static const uint8_t d[16] = {0};
    ck_assert_int_eq(fl.program(fl.ctx, 4, d, 8), MQTLS_ERR_FLASH_ALIGN);
    ck_assert_int_eq(fl.program(fl.ctx, 8, d, 12), MQTLS_ERR_FLASH_ALIGN);
    ck_assert_int_eq(fl.program(fl.ctx, 4096 - 8, d, 16), MQTLS_ERR_FLASH_ALIGN);
    ck_assert_int_eq(fl.erase(fl.ctx, 4), MQTLS_ERR_FLASH_ALIGN);
    ck_assert_uint_eq(sim.ops, 0); /* refused before reaching the chip */
}
END_TEST

START_TEST(a_cut_tears_the_operation_and_stops_the_rest)
{
    static uint8_t d[64], got[64];
    unsigned tries, torn_units_seen = 0;
    memset(d, 0x00, sizeof d);
    for (tries = 0; tries < 20; tries++) {
        size_t i, differing = 0;
        flash_sim_init(&sim, 4096, 4, 8);
        sim.seed = 1000u + tries;
        sim.tear = tries % 2 ? FLASH_TEAR_PARTIAL : FLASH_TEAR_RANDOM;
        flash_sim_as(&sim, &fl);
        sim.cut_at = 1;
        ck_assert_int_eq(fl.read(fl.ctx, 0, got, 8), MQTLS_OK);        /* op 0 */
        ck_assert_int_eq(fl.program(fl.ctx, 0, d, sizeof d), MQTLS_ERR_FLASH_IO); /* op 1: torn */
        ck_assert_int_eq(fl.read(fl.ctx, 0, got, 8), MQTLS_ERR_FLASH_IO); /* dead */
        ck_assert_int_eq(fl.erase(fl.ctx, 1), MQTLS_ERR_FLASH_IO);
        flash_sim_reboot(&sim);
        ck_assert_int_eq(fl.read(fl.ctx, 0, got, sizeof got), MQTLS_OK);
        /* Units before the torn one written (all 0x00), after it untouched
         * (all 0xFF), the torn one neither, in most tears. */
        for (i = 0; i < sizeof got; i += 8) {
            size_t k, zero = 0, erased = 0;
            for (k = 0; k < 8; k++) {
                zero += got[i + k] == 0x00;
                erased += got[i + k] == 0xFF;
            }
            if (zero != 8 && erased != 8) /* neither written nor untouched */
                differing++;
        }
        torn_units_seen += differing > 0;
        ck_assert_uint_le(differing, 1); /* at most the one unit */
        ck_assert_uint_eq(sim.erases[1], 0);
    }
    ck_assert_uint_gt(torn_units_seen, 10);
}
END_TEST

START_TEST(an_interrupted_erase_leaves_a_mix)
{
    static uint8_t zeros[4096], got[4096];
    size_t i, ff = 0;
    ck_assert_int_eq(fl.program(fl.ctx, 4096, zeros, sizeof zeros), MQTLS_OK);
    sim.cut_at = (long)sim.ops;
    ck_assert_int_eq(fl.erase(fl.ctx, 1), MQTLS_ERR_FLASH_IO);
    flash_sim_reboot(&sim);
    ck_assert_int_eq(fl.read(fl.ctx, 4096, got, sizeof got), MQTLS_OK);
    for (i = 0; i < sizeof got; i++)
        ff += got[i] == 0xFF;
    ck_assert_uint_gt(ff, 0);
    ck_assert_uint_lt(ff, sizeof got);
    ck_assert_uint_eq(sim.erases[1], 1); /* a started erase wears the sector */
}
END_TEST

Suite *flash_sim_suite(void)
{
    Suite *s = suite_create("flash_sim");
    TCase *tc = tcase_create("nor");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, the_geometry_is_checked);
    tcase_add_test(tc, program_only_clears_bits_and_erase_sets_them);
    tcase_add_test(tc, programs_are_whole_aligned_units_within_a_sector);
    tcase_add_test(tc, a_cut_tears_the_operation_and_stops_the_rest);
    tcase_add_test(tc, an_interrupted_erase_leaves_a_mix);
    suite_add_tcase(s, tc);
    return s;
}
