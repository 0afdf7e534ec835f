/* SPDX-License-Identifier: Apache-2.0 */
/* A transport over an lwIP-style socket API, for docs/porting.md: the
 * three calls of net/transport.h and a connect. Blocking sockets with poll()
 * for the timeouts; lwIP builds need LWIP_SOCKET and LWIP_SOCKET_POLL (or
 * use select() / SO_RCVTIMEO instead). Not part of the library. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "examples/porting/lwip_shim.h" /* on a device: "lwip/sockets.h", "lwip/netdb.h" */
#include "examples/porting/transport_lwip.h"

/* Waits until fd is ready for events, at most timeout_ms. 1 ready, 0 not yet, <0 error. */
static int wait_for(int fd, short events, uint32_t timeout_ms)
{
    struct pollfd p = {fd, events, 0};
    int ms = timeout_ms == MQTLS_WAIT_FOREVER ? -1 : (timeout_ms > 60000 ? 60000 : (int)timeout_ms);
    int n = lwip_poll(&p, 1, ms);
    if (n < 0)
        return errno == EINTR ? 0 : MQTLS_ERR_NET_IO;
    return n > 0 ? 1 : 0;
}

static int lwip_t_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    lwip_transport *t = ctx;
    ssize_t n;
    int ready = wait_for(t->fd, POLLOUT, timeout_ms);
    if (ready <= 0)
        return ready; /* 0: nothing moved in time */
    n = lwip_send(t->fd, buf, len, 0);
    if (n >= 0)
        return (int)n;
    if (errno == EAGAIN || errno == EINTR)
        return 0;
    return errno == ECONNRESET || errno == EPIPE ? MQTLS_ERR_NET_RESET : MQTLS_ERR_NET_IO;
}

static int lwip_t_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    lwip_transport *t = ctx;
    ssize_t n;
    int ready = wait_for(t->fd, POLLIN, timeout_ms);
    if (ready <= 0)
        return ready;
    n = lwip_recv(t->fd, buf, len, 0);
    if (n > 0)
        return (int)n;
    if (n == 0)
        return MQTLS_ERR_NET_CLOSED; /* never 0: 0 means "timeout" */
    if (errno == EAGAIN || errno == EINTR)
        return 0;
    return errno == ECONNRESET ? MQTLS_ERR_NET_RESET : MQTLS_ERR_NET_IO;
}

static void lwip_t_close(void *ctx)
{
    lwip_transport *t = ctx;
    if (t->fd >= 0)
        lwip_close(t->fd);
    t->fd = -1;
}

int lwip_transport_connect(lwip_transport *t, const char *host, uint16_t port,
                           mqtls_transport *out)
{
    struct addrinfo hints, *list = NULL, *ai;
    char service[8];
    int one = 1, ret = MQTLS_ERR_NET_REFUSED;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(service, sizeof service, "%u", (unsigned)port);
    if (lwip_getaddrinfo(host, service, &hints, &list) != 0 || list == NULL)
        return MQTLS_ERR_NET_RESOLVE;
    t->fd = -1;
    for (ai = list; ai != NULL && t->fd < 0; ai = ai->ai_next) {
        int fd = lwip_socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (lwip_connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            t->fd = fd;
        else
            lwip_close(fd);
    }
    lwip_freeaddrinfo(list);
    if (t->fd < 0)
        return ret;
    /* Small TLS and MQTT packets must not wait for Nagle's algorithm. */
    lwip_setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    out->ctx = t;
    out->send = lwip_t_send;
    out->recv = lwip_t_recv;
    out->close = lwip_t_close;
    return MQTLS_OK;
}
