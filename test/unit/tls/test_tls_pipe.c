/* SPDX-License-Identifier: Apache-2.0 */
/* TLS over an in-memory pipe: no socket anywhere. The other end is an
 * mbedTLS server in this same thread, run by the pipe itself whenever the
 * client waits for bytes (the "pump"): it steps the server's handshake,
 * then echoes application data. Mutual authentication with the test PKI. */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/ssl.h>
#include <mbedtls/x509_csr.h>

#include "test/unit/suites.h"
#include "tls/castore.h"
#include "tls/identity.h"
#include "tls/signer.h"
#include "tls/tls_compat.h" /* the server below runs on either mbedTLS */
#include "tls/tls_mbedtls.h"

#define CERTS MQTLS_SOURCE_DIR "/build/certs/"
#define PIPE_CAP 65536

/* One direction of the pipe. */
typedef struct ring {
    uint8_t data[PIPE_CAP];
    size_t len; /* bytes waiting, from data[0] */
} ring;

static size_t ring_put(ring *r, const uint8_t *p, size_t n)
{
    if (n > PIPE_CAP - r->len)
        n = PIPE_CAP - r->len;
    memcpy(r->data + r->len, p, n);
    r->len += n;
    return n;
}

static size_t ring_take(ring *r, uint8_t *p, size_t n)
{
    if (n > r->len)
        n = r->len;
    memcpy(p, r->data, n);
    memmove(r->data, r->data + n, r->len - n);
    r->len -= n;
    return n;
}

static struct server {
    ring to_client, to_server;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt chain, ca;
    mbedtls_pk_context key;
    mqtls_rng rng;
    int handshake_done;
    unsigned long pumps;
    unsigned long client_recvs; /* calls of the client's pipe_recv */
} srv;

/* The server's BIO: non-blocking over the rings. */
static int srv_send(void *ctx, const unsigned char *buf, size_t len)
{
    (void)ctx;
    return (int)ring_put(&srv.to_client, buf, len);
}

static int srv_recv(void *ctx, unsigned char *buf, size_t len)
{
    (void)ctx;
    if (srv.to_server.len == 0)
        return MBEDTLS_ERR_SSL_WANT_READ;
    return (int)ring_take(&srv.to_server, buf, len);
}

/* Lets the server act on what it has: handshake steps, then echo. */
static void pump(void)
{
    uint8_t buf[1024];
    int i, n;

    srv.pumps++;
    for (i = 0; i < 64 && !srv.handshake_done; i++) {
        n = mbedtls_ssl_handshake_step(&srv.ssl);
        if (mqtls_ssl_handshake_over(&srv.ssl))
            srv.handshake_done = 1;
        if (n == MBEDTLS_ERR_SSL_WANT_READ)
            return;
        ck_assert_msg(n == 0, "server handshake step: -0x%04x", (unsigned)-n);
    }
    for (i = 0; i < 64 && srv.handshake_done; i++) {
        n = mbedtls_ssl_read(&srv.ssl, buf, sizeof buf);
        if (n <= 0)
            return;
        ck_assert_int_eq(mbedtls_ssl_write(&srv.ssl, buf, (size_t)n), n);
    }
}

/* The client's end of the pipe, as an mqtls_transport. */
static int drip_send; /* the peer takes one byte per 900 ms */
static uint32_t fake_now;

static int pipe_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    (void)ctx;
    (void)timeout_ms;
    if (drip_send && len > 0) {
        fake_now += 900;
        return (int)ring_put(&srv.to_server, buf, 1);
    }
    return (int)ring_put(&srv.to_server, buf, len);
}

/* A peer that dribbles: in drip mode each client read takes 900 ms of
 * fake time and moves one byte (or, with nothing to move, waits out its
 * timeout). */
static int drip;

static uint32_t fake_now_ms(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static uint32_t longest_wait; /* the longest timeout a client read was given */

static int pipe_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    (void)ctx;
    srv.client_recvs++;
    if (timeout_ms > longest_wait)
        longest_wait = timeout_ms;
    if (srv.to_client.len == 0)
        pump();
    if (drip) {
        if (srv.to_client.len == 0) {
            fake_now += timeout_ms;
            return 0;
        }
        fake_now += 900;
        return (int)ring_take(&srv.to_client, buf, len < 1 ? len : 1);
    }
    (void)timeout_ms;
    return (int)ring_take(&srv.to_client, buf, len);
}

static void pipe_close(void *ctx)
{
    (void)ctx;
}

/* The server, with the certificate chain and key named (in build/certs). */
static void server_start(const char *chain, const char *key)
{
    char path[256];
    FILE *f;
    unsigned char pem[8192];
    size_t n;
    memset(&srv, 0, sizeof srv);
    mbedtls_ssl_init(&srv.ssl);
    mbedtls_ssl_config_init(&srv.conf);
    mbedtls_x509_crt_init(&srv.chain);
    mbedtls_x509_crt_init(&srv.ca);
    mbedtls_pk_init(&srv.key);
    mqtls_rng_init(&srv.rng);
    ck_assert_int_eq(mqtls_rng_seed(&srv.rng, "mqtls pipe test server"), 0);
    snprintf(path, sizeof path, "%s%s", CERTS, chain);
    ck_assert_int_eq(mbedtls_x509_crt_parse_file(&srv.chain, path), 0);
    ck_assert_int_eq(mbedtls_x509_crt_parse_file(&srv.ca, CERTS "root-a.crt"), 0);
    snprintf(path, sizeof path, "%s%s", CERTS, key);
    f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    n = fread(pem, 1, sizeof pem - 1, f);
    fclose(f);
    pem[n] = 0;
    ck_assert_int_eq(mqtls_pk_parse_key(&srv.key, pem, n + 1, NULL, 0), 0);
    ck_assert_int_eq(mbedtls_ssl_config_defaults(&srv.conf, MBEDTLS_SSL_IS_SERVER,
                                                 MBEDTLS_SSL_TRANSPORT_STREAM,
                                                 MBEDTLS_SSL_PRESET_DEFAULT),
                     0);
    mbedtls_ssl_conf_rng(&srv.conf, mqtls_rng_random, &srv.rng);
    /* TLS 1.2 on either version: this server issues no TLS 1.3 tickets,
     * and 1.3 is tested against Mosquitto and openssl s_server. */
    ck_assert_int_eq(mqtls_ssl_conf_versions(&srv.conf, MQTLS_TLS_1_2), 0);
    mbedtls_ssl_conf_authmode(&srv.conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&srv.conf, &srv.ca, NULL);
    ck_assert_int_eq(mbedtls_ssl_conf_own_cert(&srv.conf, &srv.chain, &srv.key), 0);
    ck_assert_int_eq(mbedtls_ssl_setup(&srv.ssl, &srv.conf), 0);
    mbedtls_ssl_set_bio(&srv.ssl, NULL, srv_send, srv_recv, NULL);
}

static void server_teardown(void)
{
    mbedtls_ssl_free(&srv.ssl);
    mbedtls_ssl_config_free(&srv.conf);
    mbedtls_x509_crt_free(&srv.chain);
    mbedtls_x509_crt_free(&srv.ca);
    mbedtls_pk_free(&srv.key);
    mqtls_rng_free(&srv.rng);
}

static mqtls_tls_config cfg;
static mqtls_tls tls;
static mqtls_transport pipe_transport = {NULL, pipe_send, pipe_recv, pipe_close};

static void client_config(const char *ca_file)
{
    mqtls_tls_config_init(&cfg);
    ck_assert_int_eq(mqtls_tls_config_setup(&cfg), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_add_ca_file(&cfg, ca_file, NULL), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_set_identity_files(&cfg, CERTS "device-001.crt",
                                                         CERTS "device-001.key", NULL),
                     MQTLS_OK);
    mqtls_tls_init(&tls);
}

static void teardown(void)
{
    mqtls_tls_free(&tls);
    mqtls_tls_config_free(&cfg);
    server_teardown();
}

START_TEST(mutual_tls_over_an_in_memory_pipe)
{
    mqtls_transport t;
    uint8_t buf[64];
    int got = 0, i, n;

    server_start("server-a-chain.pem", "server-a.key");
    client_config(CERTS "bundle-current.pem");
    ck_assert_msg(mqtls_tls_connect(&tls, &cfg, &pipe_transport, "localhost") == MQTLS_OK, "%s",
                  mqtls_tls_why(&tls));
    ck_assert(srv.handshake_done);
    ck_assert_str_eq(mqtls_tls_get_report(&tls)->ca_subject, "CN=mqtls Test Root A");
    /* The server saw our certificate. */
    ck_assert_ptr_nonnull(mbedtls_ssl_get_peer_cert(&srv.ssl));

    ck_assert_int_eq(mqtls_tls_transport(&tls, &t), MQTLS_OK);
    ck_assert_int_eq(t.send(t.ctx, (const uint8_t *)"over a pipe", 11, 100), 11);
    for (i = 0; i < 100 && got < 11; i++) {
        n = t.recv(t.ctx, buf + got, sizeof buf - (size_t)got, 100);
        ck_assert_int_ge(n, 0);
        got += n;
    }
    ck_assert_int_eq(got, 11);
    ck_assert_mem_eq(buf, "over a pipe", 11);
    ck_assert_uint_gt(srv.pumps, 2);
    mqtls_tls_close(&tls);
}
END_TEST

static void fake_clock(void)
{
    const mqtls_clock clock = {NULL, fake_now_ms, NULL, NULL};
    fake_now = 1000;
    ck_assert_int_eq(mqtls_tls_config_set_clock(&cfg, &clock), MQTLS_OK);
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
    ck_assert_int_eq(mqtls_tls_config_set_handshake_timeout(&cfg, 10000), MQTLS_OK);
    drip = 1;
    ck_assert_int_eq(mqtls_tls_connect(&tls, &cfg, &pipe_transport, "localhost"),
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
    ck_assert_msg(mqtls_tls_connect(&tls, &cfg, &pipe_transport, "localhost") == MQTLS_OK, "%s",
                  mqtls_tls_why(&tls));
    ck_assert_int_eq(mqtls_tls_transport(&tls, &t), MQTLS_OK);
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
    mqtls_tls_close(&tls);
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
    ck_assert_msg(mqtls_tls_connect(&tls, &cfg, &pipe_transport, "localhost") == MQTLS_OK, "%s",
                  mqtls_tls_why(&tls));
    ck_assert_int_eq(mqtls_tls_session_save(&tls, saved, sizeof saved, &saved_len), MQTLS_OK);
    mqtls_tls_close(&tls);
    mqtls_tls_free(&tls);
    server_teardown();

    /* The same name: offered. */
    server_start("server-a-chain.pem", "server-a.key");
    mqtls_tls_init(&tls);
    ck_assert_int_eq(mqtls_tls_session_load(&tls, saved, saved_len), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_connect(&tls, &cfg, &pipe_transport, "localhost"), MQTLS_OK);
    ck_assert(!mqtls_tls_get_report(&tls)->session_dropped);
    mqtls_tls_close(&tls);
    mqtls_tls_free(&tls);
    server_teardown();

    /* Another name: not offered; the full handshake checks the name. */
    server_start("server-a-chain.pem", "server-a.key");
    mqtls_tls_init(&tls);
    ck_assert_int_eq(mqtls_tls_session_load(&tls, saved, saved_len), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_connect(&tls, &cfg, &pipe_transport, "broker-b.example"),
                     MQTLS_ERR_TLS_HOSTNAME_MISMATCH);
    ck_assert(mqtls_tls_get_report(&tls)->session_dropped);
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
    mqtls_tls_config_init(&cfg);
    ck_assert_int_eq(mqtls_tls_config_setup(&cfg), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_use_castore(&cfg, &cas), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_set_identity_files(&cfg, CERTS "device-001.crt",
                                                         CERTS "device-001.key", NULL),
                     MQTLS_OK);
    mqtls_tls_init(&tls);
    mqtls_tls_init(&second);
    memcpy(before, &cfg, sizeof cfg);
    for (i = 0; i < 2; i++) {
        mqtls_tls *t = i == 0 ? &tls : &second;
        server_start("server-a-chain.pem", "server-a.key");
        ck_assert_msg(mqtls_tls_connect(t, &cfg, &pipe_transport, "localhost") == MQTLS_OK, "%s",
                      mqtls_tls_why(t));
        server_teardown();
        ck_assert_msg(memcmp(before, &cfg, sizeof cfg) == 0, "connect %d wrote the configuration",
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
    mqtls_tls_free(&tls);
    mqtls_tls_config_free(&cfg);
    mqtls_castore_free(&cas);
    memset(&srv, 0, sizeof srv); /* the fixture's teardown frees nothing twice */
    mqtls_tls_config_init(&cfg);
    mqtls_tls_init(&tls);
}
END_TEST

START_TEST(a_weak_server_key_is_refused)
{
    server_start("server-weak.crt", "server-weak.key");
    client_config(CERTS "root-rsa.crt");
    ck_assert_int_eq(mqtls_tls_connect(&tls, &cfg, &pipe_transport, "localhost"),
                     MQTLS_ERR_TLS_WEAK_KEY);
    ck_assert_ptr_nonnull(strstr(mqtls_tls_why(&tls), "weak or unsupported key"));
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
            ck_assert_int_eq(mqtls_tls_config_use_castore(&cfg, &cas), MQTLS_OK);
        }
        ck_assert_int_eq(mqtls_tls_connect(&tls, &cfg, &pipe_transport, "localhost"),
                         MQTLS_ERR_TLS_CERT_UNTRUSTED);
        ck_assert_msg(strstr(mqtls_tls_why(&tls), "an impostor CA with the same name?") != NULL,
                      "round %d: %s", round, mqtls_tls_why(&tls));
        teardown();
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
    ck_assert_int_eq(mqtls_tls_connect(&tls, &cfg, &pipe_transport, "localhost"), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_transport(&tls, &t), MQTLS_OK);
    ring_put(&srv.to_client, huge, sizeof huge);
    ck_assert_msg(t.recv(t.ctx, buf, sizeof buf, 100) == MQTLS_ERR_TLS_RECORD_TOO_LARGE,
                  "mbedTLS said -0x%04x", (unsigned)-mqtls_tls_get_report(&tls)->mbedtls_error);
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
    ck_assert_int_eq(mqtls_tls_config_set_read_ahead(&cfg, read_ahead), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_connect(&tls, &cfg, &pipe_transport, "localhost"), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_transport(&tls, &t), MQTLS_OK);
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
    teardown();
    without = reads_for_twenty_records(0);
    ck_assert_uint_le(with, 2);
    ck_assert_uint_ge(without, 40);
    ck_assert_int_eq(mqtls_tls_config_set_read_ahead(&cfg, 70000), MQTLS_ERR_INVALID_ARG);
}
END_TEST

/* Runs a handshake in slices to its end: the number of calls it took. */
static int sliced_connect(void)
{
    int ret = mqtls_tls_connect(&tls, &cfg, &pipe_transport, "localhost"), calls = 1;
    while (ret == MQTLS_ERR_IN_PROGRESS && calls < 100000) {
        ret = mqtls_tls_connect_continue(&tls);
        calls++;
    }
    ck_assert_msg(ret == MQTLS_OK, "%d: %s", ret, mqtls_tls_why(&tls));
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
    ck_assert_int_eq(mqtls_tls_connect(&tls, &cfg, &pipe_transport, "localhost"), MQTLS_OK);
    mqtls_tls_close(&tls); /* whole: one call */
    server_teardown();

    server_start("server-a-chain.pem", "server-a.key");
    ck_assert_int_eq(mqtls_tls_config_set_slices(&cfg, 20, 0), MQTLS_OK);
    longest_wait = 0;
    steps = sliced_connect();
    ck_assert_int_gt(steps, 8); /* a TLS 1.2 client handshake has more states */
    ck_assert_uint_le(longest_wait, 20);
    ck_assert_int_eq(mqtls_tls_connect_continue(&tls), MQTLS_OK); /* over */
    ck_assert_int_eq(mqtls_tls_transport(&tls, &t), MQTLS_OK);
    ck_assert_int_eq(t.send(t.ctx, (const uint8_t *)"sliced", 6, 100), 6);
    for (i = 0; i < 100 && got < 6; i++) {
        int n = t.recv(t.ctx, buf + got, sizeof buf - (size_t)got, 100);
        ck_assert_int_ge(n, 0);
        got += n;
    }
    ck_assert_mem_eq(buf, "sliced", 6);
    mqtls_tls_close(&tls);
    server_teardown();
#if MQTLS_COMPAT_ECC_RESTART
    server_start("server-a-chain.pem", "server-a.key");
    ck_assert_int_eq(mqtls_tls_config_set_slices(&cfg, 20, 50), MQTLS_OK);
    i = sliced_connect();
    printf("  TLS 1.2 handshake: 1 call whole, %d in slices, %d with ECC paused every 50 operations\n",
           steps, i);
    ck_assert_int_gt(i, steps + 20); /* ECDH, two signature checks and our signature paused */
    mqtls_tls_close(&tls);
#else
    ck_assert_int_eq(mqtls_tls_config_set_slices(&cfg, 20, 50), MQTLS_ERR_TLS_NO_RESTART);
    printf("  TLS 1.2 handshake: 1 call whole, %d in slices (this mbedTLS cannot pause ECC)\n",
           steps);
#endif
    ck_assert_int_eq(mqtls_tls_config_set_slices(&cfg, 0, 50), MQTLS_ERR_INVALID_ARG);
}
END_TEST

/* A handshake given up half-way ends with mqtls_tls_close(). */
START_TEST(a_handshake_in_slices_ends_when_closed)
{
    server_start("server-a-chain.pem", "server-a.key");
    client_config(CERTS "bundle-current.pem");
    ck_assert_int_eq(mqtls_tls_config_set_slices(&cfg, 20, 0), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_connect(&tls, &cfg, &pipe_transport, "localhost"),
                     MQTLS_ERR_IN_PROGRESS);
    ck_assert_int_eq(mqtls_tls_connect_continue(&tls), MQTLS_ERR_IN_PROGRESS);
    mqtls_tls_close(&tls);
    ck_assert_int_eq(mqtls_tls_connect_continue(&tls), MQTLS_ERR_NET_NOT_CONNECTED);
}
END_TEST

/* ---- the signer seam (tls/signer.h) ---------------------------------------- */

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

static size_t read_all(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    ck_assert_ptr_nonnull(f);
    n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
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
    const size_t cert_len = read_all(CERTS "device-001.crt", cert, sizeof cert);
    const mqtls_signer s = counting_signer(CERTS "device-001.key");
    int ret;

    server_start("server-a-chain.pem", "server-a.key");
    mqtls_tls_config_init(&cfg);
    ck_assert_int_eq(mqtls_tls_config_setup(&cfg), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_add_ca_file(&cfg, CERTS "bundle-current.pem", NULL), MQTLS_OK);
    mqtls_tls_init(&tls);
    ret = mqtls_tls_config_set_identity_signer(&cfg, cert, cert_len, &s);
#if MQTLS_MBEDTLS_3
    /* 3.6 takes PSA key ids instead (docs/keys.md). */
    ck_assert_int_eq(ret, MQTLS_ERR_KEY_UNSUPPORTED);
#else
    ck_assert_int_eq(ret, MQTLS_OK);
    ck_assert_msg(mqtls_tls_connect(&tls, &cfg, &pipe_transport, "localhost") == MQTLS_OK, "%s",
                  mqtls_tls_why(&tls));
    ck_assert_uint_eq(counting.signs, 1); /* CertificateVerify */
    ck_assert_ptr_nonnull(mbedtls_ssl_get_peer_cert(&srv.ssl));
    mqtls_tls_close(&tls);
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
    const size_t cert_len = read_all(CERTS "device-002.crt", cert, sizeof cert);
    static uint8_t cert1[4096];
    const size_t cert1_len = read_all(CERTS "device-001.crt", cert1, sizeof cert1);
    const mqtls_signer s = counting_signer(CERTS "device-001.key");

    server_start("server-a-chain.pem", "server-a.key");
    mqtls_tls_config_init(&cfg);
    ck_assert_int_eq(mqtls_tls_config_setup(&cfg), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_add_ca_file(&cfg, CERTS "bundle-current.pem", NULL), MQTLS_OK);
    mqtls_tls_init(&tls);
#if !MQTLS_MBEDTLS_3
    ck_assert_int_eq(mqtls_tls_config_set_identity_signer(&cfg, cert, cert_len, &s),
                     MQTLS_ERR_TLS_KEY_MISMATCH);
    ck_assert_int_eq(mqtls_tls_config_set_identity_signer(&cfg, cert1, cert1_len, &s), MQTLS_OK);
    counting.fail_with = MQTLS_ERR_KEY_TOKEN_GONE;
    ck_assert_int_eq(mqtls_tls_connect(&tls, &cfg, &pipe_transport, "localhost"),
                     MQTLS_ERR_KEY_TOKEN_GONE);
    ck_assert_str_eq(mqtls_tls_why(&tls), "our key could not sign the handshake: the token holding "
                                          "our key is gone (MQTLS_ERR_KEY_TOKEN_GONE)");
    ck_assert_int_eq(mqtls_err_is_refusal(MQTLS_ERR_KEY_TOKEN_GONE), 1);
#else
    (void)cert_len;
    (void)cert1_len;
    (void)s;
#endif
    ck_assert_int_eq(mqtls_tls_config_set_identity_signer(&cfg, cert, cert_len, NULL),
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
    size_t n = read_all(CERTS "device-rsa.key", pem, sizeof pem);

    mqtls_soft_signer_init(&s);
    ck_assert_int_eq(mqtls_soft_signer_load(&s, pem, n, NULL), MQTLS_ERR_KEY_UNSUPPORTED);
    ck_assert_int_eq(mqtls_soft_signer_load(&s, (const uint8_t *)"junk", 4, NULL),
                     MQTLS_ERR_TLS_BAD_KEY);
    ck_assert_int_eq(mqtls_soft_signer_interface(&s, &out), MQTLS_OK);
    ck_assert_int_eq(out.public_key(out.ctx, pub), MQTLS_ERR_KEY_NOT_FOUND); /* nothing loaded */
    n = read_all(CERTS "device-001.pem.enc.key", pem, sizeof pem);
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
    size_t n = read_all(CERTS "root-a.key", pem, sizeof pem - 1);
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
    mbedtls_svc_key_id_t id;
    uint8_t out[200];
    size_t cert_len, n = 0;

    ck_assert_int_eq(psa_crypto_init(), PSA_SUCCESS);
    psa_set_key_type(&a, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&a, 256);
    psa_set_key_usage_flags(&a, PSA_KEY_USAGE_SIGN_HASH); /* no EXPORT */
    psa_set_key_algorithm(&a, PSA_ALG_ECDSA(PSA_ALG_ANY_HASH));
    ck_assert_int_eq(psa_generate_key(&a, &id), PSA_SUCCESS);
    ck_assert_int_eq(psa_export_key(id, out, sizeof out, &n), PSA_ERROR_NOT_PERMITTED);
    cert_len = issue_for_psa_key(id, cert, sizeof cert);

    server_start("server-a-chain.pem", "server-a.key");
    mqtls_tls_config_init(&cfg);
    ck_assert_int_eq(mqtls_tls_config_setup(&cfg), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_add_ca_file(&cfg, CERTS "bundle-current.pem", NULL), MQTLS_OK);
    mqtls_tls_init(&tls);
    /* device-001's certificate names another key. */
    {
        static uint8_t other[4096];
        const size_t other_len = read_all(CERTS "device-001.crt", other, sizeof other);
        ck_assert_int_eq(mqtls_tls_config_set_identity_psa(&cfg, other, other_len,
                                                           MBEDTLS_SVC_KEY_ID_GET_KEY_ID(id)),
                         MQTLS_ERR_TLS_KEY_MISMATCH);
    }
    ck_assert_int_eq(mqtls_tls_config_set_identity_psa(&cfg, cert, cert_len, 0x7fff0000u),
                     MQTLS_ERR_KEY_NOT_FOUND);
    ck_assert_int_eq(mqtls_tls_config_set_identity_psa(&cfg, cert, cert_len,
                                                       MBEDTLS_SVC_KEY_ID_GET_KEY_ID(id)),
                     MQTLS_OK);
    ck_assert_msg(mqtls_tls_connect(&tls, &cfg, &pipe_transport, "localhost") == MQTLS_OK, "%s",
                  mqtls_tls_why(&tls));
    ck_assert_ptr_nonnull(mbedtls_ssl_get_peer_cert(&srv.ssl));
    ck_assert_str_eq(mbedtls_ssl_get_peer_cert(&srv.ssl)->subject.val.p != NULL ? "ok" : "", "ok");
    mqtls_tls_close(&tls);
    mqtls_tls_free(&tls);
    mqtls_tls_init(&tls);
    mqtls_tls_config_free(&cfg);
    mqtls_tls_config_init(&cfg);
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
    const size_t cert_len = read_all(CERTS "device-001.crt", cert, sizeof cert);
    server_start("server-a-chain.pem", "server-a.key");
    mqtls_tls_config_init(&cfg);
    ck_assert_int_eq(mqtls_tls_config_setup(&cfg), MQTLS_OK);
    mqtls_tls_init(&tls);
    ck_assert_int_eq(mqtls_tls_config_set_identity_psa(&cfg, cert, cert_len, 1),
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

Suite *tls_pipe_suite(void)
{
    Suite *s = suite_create("tls_pipe");
    TCase *tc = tcase_create("pipe");
    tcase_add_checked_fixture(tc, NULL, teardown);
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
    tcase_add_test(tc, a_signer_signs_the_handshake);
    tcase_add_test(tc, a_signer_is_checked_against_the_certificate_and_its_failure_named);
    tcase_add_test(tc, the_soft_signer_takes_p256_keys_only);
    tcase_add_test(tc, a_psa_key_that_cannot_be_exported_signs_the_handshake);
    suite_add_tcase(s, tc);
    return s;
}
