/* SPDX-License-Identifier: Apache-2.0 */
/* The signer seam (tls/signer.h) and PSA keys over the in-memory TLS pipe
 * (pipe.h): the handshake's signature and a CSR's from a key the
 * configuration never holds as bytes. */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/x509_csr.h>

#include "test/unit/suites.h"
#include "test/unit/testutil.h"
#include "test/unit/tls/pipe.h"
#include "tls/identity.h"
#include "tls/signer.h"


/* A signer that counts its calls and can be told to fail, over the
 * software key. */
static struct counting {
    mqtls_soft_signer soft;
    mqtls_signer inner;
    unsigned signs, hash_lens;
    int fail_with;
} counting;

static int counting_public_key(void *ctx, uint8_t pub[65])
{
    (void)ctx;
    return counting.inner.public_key(counting.inner.ctx, pub);
}

static int counting_sign(void *ctx, const uint8_t *hash, size_t hash_len, uint8_t *sig,
                         size_t cap, size_t *sig_len)
{
    (void)ctx;
    counting.signs++;
    counting.hash_lens |= (unsigned)hash_len;
    if (counting.fail_with != 0)
        return counting.fail_with;
    return counting.inner.sign(counting.inner.ctx, hash, hash_len, sig, cap, sig_len);
}

static mqtls_signer counting_signer(const char *key_file)
{
    static uint8_t pem[4096];
    mqtls_signer s = {NULL, counting_public_key, counting_sign};
    FILE *f = fopen(key_file, "rb");
    size_t n;
    ck_assert_ptr_nonnull(f);
    n = fread(pem, 1, sizeof pem, f);
    fclose(f);
    memset(&counting, 0, sizeof counting);
    mqtls_soft_signer_init(&counting.soft);
    ck_assert_int_eq(mqtls_soft_signer_load(&counting.soft, pem, n, NULL), MQTLS_OK);
    ck_assert_int_eq(mqtls_soft_signer_interface(&counting.soft, &counting.inner), MQTLS_OK);
    return s;
}


#if !MQTLS_MBEDTLS_3 || (MQTLS_COMPAT_PSA && defined(MBEDTLS_USE_PSA_CRYPTO))
/* A PEM CSR's public point and whether its signature verifies with it. */
static int csr_checks(const uint8_t *pem, size_t len, uint8_t point[65])
{
    mbedtls_x509_csr csr;
    uint8_t hash[32];
    int ok;
    mbedtls_x509_csr_init(&csr);
    ck_assert_int_eq(mbedtls_x509_csr_parse(&csr, pem, len + 1), 0);
    ck_assert_int_eq(mqtls_sha256(csr.cri.p, csr.cri.len, hash), 0);
    ok = mbedtls_pk_verify(&csr.pk, MBEDTLS_MD_SHA256, hash, 32, csr.MQTLS_PRIV(sig).p,
                           csr.MQTLS_PRIV(sig).len) == 0 &&
         mqtls_pk_p256_point(&csr.pk, point) == 0;
    mbedtls_x509_csr_free(&csr);
    return ok;
}
#endif

/* The handshake's signature comes from the signer, not from key bytes
 * given to the configuration: the configuration never had any. */
START_TEST(a_signer_signs_the_handshake)
{
    static uint8_t cert[4096];
    const size_t cert_len = test_slurp(CERTS "device-001.crt", cert, sizeof cert);
    const mqtls_signer s = counting_signer(CERTS "device-001.key");
    int ret;

    server_start("server-a-chain.pem", "server-a.key");
    mqtls_tls_config_init(&pipe_cfg);
    ck_assert_int_eq(mqtls_tls_config_setup(&pipe_cfg), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_add_ca_file(&pipe_cfg, CERTS "bundle-current.pem", NULL), MQTLS_OK);
    mqtls_tls_init(&pipe_tls);
    ret = mqtls_tls_config_set_identity_signer(&pipe_cfg, cert, cert_len, &s);
#if MQTLS_MBEDTLS_3
    /* 3.6 takes PSA key ids instead (docs/keys.md). */
    ck_assert_int_eq(ret, MQTLS_ERR_KEY_UNSUPPORTED);
#else
    ck_assert_int_eq(ret, MQTLS_OK);
    ck_assert_msg(mqtls_tls_connect(&pipe_tls, &pipe_cfg, &pipe_transport, "localhost") == MQTLS_OK, "%s",
                  mqtls_tls_why(&pipe_tls));
    ck_assert_uint_eq(counting.signs, 1); /* CertificateVerify */
    ck_assert_ptr_nonnull(mbedtls_ssl_get_peer_cert(&srv.ssl));
    mqtls_tls_close(&pipe_tls);
    {   /* A CSR signed by the same signer: its key, its signature. */
        static uint8_t csr[2048];
        uint8_t want[65], got[65];
        size_t n = 0;
        ck_assert_int_eq(mqtls_identity_csr_signer(&s, "dev-signer", csr, sizeof csr, &n), MQTLS_OK);
        ck_assert_uint_eq(counting.signs, 2);
        ck_assert(csr_checks(csr, n, got));
        ck_assert_int_eq(s.public_key(s.ctx, want), MQTLS_OK);
        ck_assert_mem_eq(got, want, 65);
        counting.fail_with = MQTLS_ERR_KEY_PIN;
        ck_assert_int_eq(mqtls_identity_csr_signer(&s, "dev-signer", csr, sizeof csr, &n),
                         MQTLS_ERR_KEY_PIN);
    }
#endif
    mqtls_soft_signer_free(&counting.soft);
    mqtls_soft_signer_free(&counting.soft); /* idempotent */
}
END_TEST

/* A certificate for another key is refused before any handshake; a
 * signer that fails fails the handshake with its own error, in words. */
START_TEST(a_signer_is_checked_against_the_certificate_and_its_failure_named)
{
    static uint8_t cert[4096];
    const size_t cert_len = test_slurp(CERTS "device-002.crt", cert, sizeof cert);
    static uint8_t cert1[4096];
    const size_t cert1_len = test_slurp(CERTS "device-001.crt", cert1, sizeof cert1);
    const mqtls_signer s = counting_signer(CERTS "device-001.key");

    server_start("server-a-chain.pem", "server-a.key");
    mqtls_tls_config_init(&pipe_cfg);
    ck_assert_int_eq(mqtls_tls_config_setup(&pipe_cfg), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_add_ca_file(&pipe_cfg, CERTS "bundle-current.pem", NULL), MQTLS_OK);
    mqtls_tls_init(&pipe_tls);
#if !MQTLS_MBEDTLS_3
    ck_assert_int_eq(mqtls_tls_config_set_identity_signer(&pipe_cfg, cert, cert_len, &s),
                     MQTLS_ERR_TLS_KEY_MISMATCH);
    ck_assert_int_eq(mqtls_tls_config_set_identity_signer(&pipe_cfg, cert1, cert1_len, &s), MQTLS_OK);
    counting.fail_with = MQTLS_ERR_KEY_TOKEN_GONE;
    ck_assert_int_eq(mqtls_tls_connect(&pipe_tls, &pipe_cfg, &pipe_transport, "localhost"),
                     MQTLS_ERR_KEY_TOKEN_GONE);
    ck_assert_str_eq(mqtls_tls_why(&pipe_tls), "our key could not sign the handshake: the token holding "
                                          "our key is gone (MQTLS_ERR_KEY_TOKEN_GONE)");
    ck_assert_int_eq(mqtls_err_is_refusal(MQTLS_ERR_KEY_TOKEN_GONE), 1);
#else
    (void)cert_len;
    (void)cert1_len;
    (void)s;
#endif
    ck_assert_int_eq(mqtls_tls_config_set_identity_signer(&pipe_cfg, cert, cert_len, NULL),
                     MQTLS_ERR_INVALID_ARG);
    mqtls_soft_signer_free(&counting.soft);
}
END_TEST

START_TEST(the_soft_signer_takes_p256_keys_only)
{
    static uint8_t pem[8192];
    mqtls_soft_signer s;
    mqtls_signer out;
    uint8_t pub[65];
    size_t n = test_slurp(CERTS "device-rsa.key", pem, sizeof pem);

    mqtls_soft_signer_init(&s);
    ck_assert_int_eq(mqtls_soft_signer_load(&s, pem, n, NULL), MQTLS_ERR_KEY_UNSUPPORTED);
    ck_assert_int_eq(mqtls_soft_signer_load(&s, (const uint8_t *)"junk", 4, NULL),
                     MQTLS_ERR_TLS_BAD_KEY);
    ck_assert_int_eq(mqtls_soft_signer_interface(&s, &out), MQTLS_OK);
    ck_assert_int_eq(out.public_key(out.ctx, pub), MQTLS_ERR_KEY_NOT_FOUND); /* nothing loaded */
    n = test_slurp(CERTS "device-001.pem.enc.key", pem, sizeof pem);
    ck_assert_int_eq(mqtls_soft_signer_load(&s, pem, n, "mqtls-test"), MQTLS_OK);
    ck_assert_int_eq(out.public_key(out.ctx, pub), MQTLS_OK);
    ck_assert_uint_eq(pub[0], 0x04);
    mqtls_soft_signer_free(&s);
    ck_assert_ptr_null(s.impl_);
}
END_TEST

/* A PSA key made non-exportable (3.6 with PSA): its certificate is issued
 * here from its public half, the handshake signs through PSA, and the key
 * itself cannot be read out. On other builds: unsupported, said so. */
#if MQTLS_COMPAT_PSA && defined(MBEDTLS_USE_PSA_CRYPTO)
#include <mbedtls/x509_crt.h>
static size_t issue_for_psa_key(mbedtls_svc_key_id_t id, uint8_t *out, size_t cap)
{
    mbedtls_x509write_cert w;
    mbedtls_pk_context subject, issuer;
    static uint8_t pem[4096];
    uint8_t serial[] = {0x42};
    mqtls_rng rng;
    size_t n = test_slurp(CERTS "root-a.key", pem, sizeof pem - 1);
    int len;

    pem[n] = 0;
    mbedtls_x509write_crt_init(&w);
    mbedtls_pk_init(&subject);
    mbedtls_pk_init(&issuer);
    mqtls_rng_init(&rng);
    ck_assert_int_eq(mqtls_rng_seed(&rng, "psa cert"), 0);
    ck_assert_int_eq(mbedtls_pk_setup_opaque(&subject, id), 0);
    ck_assert_int_eq(mqtls_pk_parse_key(&issuer, pem, n + 1, NULL, 0), 0);
    mbedtls_x509write_crt_set_subject_key(&w, &subject);
    mbedtls_x509write_crt_set_issuer_key(&w, &issuer);
    ck_assert_int_eq(mbedtls_x509write_crt_set_subject_name(&w, "CN=device-psa"), 0);
    ck_assert_int_eq(mbedtls_x509write_crt_set_issuer_name(&w, "CN=mqtls Test Root A"), 0);
    ck_assert_int_eq(mbedtls_x509write_crt_set_serial_raw(&w, serial, 1), 0);
    ck_assert_int_eq(mbedtls_x509write_crt_set_validity(&w, "20250101000000", "20350101000000"), 0);
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
    len = mbedtls_x509write_crt_der(&w, out, cap, mqtls_rng_random, &rng);
    ck_assert_int_gt(len, 0);
    memmove(out, out + cap - (size_t)len, (size_t)len); /* written at the end */
    mbedtls_x509write_crt_free(&w);
    mbedtls_pk_free(&subject);
    mbedtls_pk_free(&issuer);
    mqtls_rng_free(&rng);
    return (size_t)len;
}
#endif

START_TEST(a_psa_key_that_cannot_be_exported_signs_the_handshake)
{
    static uint8_t cert[4096];
#if MQTLS_COMPAT_PSA && defined(MBEDTLS_USE_PSA_CRYPTO)
    psa_key_attributes_t a = PSA_KEY_ATTRIBUTES_INIT;
    const mbedtls_svc_key_id_t id = test_psa_signing_key();
    size_t cert_len;

    cert_len = issue_for_psa_key(id, cert, sizeof cert);

    server_start("server-a-chain.pem", "server-a.key");
    mqtls_tls_config_init(&pipe_cfg);
    ck_assert_int_eq(mqtls_tls_config_setup(&pipe_cfg), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_add_ca_file(&pipe_cfg, CERTS "bundle-current.pem", NULL), MQTLS_OK);
    mqtls_tls_init(&pipe_tls);
    /* device-001's certificate names another key. */
    {
        static uint8_t other[4096];
        const size_t other_len = test_slurp(CERTS "device-001.crt", other, sizeof other);
        ck_assert_int_eq(mqtls_tls_config_set_identity_psa(&pipe_cfg, other, other_len,
                                                           MBEDTLS_SVC_KEY_ID_GET_KEY_ID(id)),
                         MQTLS_ERR_TLS_KEY_MISMATCH);
    }
    ck_assert_int_eq(mqtls_tls_config_set_identity_psa(&pipe_cfg, cert, cert_len, 0x7fff0000u),
                     MQTLS_ERR_KEY_NOT_FOUND);
    ck_assert_int_eq(mqtls_tls_config_set_identity_psa(&pipe_cfg, cert, cert_len,
                                                       MBEDTLS_SVC_KEY_ID_GET_KEY_ID(id)),
                     MQTLS_OK);
    ck_assert_msg(mqtls_tls_connect(&pipe_tls, &pipe_cfg, &pipe_transport, "localhost") == MQTLS_OK, "%s",
                  mqtls_tls_why(&pipe_tls));
    ck_assert_ptr_nonnull(mbedtls_ssl_get_peer_cert(&srv.ssl));
    ck_assert_str_eq(mbedtls_ssl_get_peer_cert(&srv.ssl)->subject.val.p != NULL ? "ok" : "", "ok");
    mqtls_tls_close(&pipe_tls);
    mqtls_tls_free(&pipe_tls);
    mqtls_tls_init(&pipe_tls);
    mqtls_tls_config_free(&pipe_cfg);
    mqtls_tls_config_init(&pipe_cfg);
    {   /* A CSR for the PSA key: its public half, signed inside PSA. */
        static uint8_t csr[2048];
        uint8_t got[65], want[65];
        size_t csr_n = 0, plen = 0;
        ck_assert_int_eq(mqtls_identity_csr_psa(MBEDTLS_SVC_KEY_ID_GET_KEY_ID(id), "dev-psa", csr,
                                                sizeof csr, &csr_n),
                         MQTLS_OK);
        ck_assert(csr_checks(csr, csr_n, got));
        ck_assert_int_eq(psa_export_public_key(id, want, sizeof want, &plen), PSA_SUCCESS);
        ck_assert_mem_eq(got, want, 65);
    }
    /* Freeing the configuration left the application's key alone. */
    ck_assert_int_eq(psa_get_key_attributes(id, &a), PSA_SUCCESS);
    psa_reset_key_attributes(&a);
    ck_assert_int_eq(psa_destroy_key(id), PSA_SUCCESS);
#else
    const size_t cert_len = test_slurp(CERTS "device-001.crt", cert, sizeof cert);
    server_start("server-a-chain.pem", "server-a.key");
    mqtls_tls_config_init(&pipe_cfg);
    ck_assert_int_eq(mqtls_tls_config_setup(&pipe_cfg), MQTLS_OK);
    mqtls_tls_init(&pipe_tls);
    ck_assert_int_eq(mqtls_tls_config_set_identity_psa(&pipe_cfg, cert, cert_len, 1),
                     MQTLS_ERR_KEY_UNSUPPORTED);
    {
        static uint8_t csr[2048];
        size_t n = 0;
        ck_assert_int_eq(mqtls_identity_csr_psa(1, "dev-psa", csr, sizeof csr, &n),
                         MQTLS_ERR_KEY_UNSUPPORTED);
    }
#endif
}
END_TEST

Suite *signer_suite(void)
{
    Suite *s = suite_create("signer");
    TCase *tc = tcase_create("pipe");
    tcase_add_checked_fixture(tc, NULL, pipe_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, a_signer_signs_the_handshake);
    tcase_add_test(tc, a_signer_is_checked_against_the_certificate_and_its_failure_named);
    tcase_add_test(tc, the_soft_signer_takes_p256_keys_only);
    tcase_add_test(tc, a_psa_key_that_cannot_be_exported_signs_the_handshake);
    suite_add_tcase(s, tc);
    return s;
}
