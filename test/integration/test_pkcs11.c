/* SPDX-License-Identifier: Apache-2.0 */
/* A key that never leaves its token: SoftHSM (a token of each test's own,
 * made by pkcs11_token.sh in a temp dir), mutual TLS to Mosquitto with the
 * key used through tls/pkcs11.h. On mbedTLS 2.28, where the signer seam
 * is (tls/signer.h); a 3.6 build says so. */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "mqtt/codec.h"
#include "net/tcp_posix.h"
#include "test/integration/broker.h"
#include "test/integration/key_probe.h"
#include "test/unit/testutil.h"
#include "tls/identity.h"
#include "tls/pkcs11.h"
#include "tls/tls_mbedtls.h"

#define MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define URI "pkcs11:token=mqtls;object=device"

static broker brk;
static char dir[160];
static mqtls_tls_config cfg;
static mqtls_tls tls;
static mqtls_tcp tcp;
static mqtls_pkcs11_key key;
static uint8_t cert[4096];
static size_t cert_len;

/* A signer that counts the token's signatures. */
static mqtls_signer token_signer;
static unsigned signs;

static int counting_public_key(void *ctx, uint8_t pub[65])
{
    (void)ctx;
    return token_signer.public_key(token_signer.ctx, pub);
}

static int counting_sign(void *ctx, const uint8_t *hash, size_t hash_len, uint8_t *sig,
                         size_t cap, size_t *sig_len)
{
    (void)ctx;
    signs++;
    return token_signer.sign(token_signer.ctx, hash, hash_len, sig, cap, sig_len);
}

static void setup(void)
{
    char cmd[512], conf[256], path[256];

    /* Under the runner's temp dir, removed even when a test fails. */
    const char *tmp = getenv("MQTLS_TEST_TMP");
    snprintf(dir, sizeof dir, "%s/p11-XXXXXX", tmp != NULL ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(cmd, sizeof cmd, "sh %s/test/integration/pkcs11_token.sh %s %s", MQTLS_SOURCE_DIR,
             dir, CERTS);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(conf, sizeof conf, "%s/softhsm2.conf", dir);
    setenv("SOFTHSM2_CONF", conf, 1);
    snprintf(path, sizeof path, "%s/device.crt", dir);
    cert_len = test_slurp(path, cert, sizeof cert);
    mqtls_pkcs11_init(&key);
    mqtls_tls_config_init(&cfg);
    ck_assert_int_eq(mqtls_tls_config_setup(&cfg), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_add_ca_file(&cfg, CERTS "root-a.crt", NULL), MQTLS_OK);
    mqtls_tls_init(&tls);
    mqtls_tcp_init(&tcp);
    signs = 0;
}

static void teardown(void)
{
    char cmd[200];
    mqtls_tls_free(&tls);
    mqtls_tls_config_free(&cfg);
    mqtls_pkcs11_free(&key);
    broker_stop(&brk);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    (void)system(cmd);
}

/* TLS to the broker and an MQTT CONNACK back: returns the TLS result. */
static int connect_once(void)
{
    mqtls_transport lower, t;
    mqtls_connect c = {0};
    mqtls_packet pkt;
    uint8_t buf[256];
    int n, ret, got = 0, i, r = MQTLS_ERR_INCOMPLETE;

    ck_assert_int_eq(mqtls_tcp_connect(&tcp, "localhost", brk.port, 3000), MQTLS_OK);
    ck_assert_int_eq(mqtls_tcp_transport(&tcp, &lower), MQTLS_OK);
    ret = mqtls_tls_connect(&tls, &cfg, &lower, "localhost");
    if (ret != MQTLS_OK) {
        mqtls_tcp_close(&tcp);
        return ret;
    }
    ck_assert_int_eq(mqtls_tls_transport(&tls, &t), MQTLS_OK);
    c.client_id = (mqtls_str){"hsm", 3};
    c.clean_session = true;
    n = mqtls_codec_encode_connect(buf, sizeof buf, &c);
    ck_assert_int_eq(t.send(t.ctx, buf, (size_t)n, 2000), n);
    for (i = 0; i < 100 && r == MQTLS_ERR_INCOMPLETE; i++) {
        n = t.recv(t.ctx, buf + got, sizeof buf - (size_t)got, 1000);
        ck_assert_int_ge(n, 0);
        got += n;
        r = mqtls_codec_decode_from_server(buf, (size_t)got, &pkt);
    }
    ck_assert_int_gt(r, 0);
    ck_assert_int_eq(pkt.type, MQTLS_CONNACK);
    ck_assert_uint_eq(pkt.u.connack.return_code, MQTLS_CONNACK_ACCEPTED);
    mqtls_tls_close(&tls);
    return MQTLS_OK;
}

static int use_token_key_of(mqtls_pkcs11_key *k)
{
    const mqtls_signer counting = {NULL, counting_public_key, counting_sign};
    ck_assert_int_eq(mqtls_pkcs11_signer(k, &token_signer), MQTLS_OK);
    return mqtls_tls_config_set_identity_signer(&cfg, cert, cert_len, &counting);
}

static int use_token_key(void)
{
    return use_token_key_of(&key);
}

static void start_broker(void)
{
    char lines[1024];
    broker_tls_lines(lines, sizeof lines, "server-a-chain.pem", "server-a.key", 1);
    ck_assert_int_eq(broker_start(&brk, "127.0.0.1", lines), 0);
}

/* The key is made in the token, sensitive and never extractable; the TLS
 * configuration gets no key bytes, only the signer; the broker accepts
 * the certificate, and each handshake is one signature by the token. */
START_TEST(mutual_tls_with_the_key_only_in_the_token)
{
    bool sensitive = false, extractable = true;
    unsigned long parses;
    int ret;

    start_broker();
    ck_assert_int_eq(mqtls_pkcs11_open(&key, URI, MODULE, "1234"), MQTLS_OK);
    ck_assert_int_eq(mqtls_pkcs11_key_flags(&key, &sensitive, &extractable), MQTLS_OK);
    ck_assert(sensitive);
    ck_assert(!extractable);
    parses = key_parses;
    ret = use_token_key();
    if (strstr(mqtls_tls_backend(), "3.6") != NULL) {
        ck_assert_int_eq(ret, MQTLS_ERR_KEY_UNSUPPORTED); /* 3.6: PSA key ids */
        return;
    }
    ck_assert_int_eq(ret, MQTLS_OK);
    ck_assert_msg(connect_once() == MQTLS_OK, "%s", mqtls_tls_why(&tls));
    ck_assert_uint_eq(signs, 1);
    ck_assert_msg(connect_once() == MQTLS_OK, "%s", mqtls_tls_why(&tls));
    ck_assert_uint_eq(signs, 2);
    /* No private key bytes were parsed on the way: the software key path
     * was never entered. (The probe works: key bytes are counted.) */
    ck_assert_uint_eq(key_parses, parses);
    ck_assert_int_eq(mqtls_tls_config_set_identity_files(&cfg, CERTS "device-001.crt",
                                                         CERTS "device-001.key", NULL),
                     MQTLS_OK);
    ck_assert_uint_gt(key_parses, parses);
}
END_TEST

/* A wrong PIN, a key the token does not hold, a module that is not there,
 * a URI that is not one: each its own error, each a refusal. */
START_TEST(a_wrong_pin_a_missing_key_and_a_missing_module_are_named)
{
    ck_assert_int_eq(mqtls_pkcs11_open(&key, URI, MODULE, "0000"), MQTLS_ERR_KEY_PIN);
    ck_assert_int_eq(mqtls_pkcs11_open(&key, "pkcs11:token=mqtls;object=nokey", MODULE, "1234"),
                     MQTLS_ERR_KEY_NOT_FOUND);
    ck_assert_int_eq(mqtls_pkcs11_open(&key, "pkcs11:token=other;object=device", MODULE, "1234"),
                     MQTLS_ERR_KEY_NOT_FOUND);
    ck_assert_int_eq(mqtls_pkcs11_open(&key, URI, "/nonexistent/libp11.so", "1234"),
                     MQTLS_ERR_KEY_MODULE);
    ck_assert_int_eq(mqtls_pkcs11_open(&key, "file:device.key", MODULE, "1234"),
                     MQTLS_ERR_INVALID_ARG);
    ck_assert_int_eq(mqtls_pkcs11_open(&key, "pkcs11:token=mqtls;object=device;color=red", MODULE,
                                       "1234"),
                     MQTLS_ERR_INVALID_ARG);
    /* The URI's own attributes, percent-encoded: module, PIN and id. */
    ck_assert_int_eq(mqtls_pkcs11_open(&key,
                                       "pkcs11:token=mqtls;id=%01?module-path=" MODULE
                                       "&pin-value=1234",
                                       NULL, NULL),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_err_is_refusal(MQTLS_ERR_KEY_PIN), 1);
    ck_assert_int_eq(mqtls_err_is_refusal(MQTLS_ERR_KEY_NOT_FOUND), 1);
    ck_assert_int_eq(mqtls_err_is_refusal(MQTLS_ERR_KEY_MODULE), 1);
}
END_TEST

/* The token goes away between connects: the next handshake fails with
 * MQTLS_ERR_KEY_TOKEN_GONE, in words. */
START_TEST(a_token_that_goes_away_is_named)
{
    char cmd[256];
    int ret;

    if (strstr(mqtls_tls_backend(), "3.6") != NULL)
        return; /* no signer in TLS on 3.6 (the first test shows it) */
    start_broker();
    ck_assert_int_eq(mqtls_pkcs11_open(&key, URI, MODULE, "1234"), MQTLS_OK);
    ck_assert_int_eq(use_token_key(), MQTLS_OK);
    ck_assert_msg(connect_once() == MQTLS_OK, "%s", mqtls_tls_why(&tls));
    snprintf(cmd, sizeof cmd, "softhsm2-util --delete-token --token mqtls >/dev/null");
    ck_assert_int_eq(system(cmd), 0);
    ret = connect_once();
    ck_assert_msg(ret == MQTLS_ERR_KEY_TOKEN_GONE, "%s: %s", mqtls_errname(ret),
                  mqtls_tls_why(&tls));
    ck_assert_msg(strstr(mqtls_tls_why(&tls), "the token holding our key is gone") != NULL,
                  "%s", mqtls_tls_why(&tls));
}
END_TEST

/* Runs a shell command line; its exit status, its stderr in err. */
static int run(const char *cmdline, char *err, size_t cap)
{
    char cmd[2048], path[200];
    FILE *f;
    size_t n;
    int st;
    snprintf(path, sizeof path, "%s/err.txt", dir);
    snprintf(cmd, sizeof cmd, "%s 2>%s", cmdline, path);
    st = system(cmd);
    f = fopen(path, "r");
    n = f != NULL ? fread(err, 1, cap - 1, f) : 0;
    if (f != NULL)
        fclose(f);
    err[n] = '\0';
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The tools take the token's key as mosquitto's take an engine key:
 * --key pkcs11:URI (with --key-pin and --pkcs11-module). A wrong PIN is
 * said without the PIN. */
/* mqtls-pub with the token's key and the PIN given. */
static void pub_with_pin(char *out, size_t cap, const char *pin)
{
    snprintf(out, cap,
             "%s/examples/mqtls-pub -h localhost -p %u --cafile %sroot-a.crt --cert %s/device.crt "
             "--key 'pkcs11:token=mqtls;object=device' --key-pin %s --pkcs11-module " MODULE
             " -t hsm/t -m from-the-token -q 1",
             MQTLS_BUILD_DIR, (unsigned)brk.port, CERTS, dir, pin);
}

START_TEST(the_tools_publish_with_a_token_key)
{
    char cmd[1024], err[1024];
    int st;

    start_broker();
    pub_with_pin(cmd, sizeof cmd, "1234");
    st = run(cmd, err, sizeof err);
    if (strstr(mqtls_tls_backend(), "3.6") != NULL) {
        ck_assert_int_eq(st, 1);
        ck_assert_msg(strstr(err, "(MQTLS_ERR_KEY_UNSUPPORTED)") != NULL, "%s", err);
        return;
    }
    ck_assert_msg(st == 0, "status %d: %s", st, err);
    pub_with_pin(cmd, sizeof cmd, "9876");
    st = run(cmd, err, sizeof err);
    ck_assert_int_eq(st, 1);
    ck_assert_msg(strstr(err, "cannot use the key pkcs11:token=mqtls;object=device with ") != NULL &&
                      strstr(err, "(MQTLS_ERR_KEY_PIN)") != NULL,
                  "%s", err);
    ck_assert_msg(strstr(err, "9876") == NULL, "the PIN was printed: %s", err);
    /* A PIN in the URI is not printed either. */
    snprintf(cmd, sizeof cmd,
             "%s/examples/mqtls-pub -h localhost -p %u --cafile %sroot-a.crt --cert %s/device.crt "
             "--key 'pkcs11:token=mqtls;object=device?pin-value=4321&module-path=" MODULE "' "
             "-t hsm/t -m x",
             MQTLS_BUILD_DIR, (unsigned)brk.port, CERTS, dir);
    st = run(cmd, err, sizeof err);
    ck_assert_int_eq(st, 1);
    ck_assert_msg(strstr(err, "4321") == NULL && strstr(err, "pin-value=***") != NULL, "%s", err);
}
END_TEST

/* A key born in the token (as onboarding makes one): generated inside,
 * sensitive and never extractable, its CSR signed inside, a certificate
 * issued for it, and mutual TLS with it. The name cannot be taken twice. */
START_TEST(a_key_born_in_the_token_gets_a_certificate_and_connects)
{
    static const char born[] = "pkcs11:token=mqtls;object=born;id=%02";
    static uint8_t csr[2048];
    char path[256], cmd[1024], err[512];
    bool sensitive = false, extractable = true;
    mqtls_signer s;
    size_t n = 0;
    FILE *f;
    int ret;

    ck_assert_int_eq(mqtls_pkcs11_generate(&key, born, MODULE, "1234"), MQTLS_OK);
    ck_assert_int_eq(mqtls_pkcs11_key_flags(&key, &sensitive, &extractable), MQTLS_OK);
    ck_assert(sensitive);
    ck_assert(!extractable);
    ck_assert_int_eq(mqtls_pkcs11_signer(&key, &s), MQTLS_OK);
    ret = mqtls_identity_csr_signer(&s, "device-born", csr, sizeof csr, &n);
    if (strstr(mqtls_tls_backend(), "3.6") != NULL) {
        ck_assert_int_eq(ret, MQTLS_ERR_KEY_UNSUPPORTED);
        return;
    }
    ck_assert_int_eq(ret, MQTLS_OK);
    snprintf(path, sizeof path, "%s/born.csr", dir);
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(csr, 1, n, f), n);
    fclose(f);
    /* The CA's side: the CSR's signature checked, a certificate issued. */
    snprintf(cmd, sizeof cmd,
             "openssl req -in %s/born.csr -noout -verify >/dev/null && openssl x509 -req -in %s/born.csr "
             "-CA %sroot-a.crt -CAkey %sroot-a.key -days 30 -extfile %s/client.ext -out %s/born.crt",
             dir, dir, CERTS, CERTS, dir, dir);
    ck_assert_msg(run(cmd, err, sizeof err) == 0, "%s", err);
    snprintf(path, sizeof path, "%s/born.crt", dir);
    cert_len = test_slurp(path, cert, sizeof cert);
    start_broker();
    ck_assert_int_eq(use_token_key_of(&key), MQTLS_OK);
    ck_assert_msg(connect_once() == MQTLS_OK, "%s", mqtls_tls_why(&tls));
    ck_assert_uint_eq(signs, 1);
    mqtls_pkcs11_free(&key);
    ck_assert_int_eq(mqtls_pkcs11_generate(&key, born, MODULE, "1234"), MQTLS_ERR_INVALID_ARG);
}
END_TEST

Suite *pkcs11_suite(void); /* runner.c */
Suite *pkcs11_suite(void)
{
    Suite *s = suite_create("pkcs11");
    TCase *tc = tcase_create("softhsm");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, mutual_tls_with_the_key_only_in_the_token);
    tcase_add_test(tc, a_wrong_pin_a_missing_key_and_a_missing_module_are_named);
    tcase_add_test(tc, a_token_that_goes_away_is_named);
    tcase_add_test(tc, the_tools_publish_with_a_token_key);
    tcase_add_test(tc, a_key_born_in_the_token_gets_a_certificate_and_connects);
    suite_add_tcase(s, tc);
    return s;
}
