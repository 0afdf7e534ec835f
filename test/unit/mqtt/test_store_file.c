/* SPDX-License-Identifier: Apache-2.0 */
/* The file-backed store: what was acknowledged as stored survives close,
 * kill -9 and a torn last record; the journal stays bounded. */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mqtt/posix/store_file.h"
#include "net/crc32.h"
#include "test/unit/suites.h"
#include "test/unit/testutil.h"

static char dir[64], path[128];
static uint8_t ring[2048];
static mqtls_file_store fs;
static mqtls_store st;

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/mqtls-store-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/journal", dir);
}

static void teardown(void)
{
    char tmp[160];
    mqtls_file_store_close(&fs);
    unlink(path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    unlink(tmp);
    rmdir(dir);
}

static int open_store(size_t cap)
{
    int ret = mqtls_file_store_open(&fs, path, ring, cap);
    if (ret == MQTLS_OK)
        mqtls_file_store_interface(&fs, &st);
    return ret;
}

static int add(uint16_t id, size_t len)
{
    return test_store_add(&st, id, len);
}

static void assert_holds(const uint16_t *ids, const size_t *lens, const uint8_t *states, size_t n)
{
    test_store_holds(&st, ids, lens, states, n);
}

START_TEST(survives_close_and_reopen)
{
    const uint16_t ids[] = {1, 3};
    const size_t lens[] = {10, 30};
    const uint8_t states[] = {MQTLS_STORE_PUBLISH, MQTLS_STORE_PUBREL};

    ck_assert_int_eq(open_store(sizeof ring), MQTLS_OK);
    ck_assert_int_eq(add(1, 10), MQTLS_OK);
    ck_assert_int_eq(add(2, 20), MQTLS_OK);
    ck_assert_int_eq(add(3, 30), MQTLS_OK);
    ck_assert_int_eq(st.set_state(st.ctx, 3, MQTLS_STORE_PUBREL), MQTLS_OK);
    ck_assert_int_eq(st.remove(st.ctx, 2), MQTLS_OK);
    ck_assert_int_eq(add(1, 5), MQTLS_ERR_STORE_ID_IN_USE);
    mqtls_file_store_close(&fs);
    memset(ring, 0xEE, sizeof ring); /* nothing may come from the old RAM */
    ck_assert_int_eq(open_store(sizeof ring), MQTLS_OK);
    assert_holds(ids, lens, states, 2);
    ck_assert_uint_eq(fs.torn_bytes, 0);
}
END_TEST

/* A child process stores messages and is killed with SIGKILL right after
 * operation k returned; everything it was told is stored must be there. */
START_TEST(survives_kill_9_at_any_point)
{
    static const int stops[] = {1, 2, 5, 13, 40};
    const int k = stops[_i];
    uint16_t ids[64];
    size_t lens[64], n = 0;
    int op, status;
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (open_store(sizeof ring) != MQTLS_OK)
            _exit(2);
        for (op = 1; op <= k; op++) {
            /* Every third operation acknowledges the message added two
             * operations before (op - 2 is never a multiple of 3). */
            int ret = op % 3 == 0 ? st.remove(st.ctx, (uint16_t)(100 + op - 2))
                                  : add((uint16_t)(100 + op), (size_t)(op * 2));
            if (ret != MQTLS_OK)
                _exit(3);
        }
        raise(SIGKILL);
        _exit(4);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    /* The same operations on a model. */
    for (op = 1; op <= k; op++) {
        if (op % 3 == 0) {
            uint16_t gone = (uint16_t)(100 + op - 2);
            size_t j;
            for (j = 0; j < n && ids[j] != gone; j++)
                ;
            if (j < n) {
                memmove(ids + j, ids + j + 1, (n - j - 1) * sizeof ids[0]);
                memmove(lens + j, lens + j + 1, (n - j - 1) * sizeof lens[0]);
                n--;
            }
        } else {
            ids[n] = (uint16_t)(100 + op);
            lens[n] = (size_t)(op * 2);
            n++;
        }
    }
    ck_assert_int_eq(open_store(sizeof ring), MQTLS_OK);
    assert_holds(ids, lens, NULL, n);
}
END_TEST

/* Power lost in the middle of the last record: it is dropped, the rest is
 * intact, and what is written next is readable after it. */
START_TEST(a_torn_last_record_is_dropped)
{
    const uint16_t ids[] = {1, 2, 9};
    const size_t lens[] = {40, 50, 12};
    struct stat sb;

    ck_assert_int_eq(open_store(sizeof ring), MQTLS_OK);
    ck_assert_int_eq(add(1, 40), MQTLS_OK);
    ck_assert_int_eq(add(2, 50), MQTLS_OK);
    ck_assert_int_eq(add(3, 60), MQTLS_OK);
    mqtls_file_store_close(&fs);
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(truncate(path, sb.st_size - 7), 0);
    ck_assert_int_eq(open_store(sizeof ring), MQTLS_OK);
    ck_assert_uint_gt(fs.torn_bytes, 0);
    assert_holds(ids, lens, NULL, 2);
    ck_assert_int_eq(add(9, 12), MQTLS_OK);
    mqtls_file_store_close(&fs);
    ck_assert_int_eq(open_store(sizeof ring), MQTLS_OK);
    ck_assert_uint_eq(fs.torn_bytes, 0);
    assert_holds(ids, lens, NULL, 3);
}
END_TEST

/* A last record whose bytes are not what was written (a sector half
 * updated): its CRC says so, and it is dropped like a torn one. */
START_TEST(a_corrupted_last_record_is_dropped)
{
    const uint16_t ids[] = {1, 2};
    const size_t lens[] = {40, 50};
    struct stat sb;
    uint8_t b;
    int fd;

    ck_assert_int_eq(open_store(sizeof ring), MQTLS_OK);
    ck_assert_int_eq(add(1, 40), MQTLS_OK);
    ck_assert_int_eq(add(2, 50), MQTLS_OK);
    ck_assert_int_eq(add(3, 60), MQTLS_OK);
    mqtls_file_store_close(&fs);
    ck_assert_int_eq(stat(path, &sb), 0);
    fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, &b, 1, sb.st_size - 20), 1);
    b ^= 0x40;
    ck_assert_int_eq(pwrite(fd, &b, 1, sb.st_size - 20), 1);
    close(fd);
    ck_assert_int_eq(open_store(sizeof ring), MQTLS_OK);
    ck_assert_uint_eq(fs.torn_bytes, 8 + 4 + 60 + 4); /* header, time, packet, CRC */
    assert_holds(ids, lens, NULL, 2);
}
END_TEST

/* A journal written before time stamps existed (OP_ADD records) is read
 * after the update, its messages with time 0; new ones carry their time. */
START_TEST(a_journal_from_before_time_stamps_is_read)
{
    static const uint8_t magic[8] = {'m', 'q', 't', 'l', 's', 'J', '1', '\n'};
    uint8_t rec[8 + 20 + 4], packet[20];
    uint32_t crc;
    mqtls_store_entry e;
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    test_store_packet(packet, sizeof packet, 5);
    rec[0] = 1; /* OP_ADD */
    rec[1] = MQTLS_STORE_PUBLISH;
    rec[2] = 5;
    rec[3] = 0;
    rec[4] = sizeof packet;
    rec[5] = rec[6] = rec[7] = 0;
    memcpy(rec + 8, packet, sizeof packet);
    crc = mqtls_crc32(0, rec, 8 + sizeof packet);
    rec[28] = (uint8_t)crc;
    rec[29] = (uint8_t)(crc >> 8);
    rec[30] = (uint8_t)(crc >> 16);
    rec[31] = (uint8_t)(crc >> 24);
    ck_assert_uint_eq(fwrite(magic, 1, sizeof magic, f), sizeof magic);
    ck_assert_uint_eq(fwrite(rec, 1, sizeof rec, f), sizeof rec);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(open_store(sizeof ring), MQTLS_OK);
    ck_assert_int_eq(st.find(st.ctx, 5, &e), MQTLS_OK);
    ck_assert_uint_eq(e.len, sizeof packet);
    ck_assert_mem_eq(e.packet, packet, sizeof packet);
    ck_assert_uint_eq(e.time, 0);
    ck_assert_int_eq(st.add(st.ctx, 6, packet, sizeof packet, 1234), MQTLS_OK);
    mqtls_file_store_close(&fs);
    ck_assert_int_eq(open_store(sizeof ring), MQTLS_OK);
    ck_assert_int_eq(st.find(st.ctx, 5, &e), MQTLS_OK);
    ck_assert_int_eq(st.find(st.ctx, 6, &e), MQTLS_OK);
    ck_assert_uint_eq(e.time, 1234);
}
END_TEST

START_TEST(the_journal_stays_bounded)
{
    const uint16_t ids[] = {4001};
    const size_t lens[] = {100};
    size_t biggest = 0;
    int i;

    ck_assert_int_eq(open_store(1024), MQTLS_OK);
    for (i = 1; i <= 4000; i++) {
        ck_assert_int_eq(add((uint16_t)i, 100), MQTLS_OK);
        ck_assert_int_eq(st.remove(st.ctx, (uint16_t)i), MQTLS_OK);
        if (fs.journal_bytes > biggest)
            biggest = fs.journal_bytes;
    }
    ck_assert_int_eq(add(4001, 100), MQTLS_OK);
    ck_assert_uint_le(biggest, 2 * 1024 + 4096 + 200);
    mqtls_file_store_close(&fs);
    ck_assert_int_eq(open_store(1024), MQTLS_OK);
    assert_holds(ids, lens, NULL, 1);
}
END_TEST

START_TEST(refusals)
{
    int fd;
    ck_assert_int_eq(mqtls_file_store_open(&fs, "/nonexistent-dir/journal", ring, sizeof ring),
                     MQTLS_ERR_STORE_IO);
    fd = open(path, O_WRONLY | O_CREAT, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "not a journal", 13), 13);
    close(fd);
    ck_assert_int_eq(open_store(sizeof ring), MQTLS_ERR_STORE_CORRUPT);
    unlink(path);
    /* A journal that holds more than the ring can. */
    ck_assert_int_eq(open_store(sizeof ring), MQTLS_OK);
    ck_assert_int_eq(add(1, 200), MQTLS_OK);
    ck_assert_int_eq(add(2, 200), MQTLS_OK);
    mqtls_file_store_close(&fs);
    ck_assert_int_eq(open_store(256), MQTLS_ERR_STORE_FULL);
}
END_TEST

/* Random operations with a close and reopen now and then, against a
 * model: a fresh process's view always matches. */
static uint64_t rng = 0x66696c65ull; /* "file" */

static uint32_t rnd(uint32_t bound)
{
    return test_rand(&rng, bound);
}

START_TEST(random_operations_survive_reopens)
{
    uint16_t ids[128], next_id = 1;
    size_t lens[128], n = 0;
    uint8_t states[128];
    int step;

    ck_assert_int_eq(open_store(1024), MQTLS_OK);
    for (step = 0; step < 3000; step++) {
        uint32_t op = rnd(12);
        if (op < 5) {
            size_t len = rnd(120);
            int ret = add(next_id, len);
            if (ret == MQTLS_OK) {
                ids[n] = next_id;
                lens[n] = len;
                states[n] = MQTLS_STORE_PUBLISH;
                n++;
            } else if (ret != MQTLS_ERR_STORE_FULL) {
                ck_abort_msg("add: %s", mqtls_errname(ret));
            }
            next_id = (uint16_t)(next_id % 65535u + 1u);
        } else if (op < 9 && n > 0) {
            size_t k = rnd(4) == 0 ? rnd((uint32_t)n) : 0;
            if (st.remove(st.ctx, ids[k]) != MQTLS_OK)
                ck_abort_msg("remove failed");
            memmove(ids + k, ids + k + 1, (n - k - 1) * sizeof ids[0]);
            memmove(lens + k, lens + k + 1, (n - k - 1) * sizeof lens[0]);
            memmove(states + k, states + k + 1, (n - k - 1) * sizeof states[0]);
            n--;
        } else if (op < 11 && n > 0) {
            size_t k = rnd((uint32_t)n);
            if (st.set_state(st.ctx, ids[k], MQTLS_STORE_PUBREL) != MQTLS_OK)
                ck_abort_msg("set_state failed");
            states[k] = MQTLS_STORE_PUBREL;
        } else {
            mqtls_file_store_close(&fs);
            if (open_store(1024) != MQTLS_OK)
                ck_abort_msg("reopen failed");
        }
        assert_holds(ids, lens, states, n);
    }
}
END_TEST

Suite *store_file_suite(void)
{
    Suite *s = suite_create("store_file");
    TCase *tc = tcase_create("journal");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, survives_close_and_reopen);
    tcase_add_loop_test(tc, survives_kill_9_at_any_point, 0, 5);
    tcase_add_test(tc, a_torn_last_record_is_dropped);
    tcase_add_test(tc, a_corrupted_last_record_is_dropped);
    tcase_add_test(tc, a_journal_from_before_time_stamps_is_read);
    tcase_add_test(tc, the_journal_stays_bounded);
    tcase_add_test(tc, refusals);
    tcase_add_test(tc, random_operations_survive_reopens);
    suite_add_tcase(s, tc);
    return s;
}
