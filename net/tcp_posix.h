/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — TCP for POSIX hosts, as an mqtls_transport.
 *
 *   mqtls_tcp tcp;
 *   mqtls_transport t;
 *   mqtls_tcp_init(&tcp);
 *   if (mqtls_tcp_connect(&tcp, "broker.example", 8883, 5000) == MQTLS_OK)
 *       mqtls_tcp_transport(&tcp, &t);   (t.send / t.recv / t.close)
 *
 * Non-blocking sockets with poll() for every timeout; EINTR is retried
 * within the deadline; SIGPIPE is never raised (MSG_NOSIGNAL); TCP_NODELAY
 * is set, so small MQTT and TLS handshake packets are not held back by
 * Nagle's algorithm. No allocation: the caller owns the mqtls_tcp.
 */
#ifndef MQTLS_NET_TCP_POSIX_H
#define MQTLS_NET_TCP_POSIX_H

#include <stddef.h>
#include <stdint.h>

#include "transport.h"
#include "api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

typedef struct mqtls_tcp {
    int fd;         /* the socket, or -1 when not connected */
    int family;     /* AF_INET or AF_INET6 once connected, else 0 */
    int last_errno; /* errno behind the last failure, for experts */
    const char *dns_servers; /* NULL: the system's (resolv.conf); else
                                "ip[:port],..." to ask instead (kept by
                                reference) */
    const char *bind_address; /* NULL: any; else the local IPv4 or IPv6
                                 address to connect from (mosquitto's -A);
                                 only addresses of its family are tried
                                 (kept by reference) */
    const char *unix_path;    /* NULL: TCP; else the path of a Unix-domain
                                 stream socket to connect to instead of
                                 host:port (the host still names the peer
                                 for TLS); kept by reference */
} mqtls_tcp;

/* Prepares t (not connected, no options). Cannot fail. */
void mqtls_tcp_init(mqtls_tcp *t);

/* Makes t unconnected (fd -1) while keeping its options (dns_servers,
 * bind_address, unix_path): what an open function does before each new
 * connection, the previous one being closed already. Cannot fail. */
void mqtls_tcp_reset(mqtls_tcp *t);

/* Resolves host (a name, or an IPv4 or IPv6 address) and connects to port
 * on each address in turn until one answers, within timeout_ms in all, name
 * resolution included: a name is resolved with c-ares (/etc/hosts, then
 * DNS), polled until the deadline, so a resolver that never answers costs
 * no more than timeout_ms. Returns MQTLS_OK, MQTLS_ERR_NET_RESOLVE,
 * _RESOLVE_TIMEOUT, _REFUSED, _TIMEOUT, _UNREACHABLE, _IO or
 * MQTLS_ERR_INVALID_ARG (also for a bind_address that is not an address,
 * or a unix_path too long for a socket address); with several addresses,
 * the error of the last one tried. A bind_address that cannot be bound
 * (not this host's) is MQTLS_ERR_NET_UNREACHABLE; none of the host's
 * addresses in its family, MQTLS_ERR_NET_RESOLVE. A connected t is closed
 * first; its options (dns_servers, bind_address, unix_path) are kept. (Built without c-ares,
 * MQTLS_TCP_CARES 0, names go to getaddrinfo(), which POSIX cannot bound.) */
int mqtls_tcp_connect(mqtls_tcp *t, const char *host, uint16_t port, uint32_t timeout_ms);

/* Fills *out with t's send, recv and close (ctx = t). t must outlive it.
 * Returns MQTLS_OK, or MQTLS_ERR_INVALID_ARG for NULL. */
int mqtls_tcp_transport(mqtls_tcp *t, mqtls_transport *out);

/* The transport calls, usable directly with ctx = a mqtls_tcp: send writes
 * up to len bytes from buf, recv reads up to len bytes into buf, each
 * waiting at most timeout_ms (MQTLS_WAIT_FOREVER: no limit). They return
 * the bytes moved, 0 when none could be in time, or MQTLS_ERR_NET_RESET,
 * _CLOSED, _IO, _NOT_CONNECTED, as net/transport.h says. close is
 * idempotent. */
int mqtls_tcp_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms);
int mqtls_tcp_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms);
void mqtls_tcp_close(void *ctx);

/* Plain TCP as a client's open function (brokers on 1883, test benches):
 *
 *   mqtls_tcp_endpoint net = {"broker.example", 1883, 10000};
 *   cfg.open = mqtls_tcp_open;
 *   cfg.open_ctx = &net;
 *
 * Every open makes a new connection (the client closes the old one
 * through the transport before it opens again). The options set in
 * net.tcp (dns_servers, bind_address, unix_path) are kept across opens. */
typedef struct mqtls_tcp_endpoint {
    const char *host;            /* a name or an address; kept by reference */
    uint16_t port;               /* the broker's port (1883 for plain MQTT) */
    uint32_t connect_timeout_ms; /* 0: 10,000 */
    int last_error;              /* of the last open */
    mqtls_tcp tcp;               /* the connection; set its options here */
} mqtls_tcp_endpoint;

/* ctx is an mqtls_tcp_endpoint: connects as mqtls_tcp_connect() does and
 * fills *out with the connection's transport. Returns MQTLS_OK or the
 * connect's error (kept in last_error too). */
int mqtls_tcp_open(void *ctx, mqtls_transport *out);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
