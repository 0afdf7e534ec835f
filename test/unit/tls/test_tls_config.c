/* SPDX-License-Identifier: Apache-2.0 */
/* TLS configuration without a broker: trust bundles (a bad certificate is
 * named, nothing is half-added), identities in every format, options. Uses
 * the PKI that make certs writes to build/certs. */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "test/unit/suites.h"
#include "net/tcp_posix.h"
#include "tls/castore.h"
#include "tls/tls_internal.h" /* white box: the config's state */
#include "tls/tls_mbedtls.h"

#define CERTS MQTLS_SOURCE_DIR "/build/certs/"

static mqtls_tls_config cfg;

static void setup(void)
{
    mqtls_tls_config_init(&cfg);
    ck_assert_int_eq(mqtls_tls_config_setup(&cfg), MQTLS_OK);
}

static void teardown(void)
{
    mqtls_tls_config_free(&cfg);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    ck_assert_msg(f != NULL, "%s missing: run make certs", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

START_TEST(pem_bundle_adds_every_certificate)
{
    size_t len, bad = 99;
    char *pem = slurp(CERTS "bundle-all.pem", &len);
    /* Not NUL-terminated on purpose: the length is all it gets. */
    ck_assert_int_eq(mqtls_tls_config_add_ca_pem(&cfg, pem, len, &bad), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_cfg_of(&cfg)->ca_count, 3);
    ck_assert_uint_eq(bad, 0);
    free(pem);
}
END_TEST

/* `openssl x509 -text` output: kilobytes of text before each block. */
START_TEST(a_bundle_with_long_leading_text_is_pem)
{
    size_t len, i;
    char *pem = slurp(CERTS "root-a.crt", &len);
    char *text = malloc(6000 + len);
    ck_assert_ptr_nonnull(text);
    for (i = 0; i < 6000; i++)
        text[i] = i % 64 == 63 ? '\n' : (char)('a' + i % 26);
    memcpy(text + 6000, pem, len);
    ck_assert_int_eq(mqtls_tls_config_add_ca_pem(&cfg, text, 6000 + len, NULL), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_cfg_of(&cfg)->ca_count, 1);
    free(text);
    free(pem);
}
END_TEST

START_TEST(a_bad_certificate_in_a_bundle_is_named_and_nothing_added)
{
    size_t len, bad = 0;
    char *pem = slurp(CERTS "bundle-all.pem", &len);
    char *second = strstr(strstr(pem, "-----END CERTIFICATE-----") + 1, "MII");

    ck_assert_ptr_nonnull(second);
    second[10] ^= 0x11; /* corrupt the second certificate's base64 */
    ck_assert_int_eq(mqtls_tls_config_add_ca_pem(&cfg, pem, len, &bad), MQTLS_ERR_TLS_BAD_CA);
    ck_assert_uint_eq(bad, 2);
    ck_assert_int_eq(mqtls_tls_cfg_of(&cfg)->ca_count, 0);
    free(pem);
}
END_TEST

START_TEST(a_truncated_bundle_is_refused)
{
    size_t len, bad = 0;
    char *pem = slurp(CERTS "bundle-both.pem", &len);
    ck_assert_int_eq(mqtls_tls_config_add_ca_pem(&cfg, pem, len - 40, &bad),
                     MQTLS_ERR_TLS_BAD_CA);
    ck_assert_uint_eq(bad, 2);
    ck_assert_int_eq(mqtls_tls_config_add_ca_pem(&cfg, "no certificate here", 19, &bad),
                     MQTLS_ERR_TLS_BAD_CA);
    ck_assert_int_eq(mqtls_tls_cfg_of(&cfg)->ca_count, 0);
    free(pem);
}
END_TEST

START_TEST(der_and_files)
{
    size_t len, bad;
    char *der = slurp(CERTS "root-a.der", &len);
    ck_assert_int_eq(mqtls_tls_config_add_ca_der(&cfg, (const uint8_t *)der, len), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_add_ca_der(&cfg, (const uint8_t *)der, len / 2),
                     MQTLS_ERR_TLS_BAD_CA);
    ck_assert_int_eq(mqtls_tls_config_add_ca_file(&cfg, CERTS "root-b.der", &bad), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_add_ca_file(&cfg, CERTS "bundle-both.pem", &bad), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_cfg_of(&cfg)->ca_count, 4);
    ck_assert_int_eq(mqtls_tls_config_add_ca_file(&cfg, CERTS "no-such-file.pem", &bad),
                     MQTLS_ERR_TLS_FILE);
    free(der);
}
END_TEST

/* A lower transport that is never called. */
static int never_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    (void)ctx, (void)buf, (void)len, (void)timeout_ms;
    ck_abort_msg("a refused object reached its transport");
    return -1;
}

static int never_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    (void)ctx, (void)buf, (void)len, (void)timeout_ms;
    ck_abort_msg("a refused object reached its transport");
    return -1;
}

/* An application compiled with other storage sizes than the library:
 * init records the size it was given and touches nothing else, and every
 * call refuses the object with the error that says why. */
START_TEST(storage_of_another_size_is_refused_not_corrupted)
{
    static mqtls_tls_config other;
    static mqtls_tls conn;
    static mqtls_castore cas;
    const mqtls_transport lower = {NULL, never_send, never_recv, NULL};

    memset(&other, 0x5a, sizeof other);
    mqtls_tls_config_init_sized(&other, sizeof other - 16);
    ck_assert_uint_eq(other.size_, sizeof other - 16);
    ck_assert_uint_eq(other.opaque_.bytes[0], 0x5a); /* untouched */
    ck_assert_int_eq(mqtls_tls_config_setup(&other), MQTLS_ERR_TLS_STORAGE);
    ck_assert_int_eq(mqtls_tls_config_set_versions(&other, MQTLS_TLS_1_2), MQTLS_ERR_TLS_STORAGE);
    mqtls_tls_config_free(&other); /* safe: nothing of it is ours */
    ck_assert_uint_eq(other.opaque_.bytes[0], 0x5a);

    /* A connection of another size, with a good configuration. */
    mqtls_tls_init_sized(&conn, sizeof conn + 8);
    ck_assert_str_eq(mqtls_tls_why(&conn), "");
    ck_assert_int_eq(mqtls_tls_get_report(&conn)->version, 0);
    ck_assert_int_eq(mqtls_tls_connect(&conn, &cfg, &lower, "localhost"), MQTLS_ERR_TLS_STORAGE);
    ck_assert_int_eq(mqtls_tls_session_load(&conn, (const uint8_t *)"x", 1), MQTLS_ERR_TLS_STORAGE);
    mqtls_tls_free(&conn);

    mqtls_castore_init_sized(&cas, sizeof cas / 2);
    ck_assert_int_eq(mqtls_castore_trust(&cas, MQTLS_TRUST_ACTIVE), MQTLS_ERR_INVALID_ARG);
    mqtls_castore_free(&cas);
}
END_TEST

/* On mbedTLS 3.6 with MBEDTLS_USE_PSA_CRYPTO our EC key lives in PSA's
 * key store, the configuration holding only a handle; freeing destroys
 * it. Elsewhere the key stays a plain mbedTLS key (and this says so). */
START_TEST(our_ec_key_lives_in_psa_where_it_can)
{
    mqtls_tls_cfg_impl *impl;
    ck_assert_int_eq(mqtls_tls_config_set_identity_files(&cfg, CERTS "device-001.crt",
                                                         CERTS "device-001.key", NULL),
                     MQTLS_OK);
    impl = mqtls_tls_cfg_of(&cfg);
#if MQTLS_COMPAT_PSA && defined(MBEDTLS_USE_PSA_CRYPTO)
    {
        const mqtls_key_handle id = impl->own_key_psa;
        psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
        ck_assert_int_eq(mbedtls_pk_get_type(&impl->own_key), MBEDTLS_PK_OPAQUE);
        ck_assert_int_eq(psa_get_key_attributes(id, &attr), PSA_SUCCESS);
        ck_assert(PSA_KEY_TYPE_IS_ECC_KEY_PAIR(psa_get_key_type(&attr)));
        psa_reset_key_attributes(&attr);
        ck_assert_int_eq(mqtls_pk_check_pair(&impl->own_cert.pk, &impl->own_key), 0);
        /* A new identity replaces it: the old PSA key is destroyed. */
        ck_assert_int_eq(mqtls_tls_config_set_identity_files(&cfg, CERTS "device-002.crt",
                                                             CERTS "device-002.key", NULL),
                         MQTLS_OK);
        ck_assert_int_ne(psa_get_key_attributes(id, &attr), PSA_SUCCESS);
        {
            const mqtls_key_handle id2 = impl->own_key_psa;
            ck_assert_int_eq(psa_get_key_attributes(id2, &attr), PSA_SUCCESS);
            psa_reset_key_attributes(&attr);
            mqtls_tls_config_free(&cfg);
            ck_assert_int_ne(psa_get_key_attributes(id2, &attr), PSA_SUCCESS);
        }
        mqtls_tls_config_init(&cfg);
    }
#else
    ck_assert_int_ne(mbedtls_pk_get_type(&impl->own_key), MBEDTLS_PK_OPAQUE);
#endif
}
END_TEST

START_TEST(identities_in_every_format)
{
    ck_assert_int_eq(mqtls_tls_config_set_identity_files(&cfg, CERTS "device-001.crt",
                                                         CERTS "device-001.key", NULL),
                     MQTLS_OK);
    ck_assert(mqtls_tls_cfg_of(&cfg)->has_identity);
    ck_assert_int_eq(mqtls_tls_config_set_identity_files(&cfg, CERTS "device-001.der",
                                                         CERTS "device-001.key.der", NULL),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_set_identity_files(&cfg, CERTS "device-001.crt",
                                                         CERTS "device-001.p8.enc.key",
                                                         "mqtls-test"),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_set_identity_files(&cfg, CERTS "device-001.crt",
                                                         CERTS "device-001.pem.enc.key",
                                                         "mqtls-test"),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_set_identity_files(&cfg, CERTS "device-rsa.crt",
                                                         CERTS "device-rsa.key", NULL),
                     MQTLS_OK);
}
END_TEST

START_TEST(identity_failures_say_which)
{
    uint8_t pin_before[32], pin_after[32];
    size_t len;
    char *pem;
    ck_assert_int_eq(mqtls_tls_config_set_identity_files(&cfg, CERTS "device-001.crt",
                                                         CERTS "device-001.p8.enc.key", "wrong"),
                     MQTLS_ERR_TLS_BAD_KEY);
    ck_assert_int_eq(mqtls_tls_config_set_identity_files(&cfg, CERTS "device-001.crt",
                                                         CERTS "device-001.p8.enc.key", NULL),
                     MQTLS_ERR_TLS_BAD_KEY);
    ck_assert_int_eq(mqtls_tls_config_set_identity_files(&cfg, CERTS "device-001.crt",
                                                         CERTS "device-002.key", NULL),
                     MQTLS_ERR_TLS_KEY_MISMATCH);
    ck_assert_int_eq(mqtls_tls_config_set_identity_files(&cfg, CERTS "device-001.key",
                                                         CERTS "device-001.key", NULL),
                     MQTLS_ERR_TLS_BAD_CERT);
    ck_assert_int_eq(mqtls_tls_config_set_identity_files(&cfg, CERTS "missing.crt",
                                                         CERTS "device-001.key", NULL),
                     MQTLS_ERR_TLS_FILE);
    ck_assert(!mqtls_tls_cfg_of(&cfg)->has_identity);
    /* All or nothing: a good identity, then each bad one leaves it in use. */
    ck_assert_int_eq(mqtls_tls_config_set_identity_files(&cfg, CERTS "device-002.crt",
                                                         CERTS "device-002.key", NULL),
                     MQTLS_OK);
    pem = slurp(CERTS "device-002.crt", &len);
    ck_assert_int_eq(mqtls_tls_pin_of_cert((const uint8_t *)pem, len, pin_before), MQTLS_OK);
    free(pem);
    ck_assert_int_eq(mqtls_tls_config_set_identity_files(&cfg, CERTS "device-001.crt",
                                                         CERTS "device-002.key", NULL),
                     MQTLS_ERR_TLS_KEY_MISMATCH);
    ck_assert_int_eq(mqtls_tls_config_set_identity_files(&cfg, CERTS "device-001.key",
                                                         CERTS "device-001.key", NULL),
                     MQTLS_ERR_TLS_BAD_CERT);
    ck_assert_int_eq(mqtls_tls_config_set_identity_files(&cfg, CERTS "device-001.crt",
                                                         CERTS "device-001.p8.enc.key", "wrong"),
                     MQTLS_ERR_TLS_BAD_KEY);
    ck_assert(mqtls_tls_cfg_of(&cfg)->has_identity);
    ck_assert_int_eq(mqtls_tls_pin_of_cert(mqtls_tls_cfg_of(&cfg)->own_cert.raw.p, mqtls_tls_cfg_of(&cfg)->own_cert.raw.len, pin_after),
                     MQTLS_OK);
    ck_assert_mem_eq(pin_before, pin_after, 32);
    ck_assert_int_eq(mqtls_pk_check_pair(&mqtls_tls_cfg_of(&cfg)->own_cert.pk, &mqtls_tls_cfg_of(&cfg)->own_key), 0);
}
END_TEST

/* Pins off is set_pins(NULL, 0): no copy from NULL (UBSan in make check). */
START_TEST(pins_can_be_turned_off_with_null)
{
    static const uint8_t two[2][32] = {{1}, {2}};
    ck_assert_int_eq(mqtls_tls_config_set_pins(&cfg, two, 2), MQTLS_OK);
    ck_assert_uint_eq(mqtls_tls_cfg_of(&cfg)->pin_count, 2);
    ck_assert_int_eq(mqtls_tls_config_set_pins(&cfg, NULL, 0), MQTLS_OK);
    ck_assert_uint_eq(mqtls_tls_cfg_of(&cfg)->pin_count, 0);
    ck_assert_int_eq(mqtls_tls_config_set_pins(&cfg, NULL, 2), MQTLS_ERR_INVALID_ARG);
}
END_TEST

START_TEST(options_are_checked)
{
    static const char *const alpn[] = {"mqtt", NULL};
    static const char *const none[] = {NULL};
    static const char *const too_many[] = {"a", "b", "c", "d", "e", NULL};
    ck_assert_int_eq(mqtls_tls_config_set_max_fragment(&cfg, 2048), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_set_max_fragment(&cfg, 3000), MQTLS_ERR_TLS_CONFIG);
    ck_assert_int_eq(mqtls_tls_config_set_alpn(&cfg, alpn), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_set_alpn(&cfg, none), MQTLS_ERR_TLS_CONFIG);
    ck_assert_int_eq(mqtls_tls_config_set_alpn(&cfg, too_many), MQTLS_ERR_TLS_CONFIG);
    ck_assert_int_eq(mqtls_tls_config_set_handshake_timeout(&cfg, 0), MQTLS_ERR_INVALID_ARG);
    ck_assert_int_eq(mqtls_tls_config_set_time_policy(&cfg, (mqtls_tls_time_policy)7),
                     MQTLS_ERR_INVALID_ARG);
}
END_TEST

/* Verification cannot be forgotten: no CA and no explicit opt-out means
 * no connection at all. */
START_TEST(no_trust_no_connection)
{
    mqtls_tls tls;
    mqtls_transport never = {NULL, NULL, NULL, NULL};
    never.send = (int (*)(void *, const uint8_t *, size_t, uint32_t))abort;
    never.recv = (int (*)(void *, uint8_t *, size_t, uint32_t))abort;
    mqtls_tls_init(&tls);
    ck_assert_int_eq(mqtls_tls_connect(&tls, &cfg, &never, "localhost"), MQTLS_ERR_TLS_NO_TRUST);
    ck_assert_ptr_nonnull(strstr(mqtls_tls_why(&tls), "no trusted CA"));
    mqtls_tls_free(&tls);
}
END_TEST

/* A server that accepts TCP and never says a word: the handshake ends at
 * its timeout, with a reason. */
START_TEST(handshake_times_out_against_a_silent_server)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    mqtls_tcp tcp;
    mqtls_tls tls;
    mqtls_transport lower;
    struct timespec t0, t1;
    long ms;

    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(lfd, 1), 0);
    ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
    ck_assert_int_eq(mqtls_tls_config_add_ca_file(&cfg, CERTS "root-a.crt", NULL), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_set_handshake_timeout(&cfg, 300), MQTLS_OK);
    mqtls_tcp_init(&tcp);
    ck_assert_int_eq(mqtls_tcp_connect(&tcp, "127.0.0.1", ntohs(a.sin_port), 1000), MQTLS_OK);
    mqtls_tcp_transport(&tcp, &lower);
    mqtls_tls_init(&tls);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(mqtls_tls_connect(&tls, &cfg, &lower, "localhost"),
                     MQTLS_ERR_TLS_HANDSHAKE_TIMEOUT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    ck_assert_int_ge(ms, 280);
    ck_assert_int_lt(ms, 2000);
    ck_assert_ptr_nonnull(strstr(mqtls_tls_why(&tls), "did not finish within 300 ms"));
    mqtls_tls_free(&tls);
    mqtls_tcp_close(&tcp);
    close(lfd);
}
END_TEST

START_TEST(free_wipes_the_key)
{
    mqtls_tls_config c;
    const unsigned char *p;
    size_t i, nonzero = 0;

    mqtls_tls_config_init(&c);
    ck_assert_int_eq(mqtls_tls_config_setup(&c), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_set_identity_files(&c, CERTS "device-001.crt",
                                                         CERTS "device-001.key", NULL),
                     MQTLS_OK);
    mqtls_tls_config_free(&c);
    for (p = (const unsigned char *)&c, i = 0; i < sizeof c; i++)
        nonzero += p[i] != 0;
    ck_assert_uint_eq(nonzero, 0);
    mqtls_tls_config_free(&c); /* twice is harmless */
}
END_TEST

Suite *tls_config_suite(void)
{
    Suite *s = suite_create("tls_config");
    TCase *tc = tcase_create("config");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, pem_bundle_adds_every_certificate);
    tcase_add_test(tc, a_bundle_with_long_leading_text_is_pem);
    tcase_add_test(tc, a_bad_certificate_in_a_bundle_is_named_and_nothing_added);
    tcase_add_test(tc, a_truncated_bundle_is_refused);
    tcase_add_test(tc, der_and_files);
    tcase_add_test(tc, identities_in_every_format);
    tcase_add_test(tc, our_ec_key_lives_in_psa_where_it_can);
    tcase_add_test(tc, storage_of_another_size_is_refused_not_corrupted);
    tcase_add_test(tc, identity_failures_say_which);
    tcase_add_test(tc, pins_can_be_turned_off_with_null);
    tcase_add_test(tc, options_are_checked);
    tcase_add_test(tc, no_trust_no_connection);
    tcase_add_test(tc, handshake_times_out_against_a_silent_server);
    tcase_add_test(tc, free_wipes_the_key);
    suite_add_tcase(s, tc);
    return s;
}
