/* SPDX-License-Identifier: Apache-2.0 */
/* TLS over an in-memory pipe (pipe.h): the handshake, deadlines against a
 * dripping peer, sessions, read-ahead, handshakes in slices. */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/ssl.h>

#include "test/unit/suites.h"
#include "test/unit/tls/pipe.h"
#include "tls/castore.h"
#include "tls/tls_mbedtls.h"

START_TEST(mutual_tls_over_an_in_memory_pipe)
{
    mqtls_transport t;
    uint8_t buf[64];
    int got = 0, i, n;

    server_start("server-a-chain.pem", "server-a.key");
    client_config(CERTS "bundle-current.pem");
    ck_assert_msg(mqtls_tls_connect(&pipe_tls, &pipe_cfg, &pipe_transport, "localhost") == MQTLS_OK, "%s",
                  mqtls_tls_why(&pipe_tls));
    ck_assert(srv.handshake_done);
    ck_assert_str_eq(mqtls_tls_get_report(&pipe_tls)->ca_subject, "CN=mqtls Test Root A");
    /* The server saw our certificate. */
    ck_assert_ptr_nonnull(mbedtls_ssl_get_peer_cert(&srv.ssl));

    ck_assert_int_eq(mqtls_tls_transport(&pipe_tls, &t), MQTLS_OK);
    ck_assert_int_eq(t.send(t.ctx, (const uint8_t *)"over a pipe", 11, 100), 11);
    for (i = 0; i < 100 && got < 11; i++) {
        n = t.recv(t.ctx, buf + got, sizeof buf - (size_t)got, 100);
        ck_assert_int_ge(n, 0);
        got += n;
    }
    ck_assert_int_eq(got, 11);
    ck_assert_mem_eq(buf, "over a pipe", 11);
    ck_assert_uint_gt(srv.pumps, 2);
    mqtls_tls_close(&pipe_tls);
}
END_TEST

static void fake_clock(void)
{
    const mqtls_clock clock = {NULL, fake_now_ms, NULL, NULL};
    fake_now = 1000;
    ck_assert_int_eq(mqtls_tls_config_set_clock(&pipe_cfg, &clock), MQTLS_OK);
}

/* A server that sends its handshake one byte every 0.9 s: the 10 s
 * handshake deadline holds across all the lower reads (before, each read
 * had the whole remaining time and one handshake step read a certificate
 * byte by byte: over 20 minutes). */
START_TEST(a_dripping_peer_cannot_stretch_the_handshake)
{
    server_start("server-a-chain.pem", "server-a.key");
    client_config(CERTS "bundle-current.pem");
    fake_clock();
    ck_assert_int_eq(mqtls_tls_config_set_handshake_timeout(&pipe_cfg, 10000), MQTLS_OK);
    drip = 1;
    ck_assert_int_eq(mqtls_tls_connect(&pipe_tls, &pipe_cfg, &pipe_transport, "localhost"),
                     MQTLS_ERR_TLS_HANDSHAKE_TIMEOUT);
    drip = 0;
    ck_assert_uint_le(fake_now - 1000, 10000 + 900);
}
END_TEST

/* After the handshake, a peer that reads slowly and an answer that
 * dribbles in: each send and recv returns
 * within its timeout (plus one lower read), with nothing when the record
 * is not whole yet, and the record arrives intact over several calls. */
START_TEST(a_dripping_peer_cannot_stretch_a_send_or_a_recv)
{
    mqtls_transport t;
    uint8_t msg[200], buf[256];
    size_t got = 0;
    int i, n;

    memset(msg, 'd', sizeof msg);
    server_start("server-a-chain.pem", "server-a.key");
    client_config(CERTS "bundle-current.pem");
    fake_clock();
    ck_assert_msg(mqtls_tls_connect(&pipe_tls, &pipe_cfg, &pipe_transport, "localhost") == MQTLS_OK, "%s",
                  mqtls_tls_why(&pipe_tls));
    ck_assert_int_eq(mqtls_tls_transport(&pipe_tls, &t), MQTLS_OK);
    /* A peer that takes one byte per 0.9 s: each send returns within its
     * timeout (0: try again with the same bytes) until the record is out. */
    drip_send = 1;
    for (i = 0, n = 0; i < 400 && n == 0; i++) {
        const uint32_t t0 = fake_now;
        n = t.send(t.ctx, msg, sizeof msg, 2000);
        ck_assert_int_ge(n, 0);
        ck_assert_uint_le(fake_now - t0, 2000 + 900);
    }
    drip_send = 0;
    ck_assert_int_eq(n, (int)sizeof msg);
    ck_assert_int_gt(i, 50);
    drip = 1;
    for (i = 0; i < 400 && got < sizeof msg; i++) {
        const uint32_t t0 = fake_now;
        n = t.recv(t.ctx, buf + got, sizeof buf - got, 2000);
        ck_assert_int_ge(n, 0);
        ck_assert_uint_le(fake_now - t0, 2000 + 900);
        got += (size_t)n;
    }
    drip = 0;
    ck_assert_uint_eq(got, sizeof msg);
    ck_assert_mem_eq(buf, msg, sizeof msg);
    ck_assert_int_gt(i, 50); /* it did take many calls: the record came in pieces */
    mqtls_tls_close(&pipe_tls);
}
END_TEST

/* A saved session is bound to the server's name as well as to the trust:
 * saved for "localhost", it is not offered to another name (a failover
 * list sharing one session buffer), so that name gets a full handshake
 * with its own host-name check. */
START_TEST(a_saved_session_is_bound_to_the_server_name)
{
    uint8_t saved[2048];
    size_t saved_len = 0;

    server_start("server-a-chain.pem", "server-a.key");
    client_config(CERTS "bundle-current.pem");
    ck_assert_msg(mqtls_tls_connect(&pipe_tls, &pipe_cfg, &pipe_transport, "localhost") == MQTLS_OK, "%s",
                  mqtls_tls_why(&pipe_tls));
    ck_assert_int_eq(mqtls_tls_session_save(&pipe_tls, saved, sizeof saved, &saved_len), MQTLS_OK);
    mqtls_tls_close(&pipe_tls);
    mqtls_tls_free(&pipe_tls);
    server_teardown();

    /* The same name: offered. */
    server_start("server-a-chain.pem", "server-a.key");
    mqtls_tls_init(&pipe_tls);
    ck_assert_int_eq(mqtls_tls_session_load(&pipe_tls, saved, saved_len), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_connect(&pipe_tls, &pipe_cfg, &pipe_transport, "localhost"), MQTLS_OK);
    ck_assert(!mqtls_tls_get_report(&pipe_tls)->session_dropped);
    mqtls_tls_close(&pipe_tls);
    mqtls_tls_free(&pipe_tls);
    server_teardown();

    /* Another name: not offered; the full handshake checks the name. */
    server_start("server-a-chain.pem", "server-a.key");
    mqtls_tls_init(&pipe_tls);
    ck_assert_int_eq(mqtls_tls_session_load(&pipe_tls, saved, saved_len), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_connect(&pipe_tls, &pipe_cfg, &pipe_transport, "broker-b.example"),
                     MQTLS_ERR_TLS_HOSTNAME_MISMATCH);
    ck_assert(mqtls_tls_get_report(&pipe_tls)->session_dropped);
}
END_TEST

/* A connect only reads the configuration (so connections and threads can
 * share one): its storage is byte for byte the same after two handshakes,
 * with trust from a CA store, which each handshake asks afresh. */
START_TEST(a_connect_leaves_the_configuration_untouched)
{
    static unsigned char before[sizeof(mqtls_tls_config)];
    mqtls_castore cas;
    mqtls_tls second;
    int i;

    mqtls_castore_init(&cas);
    ck_assert_int_eq(mqtls_castore_load_file(&cas, MQTLS_CA_ACTIVE, CERTS "bundle-current.pem", 1,
                                             NULL),
                     MQTLS_OK);
    mqtls_tls_config_init(&pipe_cfg);
    ck_assert_int_eq(mqtls_tls_config_setup(&pipe_cfg), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_use_castore(&pipe_cfg, &cas), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_set_identity_files(&pipe_cfg, CERTS "device-001.crt",
                                                         CERTS "device-001.key", NULL),
                     MQTLS_OK);
    mqtls_tls_init(&pipe_tls);
    mqtls_tls_init(&second);
    memcpy(before, &pipe_cfg, sizeof pipe_cfg);
    for (i = 0; i < 2; i++) {
        mqtls_tls *t = i == 0 ? &pipe_tls : &second;
        server_start("server-a-chain.pem", "server-a.key");
        ck_assert_msg(mqtls_tls_connect(t, &pipe_cfg, &pipe_transport, "localhost") == MQTLS_OK, "%s",
                      mqtls_tls_why(t));
        server_teardown();
        ck_assert_msg(memcmp(before, &pipe_cfg, sizeof pipe_cfg) == 0, "connect %d wrote the configuration",
                      i + 1);
    }
    { /* the store was asked, and counted both */
        mqtls_ca_info info;
        uint32_t uses = 0;
        size_t k;
        for (k = 0; k < mqtls_castore_count(&cas, MQTLS_CA_ACTIVE); k++) {
            ck_assert_int_eq(mqtls_castore_info(&cas, MQTLS_CA_ACTIVE, k, &info), MQTLS_OK);
            uses += info.uses;
        }
        ck_assert_uint_eq(uses, 2);
    }
    mqtls_tls_free(&second);
    mqtls_tls_free(&pipe_tls);
    mqtls_tls_config_free(&pipe_cfg);
    mqtls_castore_free(&cas);
    memset(&srv, 0, sizeof srv); /* the fixture's teardown frees nothing twice */
    mqtls_tls_config_init(&pipe_cfg);
    mqtls_tls_init(&pipe_tls);
}
END_TEST

START_TEST(a_weak_server_key_is_refused)
{
    server_start("server-weak.crt", "server-weak.key");
    client_config(CERTS "root-rsa.crt");
    ck_assert_int_eq(mqtls_tls_connect(&pipe_tls, &pipe_cfg, &pipe_transport, "localhost"),
                     MQTLS_ERR_TLS_WEAK_KEY);
    ck_assert_ptr_nonnull(strstr(mqtls_tls_why(&pipe_tls), "weak or unsupported key"));
}
END_TEST

/* A broker whose certificate names a trusted root as its issuer but was
 * signed by another key of that name is called what it is, when trust
 * comes from a CA store as when it comes from the configuration. */
START_TEST(an_impostor_is_named_under_either_kind_of_trust)
{
    mqtls_castore cas;
    int round;

    for (round = 0; round < 2; round++) {
        server_start("server-fake.crt", "server-fake.key");
        /* the store's round: the configuration's own CA is another one */
        client_config(round == 0 ? CERTS "root-a.crt" : CERTS "root-rsa.crt");
        mqtls_castore_init(&cas);
        if (round == 1) {
            ck_assert_int_eq(mqtls_castore_load_file(&cas, MQTLS_CA_ACTIVE, CERTS "root-a.crt", 1, NULL),
                             MQTLS_OK);
            ck_assert_int_eq(mqtls_tls_config_use_castore(&pipe_cfg, &cas), MQTLS_OK);
        }
        ck_assert_int_eq(mqtls_tls_connect(&pipe_tls, &pipe_cfg, &pipe_transport, "localhost"),
                         MQTLS_ERR_TLS_CERT_UNTRUSTED);
        ck_assert_msg(strstr(mqtls_tls_why(&pipe_tls), "an impostor CA with the same name?") != NULL,
                      "round %d: %s", round, mqtls_tls_why(&pipe_tls));
        pipe_teardown();
        mqtls_castore_free(&cas);
    }
}
END_TEST

/* After the handshake, a record header announcing 18,432 bytes: more than
 * the 16 KB record buffer. */
START_TEST(a_record_larger_than_our_buffer_is_named)
{
    static const uint8_t huge[] = {0x17, 0x03, 0x03, 0x48, 0x00};
    mqtls_transport t;
    uint8_t buf[16];

    server_start("server-a-chain.pem", "server-a.key");
    client_config(CERTS "bundle-current.pem");
    ck_assert_int_eq(mqtls_tls_connect(&pipe_tls, &pipe_cfg, &pipe_transport, "localhost"), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_transport(&pipe_tls, &t), MQTLS_OK);
    ring_put(&srv.to_client, huge, sizeof huge);
    ck_assert_msg(t.recv(t.ctx, buf, sizeof buf, 100) == MQTLS_ERR_TLS_RECORD_TOO_LARGE,
                  "mbedTLS said -0x%04x", (unsigned)-mqtls_tls_get_report(&pipe_tls)->mbedtls_error);
}
END_TEST

/* Twenty records from the server, read by the client: with read-ahead one
 * read of the pipe takes them all; without, mbedTLS reads each record's
 * header and body apart (two reads a record). The bytes are the same. */
static unsigned long reads_for_twenty_records(size_t read_ahead)
{
    mqtls_transport t;
    uint8_t buf[256];
    unsigned long before;
    int i, got = 0, n;

    server_start("server-a-chain.pem", "server-a.key");
    client_config(CERTS "bundle-current.pem");
    ck_assert_int_eq(mqtls_tls_config_set_read_ahead(&pipe_cfg, read_ahead), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_connect(&pipe_tls, &pipe_cfg, &pipe_transport, "localhost"), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_transport(&pipe_tls, &t), MQTLS_OK);
    for (i = 0; i < 20; i++) /* twenty records out ... */
        ck_assert_int_eq(t.send(t.ctx, (const uint8_t *)"abcde", 5, 100), 5);
    pump(); /* ... echoed as twenty records */
    before = srv.client_recvs;
    for (i = 0; i < 200 && got < 100; i++) {
        n = t.recv(t.ctx, buf + got, sizeof buf - (size_t)got, 100);
        ck_assert_int_ge(n, 0);
        got += n;
    }
    ck_assert_int_eq(got, 100);
    for (i = 0; i < 20; i++)
        ck_assert_mem_eq(buf + 5 * i, "abcde", 5);
    return srv.client_recvs - before;
}

START_TEST(read_ahead_takes_many_records_in_one_read)
{
    unsigned long with = reads_for_twenty_records(4096), without;
    pipe_teardown();
    without = reads_for_twenty_records(0);
    ck_assert_uint_le(with, 2);
    ck_assert_uint_ge(without, 40);
    ck_assert_int_eq(mqtls_tls_config_set_read_ahead(&pipe_cfg, 70000), MQTLS_ERR_INVALID_ARG);
}
END_TEST

/* Runs a handshake in slices to its end: the number of calls it took. */
static int sliced_connect(void)
{
    int ret = mqtls_tls_connect(&pipe_tls, &pipe_cfg, &pipe_transport, "localhost"), calls = 1;
    while (ret == MQTLS_ERR_IN_PROGRESS && calls < 100000) {
        ret = mqtls_tls_connect_continue(&pipe_tls);
        calls++;
    }
    ck_assert_msg(ret == MQTLS_OK, "%d: %s", ret, mqtls_tls_why(&pipe_tls));
    return calls;
}

/* A handshake in slices returns between its steps, each read waiting at
 * most the slice's wait; with restartable ECC (the 3.6 build without PSA
 * that make check runs) the elliptic-curve work pauses too, in many more
 * slices; a build without it refuses an ECC budget in words. */
START_TEST(a_handshake_in_slices_returns_between_its_steps)
{
    mqtls_transport t;
    uint8_t buf[16];
    int steps, i, got = 0;

    server_start("server-a-chain.pem", "server-a.key");
    client_config(CERTS "bundle-current.pem");
    fake_clock();
    ck_assert_int_eq(mqtls_tls_connect(&pipe_tls, &pipe_cfg, &pipe_transport, "localhost"), MQTLS_OK);
    mqtls_tls_close(&pipe_tls); /* whole: one call */
    server_teardown();

    server_start("server-a-chain.pem", "server-a.key");
    ck_assert_int_eq(mqtls_tls_config_set_slices(&pipe_cfg, 20, 0), MQTLS_OK);
    longest_wait = 0;
    steps = sliced_connect();
    ck_assert_int_gt(steps, 8); /* a TLS 1.2 client handshake has more states */
    ck_assert_uint_le(longest_wait, 20);
    ck_assert_int_eq(mqtls_tls_connect_continue(&pipe_tls), MQTLS_OK); /* over */
    ck_assert_int_eq(mqtls_tls_transport(&pipe_tls, &t), MQTLS_OK);
    ck_assert_int_eq(t.send(t.ctx, (const uint8_t *)"sliced", 6, 100), 6);
    for (i = 0; i < 100 && got < 6; i++) {
        int n = t.recv(t.ctx, buf + got, sizeof buf - (size_t)got, 100);
        ck_assert_int_ge(n, 0);
        got += n;
    }
    ck_assert_mem_eq(buf, "sliced", 6);
    mqtls_tls_close(&pipe_tls);
    server_teardown();
#if MQTLS_COMPAT_ECC_RESTART
    server_start("server-a-chain.pem", "server-a.key");
    ck_assert_int_eq(mqtls_tls_config_set_slices(&pipe_cfg, 20, 50), MQTLS_OK);
    i = sliced_connect();
    printf("  TLS 1.2 handshake: 1 call whole, %d in slices, %d with ECC paused every 50 operations\n",
           steps, i);
    ck_assert_int_gt(i, steps + 20); /* ECDH, two signature checks and our signature paused */
    mqtls_tls_close(&pipe_tls);
#else
    ck_assert_int_eq(mqtls_tls_config_set_slices(&pipe_cfg, 20, 50), MQTLS_ERR_TLS_NO_RESTART);
    printf("  TLS 1.2 handshake: 1 call whole, %d in slices (this mbedTLS cannot pause ECC)\n",
           steps);
#endif
    ck_assert_int_eq(mqtls_tls_config_set_slices(&pipe_cfg, 0, 50), MQTLS_ERR_INVALID_ARG);
}
END_TEST

/* A handshake given up half-way ends with mqtls_tls_close(). */
START_TEST(a_handshake_in_slices_ends_when_closed)
{
    server_start("server-a-chain.pem", "server-a.key");
    client_config(CERTS "bundle-current.pem");
    ck_assert_int_eq(mqtls_tls_config_set_slices(&pipe_cfg, 20, 0), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_connect(&pipe_tls, &pipe_cfg, &pipe_transport, "localhost"),
                     MQTLS_ERR_IN_PROGRESS);
    ck_assert_int_eq(mqtls_tls_connect_continue(&pipe_tls), MQTLS_ERR_IN_PROGRESS);
    mqtls_tls_close(&pipe_tls);
    ck_assert_int_eq(mqtls_tls_connect_continue(&pipe_tls), MQTLS_ERR_NET_NOT_CONNECTED);
}
END_TEST

Suite *tls_pipe_suite(void)
{
    Suite *s = suite_create("tls_pipe");
    TCase *tc = tcase_create("pipe");
    tcase_add_checked_fixture(tc, NULL, pipe_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, mutual_tls_over_an_in_memory_pipe);
    tcase_add_test(tc, a_weak_server_key_is_refused);
    tcase_add_test(tc, an_impostor_is_named_under_either_kind_of_trust);
    tcase_add_test(tc, a_connect_leaves_the_configuration_untouched);
    tcase_add_test(tc, a_saved_session_is_bound_to_the_server_name);
    tcase_add_test(tc, a_dripping_peer_cannot_stretch_the_handshake);
    tcase_add_test(tc, a_dripping_peer_cannot_stretch_a_send_or_a_recv);
    tcase_add_test(tc, a_record_larger_than_our_buffer_is_named);
    tcase_add_test(tc, read_ahead_takes_many_records_in_one_read);
    tcase_add_test(tc, a_handshake_in_slices_returns_between_its_steps);
    tcase_add_test(tc, a_handshake_in_slices_ends_when_closed);
    suite_add_tcase(s, tc);
    return s;
}
