/* SPDX-License-Identifier: Apache-2.0 */
/* Credential slots (tls/identity.h) on their own: key and CSR made on the
 * device, the pair check, NEW committed or refused by each outcome, and
 * storage. Against a broker: test/integration/test_onboarding.c. */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_csr.h>

#include "net/blobs_posix.h"
#include "test/unit/suites.h"
#include "test/unit/testutil.h"
#include "tls/identity.h"
#include "tls/tls_internal.h" /* white box: the identity in use */
#include "tls/onboard.h"

#define CERTS MQTLS_SOURCE_DIR "/build/certs/"

static mqtls_identity id;
static char dir[64];
static mqtls_blob_dir bd;
static mqtls_blobs blobs;
static uint8_t crt1[4096], key1[4096], crt2[4096], key2[4096];
static size_t crt1_len, key1_len, crt2_len, key2_len;

static void setup(void)
{
    mqtls_identity_init(&id);
    snprintf(dir, sizeof dir, "/tmp/mqtls-identity-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(mqtls_blob_dir_setup(&bd, dir, &blobs), MQTLS_OK);
    crt1_len = test_slurp(CERTS "device-001.crt", crt1, sizeof crt1);
    key1_len = test_slurp(CERTS "device-001.key", key1, sizeof key1);
    crt2_len = test_slurp(CERTS "device-002.crt", crt2, sizeof crt2);
    key2_len = test_slurp(CERTS "device-002.key", key2, sizeof key2);
}

static void teardown(void)
{
    static const char *const names[] = {"id.current", "id.new", "id.current.tmp", "id.new.tmp"};
    char p[128];
    size_t i;
    mqtls_identity_free(&id);
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

START_TEST(a_key_and_a_csr_are_made_on_the_device)
{
    uint8_t key[512], csr[1024];
    size_t key_len = 0, csr_len = 0;
    mbedtls_pk_context pk;
    mbedtls_x509_csr parsed;
    const mbedtls_x509_name *n;

    ck_assert_int_eq(mqtls_identity_generate_key(key, sizeof key, &key_len), MQTLS_OK);
    ck_assert_uint_eq(strlen((const char *)key), key_len);
    mbedtls_pk_init(&pk);
    ck_assert_int_eq(mqtls_pk_parse_key(&pk, key, key_len + 1, NULL, 0), 0);
    ck_assert(mbedtls_pk_can_do(&pk, MBEDTLS_PK_ECDSA));
    ck_assert(mqtls_pk_is_p256(&pk));
    /* Two keys are two keys. */
    {
        uint8_t other[512];
        size_t other_len;
        ck_assert_int_eq(mqtls_identity_generate_key(other, sizeof other, &other_len), MQTLS_OK);
        ck_assert(other_len != key_len || memcmp(other, key, key_len) != 0);
    }
    ck_assert_int_eq(mqtls_identity_csr(key, key_len, "SN-42", csr, sizeof csr, &csr_len), MQTLS_OK);
    mbedtls_x509_csr_init(&parsed);
    ck_assert_int_eq(mbedtls_x509_csr_parse(&parsed, csr, csr_len + 1), 0);
    for (n = &parsed.subject; n != NULL; n = n->next)
        if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0)
            break;
    ck_assert_ptr_nonnull(n);
    ck_assert_uint_eq(n->val.len, 5);
    ck_assert_mem_eq(n->val.p, "SN-42", 5);
    ck_assert_int_eq(mqtls_pk_check_pair(&parsed.pk, &pk), 0);
    mbedtls_x509_csr_free(&parsed);
    mbedtls_pk_free(&pk);
    /* Names that would not make a sane CN or topic level. */
    ck_assert_int_eq(mqtls_identity_csr(key, key_len, "SN/42", csr, sizeof csr, &csr_len),
                     MQTLS_ERR_INVALID_ARG);
    ck_assert_int_eq(mqtls_identity_csr(key, key_len, "", csr, sizeof csr, &csr_len),
                     MQTLS_ERR_INVALID_ARG);
    ck_assert_int_eq(mqtls_identity_csr(key, key_len, "SN-42", csr, 100, &csr_len),
                     MQTLS_ERR_BUFFER_TOO_SMALL);
    ck_assert_int_eq(mqtls_identity_generate_key(key, 40, &key_len), MQTLS_ERR_BUFFER_TOO_SMALL);
}
END_TEST

START_TEST(a_certificate_and_a_key_that_do_not_belong_together_are_refused)
{
    ck_assert_int_eq(mqtls_identity_set(&id, MQTLS_ID_CURRENT, crt1, crt1_len, key2, key2_len, false),
                     MQTLS_ERR_TLS_KEY_MISMATCH);
    ck_assert_int_eq(mqtls_identity_set(&id, MQTLS_ID_CURRENT, key1, key1_len, key1, key1_len, false),
                     MQTLS_ERR_TLS_BAD_CERT);
    ck_assert(!mqtls_identity_has(&id, MQTLS_ID_CURRENT));
    ck_assert_int_eq(mqtls_identity_set(&id, MQTLS_ID_CURRENT, crt1, crt1_len, key1, key1_len, false),
                     MQTLS_OK);
    ck_assert(mqtls_identity_has(&id, MQTLS_ID_CURRENT));
}
END_TEST

/* A refusal an attacker on the path could have sent (a plaintext alert or
 * a reset during the TLS 1.2 handshake) never erases NEW: CURRENT for the
 * next connect, NEW still stored and tried again after it, however often. */
START_TEST(an_unproven_refusal_keeps_the_new_identity)
{
    mqtls_identity again;
    uint8_t buf[8192];
    size_t blen;
    int i;

    ck_assert_int_eq(mqtls_identity_attach(&id, &blobs), MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_set(&id, MQTLS_ID_CURRENT, crt1, crt1_len, key1, key1_len, true),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_set(&id, MQTLS_ID_NEW, crt2, crt2_len, key2, key2_len, true),
                     MQTLS_OK);
    for (i = 0; i < 5; i++) {
        ck_assert_int_eq(mqtls_identity_next(&id), MQTLS_ID_NEW);
        ck_assert_int_eq(mqtls_identity_report(&id, MQTLS_ID_NEW, MQTLS_ERR_TLS_CLIENT_CERT_REFUSED),
                         MQTLS_ERR_TLS_CLIENT_CERT_REFUSED);
        ck_assert_int_eq(mqtls_identity_next(&id), MQTLS_ID_CURRENT); /* this connect */
        ck_assert_int_eq(blobs.read(blobs.ctx, MQTLS_IDENTITY_BLOB_NEW, buf, sizeof buf, &blen),
                         MQTLS_OK);
        ck_assert_int_eq(mqtls_identity_report(&id, MQTLS_ID_CURRENT, MQTLS_OK), MQTLS_OK);
    }
    ck_assert_uint_eq(id.new_unproven, 5);
    ck_assert_int_eq(id.new_refused, 0);
    /* After a reboot NEW is still there, and commits on a clean connect. */
    mqtls_identity_init(&again);
    ck_assert_int_eq(mqtls_identity_attach(&again, &blobs), MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_restore(&again), MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_next(&again), MQTLS_ID_NEW);
    ck_assert_int_eq(mqtls_identity_report(&again, MQTLS_ID_NEW, MQTLS_OK), MQTLS_OK);
    ck_assert(!mqtls_identity_has(&again, MQTLS_ID_NEW));
    mqtls_identity_free(&again);
}
END_TEST

START_TEST(each_outcome_of_a_connect_with_new_does_what_it_should)
{
    static const int refusals[] = {MQTLS_ERR_CONNACK_NOT_AUTHORIZED,
                                   MQTLS_ERR_CONNACK_BAD_CREDENTIALS};
    uint8_t buf[8192];
    size_t blen;
    const uint8_t *c;
    size_t len, i;

    ck_assert_int_eq(mqtls_identity_attach(&id, &blobs), MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_set(&id, MQTLS_ID_CURRENT, crt1, crt1_len, key1, key1_len, true),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_next(&id), MQTLS_ID_CURRENT);
    for (i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
        ck_assert_int_eq(mqtls_identity_set(&id, MQTLS_ID_NEW, crt2, crt2_len, key2, key2_len, true),
                         MQTLS_OK);
        ck_assert_int_eq(mqtls_identity_next(&id), MQTLS_ID_NEW);
        /* The network failing says nothing about the certificate. */
        ck_assert_int_eq(mqtls_identity_report(&id, MQTLS_ID_NEW, MQTLS_ERR_NET_REFUSED), MQTLS_OK);
        ck_assert_int_eq(mqtls_identity_next(&id), MQTLS_ID_NEW);
        /* An authenticated refusal does: NEW is gone, for good. */
        ck_assert_int_eq(mqtls_identity_report(&id, MQTLS_ID_NEW, refusals[i]), refusals[i]);
        ck_assert_int_eq(id.new_refused, refusals[i]);
        ck_assert_int_eq(mqtls_identity_next(&id), MQTLS_ID_CURRENT);
        ck_assert_int_eq(blobs.read(blobs.ctx, MQTLS_IDENTITY_BLOB_NEW, buf, sizeof buf, &blen),
                         MQTLS_ERR_BLOB_NOT_FOUND);
        ck_assert_int_eq(mqtls_identity_report(&id, MQTLS_ID_CURRENT, MQTLS_OK), MQTLS_OK);
        ck_assert_int_eq(mqtls_identity_next(&id), MQTLS_ID_CURRENT);
        ck_assert_int_eq(mqtls_identity_cert(&id, MQTLS_ID_CURRENT, &c, &len), MQTLS_OK);
        ck_assert_mem_eq(c, crt1, crt1_len);
    }
    /* A clean connect commits it. */
    ck_assert_int_eq(mqtls_identity_set(&id, MQTLS_ID_NEW, crt2, crt2_len, key2, key2_len, true),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_report(&id, MQTLS_ID_CURRENT, MQTLS_OK), MQTLS_OK);
    ck_assert(mqtls_identity_has(&id, MQTLS_ID_NEW)); /* CURRENT's success commits nothing */
    ck_assert_int_eq(mqtls_identity_report(&id, MQTLS_ID_NEW, MQTLS_OK), MQTLS_OK);
    ck_assert(!mqtls_identity_has(&id, MQTLS_ID_NEW));
    ck_assert_int_eq(mqtls_identity_cert(&id, MQTLS_ID_CURRENT, &c, &len), MQTLS_OK);
    ck_assert_uint_eq(len, crt2_len);
    ck_assert_mem_eq(c, crt2, crt2_len);
}
END_TEST

START_TEST(slots_survive_a_reboot_and_damage_is_not_trusted)
{
    mqtls_identity again;
    const uint8_t *c;
    size_t len;
    char p[128];
    FILE *f;

    ck_assert_int_eq(mqtls_identity_attach(&id, &blobs), MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_restore(&id), MQTLS_ERR_BLOB_NOT_FOUND);
    /* The factory identity is not written unless asked. */
    ck_assert_int_eq(mqtls_identity_set(&id, MQTLS_ID_CURRENT, crt1, crt1_len, key1, key1_len, false),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_restore(&id), MQTLS_ERR_BLOB_NOT_FOUND);
    ck_assert_int_eq(mqtls_identity_set(&id, MQTLS_ID_CURRENT, crt1, crt1_len, key1, key1_len, true),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_set(&id, MQTLS_ID_NEW, crt2, crt2_len, key2, key2_len, false),
                     MQTLS_OK); /* NEW is always stored */
    mqtls_identity_init(&again);
    ck_assert_int_eq(mqtls_identity_attach(&again, &blobs), MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_restore(&again), MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_next(&again), MQTLS_ID_NEW);
    ck_assert_int_eq(mqtls_identity_cert(&again, MQTLS_ID_NEW, &c, &len), MQTLS_OK);
    ck_assert_mem_eq(c, crt2, crt2_len);
    mqtls_identity_free(&again);

    snprintf(p, sizeof p, "%s/id.current", dir);
    f = fopen(p, "r+b");
    ck_assert_ptr_nonnull(f);
    fseek(f, 100, SEEK_SET);
    fputc('#', f);
    fclose(f);
    mqtls_identity_init(&again);
    ck_assert_int_eq(mqtls_identity_attach(&again, &blobs), MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_restore(&again), MQTLS_ERR_BLOB_CORRUPT);
    ck_assert(!mqtls_identity_has(&again, MQTLS_ID_CURRENT));
    mqtls_identity_free(&again);
}
END_TEST

START_TEST(the_chosen_slot_goes_into_the_tls_configuration)
{
    mqtls_tls_config cfg;
    char dn[64];
    mqtls_tls_config_init(&cfg);
    ck_assert_int_eq(mqtls_tls_config_setup(&cfg), MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_apply(&id, MQTLS_ID_CURRENT, &cfg), MQTLS_ERR_INVALID_ARG);
    ck_assert_int_eq(mqtls_identity_set(&id, MQTLS_ID_CURRENT, crt1, crt1_len, key1, key1_len, false),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_set(&id, MQTLS_ID_NEW, crt2, crt2_len, key2, key2_len, false),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_apply(&id, MQTLS_ID_NEW, &cfg), MQTLS_OK);
    mbedtls_x509_dn_gets(dn, sizeof dn, &mqtls_tls_cfg_of(&cfg)->own_cert.subject);
    ck_assert_str_eq(dn, "CN=device-002");
    ck_assert_int_eq(mqtls_identity_apply(&id, MQTLS_ID_CURRENT, &cfg), MQTLS_OK);
    mbedtls_x509_dn_gets(dn, sizeof dn, &mqtls_tls_cfg_of(&cfg)->own_cert.subject);
    ck_assert_str_eq(dn, "CN=device-001");
    mqtls_tls_config_free(&cfg);
}
END_TEST

/* The CSR's SubjectPublicKeyInfo, as the provisioner takes it. */
static size_t csr_spki(const uint8_t *csr, size_t len, uint8_t *out, size_t cap)
{
    mbedtls_x509_csr req;
    uint8_t *copy = malloc(len + 1);
    int n;
    memcpy(copy, csr, len);
    copy[len] = 0;
    mbedtls_x509_csr_init(&req);
    ck_assert_int_eq(mbedtls_x509_csr_parse(&req, copy, len + 1), 0);
    n = mbedtls_pk_write_pubkey_der(&req.pk, out, cap);
    ck_assert_int_gt(n, 0);
    memmove(out, out + cap - (size_t)n, (size_t)n);
    mbedtls_x509_csr_free(&req);
    free(copy);
    return (size_t)n;
}

/* The onboarding proof: made with a serial's factory key, it verifies for
 * that serial, that CSR key and that pin only; each tampered part fails. */
START_TEST(an_onboarding_proof_binds_serial_key_and_factory_key)
{
    static uint8_t factory[512], other_factory[512], key[512], other_key[512], csr[2048],
        other_csr[2048], req[8192], spki[256], other_spki[256];
    size_t flen, oflen, klen, oklen, clen, oclen, rlen, slen, oslen;
    char pin[65], other_pin[65];
    mqtls_onboard_proof p;

    ck_assert_int_eq(mqtls_identity_generate_key(factory, sizeof factory, &flen), MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_generate_key(other_factory, sizeof other_factory, &oflen),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_generate_key(key, sizeof key, &klen), MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_generate_key(other_key, sizeof other_key, &oklen), MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_csr(key, klen, "SN-1", csr, sizeof csr, &clen), MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_csr(other_key, oklen, "SN-1", other_csr, sizeof other_csr,
                                        &oclen),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_onboard_key_pin(factory, flen, pin), MQTLS_OK);
    ck_assert_int_eq(mqtls_onboard_key_pin(other_factory, oflen, other_pin), MQTLS_OK);
    slen = csr_spki(csr, clen, spki, sizeof spki);
    oslen = csr_spki(other_csr, oclen, other_spki, sizeof other_spki);

    ck_assert_int_eq(mqtls_onboard_request(factory, flen, "SN-1", csr, clen, req, sizeof req,
                                           &rlen),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_onboard_parse(req, rlen, &p), MQTLS_OK);
    ck_assert(mqtls_onboard_pin_matches(&p, pin));
    ck_assert(!mqtls_onboard_pin_matches(&p, other_pin));
    ck_assert_int_eq(mqtls_onboard_verify(&p, "SN-1", spki, slen), MQTLS_OK);
    /* Another serial, another CSR key: refused. */
    ck_assert_int_eq(mqtls_onboard_verify(&p, "SN-2", spki, slen), MQTLS_ERR_UPDATE_BAD_SIGNATURE);
    ck_assert_int_eq(mqtls_onboard_verify(&p, "SN-1", other_spki, oslen),
                     MQTLS_ERR_UPDATE_BAD_SIGNATURE);
    /* Another nonce: refused. */
    p.nonce[0] ^= 1;
    ck_assert_int_eq(mqtls_onboard_verify(&p, "SN-1", spki, slen), MQTLS_ERR_UPDATE_BAD_SIGNATURE);
    /* A proof made with another factory key does not match the pin. */
    ck_assert_int_eq(mqtls_onboard_request(other_factory, oflen, "SN-1", csr, clen, req,
                                           sizeof req, &rlen),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_onboard_parse(req, rlen, &p), MQTLS_OK);
    ck_assert(!mqtls_onboard_pin_matches(&p, pin));
    /* A request cut before its proof: no proof; cut inside it: no good one. */
    {
        const char *at = strstr((const char *)req, "mqtls-proof: ");
        ck_assert_ptr_nonnull(at);
        ck_assert_int_eq(mqtls_onboard_parse(req, (size_t)(at - (const char *)req), &p),
                         MQTLS_ERR_INVALID_ARG);
    }
    ck_assert_int_eq(mqtls_onboard_request(factory, flen, "SN-1", csr, clen, req, sizeof req,
                                           &rlen),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_onboard_parse(req, rlen - 20, &p), MQTLS_OK);
    ck_assert_int_eq(mqtls_onboard_verify(&p, "SN-1", spki, slen), MQTLS_ERR_UPDATE_BAD_SIGNATURE);
    ck_assert_int_eq(mqtls_onboard_parse(csr, clen, &p), MQTLS_ERR_INVALID_ARG);
}
END_TEST

Suite *identity_suite(void)
{
    Suite *s = suite_create("identity");
    TCase *tc = tcase_create("slots");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, a_key_and_a_csr_are_made_on_the_device);
    tcase_add_test(tc, a_certificate_and_a_key_that_do_not_belong_together_are_refused);
    tcase_add_test(tc, each_outcome_of_a_connect_with_new_does_what_it_should);
    tcase_add_test(tc, an_unproven_refusal_keeps_the_new_identity);
    tcase_add_test(tc, an_onboarding_proof_binds_serial_key_and_factory_key);
    tcase_add_test(tc, slots_survive_a_reboot_and_damage_is_not_trusted);
    tcase_add_test(tc, the_chosen_slot_goes_into_the_tls_configuration);
    suite_add_tcase(s, tc);
    return s;
}
