/* SPDX-License-Identifier: Apache-2.0 */
/* Failures in words, as a table: facts in, an error code and a sentence
 * out, without a handshake (tls/tls_explain.c). Every branch has a row;
 * the integration tests show the same sentences against real servers. */
#include <check.h>
#include <string.h>

#include "test/unit/suites.h"
#include "tls/tls_internal.h"

/* The facts of a verification failure of the usual leaf. */
static mqtls_tls_facts verify(void)
{
    mqtls_tls_facts f;
    memset(&f, 0, sizeof f);
    f.kind = MQTLS_FAIL_VERIFY;
    f.subject = "CN=broker";
    f.issuer = "CN=Intermediate A";
    f.names = "DNS:localhost";
    f.not_before = "2030-01-01";
    f.not_after = "2020-01-01";
    f.hostname = "broker.example";
    f.now = "1970-01-01";
    f.built = "Dec  6 2026";
    f.record_minor = -1;
    f.own_subject = "CN=SN-1001";
    f.detail = "SSL - detail";
    return f;
}

static mqtls_tls_facts other(mqtls_tls_fail_kind kind)
{
    mqtls_tls_facts f = verify();
    f.kind = kind;
    return f;
}

static void expect(const mqtls_tls_facts *f, int code, const char *sentence)
{
    char why[256];
    ck_assert_int_eq(mqtls_tls_explain(f, why, sizeof why), code);
    ck_assert_str_eq(why, sentence);
}

START_TEST(verification_failures)
{
    mqtls_tls_facts f = verify();
    f.expired = true;
    f.clock_not_set = true;
    expect(&f, MQTLS_ERR_TLS_CLOCK_NOT_SET,
           "device clock not set (it reads 1970-01-01, before this library was built on Dec  6 "
           "2026); set the time (SNTP) or use the deferred time policy");
    f = verify();
    f.pin_failed = f.only_pin = true;
    f.pin_count = 2;
    expect(&f, MQTLS_ERR_TLS_PIN_MISMATCH,
           "server chain verifies but matches none of the 2 pinned public keys (subject "
           "CN=broker, issuer CN=Intermediate A)");
    f = verify();
    f.not_trusted = true;
    expect(&f, MQTLS_ERR_TLS_CERT_UNTRUSTED,
           "server certificate is not signed by a trusted CA (subject CN=broker, issuer "
           "CN=Intermediate A)");
    f.issuer_name_trusted = true;
    expect(&f, MQTLS_ERR_TLS_CERT_UNTRUSTED,
           "server certificate claims a trusted issuer but its signature does not verify: an "
           "impostor CA with the same name? (subject CN=broker, issuer CN=Intermediate A)");
    f = verify();
    f.expired = true;
    expect(&f, MQTLS_ERR_TLS_CERT_EXPIRED,
           "server certificate expired on 2020-01-01 (subject CN=broker, issuer CN=Intermediate A)");
    f = verify();
    f.future = true;
    expect(&f, MQTLS_ERR_TLS_CERT_NOT_YET_VALID,
           "server certificate is not valid until 2030-01-01 (subject CN=broker, issuer "
           "CN=Intermediate A)");
    f = verify();
    f.name_mismatch = true;
    expect(&f, MQTLS_ERR_TLS_HOSTNAME_MISMATCH,
           "host name does not match the certificate (wanted broker.example, certificate names "
           "DNS:localhost)");
    f.hostname = NULL;
    expect(&f, MQTLS_ERR_TLS_HOSTNAME_MISMATCH,
           "host name does not match the certificate (wanted ?, certificate names DNS:localhost)");
    f = verify();
    f.name_mismatch = true;
    f.hostname = "127.0.0.2";
    f.names = "localhost, IP:127.0.0.1";
    expect(&f, MQTLS_ERR_TLS_HOSTNAME_MISMATCH,
           "host name does not match the certificate (wanted 127.0.0.2, certificate names "
           "localhost, IP:127.0.0.1)");
    f = verify();
    f.weak = true;
    expect(&f, MQTLS_ERR_TLS_WEAK_KEY,
           "server certificate uses a weak or unsupported key, hash or key usage (subject "
           "CN=broker)");
    f = verify();
    f.flags = 0x10000;
    expect(&f, MQTLS_ERR_TLS_CERT_UNTRUSTED,
           "server certificate rejected (mbedTLS verify flags 0x10000, subject CN=broker)");
    /* Order: untrusted wins over expired; the clock over both. */
    f = verify();
    f.not_trusted = f.expired = true;
    ck_assert_int_eq(mqtls_tls_explain(&f, (char[256]){0}, 256), MQTLS_ERR_TLS_CERT_UNTRUSTED);
    f.clock_not_set = true;
    ck_assert_int_eq(mqtls_tls_explain(&f, (char[256]){0}, 256), MQTLS_ERR_TLS_CLOCK_NOT_SET);
}
END_TEST

START_TEST(alerts)
{
    mqtls_tls_facts f = other(MQTLS_FAIL_ALERT);
    f.alert = 42;
    f.has_identity = true;
    expect(&f, MQTLS_ERR_TLS_CLIENT_CERT_REFUSED,
           "the broker refused our client certificate (CN=SN-1001): alert 42 (bad certificate)");
    f.alert = 116;
    f.has_identity = false;
    expect(&f, MQTLS_ERR_TLS_CLIENT_CERT_REFUSED,
           "the broker refused our client certificate (we have none configured): alert 116 "
           "(certificate required)");
    f = other(MQTLS_FAIL_ALERT);
    f.alert = 40;
    f.before_server_hello = true;
    f.record_minor = 1;
    expect(&f, MQTLS_ERR_TLS_PROTOCOL,
           "the broker only speaks TLS 1.0 or older, which we refuse: its alert 40 (handshake "
           "failure) came in a TLS 1.0 record; we require TLS 1.2");
    f.record_minor = 3;
    expect(&f, MQTLS_ERR_TLS_NO_COMMON_CIPHER,
           "no cipher suite in common with the broker: it refused our hello with alert 40 "
           "(handshake failure)");
    f.before_server_hello = false;
    expect(&f, MQTLS_ERR_TLS_CLIENT_CERT_REFUSED,
           "the broker ended the handshake (alert 40, handshake failure); it probably requires "
           "a client certificate and we have none");
    f.has_identity = true;
    expect(&f, MQTLS_ERR_TLS_ALERT,
           "the broker ended the handshake (alert 40, handshake failure): no cipher suite or "
           "curve in common, or it refused our certificate");
    f.alert = 70;
    expect(&f, MQTLS_ERR_TLS_PROTOCOL,
           "the broker refused our TLS version (we offer only TLS 1.2 or later): alert 70 "
           "(protocol version)");
    f.alert = 80;
    expect(&f, MQTLS_ERR_TLS_ALERT, "the broker ended the handshake with alert 80 (internal error)");
    f.alert = 200;
    expect(&f, MQTLS_ERR_TLS_ALERT, "the broker ended the handshake with alert 200 (unknown alert)");
}
END_TEST

START_TEST(the_link_and_the_rest)
{
    mqtls_tls_facts f = other(MQTLS_FAIL_OTHER);
    f.lower_error = MQTLS_ERR_NET_RESET;
    f.after_our_certificate = true;
    expect(&f, MQTLS_ERR_TLS_CLIENT_CERT_REFUSED,
           "the broker requires a client certificate and we have none configured (it closed "
           "the connection)");
    f.has_identity = true;
    expect(&f, MQTLS_ERR_TLS_CLIENT_CERT_REFUSED,
           "the broker refused our client certificate (CN=SN-1001): it closed the connection on "
           "receiving it, as for an expired, revoked or untrusted one; its log says which");
    f.after_our_certificate = false; /* a reset before: the link's own failure */
    expect(&f, MQTLS_ERR_NET_RESET,
           "the connection failed during the TLS handshake: connection reset by the peer");
    f = other(MQTLS_FAIL_NO_COMMON);
    expect(&f, MQTLS_ERR_TLS_NO_COMMON_CIPHER, "no cipher suite in common with the broker (SSL - detail)");
    f.kind = MQTLS_FAIL_OLD_VERSION;
    expect(&f, MQTLS_ERR_TLS_PROTOCOL,
           "the broker only offers a version older than TLS 1.2, which we refuse (SSL - detail)");
    f.kind = MQTLS_FAIL_NO_MEMORY;
    expect(&f, MQTLS_ERR_TLS_OUT_OF_MEMORY, "out of memory during the TLS handshake");
    f.kind = MQTLS_FAIL_BAD_RECORD;
    expect(&f, MQTLS_ERR_TLS_RECORD_TOO_LARGE,
           "the broker sent a TLS record larger than our buffer, or a malformed one (SSL - detail)");
    f.kind = MQTLS_FAIL_OTHER;
    expect(&f, MQTLS_ERR_TLS_PROTOCOL, "TLS handshake failed: SSL - detail");
}
END_TEST

Suite *tls_explain_suite(void)
{
    Suite *s = suite_create("tls_explain");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, verification_failures);
    tcase_add_test(tc, alerts);
    tcase_add_test(tc, the_link_and_the_rest);
    suite_add_tcase(s, tc);
    return s;
}
