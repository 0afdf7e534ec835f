/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — the usual stack on a POSIX host, ready made: TCP to host:port,
 * TLS over it, verifying the broker under that name. Its open function is
 * an mqtls_client_open_fn, so the client rebuilds the whole stack on
 * every reconnect:
 *
 *   mqtls_tcp_tls net;
 *   mqtls_tcp_tls_init(&net, &tls_cfg, "broker.example", 8883);
 *   cfg.open = mqtls_tcp_tls_open;
 *   cfg.open_ctx = &net;
 *
 * After a failed open, last_error says what failed and
 * mqtls_tls_why(&net.tls) why (for TLS failures). On a device, write the
 * same twenty lines over your own transport (docs/porting.md). */
#ifndef MQTLS_TLS_TCP_TLS_H
#define MQTLS_TLS_TCP_TLS_H

#include <stdint.h>

#include "../net/tcp_posix.h"
#include "tls_mbedtls.h"
#include "../net/api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

typedef struct mqtls_tcp_tls {
    const char *host;        /* where to connect (kept by reference) */
    const char *tls_name;    /* the name to verify; NULL: host */
    uint16_t port;           /* the broker's port (8883) */
    uint32_t connect_timeout_ms; /* TCP connect; default 10,000 */
    int last_error;          /* of the last open, MQTLS_OK after success */
    uint8_t *session;        /* see mqtls_tcp_tls_resume(); NULL: none */
    size_t session_cap, session_len; /* its size, and the bytes saved in it */
    mqtls_tls_config *cfg;   /* the shared configuration (the caller's) */
    mqtls_tls tls;           /* the TLS connection, rebuilt by each open */
    mqtls_tcp tcp;           /* the TCP connection; set its options here */
} mqtls_tcp_tls;

/* Lifecycle: mqtls_tcp_tls_init() with the configuration cfg (set up, and
 * kept alive by the caller), the broker's host and port; then
 * mqtls_tcp_tls_open as the client's open function, any number of times;
 * mqtls_tcp_tls_free() at the end (idempotent). Init cannot fail. */
void mqtls_tcp_tls_init(mqtls_tcp_tls *s, mqtls_tls_config *cfg, const char *host, uint16_t port);
/* ctx is an mqtls_tcp_tls. Closes what an earlier open left, connects,
 * handshakes, fills *out with the TLS transport. Returns MQTLS_OK, the
 * TCP connect's error or the handshake's (last_error keeps it, and
 * mqtls_tls_why(&s->tls) says why in words). */
int mqtls_tcp_tls_open(void *ctx, mqtls_transport *out);
/* Resumes TLS sessions across reconnects: after every full handshake the
 * session is saved into buf (cap bytes; about 1.2 KB with tickets; on
 * TLS 1.3 when the server's ticket arrives, with a read after connect,
 * and again at each new ticket: persist buf after the first exchange), and
 * every open offers it, so a reconnect skips the certificate exchange and
 * the ECDHE/ECDSA work. len > 0 offers saved bytes from an earlier run
 * (kept in flash across a reboot). The saved bytes remember the trust they
 * were made under and are not offered once it changed
 * (mqtls_tls_session_save()). */
void mqtls_tcp_tls_resume(mqtls_tcp_tls *s, uint8_t *buf, size_t cap, size_t len);

/* Frees the TLS session (wiping its secrets); the config is the caller's. */
void mqtls_tcp_tls_free(mqtls_tcp_tls *s);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
