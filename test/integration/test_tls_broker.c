/* SPDX-License-Identifier: Apache-2.0 */
/* TLS against a real Mosquitto on loopback: one broker per test, with the
 * listener that test needs. Each failure case asserts its error class and
 * the words of its reason. */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <signal.h>

#include "mqtt/codec.h"
#include "net/tcp_posix.h"
#include "test/integration/broker.h"
#include "test/integration/fault.h"
#include "tls/castore.h"
#include <mbedtls/ssl_ciphersuites.h>

#include "tls/tls_compat.h"
#include "tls/tls_mbedtls.h"

Suite *tls_broker_suite(void);

static broker brk;
static mqtls_tls_config cfg;
static mqtls_tls tls;
static mqtls_tcp tcp;

/* Check ends a failed test's process without running the teardown; this
 * still stops the broker by its pid and removes its temp dir. */
static void stop_broker_at_exit(void)
{
    broker_stop(&brk);
}

/* The TLS version a test case pins (0: the default offer, 1.3 and 1.2
 * with mbedTLS 3.6, 1.2 with 2.28). */
static unsigned pinned;

/* What a handshake with Mosquitto (OpenSSL 3, 1.3 and 1.2) agrees on. */
static unsigned expected_version(void)
{
    if (pinned != 0)
        return pinned == MQTLS_TLS_1_3 ? 13u : 12u;
    return MQTLS_MBEDTLS_3 ? 13u : 12u;
}

static void setup(void)
{
    static int registered;
    if (!registered++)
        atexit(stop_broker_at_exit);
    mqtls_tls_config_init(&cfg);
    ck_assert_int_eq(mqtls_tls_config_setup(&cfg), MQTLS_OK);
    if (pinned != 0)
        ck_assert_int_eq(mqtls_tls_config_set_versions(&cfg, pinned), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_set_handshake_timeout(&cfg, 5000), MQTLS_OK);
    mqtls_tls_init(&tls);
    mqtls_tcp_init(&tcp);
    memset(&brk, 0, sizeof brk);
}

#if MQTLS_MBEDTLS_3
static void setup_v12(void)
{
    pinned = MQTLS_TLS_1_2;
    setup();
}

static void setup_v13(void)
{
    pinned = MQTLS_TLS_1_3;
    setup();
}
#endif

static void teardown(void)
{
    mqtls_tls_free(&tls);
    mqtls_tcp_close(&tcp);
    mqtls_tls_config_free(&cfg);
    broker_stop(&brk);
}

static void start_tls_broker(const char *address, const char *cert, const char *key, int mutual)
{
    char lines[1024];
    broker_tls_lines(lines, sizeof lines, cert, key, mutual);
    ck_assert_int_eq(broker_start(&brk, address, lines), 0);
}

static void trust(const char *file)
{
    size_t bad;
    ck_assert_int_eq(mqtls_tls_config_add_ca_file(&cfg, file, &bad), MQTLS_OK);
}

static void identity(const char *name)
{
    char crt[256], key[256];
    snprintf(crt, sizeof crt, "%s%s.crt", CERTS, name);
    snprintf(key, sizeof key, "%s%s.key", CERTS, name);
    ck_assert_int_eq(mqtls_tls_config_set_identity_files(&cfg, crt, key, NULL), MQTLS_OK);
}

/* TCP to the broker, then the TLS handshake for host name "localhost". */
static int handshake_at(const char *address)
{
    mqtls_transport lower;
    ck_assert_int_eq(mqtls_tcp_connect(&tcp, address, brk.port, 3000), MQTLS_OK);
    ck_assert_int_eq(mqtls_tcp_transport(&tcp, &lower), MQTLS_OK);
    return mqtls_tls_connect(&tls, &cfg, &lower, "localhost");
}

static int handshake(void)
{
    return handshake_at("127.0.0.1");
}

/* The broker's verdict on our certificate. On TLS 1.2 a refusal fails
 * the handshake; on 1.3 our handshake ends before the broker has judged
 * the certificate, and the refusal is what the first read finds. */
static int handshake_then_read(void)
{
    mqtls_transport t;
    uint8_t b[16];
    int r = handshake(), i;

    if (r != MQTLS_OK)
        return r;
    ck_assert_uint_eq(mqtls_tls_get_report(&tls)->version, expected_version());
    ck_assert_int_eq(mqtls_tls_transport(&tls, &t), MQTLS_OK);
    for (i = 0; i < 20; i++) { /* bounded: 20 x 250 ms */
        r = t.recv(t.ctx, b, sizeof b, 250);
        if (r != 0)
            break;
    }
    return r > 0 ? MQTLS_OK : r;
}

static void assert_why(int got, int want, const char *words)
{
    ck_assert_msg(got == want, "got %s (%s), want %s", mqtls_errname(got), mqtls_tls_why(&tls),
                  mqtls_errname(want));
    ck_assert_msg(strstr(mqtls_tls_why(&tls), words) != NULL, "\"%s\" lacks \"%s\"",
                  mqtls_tls_why(&tls), words);
}

/* MQTT CONNECT over the TLS transport, and the broker's CONNACK back. */
static void mqtt_connect(const char *client_id)
{
    mqtls_transport t;
    mqtls_connect c = {0};
    mqtls_packet pkt;
    uint8_t buf[256];
    int n, sent = 0, got = 0, i, r = 0;

    ck_assert_int_eq(mqtls_tls_transport(&tls, &t), MQTLS_OK);
    c.client_id = (mqtls_str){client_id, strlen(client_id)};
    c.clean_session = true;
    c.keepalive_s = 30;
    n = mqtls_codec_encode_connect(buf, sizeof buf, &c);
    ck_assert_int_gt(n, 0);
    /* Bounded loops, generous enough for a link that moves one byte per call. */
    for (i = 0; i < 5000 && sent < n; i++) {
        r = t.send(t.ctx, buf + sent, (size_t)(n - sent), 1000);
        ck_assert_int_ge(r, 0);
        sent += r;
    }
    ck_assert_int_eq(sent, n);
    for (i = 0; i < 5000; i++) {
        r = mqtls_codec_decode_from_server(buf, (size_t)got, &pkt);
        if (r != MQTLS_ERR_INCOMPLETE)
            break;
        n = t.recv(t.ctx, buf + got, sizeof buf - (size_t)got, 1000);
        ck_assert_int_ge(n, 0);
        got += n;
    }
    ck_assert_int_gt(r, 0);
    ck_assert_int_eq(pkt.type, MQTLS_CONNACK);
    ck_assert_uint_eq(pkt.u.connack.return_code, MQTLS_CONNACK_ACCEPTED);
}

/* SHA-256 of a DER file from the PKI. */
static void file_sha256(const char *path, uint8_t out[32])
{
    uint8_t der[4096];
    size_t n;
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    n = fread(der, 1, sizeof der, f);
    fclose(f);
    ck_assert_int_eq(mqtls_sha256(der, n, out), 0);
}

START_TEST(mutual_tls_connects_and_completes_connect)
{
    uint8_t root_a[32];
    start_tls_broker("127.0.0.1", "server-a-chain.pem", "server-a.key", 1);
    trust(CERTS "bundle-both.pem");
    identity("device-001");
    ck_assert_int_eq(handshake(), MQTLS_OK);
    ck_assert_str_eq(mqtls_tls_why(&tls), "");
    ck_assert_uint_eq(mqtls_tls_get_report(&tls)->version, expected_version());
    ck_assert_str_eq(mqtls_tls_version_name(&tls), expected_version() == 13 ? "TLSv1.3" : "TLSv1.2");
    ck_assert_str_ne(mqtls_tls_get_report(&tls)->ciphersuite, "");
    /* Which trusted CA the chain ended at: Root A of the two trusted,
     * through the intermediate the broker sent. */
    ck_assert(mqtls_tls_get_report(&tls)->ca_known);
    ck_assert_str_eq(mqtls_tls_get_report(&tls)->ca_subject, "CN=mqtls Test Root A");
    file_sha256(CERTS "root-a.der", root_a);
    ck_assert_mem_eq(mqtls_tls_get_report(&tls)->ca_sha256, root_a, 32);
    mqtt_connect("device-001");
}
END_TEST

/* The broker's log line for our connection, to see the user name
 * use_identity_as_username gave us. Bounded: the log is small. */
static int broker_log_has(const char *words)
{
    char path[256], line[512];
    int found = 0, n = 0;
    FILE *f;

    snprintf(path, sizeof path, "%s/mosquitto.log", brk.dir);
    f = fopen(path, "r");
    if (f == NULL)
        return 0;
    while (!found && n++ < 10000 && fgets(line, sizeof line, f) != NULL)
        found = strstr(line, words) != NULL;
    fclose(f);
    return found;
}

START_TEST(the_broker_takes_our_certificate_name_as_user_name)
{
    int i, found = 0;
    start_tls_broker("127.0.0.1", "server-a-chain.pem", "server-a.key", 1);
    trust(CERTS "bundle-current.pem");
    identity("device-002");
    ck_assert_int_eq(handshake(), MQTLS_OK);
    mqtt_connect("any-client-id");
    for (i = 0; i < 50 && !found; i++) { /* the log is written asynchronously */
        found = broker_log_has("u'device-002'");
        if (!found)
            nanosleep(&(struct timespec){0, 20000000}, NULL);
    }
    ck_assert_msg(found, "mosquitto did not log user name device-002");
}
END_TEST

/* Server authentication only: no client certificate needed or sent. */
START_TEST(tls_without_client_certificates)
{
    start_tls_broker("127.0.0.1", "server-a-chain.pem", "server-a.key", 0);
    trust(CERTS "bundle-current.pem");
    ck_assert_int_eq(handshake(), MQTLS_OK);
    mqtt_connect("no-cert-client");
}
END_TEST

/* Plain TCP, for completeness: client -> tcp, no TLS layer. */
START_TEST(plain_tcp_listener)
{
    mqtls_connect c = {0};
    mqtls_packet pkt;
    uint8_t buf[64];
    int n, got = 0, i, r = MQTLS_ERR_INCOMPLETE;

    ck_assert_int_eq(broker_start(&brk, "127.0.0.1", ""), 0);
    ck_assert_int_eq(mqtls_tcp_connect(&tcp, "127.0.0.1", brk.port, 3000), MQTLS_OK);
    c.client_id = (mqtls_str){"plain", 5};
    c.clean_session = true;
    n = mqtls_codec_encode_connect(buf, sizeof buf, &c);
    ck_assert_int_eq(mqtls_tcp_send(&tcp, buf, (size_t)n, 1000), n);
    for (i = 0; i < 100 && r == MQTLS_ERR_INCOMPLETE; i++) {
        int m = mqtls_tcp_recv(&tcp, buf + got, sizeof buf - (size_t)got, 1000);
        ck_assert_int_ge(m, 0);
        got += m;
        r = mqtls_codec_decode_from_server(buf, (size_t)got, &pkt);
    }
    ck_assert_int_eq(r, 4);
    ck_assert_uint_eq(pkt.u.connack.return_code, MQTLS_CONNACK_ACCEPTED);
}
END_TEST

/* Only by explicit request, and then an impostor gets through: the reason
 * the option carries its name. */
START_TEST(disabling_verification_is_explicit_and_does_what_it_says)
{
    start_tls_broker("127.0.0.1", "server-fake.crt", "server-fake.key", 1);
    trust(CERTS "bundle-current.pem");
    identity("device-001");
    ck_assert_int_eq(mqtls_tls_config_disable_verification_INSECURE(&cfg), MQTLS_OK);
    ck_assert_int_eq(handshake(), MQTLS_OK);
    ck_assert(!mqtls_tls_get_report(&tls)->ca_known);
    mqtt_connect("device-001");
}
END_TEST

START_TEST(a_bundle_with_an_unrelated_ca_first_still_connects)
{
    start_tls_broker("127.0.0.1", "server-a-chain.pem", "server-a.key", 1);
    trust(CERTS "bundle-other-then-current.pem");
    identity("device-001");
    ck_assert_int_eq(handshake(), MQTLS_OK);
    mqtt_connect("device-001");
}
END_TEST

START_TEST(only_the_next_root_is_refused_by_a_current_root_broker)
{
    start_tls_broker("127.0.0.1", "server-a-chain.pem", "server-a.key", 1);
    trust(CERTS "bundle-next.pem");
    identity("device-001");
    assert_why(handshake(), MQTLS_ERR_TLS_CERT_UNTRUSTED, "not signed by a trusted CA");
    ck_assert(mqtls_tls_get_report(&tls)->verify_flags != 0);
}
END_TEST

START_TEST(only_the_next_root_connects_to_a_next_root_broker)
{
    start_tls_broker("127.0.0.1", "server-b.crt", "server-b.key", 1);
    trust(CERTS "bundle-next.pem");
    identity("device-001");
    ck_assert_int_eq(handshake(), MQTLS_OK);
    ck_assert_str_eq(mqtls_tls_get_report(&tls)->ca_subject, "CN=mqtls Test Root B");
    mqtt_connect("device-001");
}
END_TEST

START_TEST(wrong_host_name_is_refused)
{
    start_tls_broker("127.0.0.1", "server-wrong-host.crt", "server-wrong-host.key", 1);
    trust(CERTS "bundle-current.pem");
    identity("device-001");
    assert_why(handshake(), MQTLS_ERR_TLS_HOSTNAME_MISMATCH,
               "wanted localhost, certificate names broker.example");
}
END_TEST

/* By address: the broker's certificate names IP:127.0.0.1 as well as
 * localhost. mbedTLS 3.6 matches it; on 2.28 (which compares addresses
 * with DNS names only) mqtls matches the iPAddress names itself. */
START_TEST(connecting_by_ip_address)
{
    mqtls_transport lower;
    int ret;
    start_tls_broker("127.0.0.1", "server-a-chain.pem", "server-a.key", 1);
    trust(CERTS "bundle-current.pem");
    identity("device-001");
    ck_assert_int_eq(mqtls_tcp_connect(&tcp, "127.0.0.1", brk.port, 3000), MQTLS_OK);
    ck_assert_int_eq(mqtls_tcp_transport(&tcp, &lower), MQTLS_OK);
    ret = mqtls_tls_connect(&tls, &cfg, &lower, "127.0.0.1");
    ck_assert_msg(ret == MQTLS_OK, "%s", mqtls_tls_why(&tls));
    mqtt_connect("device-001");
}
END_TEST

/* IPv6: "::1" in any spelling matches the certificate's IP:::1 (the
 * address's bytes are compared, not its text); another address does not. */
START_TEST(connecting_by_ipv6_address)
{
    static const char *const spellings[] = {"::1", "0:0:0:0:0:0:0:1", "0::0:1"};
    mqtls_transport lower;
    size_t i;
    int ret;
    start_tls_broker("::1", "server-a-chain.pem", "server-a.key", 1);
    trust(CERTS "bundle-current.pem");
    identity("device-001");
    for (i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        ck_assert_int_eq(mqtls_tcp_connect(&tcp, "::1", brk.port, 3000), MQTLS_OK);
        ck_assert_int_eq(mqtls_tcp_transport(&tcp, &lower), MQTLS_OK);
        ret = mqtls_tls_connect(&tls, &cfg, &lower, spellings[i]);
        ck_assert_msg(ret == MQTLS_OK, "%s: %s", spellings[i], mqtls_tls_why(&tls));
        mqtls_tls_close(&tls);
        mqtls_tls_free(&tls);
        mqtls_tls_init(&tls);
    }
    ck_assert_int_eq(mqtls_tcp_connect(&tcp, "::1", brk.port, 3000), MQTLS_OK);
    ck_assert_int_eq(mqtls_tcp_transport(&tcp, &lower), MQTLS_OK);
    assert_why(mqtls_tls_connect(&tls, &cfg, &lower, "::2"), MQTLS_ERR_TLS_HOSTNAME_MISMATCH,
               "wanted ::2, certificate names localhost, IP:127.0.0.1, IP:0:0:0:0:0:0:0:1");
}
END_TEST

/* An address the certificate does not name is refused on every version. */
START_TEST(an_address_the_certificate_does_not_name_is_refused)
{
    mqtls_transport lower;
    start_tls_broker("127.0.0.1", "server-wrong-host.crt", "server-wrong-host.key", 1);
    trust(CERTS "bundle-current.pem");
    identity("device-001");
    ck_assert_int_eq(mqtls_tcp_connect(&tcp, "127.0.0.1", brk.port, 3000), MQTLS_OK);
    ck_assert_int_eq(mqtls_tcp_transport(&tcp, &lower), MQTLS_OK);
    assert_why(mqtls_tls_connect(&tls, &cfg, &lower, "127.0.0.1"), MQTLS_ERR_TLS_HOSTNAME_MISMATCH,
               "wanted 127.0.0.1, certificate names broker.example");
}
END_TEST

START_TEST(expired_server_certificate_is_refused)
{
    start_tls_broker("127.0.0.1", "server-expired.crt", "server-expired.key", 1);
    trust(CERTS "bundle-current.pem");
    identity("device-001");
    assert_why(handshake(), MQTLS_ERR_TLS_CERT_EXPIRED,
               "expired on 2021-01-31 (subject CN=broker, issuer CN=mqtls Test Root A)");
}
END_TEST

START_TEST(not_yet_valid_server_certificate_is_refused)
{
    start_tls_broker("127.0.0.1", "server-not-yet-valid.crt", "server-not-yet-valid.key", 1);
    trust(CERTS "bundle-current.pem");
    identity("device-001");
    assert_why(handshake(), MQTLS_ERR_TLS_CERT_NOT_YET_VALID, "not valid until 2099-01-01");
}
END_TEST

START_TEST(fake_root_with_the_same_name_is_refused)
{
    start_tls_broker("127.0.0.1", "server-fake.crt", "server-fake.key", 1);
    trust(CERTS "bundle-current.pem");
    identity("device-001");
    assert_why(handshake(), MQTLS_ERR_TLS_CERT_UNTRUSTED, "impostor");
}
END_TEST

START_TEST(no_client_certificate_is_refused_by_the_broker)
{
    start_tls_broker("127.0.0.1", "server-a-chain.pem", "server-a.key", 1);
    trust(CERTS "bundle-current.pem");
    if (expected_version() == 13) /* 1.3 names it: certificate_required */
        assert_why(handshake_then_read(), MQTLS_ERR_TLS_CLIENT_CERT_REFUSED,
                   "refused our client certificate (we have none configured): alert 116");
    else
        assert_why(handshake_then_read(), MQTLS_ERR_TLS_CLIENT_CERT_REFUSED,
                   "requires a client certificate and we have none");
}
END_TEST

/* The same when we write first (an MQTT CONNECT right after the
 * handshake): on TLS 1.3 the broker has closed by then, our bytes draw a
 * reset, and the alert is lost with it. What our handshake sent (an
 * encrypted Certificate) still tells the refusal from a network fault. */
START_TEST(no_client_certificate_is_named_when_the_refusal_is_a_reset)
{
    mqtls_transport t;
    uint8_t b[16];
    int r, i;
    start_tls_broker("127.0.0.1", "server-a-chain.pem", "server-a.key", 1);
    trust(CERTS "bundle-current.pem");
    r = handshake();
    if (r == MQTLS_OK) {
        ck_assert_int_eq(mqtls_tls_transport(&tls, &t), MQTLS_OK);
        nanosleep(&(struct timespec){0, 300000000}, NULL); /* the broker closes */
        r = t.send(t.ctx, (const uint8_t *)"\x10\x0c\x00\x04MQTT\x04\x02\x00\x1e\x00\x00", 14,
                   1000);
        nanosleep(&(struct timespec){0, 100000000}, NULL);
        for (i = 0; i < 20 && r >= 0; i++) /* bounded: 20 x 250 ms */
            r = t.recv(t.ctx, b, sizeof b, 250);
    }
    assert_why(r, MQTLS_ERR_TLS_CLIENT_CERT_REFUSED, "we have none");
}
END_TEST

START_TEST(expired_client_certificate_is_refused_by_the_broker)
{
    start_tls_broker("127.0.0.1", "server-a-chain.pem", "server-a.key", 1);
    trust(CERTS "bundle-current.pem");
    identity("device-expired");
    assert_why(handshake_then_read(), MQTLS_ERR_TLS_CLIENT_CERT_REFUSED,
               "our client certificate (CN=device-expired)");
}
END_TEST

START_TEST(untrusted_client_certificate_is_refused_by_the_broker)
{
    start_tls_broker("127.0.0.1", "server-a-chain.pem", "server-a.key", 1);
    trust(CERTS "bundle-current.pem");
    identity("device-untrusted");
    assert_why(handshake_then_read(), MQTLS_ERR_TLS_CLIENT_CERT_REFUSED,
               "our client certificate (CN=device-untrusted)");
}
END_TEST

START_TEST(session_resumption_is_reported)
{
    uint8_t saved[4096];
    size_t len = 0;

    start_tls_broker("127.0.0.1", "server-a-chain.pem", "server-a.key", 1);
    trust(CERTS "bundle-current.pem");
    identity("device-001");
    ck_assert_int_eq(handshake(), MQTLS_OK);
    ck_assert(!mqtls_tls_get_report(&tls)->resumed);
    mqtt_connect("device-001");
    ck_assert_int_eq(mqtls_tls_session_save(&tls, saved, sizeof saved, &len), MQTLS_OK);
    ck_assert_uint_gt(len, 0);
    mqtls_tls_close(&tls);
    mqtls_tls_free(&tls);

    /* As after a restart: a fresh connection object, the saved bytes. */
    mqtls_tls_init(&tls);
    ck_assert_int_eq(mqtls_tls_session_load(&tls, saved, len), MQTLS_OK);
    ck_assert_int_eq(handshake(), MQTLS_OK);
    ck_assert(mqtls_tls_get_report(&tls)->resumed);
    mqtt_connect("device-001");
}
END_TEST

START_TEST(max_fragment_length_2048_is_negotiated)
{
    start_tls_broker("127.0.0.1", "server-a-chain.pem", "server-a.key", 1);
    trust(CERTS "bundle-current.pem");
    identity("device-001");
    ck_assert_int_eq(mqtls_tls_config_set_max_fragment(&cfg, 2048), MQTLS_OK);
    ck_assert_int_eq(handshake(), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_max_fragment(&tls), 2048);
    /* TLS 1.3 has no max_fragment_length: such a configuration offers 1.2. */
    ck_assert_uint_eq(mqtls_tls_get_report(&tls)->version, 12);
    mqtt_connect("device-001");
}
END_TEST

START_TEST(mutual_tls_over_ipv6_loopback)
{
    start_tls_broker("::1", "server-a-chain.pem", "server-a.key", 1);
    trust(CERTS "bundle-current.pem");
    identity("device-001");
    ck_assert_int_eq(handshake_at("::1"), MQTLS_OK);
    ck_assert_int_eq(tcp.family, 10 /* AF_INET6 */);
    mqtt_connect("device-001");
}
END_TEST

/* ALPN against openssl s_server, which prefers the first protocol we
 * both know from its own list. */
static void alpn_against_s_server(const char *const *ours, const char *want)
{
    const char *argv[] = {"openssl", "s_server", "-quiet", "-accept", "127.0.0.1:{port}",
                          "-cert", CERTS "server-a.crt", "-key", CERTS "server-a.key",
                          "-cert_chain", CERTS "intermediate-a.crt",
                          "-alpn", "x-amzn-mqtt-ca,mqtt", NULL};
    ck_assert_int_eq(server_start(&brk, "127.0.0.1", argv), 0);
    trust(CERTS "bundle-current.pem");
    ck_assert_int_eq(mqtls_tls_config_set_alpn(&cfg, ours), MQTLS_OK);
    ck_assert_int_eq(handshake(), MQTLS_OK);
    ck_assert_ptr_nonnull(mqtls_tls_alpn(&tls));
    ck_assert_str_eq(mqtls_tls_alpn(&tls), want);
}

START_TEST(alpn_mqtt_is_negotiated)
{
    static const char *const ours[] = {"mqtt", NULL};
    alpn_against_s_server(ours, "mqtt");
}
END_TEST

START_TEST(alpn_follows_the_server_preference)
{
    static const char *const ours[] = {"mqtt", "x-amzn-mqtt-ca", NULL};
    alpn_against_s_server(ours, "x-amzn-mqtt-ca");
}
END_TEST

START_TEST(no_common_cipher_suite_is_named)
{
    /* Only an RSA suite, against a broker with an ECDSA certificate. */
    static const int rsa_only[] = {MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, 0};
    start_tls_broker("127.0.0.1", "server-a-chain.pem", "server-a.key", 1);
    trust(CERTS "bundle-current.pem");
    identity("device-001");
    ck_assert_int_eq(mqtls_tls_config_set_ciphersuites(&cfg, rsa_only), MQTLS_OK);
    assert_why(handshake(), MQTLS_ERR_TLS_NO_COMMON_CIPHER, "no cipher suite in common");
}
END_TEST

START_TEST(a_cipher_suite_list_override_is_used)
{
    static const int one[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, 0};
    start_tls_broker("127.0.0.1", "server-a-chain.pem", "server-a.key", 1);
    trust(CERTS "bundle-current.pem");
    identity("device-001");
    ck_assert_int_eq(mqtls_tls_config_set_ciphersuites(&cfg, one), MQTLS_OK);
    ck_assert_int_eq(handshake(), MQTLS_OK);
    ck_assert_str_eq(mqtls_tls_get_report(&tls)->ciphersuite,
                     "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256");
    ck_assert_uint_eq(mqtls_tls_get_report(&tls)->version, 12); /* a 1.2-only list */
}
END_TEST

/* A server that only speaks TLS 1.1: refused, and the reason says so. */
START_TEST(tls_older_than_1_2_is_refused)
{
    const char *argv[] = {"openssl", "s_server", "-quiet", "-accept", "127.0.0.1:{port}",
                          "-cert", CERTS "server-a.crt", "-key", CERTS "server-a.key",
                          "-cert_chain", CERTS "intermediate-a.crt", "-tls1_1",
                          "-cipher", "DEFAULT@SECLEVEL=0", NULL};
    int ret;
    ck_assert_int_eq(server_start(&brk, "127.0.0.1", argv), 0);
    trust(CERTS "bundle-current.pem");
    ret = handshake();
    ck_assert_msg(ret == MQTLS_ERR_TLS_PROTOCOL, "%s (%s)", mqtls_tls_why(&tls),
                  mqtls_errname(ret));
    ck_assert_msg(strstr(mqtls_tls_why(&tls), "TLS 1.2") != NULL, "%s", mqtls_tls_why(&tls));
}
END_TEST

/* A device that never set its clock: 1970-01-02. */
static time_t unset_clock(void)
{
    return 86400;
}

START_TEST(an_unset_clock_is_named_instead_of_blaming_the_certificate)
{
    start_tls_broker("127.0.0.1", "server-expired.crt", "server-expired.key", 1);
    trust(CERTS "bundle-current.pem");
    identity("device-001");
    ck_assert_int_eq(mqtls_tls_config_set_wall_clock(&cfg, unset_clock), MQTLS_OK);
    assert_why(handshake(), MQTLS_ERR_TLS_CLOCK_NOT_SET, "device clock not set (it reads 1970-01-02");
}
END_TEST

/* The deferred policy: with the clock unset, dates are not judged... */
START_TEST(deferred_time_policy_skips_dates_while_the_clock_is_unset)
{
    start_tls_broker("127.0.0.1", "server-expired.crt", "server-expired.key", 1);
    trust(CERTS "bundle-current.pem");
    identity("device-001");
    ck_assert_int_eq(mqtls_tls_config_set_wall_clock(&cfg, unset_clock), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_set_time_policy(&cfg, MQTLS_TLS_TIME_DEFER_UNTIL_CLOCK_SET),
                     MQTLS_OK);
    ck_assert_int_eq(handshake(), MQTLS_OK);
}
END_TEST

/* ...but the chain and the signatures still are. */
START_TEST(deferred_time_policy_still_refuses_an_impostor)
{
    start_tls_broker("127.0.0.1", "server-fake.crt", "server-fake.key", 1);
    trust(CERTS "bundle-current.pem");
    identity("device-001");
    ck_assert_int_eq(mqtls_tls_config_set_wall_clock(&cfg, unset_clock), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_set_time_policy(&cfg, MQTLS_TLS_TIME_DEFER_UNTIL_CLOCK_SET),
                     MQTLS_OK);
    assert_why(handshake(), MQTLS_ERR_TLS_CERT_UNTRUSTED, "impostor");
}
END_TEST

/* ...and once the clock is set, dates count again. */
START_TEST(deferred_time_policy_judges_dates_once_the_clock_is_set)
{
    start_tls_broker("127.0.0.1", "server-expired.crt", "server-expired.key", 1);
    trust(CERTS "bundle-current.pem");
    identity("device-001");
    ck_assert_int_eq(mqtls_tls_config_set_time_policy(&cfg, MQTLS_TLS_TIME_DEFER_UNTIL_CLOCK_SET),
                     MQTLS_OK);
    assert_why(handshake(), MQTLS_ERR_TLS_CERT_EXPIRED, "expired on 2021-01-31");
}
END_TEST

/* TLS runs over any transport, even one that moves a byte at a time and
 * times out between bytes. */
START_TEST(handshake_and_round_trip_over_a_one_byte_stalling_link)
{
    mqtls_transport lower, awkward;
    fault f;

    start_tls_broker("127.0.0.1", "server-a-chain.pem", "server-a.key", 1);
    trust(CERTS "bundle-current.pem");
    identity("device-001");
    ck_assert_int_eq(mqtls_tcp_connect(&tcp, "127.0.0.1", brk.port, 3000), MQTLS_OK);
    ck_assert_int_eq(mqtls_tcp_transport(&tcp, &lower), MQTLS_OK);
    fault_wrap(&f, &lower, 1, &awkward);
    ck_assert_int_eq(mqtls_tls_connect(&tls, &cfg, &awkward, "localhost"), MQTLS_OK);
    mqtt_connect("device-001");
    ck_assert_uint_gt(f.stalls, 100); /* the link really was awkward */
    ck_assert_uint_gt(f.calls, 1000);
}
END_TEST

START_TEST(rsa_server_and_client)
{
    char lines[1024];
    snprintf(lines, sizeof lines,
             "cafile %sroot-rsa.crt\ncertfile %sserver-rsa.crt\nkeyfile %sserver-rsa.key\n"
             "require_certificate true\nuse_identity_as_username true\n",
             CERTS, CERTS, CERTS);
    ck_assert_int_eq(broker_start(&brk, "127.0.0.1", lines), 0);
    trust(CERTS "bundle-all.pem");
    identity("device-rsa");
    ck_assert_int_eq(handshake(), MQTLS_OK);
    ck_assert_str_eq(mqtls_tls_get_report(&tls)->ca_subject, "CN=mqtls Test Root RSA");
    mqtt_connect("device-rsa");
}
END_TEST

/* ---- trust lifecycle: the CA store, pins, sessions ------------------------- */

/* Closes this connection and readies fresh objects for the next. */
static void fresh_connection(void)
{
    mqtls_tls_close(&tls);
    mqtls_tls_free(&tls);
    mqtls_tls_init(&tls);
    mqtls_tcp_init(&tcp);
}

static uint32_t uses_of(const mqtls_castore *cas, mqtls_ca_slot slot, size_t i)
{
    mqtls_ca_info info;
    ck_assert_int_eq(mqtls_castore_info(cas, slot, i, &info), MQTLS_OK);
    return info.uses;
}

START_TEST(handshakes_trust_what_the_ca_store_says_and_count_the_ca)
{
    mqtls_castore cas;

    start_tls_broker("127.0.0.1", "server-a-chain.pem", "server-a.key", 1);
    identity("device-001");
    mqtls_castore_init(&cas);
    ck_assert_int_eq(mqtls_tls_config_use_castore(&cfg, &cas), MQTLS_OK);
    assert_why(handshake(), MQTLS_ERR_TLS_NO_TRUST, "the CA store trusts nothing");
    fresh_connection();

    /* Active: only the next root. The broker's chain ends at root A. */
    ck_assert_int_eq(mqtls_castore_load_file(&cas, MQTLS_CA_ACTIVE, CERTS "root-b.crt", 1, NULL),
                     MQTLS_OK);
    assert_why(handshake(), MQTLS_ERR_TLS_CERT_UNTRUSTED, "not signed by a trusted CA");
    fresh_connection();

    /* Staged {A}, tried alone. */
    ck_assert_int_eq(mqtls_castore_load_file(&cas, MQTLS_CA_STAGED, CERTS "bundle-current.pem", 2,
                                             NULL),
                     MQTLS_OK);
    assert_why(handshake(), MQTLS_ERR_TLS_CERT_UNTRUSTED, "not signed by a trusted CA");
    fresh_connection();
    ck_assert_int_eq(mqtls_castore_trust(&cas, MQTLS_TRUST_STAGED), MQTLS_OK);
    ck_assert_msg(handshake() == MQTLS_OK, "%s", mqtls_tls_why(&tls));
    ck_assert_str_eq(mqtls_tls_get_report(&tls)->ca_subject, "CN=mqtls Test Root A");
    mqtt_connect("device-001");
    ck_assert_uint_eq(uses_of(&cas, MQTLS_CA_STAGED, 0), 1);
    ck_assert_uint_eq(uses_of(&cas, MQTLS_CA_ACTIVE, 0), 0);
    fresh_connection();

    /* Both slots. */
    ck_assert_int_eq(mqtls_castore_trust(&cas, MQTLS_TRUST_BOTH), MQTLS_OK);
    ck_assert_int_eq(handshake(), MQTLS_OK);
    ck_assert_uint_eq(uses_of(&cas, MQTLS_CA_STAGED, 0), 2);
    fresh_connection();

    /* Committed: active now, count carried. */
    ck_assert_int_eq(mqtls_castore_commit(&cas), MQTLS_OK);
    ck_assert_int_eq(handshake(), MQTLS_OK);
    ck_assert_uint_eq(uses_of(&cas, MQTLS_CA_ACTIVE, 0), 3);
    mqtt_connect("device-001");
    mqtls_tls_config_use_castore(&cfg, NULL);
    mqtls_castore_free(&cas);
}
END_TEST

/* A lower transport that never waits: what an event loop gives a
 * handshake in slices (the loop waits in epoll, not in the read). */
static int starved, nowait;
static int nowait_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    int n = mqtls_tcp_recv(ctx, buf, len, nowait ? 0 : timeout_ms);
    starved |= n == 0;
    return n;
}

/* The handshake in slices over a lower that never waits: the next slice
 * follows at once, unless the last one found nothing to read (then the
 * caller waits 1 ms for the peer, as a loop would wait for input). */
static int handshake_in_slices(void)
{
    mqtls_transport lower;
    int ret, rounds;
    ck_assert_int_eq(mqtls_tcp_connect(&tcp, "127.0.0.1", brk.port, 3000), MQTLS_OK);
    ck_assert_int_eq(mqtls_tcp_transport(&tcp, &lower), MQTLS_OK);
    lower.recv = nowait_recv;
    nowait = 1; /* while the handshake runs; then reads wait as usual */
    ret = mqtls_tls_connect(&tls, &cfg, &lower, "localhost");
    for (rounds = 0; ret == MQTLS_ERR_IN_PROGRESS && rounds < 5000; rounds++) {
        struct timespec ms = {0, 1000000};
        if (starved)
            nanosleep(&ms, NULL);
        starved = 0;
        ret = mqtls_tls_connect_continue(&tls);
    }
    nowait = 0;
    return ret;
}

/* The handshake is over only once the server's ticket, ChangeCipherSpec
 * and Finished are in (mbedTLS 2.28 numbers its ticket state after
 * HANDSHAKE_OVER, and a slice that waits for the ticket stops there): a
 * session saved right after a handshake in slices, before any read,
 * holds the ticket and resumes. */
START_TEST(a_session_saved_right_after_a_sliced_handshake_resumes)
{
    uint8_t saved[4096];
    size_t len = 0;

    start_tls_broker("127.0.0.1", "server-a-chain.pem", "server-a.key", 1);
    trust(CERTS "bundle-current.pem");
    identity("device-001");
    ck_assert_int_eq(mqtls_tls_config_set_slices(&cfg, 1, 0), MQTLS_OK);
    ck_assert_int_eq(handshake_in_slices(), MQTLS_OK);
    if (mqtls_tls_get_report(&tls)->version == 13) {
        /* TLS 1.3: the ticket comes after the handshake, with a read. */
        ck_assert_int_eq(mqtls_tls_session_save(&tls, saved, sizeof saved, &len),
                         MQTLS_ERR_TLS_NO_TICKET);
        mqtt_connect("device-001");
    }
    ck_assert_int_eq(mqtls_tls_session_save(&tls, saved, sizeof saved, &len), MQTLS_OK);
    mqtls_tls_close(&tls);
    mqtls_tls_free(&tls);
    mqtls_tls_init(&tls);
    ck_assert_int_eq(mqtls_tls_session_load(&tls, saved, len), MQTLS_OK);
    ck_assert_int_eq(handshake_in_slices(), MQTLS_OK);
    ck_assert(mqtls_tls_get_report(&tls)->resumed);
    mqtt_connect("device-001");
}
END_TEST

START_TEST(a_saved_session_is_not_resumed_once_the_trusted_set_changed)
{
    mqtls_castore cas;
    uint8_t saved[4096];
    size_t len = 0;

    start_tls_broker("127.0.0.1", "server-a-chain.pem", "server-a.key", 1);
    identity("device-001");
    mqtls_castore_init(&cas);
    ck_assert_int_eq(mqtls_castore_load_file(&cas, MQTLS_CA_ACTIVE, CERTS "bundle-current.pem", 1,
                                             NULL),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_use_castore(&cfg, &cas), MQTLS_OK);
    ck_assert_int_eq(handshake(), MQTLS_OK);
    mqtt_connect("device-001");
    ck_assert_int_eq(mqtls_tls_session_save(&tls, saved, sizeof saved, &len), MQTLS_OK);
    fresh_connection();

    /* Same trust: resumed, and it counts for the CA of the session. */
    ck_assert_int_eq(mqtls_tls_session_load(&tls, saved, len), MQTLS_OK);
    ck_assert_int_eq(handshake(), MQTLS_OK);
    ck_assert(mqtls_tls_get_report(&tls)->resumed);
    ck_assert(!mqtls_tls_get_report(&tls)->session_dropped);
    ck_assert_uint_eq(uses_of(&cas, MQTLS_CA_ACTIVE, 0), 2);
    mqtt_connect("device-001");
    fresh_connection();

    /* A rollover bundle committed: the old session is not offered. */
    ck_assert_int_eq(mqtls_castore_load_file(&cas, MQTLS_CA_STAGED, CERTS "bundle-both.pem", 2,
                                             NULL),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_castore_commit(&cas), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_session_load(&tls, saved, len), MQTLS_OK);
    ck_assert_int_eq(handshake(), MQTLS_OK);
    ck_assert(!mqtls_tls_get_report(&tls)->resumed);
    ck_assert(mqtls_tls_get_report(&tls)->session_dropped);
    ck_assert_str_eq(mqtls_tls_get_report(&tls)->ca_subject, "CN=mqtls Test Root A"); /* verified afresh */
    mqtt_connect("device-001");
    fresh_connection();

    /* Trust that no longer verifies the broker cannot be bypassed with a
     * session saved while it did. */
    ck_assert_int_eq(mqtls_tls_session_save(&tls, saved, sizeof saved, &len),
                     MQTLS_ERR_NET_NOT_CONNECTED);
    ck_assert_int_eq(handshake(), MQTLS_OK);
    mqtt_connect("device-001"); /* on TLS 1.3 the ticket comes with a read */
    ck_assert_int_eq(mqtls_tls_session_save(&tls, saved, sizeof saved, &len), MQTLS_OK);
    fresh_connection();
    ck_assert_int_eq(mqtls_castore_load_file(&cas, MQTLS_CA_STAGED, CERTS "bundle-next.pem", 3,
                                             NULL),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_castore_commit(&cas), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_session_load(&tls, saved, len), MQTLS_OK);
    assert_why(handshake(), MQTLS_ERR_TLS_CERT_UNTRUSTED, "not signed by a trusted CA");
    ck_assert(mqtls_tls_get_report(&tls)->session_dropped);
    mqtls_tls_config_use_castore(&cfg, NULL);
    mqtls_castore_free(&cas);
}
END_TEST

static void pin_of(const char *file, uint8_t pin[32])
{
    uint8_t buf[8192];
    size_t n;
    FILE *f = fopen(file, "rb");
    ck_assert_ptr_nonnull(f);
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ck_assert_int_eq(mqtls_tls_pin_of_cert(buf, n, pin), MQTLS_OK);
}

START_TEST(public_key_pins_are_checked_on_top_of_the_chain)
{
    uint8_t pins[3][32];

    start_tls_broker("127.0.0.1", "server-a-chain.pem", "server-a.key", 1);
    trust(CERTS "bundle-current.pem");
    identity("device-001");
    /* A lone pin is refused: no backup, a bricked device at key rotation. */
    pin_of(CERTS "intermediate-a.crt", pins[0]);
    ck_assert_int_eq(mqtls_tls_config_set_pins(&cfg, (const uint8_t(*)[32])pins, 1),
                     MQTLS_ERR_INVALID_ARG);
    /* The intermediate's key, with a backup (root B's key, not in use). */
    pin_of(CERTS "root-b.crt", pins[1]);
    ck_assert_int_eq(mqtls_tls_config_set_pins(&cfg, (const uint8_t(*)[32])pins, 2), MQTLS_OK);
    ck_assert_msg(handshake() == MQTLS_OK, "%s", mqtls_tls_why(&tls));
    mqtt_connect("device-001");
    fresh_connection();
    /* The server's own key, as the backup. */
    pin_of(CERTS "root-b.crt", pins[0]);
    pin_of(CERTS "server-a.crt", pins[1]);
    ck_assert_int_eq(mqtls_tls_config_set_pins(&cfg, (const uint8_t(*)[32])pins, 2), MQTLS_OK);
    ck_assert_int_eq(handshake(), MQTLS_OK);
    fresh_connection();
    /* Keys the chain does not have: refused, though the chain verifies. */
    pin_of(CERTS "root-b.crt", pins[0]);
    pin_of(CERTS "other-ca.crt", pins[1]);
    pin_of(CERTS "server-b.crt", pins[2]);
    ck_assert_int_eq(mqtls_tls_config_set_pins(&cfg, (const uint8_t(*)[32])pins, 3), MQTLS_OK);
    assert_why(handshake(), MQTLS_ERR_TLS_PIN_MISMATCH, "matches none of the 3 pinned public keys");
    fresh_connection();
    /* Off again. */
    ck_assert_int_eq(mqtls_tls_config_set_pins(&cfg, NULL, 0), MQTLS_OK);
    ck_assert_int_eq(handshake(), MQTLS_OK);
}
END_TEST

/* A server that accepts and never answers (stopped with SIGSTOP: the
 * kernel still completes the TCP handshake): the TLS handshake gives up
 * at its deadline, on either version. */
START_TEST(a_stalled_handshake_times_out)
{
    start_tls_broker("127.0.0.1", "server-a-chain.pem", "server-a.key", 1);
    trust(CERTS "bundle-current.pem");
    identity("device-001");
    ck_assert_int_eq(mqtls_tls_config_set_handshake_timeout(&cfg, 600), MQTLS_OK);
    ck_assert_int_eq(kill(brk.pid, SIGSTOP), 0);
    assert_why(handshake(), MQTLS_ERR_TLS_HANDSHAKE_TIMEOUT, "did not finish within 600 ms");
    ck_assert_int_eq(kill(brk.pid, SIGCONT), 0);
}
END_TEST

#if MQTLS_MBEDTLS_3
static int start_s_server_13(const char *extra1, const char *extra2)
{
    const char *argv[] = {"openssl", "s_server", "-quiet", "-accept", "127.0.0.1:{port}",
                          "-cert", CERTS "server-a.crt", "-key", CERTS "server-a.key",
                          "-cert_chain", CERTS "intermediate-a.crt", "-tls1_3",
                          "-Verify", "2", "-CAfile", CERTS "root-a.crt", extra1, extra2, NULL};
    return server_start(&brk, "127.0.0.1", argv);
}

/* Mutual TLS 1.3 with OpenSSL itself, our certificate verified by it. */
START_TEST(mutual_tls_1_3_with_openssl_s_server)
{
    mqtls_transport t;
    ck_assert_int_eq(start_s_server_13(NULL, NULL), 0);
    trust(CERTS "bundle-current.pem");
    identity("device-001");
    ck_assert_msg(handshake() == MQTLS_OK, "%s", mqtls_tls_why(&tls));
    ck_assert_uint_eq(mqtls_tls_get_report(&tls)->version, 13);
    ck_assert_str_eq(mqtls_tls_version_name(&tls), "TLSv1.3");
    ck_assert_str_eq(mqtls_tls_get_report(&tls)->ca_subject, "CN=mqtls Test Root A");
    ck_assert_int_eq(mqtls_tls_transport(&tls, &t), MQTLS_OK);
    ck_assert_int_eq(t.send(t.ctx, (const uint8_t *)"hello\n", 6, 1000), 6);
}
END_TEST

/* TLS 1.3 suites that do not meet: the server refuses our hello. */
START_TEST(no_common_tls_1_3_suite_is_named)
{
    static const int aes128[] = {MBEDTLS_TLS1_3_AES_128_GCM_SHA256, 0};
    ck_assert_int_eq(start_s_server_13("-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"), 0);
    trust(CERTS "bundle-current.pem");
    identity("device-001");
    ck_assert_int_eq(mqtls_tls_config_set_ciphersuites(&cfg, aes128), MQTLS_OK);
    assert_why(handshake(), MQTLS_ERR_TLS_NO_COMMON_CIPHER, "no cipher suite in common");
}
END_TEST
#endif

/* The failure classes, resumption and session binding, once per TLS
 * version where the build speaks two. */
static void add_per_version(TCase *tc)
{
    tcase_add_test(tc, mutual_tls_connects_and_completes_connect);
    tcase_add_test(tc, only_the_next_root_is_refused_by_a_current_root_broker);
    tcase_add_test(tc, wrong_host_name_is_refused);
    tcase_add_test(tc, connecting_by_ip_address);
    tcase_add_test(tc, connecting_by_ipv6_address);
    tcase_add_test(tc, an_address_the_certificate_does_not_name_is_refused);
    tcase_add_test(tc, expired_server_certificate_is_refused);
    tcase_add_test(tc, not_yet_valid_server_certificate_is_refused);
    tcase_add_test(tc, fake_root_with_the_same_name_is_refused);
    tcase_add_test(tc, no_client_certificate_is_refused_by_the_broker);
    tcase_add_test(tc, no_client_certificate_is_named_when_the_refusal_is_a_reset);
    tcase_add_test(tc, expired_client_certificate_is_refused_by_the_broker);
    tcase_add_test(tc, untrusted_client_certificate_is_refused_by_the_broker);
    tcase_add_test(tc, session_resumption_is_reported);
    tcase_add_test(tc, a_session_saved_right_after_a_sliced_handshake_resumes);
    tcase_add_test(tc, a_saved_session_is_not_resumed_once_the_trusted_set_changed);
    tcase_add_test(tc, a_stalled_handshake_times_out);
    tcase_add_test(tc, public_key_pins_are_checked_on_top_of_the_chain);
}

Suite *tls_broker_suite(void)
{
    Suite *s = suite_create("tls_broker");
    TCase *tc = tcase_create("mosquitto");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    add_per_version(tc);
    tcase_add_test(tc, the_broker_takes_our_certificate_name_as_user_name);
    tcase_add_test(tc, tls_without_client_certificates);
    tcase_add_test(tc, plain_tcp_listener);
    tcase_add_test(tc, disabling_verification_is_explicit_and_does_what_it_says);
    tcase_add_test(tc, a_bundle_with_an_unrelated_ca_first_still_connects);
    tcase_add_test(tc, only_the_next_root_connects_to_a_next_root_broker);
    tcase_add_test(tc, max_fragment_length_2048_is_negotiated);
    tcase_add_test(tc, mutual_tls_over_ipv6_loopback);
    tcase_add_test(tc, no_common_cipher_suite_is_named);
    tcase_add_test(tc, a_cipher_suite_list_override_is_used);
    tcase_add_test(tc, tls_older_than_1_2_is_refused);
    tcase_add_test(tc, alpn_mqtt_is_negotiated);
    tcase_add_test(tc, alpn_follows_the_server_preference);
    tcase_add_test(tc, an_unset_clock_is_named_instead_of_blaming_the_certificate);
    tcase_add_test(tc, deferred_time_policy_skips_dates_while_the_clock_is_unset);
    tcase_add_test(tc, deferred_time_policy_still_refuses_an_impostor);
    tcase_add_test(tc, deferred_time_policy_judges_dates_once_the_clock_is_set);
    tcase_add_test(tc, handshake_and_round_trip_over_a_one_byte_stalling_link);
    tcase_add_test(tc, rsa_server_and_client);
    tcase_add_test(tc, handshakes_trust_what_the_ca_store_says_and_count_the_ca);
    suite_add_tcase(s, tc);
#if MQTLS_MBEDTLS_3
    /* The same failures with each version pinned: TLS 1.2 from a build
     * that could speak 1.3, and 1.3 alone (Mosquitto, and openssl
     * s_server -tls1_3). */
    tc = tcase_create("tls12");
    tcase_add_checked_fixture(tc, setup_v12, teardown);
    tcase_set_timeout(tc, 30);
    add_per_version(tc);
    suite_add_tcase(s, tc);
    tc = tcase_create("tls13");
    tcase_add_checked_fixture(tc, setup_v13, teardown);
    tcase_set_timeout(tc, 30);
    add_per_version(tc);
    tcase_add_test(tc, mutual_tls_1_3_with_openssl_s_server);
    tcase_add_test(tc, no_common_tls_1_3_suite_is_named);
    suite_add_tcase(s, tc);
#endif
    return s;
}
