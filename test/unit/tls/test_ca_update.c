/* SPDX-License-Identifier: Apache-2.0 */
/* Signed CA updates (tls/ca_update.h): signing and verifying, every way an
 * update is refused, and apply()'s stage / probe / commit-or-rollback with
 * a probe that stands in for the handshake (the real one runs against a
 * broker in test/integration/test_rollover.c). */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test/unit/suites.h"
#include "test/unit/testutil.h"
#include "tls/ca_update.h"
#include "tls/tls_internal.h" /* white box: the trusted set */

#define CERTS MQTLS_SOURCE_DIR "/build/certs/"

static mqtls_ca_signer signer;
static mqtls_castore cas;
static uint8_t key[4096], other[4096], bundle[8192], msg[16384];
static size_t key_len, other_len, bundle_len, msg_len;

static void setup(void)
{
    mqtls_ca_signer_init(&signer);
    ck_assert_int_eq(mqtls_ca_signer_load_file(&signer, CERTS "update-signer.pub"), MQTLS_OK);
    key_len = test_slurp(CERTS "update-signer.key", key, sizeof key);
    other_len = test_slurp(CERTS "other-signer.key", other, sizeof other);
    bundle_len = test_slurp(CERTS "bundle-both.pem", bundle, sizeof bundle);
    mqtls_castore_init(&cas);
    ck_assert_int_eq(mqtls_castore_load_file(&cas, MQTLS_CA_ACTIVE, CERTS "root-a.crt", 1, NULL),
                     MQTLS_OK);
}

static void teardown(void)
{
    mqtls_ca_signer_free(&signer);
    mqtls_castore_free(&cas);
}

/* A signed update of bundle[0..blen) into msg. */
static void sign_update(const uint8_t *b, size_t blen, uint32_t version, int64_t expires,
                        const uint8_t *k, size_t klen)
{
    ck_assert_int_eq(mqtls_ca_update_sign(b, blen, version, expires, k, klen, NULL, msg, sizeof msg,
                                          &msg_len),
                     MQTLS_OK);
}

static int64_t in_days(int d)
{
    return (int64_t)time(NULL) + (int64_t)d * 86400;
}

START_TEST(a_signed_update_verifies_and_points_at_its_bundle)
{
    mqtls_ca_update up;
    const int64_t expires = in_days(30);
    sign_update(bundle, bundle_len, 2, expires, key, key_len);
    ck_assert_uint_eq(msg_len, bundle_len + MQTLS_CA_UPDATE_OVERHEAD +
                                   (size_t)(msg[24 + bundle_len] << 8 | msg[25 + bundle_len]));
    ck_assert_int_eq(mqtls_ca_update_verify(msg, msg_len, &signer, 1, time(NULL), &up), MQTLS_OK);
    ck_assert_uint_eq(up.version, 2);
    ck_assert_int_eq(up.expires, expires);
    ck_assert_ptr_eq(up.bundle, msg + 24);
    ck_assert_uint_eq(up.bundle_len, bundle_len);
    ck_assert_mem_eq(up.bundle, bundle, bundle_len);
}
END_TEST

START_TEST(unsigned_and_wrongly_signed_updates_are_refused)
{
    mqtls_ca_update up;
    size_t signed_len = 24 + bundle_len;

    sign_update(bundle, bundle_len, 2, in_days(30), key, key_len);
    /* Signature length 0. */
    msg[signed_len] = msg[signed_len + 1] = 0;
    ck_assert_int_eq(mqtls_ca_update_verify(msg, signed_len + 2, &signer, 1, time(NULL), &up),
                     MQTLS_ERR_UPDATE_UNSIGNED);
    /* No signature field at all. */
    ck_assert_int_eq(mqtls_ca_update_verify(msg, signed_len, &signer, 1, time(NULL), &up),
                     MQTLS_ERR_UPDATE_UNSIGNED);
    /* Another key's signature. */
    sign_update(bundle, bundle_len, 2, in_days(30), other, other_len);
    ck_assert_int_eq(mqtls_ca_update_verify(msg, msg_len, &signer, 1, time(NULL), &up),
                     MQTLS_ERR_UPDATE_BAD_SIGNATURE);
    /* Any byte changed after signing: the version, the expiry, the bundle. */
    {
        static const size_t at[] = {11, 19, 24, 100};
        size_t i;
        for (i = 0; i < sizeof at / sizeof at[0]; i++) {
            sign_update(bundle, bundle_len, 2, in_days(30), key, key_len);
            msg[at[i]] ^= 0x01;
            ck_assert_msg(mqtls_ca_update_verify(msg, msg_len, &signer, 1, time(NULL), &up) ==
                              MQTLS_ERR_UPDATE_BAD_SIGNATURE,
                          "byte %u", (unsigned)at[i]);
        }
    }
}
END_TEST

START_TEST(expired_older_and_replayed_updates_are_refused)
{
    mqtls_ca_update up;
    sign_update(bundle, bundle_len, 5, in_days(-1), key, key_len);
    ck_assert_int_eq(mqtls_ca_update_verify(msg, msg_len, &signer, 1, time(NULL), &up),
                     MQTLS_ERR_UPDATE_EXPIRED);
    sign_update(bundle, bundle_len, 5, in_days(1), key, key_len);
    ck_assert_int_eq(mqtls_ca_update_verify(msg, msg_len, &signer, 5, time(NULL), &up),
                     MQTLS_ERR_UPDATE_OLD_VERSION); /* the same again: replay */
    ck_assert_int_eq(mqtls_ca_update_verify(msg, msg_len, &signer, 9, time(NULL), &up),
                     MQTLS_ERR_UPDATE_OLD_VERSION); /* downgrade */
    ck_assert_int_eq(mqtls_ca_update_verify(msg, msg_len, &signer, 4, time(NULL), &up), MQTLS_OK);
}
END_TEST

START_TEST(every_cut_and_every_extra_byte_is_malformed_never_accepted)
{
    mqtls_ca_update up;
    size_t n;
    int ret;

    sign_update(bundle, bundle_len, 2, in_days(30), key, key_len);
    for (n = 0; n < msg_len; n++) {
        ret = mqtls_ca_update_verify(msg, n, &signer, 1, time(NULL), &up);
        if (ret != MQTLS_ERR_UPDATE_MALFORMED && ret != MQTLS_ERR_UPDATE_UNSIGNED)
            ck_abort_msg("cut at %u: %s", (unsigned)n, mqtls_errname(ret));
    }
    msg[msg_len] = 0;
    ck_assert_int_eq(mqtls_ca_update_verify(msg, msg_len + 1, &signer, 1, time(NULL), &up),
                     MQTLS_ERR_UPDATE_MALFORMED);
    memcpy(msg, "MQCAUPD2", 8);
    ck_assert_int_eq(mqtls_ca_update_verify(msg, msg_len, &signer, 1, time(NULL), &up),
                     MQTLS_ERR_UPDATE_MALFORMED);
}
END_TEST

START_TEST(only_a_p256_key_can_be_the_update_signer)
{
    mqtls_ca_signer s;
    uint8_t buf[4096];
    size_t n;
    mqtls_ca_signer_init(&s);
    ck_assert_int_eq(mqtls_ca_signer_load_file(&s, CERTS "root-rsa.crt"), MQTLS_ERR_TLS_BAD_KEY);
    n = test_slurp(CERTS "server-rsa.key", buf, sizeof buf);
    ck_assert_int_eq(mqtls_ca_signer_load(&s, buf, n), MQTLS_ERR_TLS_BAD_KEY);
    /* A certificate holding a P-256 key is accepted as its key. */
    ck_assert_int_eq(mqtls_ca_signer_load_file(&s, CERTS "root-a.crt"), MQTLS_OK);
    mqtls_ca_signer_free(&s);
    /* Signing refuses what is not a P-256 private key. */
    ck_assert_int_eq(mqtls_ca_update_sign(bundle, bundle_len, 1, in_days(1), buf, n, NULL, msg,
                                          sizeof msg, &msg_len),
                     MQTLS_ERR_TLS_BAD_KEY);
    ck_assert_int_eq(mqtls_ca_update_sign(bundle, bundle_len, 1, in_days(1), key, key_len, NULL, msg,
                                          bundle_len + 30, &msg_len),
                     MQTLS_ERR_BUFFER_TOO_SMALL);
}
END_TEST

/* The probe: records what the store trusted while it ran. */
static struct {
    int answer;
    size_t trusted_count;
    char subject[64];
} probe_seen;

static int probe(void *ctx, char *why, size_t cap)
{
    mbedtls_x509_crt *t = mqtls_castore_trusted(ctx, NULL), *c;
    probe_seen.trusted_count = 0;
    for (c = t; c != NULL && c->raw.len != 0; c = c->next)
        probe_seen.trusted_count++;
    if (t != NULL)
        mbedtls_x509_dn_gets(probe_seen.subject, sizeof probe_seen.subject, &t->subject);
    if (probe_seen.answer != MQTLS_OK)
        snprintf(why, cap, "server certificate is not signed by a trusted CA");
    return probe_seen.answer;
}

START_TEST(apply_commits_only_what_the_probe_proved)
{
    mqtls_ca_update_result res;
    uint8_t next[4096];
    size_t next_len = test_slurp(CERTS "bundle-next.pem", next, sizeof next);
    char json[512];

    /* Probe fails: rolled back, active untouched, the reason kept. */
    probe_seen.answer = MQTLS_ERR_TLS_CERT_UNTRUSTED;
    sign_update(next, next_len, 2, in_days(30), key, key_len);
    ck_assert_int_eq(mqtls_ca_update_apply(&cas, &signer, msg, msg_len, time(NULL), probe, &cas, &res),
                     MQTLS_ERR_UPDATE_PROBE_FAILED);
    ck_assert_uint_eq(probe_seen.trusted_count, 1);
    ck_assert_str_eq(probe_seen.subject, "CN=mqtls Test Root B"); /* the staged bundle alone */
    ck_assert_uint_eq(mqtls_castore_version(&cas, MQTLS_CA_ACTIVE), 1);
    ck_assert_uint_eq(mqtls_castore_count(&cas, MQTLS_CA_STAGED), 0);
    ck_assert_ptr_nonnull(strstr(res.why, "not signed by a trusted CA"));
    ck_assert_int_eq(mqtls_ca_update_status_json(&res, json, sizeof json, NULL), MQTLS_OK);
    ck_assert_ptr_nonnull(strstr(json, "\"result\":\"rejected\""));
    ck_assert_ptr_nonnull(strstr(json, "\"error\":\"MQTLS_ERR_UPDATE_PROBE_FAILED\""));
    ck_assert_ptr_nonnull(strstr(json, "\"version\":2,\"active_version\":1"));
    {
        mqtls_ca_info info;
        mqtls_castore_trusted(&cas, NULL);
        ck_assert_int_eq(mqtls_castore_info(&cas, MQTLS_CA_ACTIVE, 0, &info), MQTLS_OK);
        ck_assert_str_eq(info.subject, "CN=mqtls Test Root A");
    }

    /* Probe succeeds: committed. */
    probe_seen.answer = MQTLS_OK;
    sign_update(bundle, bundle_len, 2, in_days(30), key, key_len);
    ck_assert_int_eq(mqtls_ca_update_apply(&cas, &signer, msg, msg_len, time(NULL), probe, &cas, &res),
                     MQTLS_OK);
    ck_assert_uint_eq(probe_seen.trusted_count, 2);
    ck_assert_uint_eq(mqtls_castore_version(&cas, MQTLS_CA_ACTIVE), 2);
    ck_assert_uint_eq(mqtls_castore_count(&cas, MQTLS_CA_ACTIVE), 2);
    ck_assert_int_eq(mqtls_ca_update_status_json(&res, json, sizeof json, NULL), MQTLS_OK);
    ck_assert_str_eq(json, "{\"result\":\"committed\",\"error\":\"\",\"version\":2,"
                           "\"active_version\":2,\"why\":\"\"}");

    /* The same message again (a retained copy): refused, harmless. */
    probe_seen.trusted_count = 99;
    ck_assert_int_eq(mqtls_ca_update_apply(&cas, &signer, msg, msg_len, time(NULL), probe, &cas, &res),
                     MQTLS_ERR_UPDATE_OLD_VERSION);
    ck_assert_uint_eq(probe_seen.trusted_count, 99); /* no probe for a refused update */
}
END_TEST

/* Leaves a recognisable pattern where the next call's locals will be. */
static void dirty_stack(void)
{
    volatile uint8_t junk[8192];
    size_t i;
    for (i = 0; i < sizeof junk; i++)
        junk[i] = 0xAB;
}

/* Verification that stops before it reads the message (nothing, or no
 * signer) reports version 0, never what the stack held. */
START_TEST(a_status_never_carries_an_unread_version)
{
    mqtls_ca_update_result res;
    mqtls_ca_signer unready;
    char json[512];
    mqtls_ca_signer_init(&unready);
    dirty_stack();
    ck_assert_int_eq(mqtls_ca_update_apply(&cas, &unready, msg, msg_len, time(NULL), probe, &cas,
                                           &res),
                     MQTLS_ERR_INVALID_ARG);
    ck_assert_uint_eq(res.version, 0);
    dirty_stack();
    ck_assert_int_eq(mqtls_ca_update_apply(&cas, &signer, NULL, 0, time(NULL), probe, &cas, &res),
                     MQTLS_ERR_INVALID_ARG);
    ck_assert_uint_eq(res.version, 0);
    ck_assert_int_eq(mqtls_ca_update_status_json(&res, json, sizeof json, NULL), MQTLS_OK);
    ck_assert_ptr_nonnull(strstr(json, "\"version\":0,"));
    mqtls_ca_signer_free(&unready);
}
END_TEST

START_TEST(a_signed_but_truncated_bundle_is_refused_before_any_probe)
{
    mqtls_ca_update_result res;
    probe_seen.answer = MQTLS_OK;
    probe_seen.trusted_count = 99;
    sign_update(bundle, bundle_len - 50, 3, in_days(30), key, key_len);
    ck_assert_int_eq(mqtls_ca_update_apply(&cas, &signer, msg, msg_len, time(NULL), probe, &cas, &res),
                     MQTLS_ERR_TLS_BAD_CA);
    ck_assert_uint_eq(probe_seen.trusted_count, 99);
    ck_assert_ptr_nonnull(strstr(res.why, "certificate 2"));
    ck_assert_uint_eq(mqtls_castore_version(&cas, MQTLS_CA_ACTIVE), 1);
    ck_assert_uint_eq(mqtls_castore_count(&cas, MQTLS_CA_STAGED), 0);
}
END_TEST

Suite *ca_update_suite(void)
{
    Suite *s = suite_create("ca_update");
    TCase *tc = tcase_create("update");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, a_signed_update_verifies_and_points_at_its_bundle);
    tcase_add_test(tc, unsigned_and_wrongly_signed_updates_are_refused);
    tcase_add_test(tc, expired_older_and_replayed_updates_are_refused);
    tcase_add_test(tc, every_cut_and_every_extra_byte_is_malformed_never_accepted);
    tcase_add_test(tc, only_a_p256_key_can_be_the_update_signer);
    tcase_add_test(tc, apply_commits_only_what_the_probe_proved);
    tcase_add_test(tc, a_signed_but_truncated_bundle_is_refused_before_any_probe);
    tcase_add_test(tc, a_status_never_carries_an_unread_version);
    suite_add_tcase(s, tc);
    return s;
}
