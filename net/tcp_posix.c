/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L

#include "net/tcp_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* then SO_NOSIGPIPE, below, keeps SIGPIPE away */
#endif

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* What is left of a deadline, as poll() wants it (-1: forever). */
static int poll_timeout(uint64_t deadline, int forever)
{
    uint64_t now;
    if (forever)
        return -1;
    now = now_ms();
    if (now >= deadline)
        return 0;
    return deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
}

/* Waits for events on fd until the deadline, retrying on EINTR. Returns
 * > 0 ready, 0 timed out, < 0 an error (errno set). */
static int wait_for(int fd, short events, uint32_t timeout_ms)
{
    const int forever = timeout_ms == MQTLS_WAIT_FOREVER;
    const uint64_t deadline = now_ms() + timeout_ms;
    struct pollfd p;
    int n;

    for (;;) {
        p.fd = fd;
        p.events = events;
        p.revents = 0;
        n = poll(&p, 1, poll_timeout(deadline, forever));
        if (n >= 0 || errno != EINTR)
            return n;
    }
}

static int error_from_errno(int e)
{
    switch (e) {
    case ECONNREFUSED: return MQTLS_ERR_NET_REFUSED;
    case ETIMEDOUT: return MQTLS_ERR_NET_TIMEOUT;
    case ECONNRESET:
    case EPIPE: return MQTLS_ERR_NET_RESET;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN:
    case EADDRNOTAVAIL: return MQTLS_ERR_NET_UNREACHABLE;
    default: return MQTLS_ERR_NET_IO;
    }
}

static int fail(mqtls_tcp *t, int e)
{
    t->last_errno = e;
    return error_from_errno(e);
}

void mqtls_tcp_init(mqtls_tcp *t)
{
    if (t == NULL)
        return;
    t->fd = -1;
    t->family = 0;
    t->last_errno = 0;
}

/* One address: a non-blocking connect, finished by poll. Returns the fd or
 * an mqtls_err. */
static int connect_one(mqtls_tcp *t, const struct addrinfo *ai, uint32_t timeout_ms)
{
    int fd, flags, one = 1, err = 0, n;
    socklen_t len = sizeof err;

    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0)
        return fail(t, errno);
    flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        goto fail_errno;
#ifdef SO_NOSIGPIPE
    setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS && errno != EINTR)
            goto fail_errno;
        n = wait_for(fd, POLLOUT, timeout_ms);
        if (n < 0)
            goto fail_errno;
        if (n == 0) {
            close(fd);
            t->last_errno = ETIMEDOUT;
            return MQTLS_ERR_NET_TIMEOUT;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            goto fail_errno;
        if (err != 0) {
            close(fd);
            return fail(t, err);
        }
    }
    /* Small packets (CONNECT, PUBACK, handshake flights) go out at once. */
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        goto fail_errno;
    return fd;

fail_errno:
    err = errno;
    close(fd);
    return fail(t, err);
}

int mqtls_tcp_connect(mqtls_tcp *t, const char *host, uint16_t port, uint32_t timeout_ms)
{
    struct addrinfo hints, *list = NULL, *ai;
    const uint64_t deadline = now_ms() + timeout_ms;
    char service[8];
    int ret = MQTLS_ERR_NET_RESOLVE, fd;

    if (t == NULL || host == NULL)
        return MQTLS_ERR_INVALID_ARG;
    mqtls_tcp_close(t);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    snprintf(service, sizeof service, "%u", (unsigned)port);
    fd = getaddrinfo(host, service, &hints, &list);
    if (fd != 0) {
        /* AI_ADDRCONFIG hides ::1 where only loopback has IPv6: ask again. */
        hints.ai_flags = AI_NUMERICSERV;
        fd = getaddrinfo(host, service, &hints, &list);
    }
    if (fd != 0) {
        t->last_errno = fd == EAI_SYSTEM ? errno : 0;
        return MQTLS_ERR_NET_RESOLVE;
    }
    for (ai = list; ai != NULL; ai = ai->ai_next) {
        uint64_t now = now_ms();
        uint32_t left = timeout_ms == MQTLS_WAIT_FOREVER ? MQTLS_WAIT_FOREVER
                        : now >= deadline                ? 0
                                                         : (uint32_t)(deadline - now);
        fd = connect_one(t, ai, left);
        if (fd >= 0) {
            t->fd = fd;
            t->family = ai->ai_family;
            t->last_errno = 0;
            ret = MQTLS_OK;
            break;
        }
        ret = fd;
        if (left == 0)
            break;
    }
    freeaddrinfo(list);
    return ret;
}

int mqtls_tcp_transport(mqtls_tcp *t, mqtls_transport *out)
{
    if (t == NULL || out == NULL)
        return MQTLS_ERR_INVALID_ARG;
    out->ctx = t;
    out->send = mqtls_tcp_send;
    out->recv = mqtls_tcp_recv;
    out->close = mqtls_tcp_close;
    return MQTLS_OK;
}

/* The checks both directions share: 1 to go on, else what to return. */
static int io_start(const mqtls_tcp *t, const void *buf, size_t len)
{
    if (t == NULL || (buf == NULL && len != 0) || len > INT_MAX)
        return MQTLS_ERR_INVALID_ARG;
    if (t->fd < 0)
        return MQTLS_ERR_NET_NOT_CONNECTED;
    return len != 0;
}

int mqtls_tcp_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    mqtls_tcp *t = ctx;
    ssize_t n;
    int ready = io_start(t, buf, len);

    if (ready != 1)
        return ready;
    for (;;) {
        n = send(t->fd, buf, len, MSG_NOSIGNAL);
        if (n > 0)
            return (int)n;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return fail(t, errno);
        /* The socket buffer is full: wait for room, once, within the limit
         * (not at all when there is none: that poll would be a wasted call). */
        if (timeout_ms == 0)
            return 0;
        ready = wait_for(t->fd, POLLOUT, timeout_ms);
        if (ready < 0)
            return fail(t, errno);
        if (ready == 0)
            return 0;
        timeout_ms = 0;
    }
}

int mqtls_tcp_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    mqtls_tcp *t = ctx;
    ssize_t n;
    int ready = io_start(t, buf, len);

    if (ready != 1)
        return ready;
    for (;;) {
        n = recv(t->fd, buf, len, 0);
        if (n > 0)
            return (int)n;
        if (n == 0)
            return MQTLS_ERR_NET_CLOSED; /* a closed peer is an error, never 0 */
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return fail(t, errno);
        if (timeout_ms == 0)
            return 0; /* nothing there, and no time to wait: no poll() needed */
        ready = wait_for(t->fd, POLLIN, timeout_ms);
        if (ready < 0)
            return fail(t, errno);
        if (ready == 0)
            return 0;
        timeout_ms = 0;
    }
}

void mqtls_tcp_close(void *ctx)
{
    mqtls_tcp *t = ctx;
    if (t == NULL || t->fd < 0)
        return;
    close(t->fd);
    t->fd = -1;
    t->family = 0;
}

int mqtls_tcp_open(void *ctx, mqtls_transport *out)
{
    mqtls_tcp_endpoint *e = ctx;
    int ret;

    if (e == NULL || out == NULL || e->host == NULL)
        return MQTLS_ERR_INVALID_ARG;
    mqtls_tcp_init(&e->tcp);
    ret = mqtls_tcp_connect(&e->tcp, e->host, e->port,
                            e->connect_timeout_ms != 0 ? e->connect_timeout_ms : 10000u);
    e->last_error = ret;
    return ret == MQTLS_OK ? mqtls_tcp_transport(&e->tcp, out) : ret;
}
