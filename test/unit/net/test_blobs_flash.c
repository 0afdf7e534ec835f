/* SPDX-License-Identifier: Apache-2.0 */
/* Blobs on NOR flash (net/blobs_flash.h) over the simulator: what they
 * promise, and the power cut at every flash operation of a workload (a
 * blob replaced several times, one removed, sector copies), with torn
 * program units and interrupted erases: after the reboot every blob reads
 * as its content before or after the operation that was cut, whole. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "net/blobs_flash.h"
#include "net/crc32.h"
#include "test/unit/flash_sim.h"
#include "test/unit/suites.h"

static flash_sim sim;
static mqtls_flash fl;
static mqtls_blobs_flash bf;
static mqtls_blobs bl;

static void mount(void)
{
    flash_sim_as(&sim, &fl);
    ck_assert_int_eq(mqtls_blobs_flash_init(&bf, &fl), MQTLS_OK);
    mqtls_blobs_flash_interface(&bf, &bl);
}

static void setup(void)
{
    flash_sim_init(&sim, 512, 3, 8);
    mount();
}

START_TEST(write_read_replace_remove)
{
    uint8_t buf[64];
    size_t len = 0;
    ck_assert_int_eq(bl.read(bl.ctx, "ca.active", buf, sizeof buf, &len), MQTLS_ERR_BLOB_NOT_FOUND);
    ck_assert_int_eq(bl.write(bl.ctx, "ca.active", (const uint8_t *)"one", 3), MQTLS_OK);
    ck_assert_int_eq(bl.read(bl.ctx, "ca.active", buf, sizeof buf, &len), MQTLS_OK);
    ck_assert_uint_eq(len, 3);
    ck_assert_mem_eq(buf, "one", 3);
    ck_assert_int_eq(bl.write(bl.ctx, "ca.active", (const uint8_t *)"second", 6), MQTLS_OK);
    ck_assert_int_eq(bl.read(bl.ctx, "ca.active", buf, 2, &len), MQTLS_ERR_BUFFER_TOO_SMALL);
    ck_assert_uint_eq(len, 6);
    ck_assert_int_eq(bl.read(bl.ctx, "ca.active", buf, sizeof buf, &len), MQTLS_OK);
    ck_assert_mem_eq(buf, "second", 6);
    ck_assert_int_eq(bl.remove(bl.ctx, "ca.active"), MQTLS_OK);
    ck_assert_int_eq(bl.read(bl.ctx, "ca.active", buf, sizeof buf, &len), MQTLS_ERR_BLOB_NOT_FOUND);
    ck_assert_int_eq(bl.remove(bl.ctx, "ca.active"), MQTLS_OK);
    ck_assert_int_eq(bl.write(bl.ctx, "../x", (const uint8_t *)"x", 1), MQTLS_ERR_INVALID_ARG);
    ck_assert_uint_eq(sim.violations, 0);
    ck_assert_uint_eq(sim.reprograms, 0); /* each unit once: flash with ECC takes it */
}
END_TEST

/* Many replacements: the sectors are copied in turn, each erased as it is
 * reused, the content always the last written. */
START_TEST(replacements_move_through_the_sectors)
{
    uint8_t data[100], buf[128];
    size_t len;
    int i;
    for (i = 0; i < 60; i++) {
        memset(data, i, sizeof data);
        ck_assert_int_eq(bl.write(bl.ctx, "id.current.crt", data, sizeof data), MQTLS_OK);
        ck_assert_int_eq(bl.write(bl.ctx, "ca.active", data, (size_t)(10 + i)), MQTLS_OK);
        ck_assert_int_eq(bl.read(bl.ctx, "id.current.crt", buf, sizeof buf, &len), MQTLS_OK);
        ck_assert_uint_eq(len, sizeof data);
        ck_assert_mem_eq(buf, data, sizeof data);
    }
    ck_assert_uint_gt(bf.compactions, 10);
    ck_assert_uint_gt(sim.erases[0], 3);
    ck_assert_uint_gt(sim.erases[1], 3);
    ck_assert_uint_gt(sim.erases[2], 3);
    ck_assert_uint_eq(sim.violations, 0);
    /* A reboot reads the same. */
    mount();
    ck_assert_int_eq(bl.read(bl.ctx, "ca.active", buf, sizeof buf, &len), MQTLS_OK);
    ck_assert_uint_eq(len, 69);
}
END_TEST

/* A sector written by a later firmware (format 2): nothing is read as
 * missing, nothing is written, the image stays as it was. */
START_TEST(a_newer_format_is_refused_and_left_alone)
{
    static uint8_t before[FLASH_SIM_MAX];
    uint8_t buf[16], *h = sim.mem + 512;
    size_t len;
    uint32_t crc;
    ck_assert_int_eq(bl.write(bl.ctx, "ca.active", (const uint8_t *)"one", 3), MQTLS_OK);
    memcpy(h, "MQBS", 4);
    h[4] = 9; h[5] = h[6] = h[7] = 0;
    h[8] = 2; h[9] = h[10] = h[11] = 0;
    crc = mqtls_crc32(0, h, 12);
    h[12] = (uint8_t)crc; h[13] = (uint8_t)(crc >> 8); h[14] = (uint8_t)(crc >> 16);
    h[15] = (uint8_t)(crc >> 24);
    memcpy(before, sim.mem, sizeof before);
    ck_assert_int_eq(bl.read(bl.ctx, "ca.active", buf, sizeof buf, &len), MQTLS_ERR_FLASH_FORMAT);
    ck_assert_int_eq(bl.write(bl.ctx, "ca.active", (const uint8_t *)"two", 3),
                     MQTLS_ERR_FLASH_FORMAT);
    ck_assert_int_eq(bl.remove(bl.ctx, "ca.active"), MQTLS_ERR_FLASH_FORMAT);
    ck_assert_int_eq(memcmp(before, sim.mem, sizeof before), 0);
}
END_TEST

/* The workload: blob contents after each step (NULL: absent). */
#define STEPS 14
static const char *const names[2] = {"ca.active", "id.new.key"};
static uint8_t contents[STEPS + 1][2][160];
static size_t lens[STEPS + 1][2];
static int present[STEPS + 1][2];

static void plan(void)
{
    int k, n;
    memset(present, 0, sizeof present);
    for (k = 1; k <= STEPS; k++) {
        for (n = 0; n < 2; n++) {
            memcpy(contents[k][n], contents[k - 1][n], sizeof contents[k][n]);
            lens[k][n] = lens[k - 1][n];
            present[k][n] = present[k - 1][n];
        }
        n = k % 2;
        if (k == 9) { /* step 9 removes the key */
            present[k][1] = 0;
            continue;
        }
        lens[k][n] = (size_t)(40 + (k * 37) % 120);
        memset(contents[k][n], 'A' + k, lens[k][n]);
        present[k][n] = 1;
    }
}

static int step(int k)
{
    int n = k % 2;
    if (k == 9)
        return bl.remove(bl.ctx, names[1]);
    return bl.write(bl.ctx, names[n], contents[k][n], lens[k][n]);
}

/* What blob n reads as matches step k's state. */
static int reads_as(int n, int k)
{
    uint8_t buf[200];
    size_t len = 0;
    int ret = bl.read(bl.ctx, names[n], buf, sizeof buf, &len);
    if (!present[k][n])
        return ret == MQTLS_ERR_BLOB_NOT_FOUND;
    return ret == MQTLS_OK && len == lens[k][n] && memcmp(buf, contents[k][n], len) == 0;
}

START_TEST(a_power_cut_at_every_flash_operation_leaves_old_or_new)
{
    unsigned long total, cut, tried = 0;
    int k;
    plan();
    /* How many operations the whole workload takes. */
    flash_sim_init(&sim, 512, 3, 8);
    mount();
    for (k = 1; k <= STEPS; k++)
        ck_assert_int_eq(step(k), MQTLS_OK);
    total = sim.ops;
    ck_assert_uint_gt(bf.compactions, 2);
    for (cut = 0; cut < total; cut++) {
        int tear;
        for (tear = 0; tear < 2; tear++) {
            int failed_at = 0, n;
            flash_sim_init(&sim, 512, 3, 8);
            sim.seed = (uint32_t)(cut * 7u + (unsigned long)tear);
            sim.tear = tear ? FLASH_TEAR_PARTIAL : FLASH_TEAR_RANDOM;
            sim.cut_at = (long)cut;
            mount();
            for (k = 1; k <= STEPS && failed_at == 0; k++)
                if (step(k) != MQTLS_OK)
                    failed_at = k;
            flash_sim_reboot(&sim);
            mount();
            for (n = 0; n < 2; n++) {
                if (failed_at == 0) {
                    ck_assert_msg(reads_as(n, STEPS), "cut %lu: blob %d", cut, n);
                } else {
                    ck_assert_msg(reads_as(n, failed_at - 1) || reads_as(n, failed_at),
                                  "cut %lu at step %d (tear %d): %s is neither old nor new", cut,
                                  failed_at, tear, names[n]);
                }
            }
            ck_assert_uint_eq(sim.reprograms, 0);
            /* And the store goes on working after the reboot. */
            ck_assert_int_eq(bl.write(bl.ctx, "probe", (const uint8_t *)"ok", 2), MQTLS_OK);
            ck_assert_int_eq(reads_as(0, failed_at ? failed_at - 1 : STEPS) ||
                                 reads_as(0, failed_at),
                             1);
            tried++;
        }
    }
    printf("  blobs on flash: old or new content after a power cut at each of %lu flash "
           "operations, torn two ways (%lu cuts)\n",
           total, tried);
}
END_TEST

Suite *blobs_flash_suite(void)
{
    Suite *s = suite_create("blobs_flash");
    TCase *tc = tcase_create("nor");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, write_read_replace_remove);
    tcase_add_test(tc, replacements_move_through_the_sectors);
    tcase_add_test(tc, a_newer_format_is_refused_and_left_alone);
    tcase_add_test(tc, a_power_cut_at_every_flash_operation_leaves_old_or_new);
    suite_add_tcase(s, tc);
    return s;
}
