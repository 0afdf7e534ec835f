/* SPDX-License-Identifier: Apache-2.0 */
/* The CA store (tls/castore.h) on its own: bundles in, what the slots
 * hold, stage / commit / rollback, expiry report, persistence through the
 * blob interface, the trusted set and its id. Connecting through it is
 * tested against a broker (test/integration/test_tls_broker.c). */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "net/blobs_posix.h"
#include "test/unit/suites.h"
#include "test/unit/testutil.h"
#include "tls/castore.h"
#include "tls/tls_internal.h" /* white box: the trusted set */

#define CERTS MQTLS_SOURCE_DIR "/build/certs/"

static mqtls_castore cas;
static char dir[64];

static void setup(void)
{
    mqtls_castore_init(&cas);
    snprintf(dir, sizeof dir, "/tmp/mqtls-castore-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char p[128];
    mqtls_castore_free(&cas);
    snprintf(p, sizeof p, "%s/ca.active", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/ca.active.tmp", dir);
    unlink(p);
    rmdir(dir);
}

/* A whole file, for tests (at most 64 KB). */
static void fingerprint(const char *der_path, uint8_t out[32])
{
    static uint8_t der[4096];
    size_t n = test_slurp(der_path, der, sizeof der);
    ck_assert_int_eq(mqtls_sha256(der, n, out), 0);
}

START_TEST(a_pem_bundle_fills_a_slot_and_says_what_it_holds)
{
    mqtls_ca_info info;
    uint8_t fp_a[32], fp_b[32];

    ck_assert_int_eq(mqtls_castore_load_file(&cas, MQTLS_CA_ACTIVE, CERTS "bundle-both.pem", 3, NULL),
                     MQTLS_OK);
    ck_assert_uint_eq(mqtls_castore_count(&cas, MQTLS_CA_ACTIVE), 2);
    ck_assert_uint_eq(mqtls_castore_count(&cas, MQTLS_CA_STAGED), 0);
    ck_assert_uint_eq(mqtls_castore_version(&cas, MQTLS_CA_ACTIVE), 3);
    fingerprint(CERTS "root-a.der", fp_a);
    fingerprint(CERTS "root-b.der", fp_b);
    ck_assert_int_eq(mqtls_castore_info(&cas, MQTLS_CA_ACTIVE, 0, &info), MQTLS_OK);
    ck_assert_str_eq(info.subject, "CN=mqtls Test Root A");
    ck_assert_mem_eq(info.sha256, fp_a, 32);
    ck_assert_uint_eq(strlen(info.not_after), 19);
    ck_assert_int_gt((long long)info.not_after_time, (long long)time(NULL));
    ck_assert_int_eq(mqtls_castore_info(&cas, MQTLS_CA_ACTIVE, 1, &info), MQTLS_OK);
    ck_assert_str_eq(info.subject, "CN=mqtls Test Root B");
    ck_assert_mem_eq(info.sha256, fp_b, 32);
    ck_assert_int_eq(mqtls_castore_info(&cas, MQTLS_CA_ACTIVE, 2, &info), MQTLS_ERR_INVALID_ARG);
}
END_TEST

START_TEST(der_single_and_concatenated_load_too)
{
    static uint8_t both[8192];
    size_t n;
    mqtls_ca_info info;

    ck_assert_int_eq(mqtls_castore_load_file(&cas, MQTLS_CA_ACTIVE, CERTS "root-a.der", 0, NULL),
                     MQTLS_OK);
    ck_assert_uint_eq(mqtls_castore_count(&cas, MQTLS_CA_ACTIVE), 1);
    n = test_slurp(CERTS "root-a.der", both, sizeof both);
    n += test_slurp(CERTS "root-b.der", both + n, sizeof both - n);
    ck_assert_int_eq(mqtls_castore_stage(&cas, both, n, 1, NULL), MQTLS_OK);
    ck_assert_uint_eq(mqtls_castore_count(&cas, MQTLS_CA_STAGED), 2);
    ck_assert_int_eq(mqtls_castore_info(&cas, MQTLS_CA_STAGED, 1, &info), MQTLS_OK);
    ck_assert_str_eq(info.subject, "CN=mqtls Test Root B");
    ck_assert_int_eq(info.slot, MQTLS_CA_STAGED);
    /* DER cut short: refused, named, slot unchanged. */
    {
        size_t bad = 99;
        ck_assert_int_eq(mqtls_castore_stage(&cas, both, n - 10, 2, &bad), MQTLS_ERR_TLS_BAD_CA);
        ck_assert_uint_eq(bad, 2);
        ck_assert_uint_eq(mqtls_castore_count(&cas, MQTLS_CA_STAGED), 2);
        ck_assert_uint_eq(mqtls_castore_version(&cas, MQTLS_CA_STAGED), 1);
    }
}
END_TEST

START_TEST(bad_bundles_change_nothing_and_say_which_certificate)
{
    static uint8_t pem[16384], buf[32768];
    size_t n, bad = 0, i;

    ck_assert_int_eq(mqtls_castore_load_file(&cas, MQTLS_CA_ACTIVE, CERTS "root-a.crt", 1, NULL),
                     MQTLS_OK);
    /* A server certificate is not a CA: the second of two. */
    n = test_slurp(CERTS "root-b.crt", buf, sizeof buf);
    n += test_slurp(CERTS "server-a.crt", buf + n, sizeof buf - n);
    ck_assert_int_eq(mqtls_castore_load(&cas, MQTLS_CA_ACTIVE, buf, n, 2, &bad),
                     MQTLS_ERR_CA_NOT_CA);
    ck_assert_uint_eq(bad, 2);
    /* Truncated PEM: the last block has no END line. */
    n = test_slurp(CERTS "bundle-both.pem", buf, sizeof buf);
    ck_assert_int_eq(mqtls_castore_load(&cas, MQTLS_CA_ACTIVE, buf, n - 40, 2, &bad),
                     MQTLS_ERR_TLS_BAD_CA);
    ck_assert_uint_eq(bad, 2);
    /* Nothing at all. */
    ck_assert_int_eq(mqtls_castore_load(&cas, MQTLS_CA_ACTIVE, (const uint8_t *)"hello", 5, 2, &bad),
                     MQTLS_ERR_TLS_BAD_CA);
    ck_assert_int_eq(mqtls_castore_load(&cas, MQTLS_CA_ACTIVE, buf, 0, 2, &bad), MQTLS_ERR_CA_EMPTY);
    ck_assert_int_eq(mqtls_castore_load(&cas, MQTLS_CA_ACTIVE,
                                        (const uint8_t *)"no certificates here\n", 21, 2, &bad),
                     MQTLS_ERR_TLS_BAD_CA);
    /* More than a slot takes. */
    n = test_slurp(CERTS "root-a.crt", pem, sizeof pem);
    for (i = 0; i <= MQTLS_CASTORE_MAX_CAS; i++)
        memcpy(buf + i * n, pem, n);
    ck_assert_int_eq(mqtls_castore_load(&cas, MQTLS_CA_ACTIVE, buf, n * (MQTLS_CASTORE_MAX_CAS + 1),
                                        2, &bad),
                     MQTLS_ERR_CA_SLOT_FULL);
    /* Through all of it, the slot kept what it had. */
    ck_assert_uint_eq(mqtls_castore_count(&cas, MQTLS_CA_ACTIVE), 1);
    ck_assert_uint_eq(mqtls_castore_version(&cas, MQTLS_CA_ACTIVE), 1);
}
END_TEST

START_TEST(stage_commit_and_rollback_move_what_is_trusted)
{
    uint8_t id_active[32], id_staged[32], id_both[32], id[32];
    mqtls_ca_info info;

    ck_assert_int_eq(mqtls_castore_trust(&cas, MQTLS_TRUST_STAGED), MQTLS_ERR_CA_NONE_STAGED);
    ck_assert_int_eq(mqtls_castore_commit(&cas), MQTLS_ERR_CA_NONE_STAGED);
    ck_assert_ptr_null(mqtls_castore_trusted(&cas, id));
    ck_assert_int_eq(mqtls_castore_load_file(&cas, MQTLS_CA_ACTIVE, CERTS "root-a.crt", 1, NULL),
                     MQTLS_OK);
    ck_assert_ptr_nonnull(mqtls_castore_trusted(&cas, id_active));
    ck_assert_int_eq(mqtls_castore_load_file(&cas, MQTLS_CA_STAGED, CERTS "root-b.crt", 2, NULL),
                     MQTLS_OK);
    /* Staging alone changes nothing a handshake sees. */
    ck_assert_ptr_nonnull(mqtls_castore_trusted(&cas, id));
    ck_assert_mem_eq(id, id_active, 32);
    ck_assert_int_eq(mqtls_castore_trust(&cas, MQTLS_TRUST_STAGED), MQTLS_OK);
    {
        mbedtls_x509_crt *t = mqtls_castore_trusted(&cas, id_staged);
        char dn[64];
        ck_assert_ptr_nonnull(t);
        ck_assert_ptr_null(t->next != NULL && t->next->raw.len ? t->next : NULL);
        mbedtls_x509_dn_gets(dn, sizeof dn, &t->subject);
        ck_assert_str_eq(dn, "CN=mqtls Test Root B");
    }
    ck_assert_int_eq(mqtls_castore_trust(&cas, MQTLS_TRUST_BOTH), MQTLS_OK);
    {
        mbedtls_x509_crt *t = mqtls_castore_trusted(&cas, id_both);
        ck_assert_ptr_nonnull(t);
        ck_assert_ptr_nonnull(t->next);
        ck_assert_uint_gt(t->next->raw.len, 0);
    }
    ck_assert_mem_ne(id_active, id_staged, 32);
    ck_assert_mem_ne(id_active, id_both, 32);
    ck_assert_mem_ne(id_staged, id_both, 32);
    /* Rollback: staged gone, trust back on ACTIVE, same id as before. */
    ck_assert_int_eq(mqtls_castore_rollback(&cas), MQTLS_OK);
    ck_assert_uint_eq(mqtls_castore_count(&cas, MQTLS_CA_STAGED), 0);
    ck_assert_ptr_nonnull(mqtls_castore_trusted(&cas, id));
    ck_assert_mem_eq(id, id_active, 32);
    /* Commit: staged becomes active. */
    ck_assert_int_eq(mqtls_castore_load_file(&cas, MQTLS_CA_STAGED, CERTS "root-b.crt", 2, NULL),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_castore_trust(&cas, MQTLS_TRUST_STAGED), MQTLS_OK);
    ck_assert_int_eq(mqtls_castore_commit(&cas), MQTLS_OK);
    ck_assert_uint_eq(mqtls_castore_count(&cas, MQTLS_CA_STAGED), 0);
    ck_assert_uint_eq(mqtls_castore_version(&cas, MQTLS_CA_ACTIVE), 2);
    ck_assert_int_eq(mqtls_castore_info(&cas, MQTLS_CA_ACTIVE, 0, &info), MQTLS_OK);
    ck_assert_str_eq(info.subject, "CN=mqtls Test Root B");
    ck_assert_ptr_nonnull(mqtls_castore_trusted(&cas, id));
    ck_assert_mem_eq(id, id_staged, 32); /* {root B}, now from ACTIVE */
    ck_assert_int_eq(mqtls_castore_trust(&cas, MQTLS_TRUST_STAGED), MQTLS_ERR_CA_NONE_STAGED);
}
END_TEST

START_TEST(uses_are_counted_per_ca_and_survive_a_commit)
{
    uint8_t fp_a[32], fp_b[32];
    mqtls_ca_info info;
    char json[1024], hex[65];
    size_t len, k;

    fingerprint(CERTS "root-a.der", fp_a);
    fingerprint(CERTS "root-b.der", fp_b);
    ck_assert_int_eq(mqtls_castore_load_file(&cas, MQTLS_CA_ACTIVE, CERTS "root-a.crt", 1, NULL),
                     MQTLS_OK);
    mqtls_castore_count_use(&cas, fp_a);
    mqtls_castore_count_use(&cas, fp_a);
    mqtls_castore_count_use(&cas, fp_b); /* not held: ignored */
    ck_assert_int_eq(mqtls_castore_info(&cas, MQTLS_CA_ACTIVE, 0, &info), MQTLS_OK);
    ck_assert_uint_eq(info.uses, 2);
    /* Rollover bundle {A, B}: A keeps its count, B starts at 0. */
    ck_assert_int_eq(mqtls_castore_load_file(&cas, MQTLS_CA_STAGED, CERTS "bundle-both.pem", 2, NULL),
                     MQTLS_OK);
    mqtls_castore_count_use(&cas, fp_b);
    ck_assert_int_eq(mqtls_castore_commit(&cas), MQTLS_OK);
    ck_assert_int_eq(mqtls_castore_info(&cas, MQTLS_CA_ACTIVE, 0, &info), MQTLS_OK);
    ck_assert_mem_eq(info.sha256, fp_a, 32);
    ck_assert_uint_eq(info.uses, 2);
    ck_assert_int_eq(mqtls_castore_info(&cas, MQTLS_CA_ACTIVE, 1, &info), MQTLS_OK);
    ck_assert_uint_eq(info.uses, 1);
    /* The report an operator reads. */
    ck_assert_int_eq(mqtls_castore_report_json(&cas, json, sizeof json, &len), MQTLS_OK);
    ck_assert_uint_eq(strlen(json), len);
    for (k = 0; k < 32; k++)
        snprintf(hex + 2 * k, 3, "%02x", fp_a[k]);
    ck_assert_msg(strncmp(json, "{\"version\":2,\"cas\":[{\"subject\":\"CN=mqtls Test Root A\","
                                "\"not_after\":\"",
                          60) == 0,
                  "%s", json);
    ck_assert_ptr_nonnull(strstr(json, hex));
    ck_assert_ptr_nonnull(strstr(json, "\"uses\":2}"));
    ck_assert_ptr_nonnull(strstr(json, "\"uses\":1}]}"));
    ck_assert_int_eq(mqtls_castore_report_json(&cas, json, 40, &len), MQTLS_ERR_BUFFER_TOO_SMALL);
    ck_assert_str_eq(json, "");
}
END_TEST

START_TEST(expiring_cas_are_reported)
{
    mqtls_ca_info out[4], a;
    size_t n = 99;

    ck_assert_int_eq(mqtls_castore_load_file(&cas, MQTLS_CA_ACTIVE, CERTS "root-a.crt", 1, NULL),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_castore_load_file(&cas, MQTLS_CA_STAGED, CERTS "intermediate-a.crt", 2,
                                             NULL),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_castore_info(&cas, MQTLS_CA_ACTIVE, 0, &a), MQTLS_OK);
    /* Ten days before root A's end: a 30-day horizon sees it (and the
     * intermediate, which ends earlier), a 5-day one only the intermediate. */
    ck_assert_int_eq(mqtls_castore_expiring(&cas, a.not_after_time - 10 * 86400, 30, out, 4, &n),
                     MQTLS_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(out[0].subject, "CN=mqtls Test Root A");
    ck_assert_str_eq(out[1].subject, "CN=mqtls Test Intermediate A");
    ck_assert_int_eq(out[1].slot, MQTLS_CA_STAGED);
    ck_assert_int_eq(mqtls_castore_expiring(&cas, a.not_after_time - 10 * 86400, 5, out, 4, &n),
                     MQTLS_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(out[0].subject, "CN=mqtls Test Intermediate A");
    /* Today nothing expires within 30 days. */
    ck_assert_int_eq(mqtls_castore_expiring(&cas, time(NULL), 30, NULL, 0, &n), MQTLS_OK);
    ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(commit_persists_and_restore_brings_it_back)
{
    mqtls_blob_dir bd;
    mqtls_blobs b;
    mqtls_castore again;
    mqtls_ca_info x, y;
    char p[128];
    FILE *f;

    ck_assert_int_eq(mqtls_blob_dir_setup(&bd, dir, &b), MQTLS_OK);
    ck_assert_int_eq(mqtls_castore_attach(&cas, &b), MQTLS_OK);
    ck_assert_int_eq(mqtls_castore_restore(&cas), MQTLS_ERR_BLOB_NOT_FOUND);
    ck_assert_int_eq(mqtls_castore_load_file(&cas, MQTLS_CA_ACTIVE, CERTS "root-a.crt", 0, NULL),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_castore_stage(&cas, NULL, 0, 7, NULL), MQTLS_ERR_CA_EMPTY);
    ck_assert_int_eq(mqtls_castore_load_file(&cas, MQTLS_CA_STAGED, CERTS "bundle-both.pem", 7, NULL),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_castore_commit(&cas), MQTLS_OK);

    mqtls_castore_init(&again);
    ck_assert_int_eq(mqtls_castore_attach(&again, &b), MQTLS_OK);
    ck_assert_int_eq(mqtls_castore_restore(&again), MQTLS_OK);
    ck_assert_uint_eq(mqtls_castore_count(&again, MQTLS_CA_ACTIVE), 2);
    ck_assert_uint_eq(mqtls_castore_version(&again, MQTLS_CA_ACTIVE), 7);
    ck_assert_int_eq(mqtls_castore_info(&cas, MQTLS_CA_ACTIVE, 1, &x), MQTLS_OK);
    ck_assert_int_eq(mqtls_castore_info(&again, MQTLS_CA_ACTIVE, 1, &y), MQTLS_OK);
    ck_assert_mem_eq(x.sha256, y.sha256, 32);

    /* Damaged storage: restore refuses and leaves ACTIVE as it was. */
    snprintf(p, sizeof p, "%s/ca.active", dir);
    f = fopen(p, "r+b");
    ck_assert_ptr_nonnull(f);
    fseek(f, 200, SEEK_SET);
    fputc('!', f);
    fclose(f);
    ck_assert_int_eq(mqtls_castore_restore(&again), MQTLS_ERR_BLOB_CORRUPT);
    ck_assert_uint_eq(mqtls_castore_count(&again, MQTLS_CA_ACTIVE), 2);
    mqtls_castore_free(&again);

    /* A storage write that fails leaves the commit undone. */
    {
        mqtls_blob_dir gone;
        mqtls_blobs g;
        ck_assert_int_eq(mqtls_blob_dir_setup(&gone, "/nonexistent-mqtls-dir", &g), MQTLS_OK);
        ck_assert_int_eq(mqtls_castore_attach(&cas, &g), MQTLS_OK);
        ck_assert_int_eq(mqtls_castore_load_file(&cas, MQTLS_CA_STAGED, CERTS "root-b.crt", 8, NULL),
                         MQTLS_OK);
        ck_assert_int_eq(mqtls_castore_commit(&cas), MQTLS_ERR_BLOB_IO);
        ck_assert_uint_eq(mqtls_castore_version(&cas, MQTLS_CA_ACTIVE), 7);
        ck_assert_uint_eq(mqtls_castore_count(&cas, MQTLS_CA_ACTIVE), 2);
        ck_assert_uint_eq(mqtls_castore_count(&cas, MQTLS_CA_STAGED), 1);
    }
}
END_TEST

Suite *castore_suite(void)
{
    Suite *s = suite_create("castore");
    TCase *tc = tcase_create("slots");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_pem_bundle_fills_a_slot_and_says_what_it_holds);
    tcase_add_test(tc, der_single_and_concatenated_load_too);
    tcase_add_test(tc, bad_bundles_change_nothing_and_say_which_certificate);
    tcase_add_test(tc, stage_commit_and_rollback_move_what_is_trusted);
    tcase_add_test(tc, uses_are_counted_per_ca_and_survive_a_commit);
    tcase_add_test(tc, expiring_cas_are_reported);
    tcase_add_test(tc, commit_persists_and_restore_brings_it_back);
    suite_add_tcase(s, tc);
    return s;
}
