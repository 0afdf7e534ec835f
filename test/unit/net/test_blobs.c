/* SPDX-License-Identifier: Apache-2.0 */
/* Named blobs in a directory (net/blobs_posix.h): round trips, damage
 * detected, and the promise that matters: a writer killed at any step of
 * a replacement leaves the old blob or the new one, whole. */
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

#include "net/blobs_posix.h"
#include "test/unit/suites.h"

static char dir[64];
static mqtls_blob_dir bd;
static mqtls_blobs b;

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/mqtls-blobs-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(mqtls_blob_dir_setup(&bd, dir, &b), MQTLS_OK);
}

static void teardown(void)
{
    static const char *const names[] = {"a", "a.tmp", "ca.active", "ca.active.tmp"};
    char p[128];
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

static void file_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

START_TEST(a_blob_round_trips_and_is_replaced_whole)
{
    uint8_t buf[64];
    size_t len = 0;

    ck_assert_int_eq(b.read(b.ctx, "a", buf, sizeof buf, &len), MQTLS_ERR_BLOB_NOT_FOUND);
    ck_assert_int_eq(b.write(b.ctx, "a", (const uint8_t *)"first", 5), MQTLS_OK);
    ck_assert_int_eq(b.read(b.ctx, "a", buf, sizeof buf, &len), MQTLS_OK);
    ck_assert_uint_eq(len, 5);
    ck_assert_mem_eq(buf, "first", 5);
    ck_assert_int_eq(b.write(b.ctx, "a", (const uint8_t *)"2nd", 3), MQTLS_OK);
    ck_assert_int_eq(b.read(b.ctx, "a", buf, sizeof buf, &len), MQTLS_OK);
    ck_assert_uint_eq(len, 3);
    ck_assert_mem_eq(buf, "2nd", 3);
    /* Too small a buffer says how much is needed. */
    ck_assert_int_eq(b.read(b.ctx, "a", buf, 2, &len), MQTLS_ERR_BUFFER_TOO_SMALL);
    ck_assert_uint_eq(len, 3);
    /* An empty blob is a blob. */
    ck_assert_int_eq(b.write(b.ctx, "a", NULL, 0), MQTLS_OK);
    ck_assert_int_eq(b.read(b.ctx, "a", buf, sizeof buf, &len), MQTLS_OK);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(b.remove(b.ctx, "a"), MQTLS_OK);
    ck_assert_int_eq(b.remove(b.ctx, "a"), MQTLS_OK);
    ck_assert_int_eq(b.read(b.ctx, "a", buf, sizeof buf, &len), MQTLS_ERR_BLOB_NOT_FOUND);
}
END_TEST

START_TEST(names_that_could_escape_the_directory_are_refused)
{
    static const char *const bad[] = {"", ".hidden", "../up", "a/b", "a b", "caf\xc3\xa9",
                                      "0123456789012345678901234567890123"};
    uint8_t buf[4];
    size_t len, i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(mqtls_blob_name_check(bad[i]), MQTLS_ERR_INVALID_ARG);
        ck_assert_int_eq(b.write(b.ctx, bad[i], buf, 1), MQTLS_ERR_INVALID_ARG);
        ck_assert_int_eq(b.read(b.ctx, bad[i], buf, sizeof buf, &len), MQTLS_ERR_INVALID_ARG);
    }
    ck_assert_int_eq(mqtls_blob_name_check("id.current-crt_2"), MQTLS_OK);
}
END_TEST

START_TEST(damage_is_reported_never_returned)
{
    char p[128];
    uint8_t buf[64];
    size_t len;
    struct stat st;
    int fd;
    unsigned char c;

    ck_assert_int_eq(b.write(b.ctx, "a", (const uint8_t *)"precious data", 13), MQTLS_OK);
    file_path(p, sizeof p, "a");
    /* One flipped bit in the content. */
    fd = open(p, O_RDWR);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, &c, 1, 20), 1);
    c ^= 0x10;
    ck_assert_int_eq(pwrite(fd, &c, 1, 20), 1);
    close(fd);
    memset(buf, 0x55, sizeof buf);
    ck_assert_int_eq(b.read(b.ctx, "a", buf, sizeof buf, &len), MQTLS_ERR_BLOB_CORRUPT);
    ck_assert_msg(memcmp(buf, "prec", 4) != 0, "damaged content was handed out");
    /* Cut short. */
    ck_assert_int_eq(b.write(b.ctx, "a", (const uint8_t *)"precious data", 13), MQTLS_OK);
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_int_eq(truncate(p, st.st_size - 1), 0);
    ck_assert_int_eq(b.read(b.ctx, "a", buf, sizeof buf, &len), MQTLS_ERR_BLOB_CORRUPT);
    /* Too long. */
    ck_assert_int_eq(b.write(b.ctx, "a", (const uint8_t *)"precious data", 13), MQTLS_OK);
    fd = open(p, O_WRONLY | O_APPEND);
    ck_assert_int_eq(write(fd, "x", 1), 1);
    close(fd);
    ck_assert_int_eq(b.read(b.ctx, "a", buf, sizeof buf, &len), MQTLS_ERR_BLOB_CORRUPT);
    /* Not a blob at all. */
    fd = open(p, O_WRONLY | O_TRUNC);
    ck_assert_int_eq(write(fd, "hello, world, 16", 16), 16);
    close(fd);
    ck_assert_int_eq(b.read(b.ctx, "a", buf, sizeof buf, &len), MQTLS_ERR_BLOB_CORRUPT);
}
END_TEST

/* An empty blob read into no buffer (NULL, 0), whole and damaged: no
 * memset or memcpy on NULL (UBSan, in make check's sanitizer runs). */
START_TEST(an_empty_blob_reads_into_no_buffer)
{
    char p[128];
    size_t len = 99;
    int fd;

    ck_assert_int_eq(b.write(b.ctx, "e", NULL, 0), MQTLS_OK);
    ck_assert_int_eq(b.read(b.ctx, "e", NULL, 0, &len), MQTLS_OK);
    ck_assert_uint_eq(len, 0);
    file_path(p, sizeof p, "e");
    fd = open(p, O_WRONLY | O_APPEND);
    ck_assert_int_eq(write(fd, "x", 1), 1); /* a byte too many */
    close(fd);
    ck_assert_int_eq(b.read(b.ctx, "e", NULL, 0, &len), MQTLS_ERR_BLOB_CORRUPT);
}
END_TEST

/* In a child: replace blob "a" and die by SIGKILL right after step
 * kill_at. */
static int kill_at;
static void die_after(void *ctx, int step)
{
    (void)ctx;
    if (step == kill_at)
        raise(SIGKILL);
}

START_TEST(a_writer_killed_at_each_step_leaves_old_or_new_whole)
{
    static uint8_t old_v[3000], new_v[5000], buf[8192];
    size_t len, i;
    int step, status;

    for (i = 0; i < sizeof old_v; i++)
        old_v[i] = (uint8_t)('o' + i % 7);
    for (i = 0; i < sizeof new_v; i++)
        new_v[i] = (uint8_t)('N' + i % 5);
    for (step = 1; step <= 4; step++) {
        pid_t pid;
        ck_assert_int_eq(b.write(b.ctx, "a", old_v, sizeof old_v), MQTLS_OK);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            kill_at = step;
            bd.after_step = die_after;
            b.write(b.ctx, "a", new_v, sizeof new_v);
            _exit(0); /* not reached */
        }
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                      "step %d: writer was not killed there", step);
        ck_assert_int_eq(b.read(b.ctx, "a", buf, sizeof buf, &len), MQTLS_OK);
        if (step < 3) /* killed before the rename: the old blob */
            ck_assert_msg(len == sizeof old_v && memcmp(buf, old_v, len) == 0,
                          "step %d: old blob not intact", step);
        else /* after it: the new one */
            ck_assert_msg(len == sizeof new_v && memcmp(buf, new_v, len) == 0,
                          "step %d: new blob not intact", step);
    }
    /* A temp file left by a killed writer does not disturb the next write. */
    ck_assert_int_eq(b.write(b.ctx, "a", old_v, 10), MQTLS_OK);
    ck_assert_int_eq(b.read(b.ctx, "a", buf, sizeof buf, &len), MQTLS_OK);
    ck_assert_uint_eq(len, 10);
}
END_TEST

START_TEST(a_half_written_temp_file_is_ignored)
{
    char p[128];
    uint8_t buf[16];
    size_t len;
    int fd;

    ck_assert_int_eq(b.write(b.ctx, "a", (const uint8_t *)"old", 3), MQTLS_OK);
    file_path(p, sizeof p, "a.tmp");
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_eq(write(fd, "mqtlsB1\n\x05\0\0\0", 12), 12); /* power cut mid-header */
    close(fd);
    ck_assert_int_eq(b.read(b.ctx, "a", buf, sizeof buf, &len), MQTLS_OK);
    ck_assert_mem_eq(buf, "old", 3);
}
END_TEST

START_TEST(io_errors_carry_errno)
{
    mqtls_blob_dir gone;
    mqtls_blobs g;
    uint8_t buf[4];
    ck_assert_int_eq(mqtls_blob_dir_setup(&gone, "/nonexistent-mqtls-dir", &g), MQTLS_OK);
    ck_assert_int_eq(g.write(g.ctx, "a", buf, 1), MQTLS_ERR_BLOB_IO);
    ck_assert_int_ne(gone.last_errno, 0);
    ck_assert_int_eq(mqtls_blob_dir_setup(&gone, "", &g), MQTLS_ERR_INVALID_ARG);
}
END_TEST

Suite *blobs_suite(void)
{
    Suite *s = suite_create("blobs");
    TCase *tc = tcase_create("dir");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_blob_round_trips_and_is_replaced_whole);
    tcase_add_test(tc, names_that_could_escape_the_directory_are_refused);
    tcase_add_test(tc, damage_is_reported_never_returned);
    tcase_add_test(tc, an_empty_blob_reads_into_no_buffer);
    tcase_add_test(tc, a_writer_killed_at_each_step_leaves_old_or_new_whole);
    tcase_add_test(tc, a_half_written_temp_file_is_ignored);
    tcase_add_test(tc, io_errors_carry_errno);
    suite_add_tcase(s, tc);
    return s;
}
