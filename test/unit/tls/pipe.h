/* SPDX-License-Identifier: Apache-2.0 */
/* The in-memory TLS pipe the TLS unit tests share (pipe.c): an mbedTLS
 * server in the same thread, pumped by the client's reads. */
#ifndef MQTLS_TEST_TLS_PIPE_H
#define MQTLS_TEST_TLS_PIPE_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/ssl.h>

#include "tls/tls_compat.h" /* the server runs on either mbedTLS */
#include "tls/tls_mbedtls.h"

#define CERTS MQTLS_SOURCE_DIR "/build/certs/"
#define PIPE_CAP 65536

/* One direction of the pipe. */
typedef struct ring {
    uint8_t data[PIPE_CAP];
    size_t len; /* bytes waiting, from data[0] */
} ring;

struct pipe_server {
    ring to_client, to_server;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt chain, ca;
    mbedtls_pk_context key;
    mqtls_rng rng;
    int handshake_done;
    unsigned long pumps;
    unsigned long client_recvs; /* calls of the client's pipe_recv */
};

extern struct pipe_server srv;
extern mqtls_tls_config pipe_cfg;      /* the client's */
extern mqtls_tls pipe_tls;             /* the client's connection */
extern mqtls_transport pipe_transport;
extern int drip, drip_send;       /* the peer moves a byte per 900 ms of fake time */
extern uint32_t fake_now, longest_wait;

size_t ring_put(ring *r, const uint8_t *p, size_t n);
/* Lets the server act on what it has: handshake steps, then echo. */
void pump(void);
uint32_t fake_now_ms(void *ctx);
/* The server, with the certificate chain and key named (in build/certs),
 * TLS 1.2, client certificates from Root A required. */
void server_start(const char *chain, const char *key);
void server_teardown(void);
/* The client's config: ca_file trusted, device-001 as identity. */
void client_config(const char *ca_file);
/* The fixture's teardown: client and server freed. */
void pipe_teardown(void);

#endif
