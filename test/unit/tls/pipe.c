/* SPDX-License-Identifier: Apache-2.0 */
/* TLS over an in-memory pipe: no socket anywhere. The other end is an
 * mbedTLS server in this same thread, run by the pipe itself whenever the
 * client waits for bytes (the "pump"): it steps the server's handshake,
 * then echoes application data. Mutual authentication with the test PKI.
 * Shared by test_tls_pipe.c and test_signer.c (pipe.h). */
#define _POSIX_C_SOURCE 200809L

#include "test/unit/tls/pipe.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

size_t ring_put(ring *r, const uint8_t *p, size_t n)
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

struct pipe_server srv;

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
void pump(void)
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
int drip_send; /* the peer takes one byte per 900 ms */
uint32_t fake_now;

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
int drip;

uint32_t fake_now_ms(void *ctx)
{
    (void)ctx;
    return fake_now;
}

uint32_t longest_wait; /* the longest timeout a client read was given */

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
void server_start(const char *chain, const char *key)
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

void server_teardown(void)
{
    mbedtls_ssl_free(&srv.ssl);
    mbedtls_ssl_config_free(&srv.conf);
    mbedtls_x509_crt_free(&srv.chain);
    mbedtls_x509_crt_free(&srv.ca);
    mbedtls_pk_free(&srv.key);
    mqtls_rng_free(&srv.rng);
}

mqtls_tls_config pipe_cfg;
mqtls_tls pipe_tls;
mqtls_transport pipe_transport = {NULL, pipe_send, pipe_recv, pipe_close};

void client_config(const char *ca_file)
{
    mqtls_tls_config_init(&pipe_cfg);
    ck_assert_int_eq(mqtls_tls_config_setup(&pipe_cfg), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_add_ca_file(&pipe_cfg, ca_file, NULL), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_set_identity_files(&pipe_cfg, CERTS "device-001.crt",
                                                         CERTS "device-001.key", NULL),
                     MQTLS_OK);
    mqtls_tls_init(&pipe_tls);
}

void pipe_teardown(void)
{
    mqtls_tls_free(&pipe_tls);
    mqtls_tls_config_free(&pipe_cfg);
    server_teardown();
}

