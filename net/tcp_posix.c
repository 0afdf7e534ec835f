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
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef MQTLS_TCP_CARES
#define MQTLS_TCP_CARES 0
#endif
#if MQTLS_TCP_CARES
#include <sys/select.h> /* fd_set, struct timeval, which ares.h uses */
#include <ares.h>
#endif

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
    case ECONNREFUSED:
    case ENOENT: /* a Unix socket path with nothing there */
        return MQTLS_ERR_NET_REFUSED;
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
    t->dns_servers = NULL;
    t->bind_address = NULL;
    t->unix_path = NULL;
}

/* The local address to connect from (t->bind_address), parsed once per
 * connect: family 0 when there is none. */
typedef struct local_addr {
    struct sockaddr_storage sa;
    socklen_t len;
    int family;
} local_addr;

static int parse_bind_address(const char *text, local_addr *out)
{
    struct addrinfo hints, *res = NULL;

    out->family = 0;
    out->len = 0;
    if (text == NULL)
        return MQTLS_OK;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
    if (getaddrinfo(text, NULL, &hints, &res) != 0 || res == NULL)
        return MQTLS_ERR_INVALID_ARG;
    if (res->ai_addrlen > sizeof out->sa) {
        freeaddrinfo(res);
        return MQTLS_ERR_INVALID_ARG;
    }
    memcpy(&out->sa, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    out->family = res->ai_family;
    freeaddrinfo(res);
    return MQTLS_OK;
}

void mqtls_tcp_reset(mqtls_tcp *t)
{
    mqtls_tcp opts;
    if (t == NULL)
        return;
    opts = *t;
    mqtls_tcp_init(t);
    t->dns_servers = opts.dns_servers;
    t->bind_address = opts.bind_address;
    t->unix_path = opts.unix_path;
}

/* One address: a non-blocking connect, finished by poll. Returns the fd or
 * an mqtls_err. */
static int connect_one(mqtls_tcp *t, const local_addr *local, int family, int socktype,
                       int protocol, const struct sockaddr *addr, socklen_t addrlen,
                       uint32_t timeout_ms)
{
    int fd, flags, one = 1, err = 0, n;
    socklen_t len = sizeof err;

    fd = socket(family, socktype, protocol);
    if (fd < 0)
        return fail(t, errno);
    flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        goto fail_errno;
#ifdef SO_NOSIGPIPE
    setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    if (local != NULL && local->family != 0 &&
        bind(fd, (const struct sockaddr *)&local->sa, local->len) != 0)
        goto fail_errno;
    if (connect(fd, addr, addrlen) != 0) {
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
    if (family != AF_UNIX && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        goto fail_errno;
    return fd;

fail_errno:
    err = errno;
    close(fd);
    return fail(t, err);
}

/* ---- name resolution within the deadline ----------------------------------
 * getaddrinfo() cannot be bounded: a resolver that never answers holds it
 * for as long as resolv.conf's timeouts say (30 s and more). Names are
 * resolved with c-ares instead, polled here until the connect's deadline;
 * addresses (IPv4, IPv6 literals) never reach a resolver. Without c-ares
 * (MQTLS_TCP_CARES 0) getaddrinfo() is used, and its time is not bounded. */

#if MQTLS_TCP_CARES
typedef struct lookup {
    int done, status;
    struct ares_addrinfo *res;
} lookup;

static void on_resolved(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    lookup *l = arg;
    (void)timeouts;
    l->done = 1;
    l->status = status;
    l->res = res;
}

/* Resolves host within the deadline: MQTLS_OK and *out, or
 * MQTLS_ERR_NET_RESOLVE, MQTLS_ERR_NET_RESOLVE_TIMEOUT. */
static int resolve(mqtls_tcp *t, const char *host, const char *service, uint64_t deadline,
                   int forever, struct ares_addrinfo **out)
{
    struct ares_options opts;
    struct ares_addrinfo_hints hints;
    ares_channel ch;
    lookup l = {0, 0, NULL};
    long rounds;

    memset(&opts, 0, sizeof opts);
    opts.timeout = 1000; /* per try; the deadline bounds the whole lookup */
    opts.tries = 3;
    if (ares_init_options(&ch, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) != ARES_SUCCESS)
        return MQTLS_ERR_NET_RESOLVE;
    if (t->dns_servers != NULL && ares_set_servers_ports_csv(ch, t->dns_servers) != ARES_SUCCESS) {
        ares_destroy(ch);
        return MQTLS_ERR_INVALID_ARG;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = ARES_AI_NUMERICSERV;
    ares_getaddrinfo(ch, host, service, &hints, on_resolved, &l);
    for (rounds = 0; !l.done && rounds < 100000; rounds++) {
        ares_socket_t socks[ARES_GETSOCK_MAXNUM];
        struct pollfd p[ARES_GETSOCK_MAXNUM];
        struct timeval max, tv, *next;
        const int left = poll_timeout(deadline, forever);
        int bits, i, n = 0, wait;

        if (left == 0)
            break;
        /* ares.h's GETSOCK macros shift a signed 1 into bit 31: tested here
         * on unsigned bits instead. */
        bits = ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
        for (i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
            const unsigned r = (unsigned)bits & (1u << i);
            const unsigned w = (unsigned)bits & (1u << (i + ARES_GETSOCK_MAXNUM));
            if (r == 0 && w == 0)
                continue;
            p[n].fd = socks[i];
            p[n].events = (short)((r != 0 ? POLLIN : 0) | (w != 0 ? POLLOUT : 0));
            p[n].revents = 0;
            n++;
        }
        max.tv_sec = left < 0 ? 3600 : left / 1000;
        max.tv_usec = left < 0 ? 0 : (left % 1000) * 1000;
        next = ares_timeout(ch, &max, &tv);
        wait = (int)(next->tv_sec * 1000 + next->tv_usec / 1000);
        if (poll(p, (nfds_t)n, wait) < 0 && errno != EINTR)
            break;
        if (n == 0)
            ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD); /* timeouts */
        for (i = 0; i < n; i++)
            ares_process_fd(ch, (p[i].revents & (POLLIN | POLLERR | POLLHUP)) ? p[i].fd : ARES_SOCKET_BAD,
                            (p[i].revents & POLLOUT) ? p[i].fd : ARES_SOCKET_BAD);
        if (n > 0)
            ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    }
    if (!l.done) {
        ares_destroy(ch); /* cancels: the callback runs with ARES_EDESTRUCTION */
        if (l.res != NULL)
            ares_freeaddrinfo(l.res);
        t->last_errno = ETIMEDOUT;
        return MQTLS_ERR_NET_RESOLVE_TIMEOUT;
    }
    ares_destroy(ch);
    if (l.status != ARES_SUCCESS || l.res == NULL || l.res->nodes == NULL) {
        if (l.res != NULL)
            ares_freeaddrinfo(l.res);
        t->last_errno = 0;
        return l.status == ARES_ETIMEOUT ? MQTLS_ERR_NET_RESOLVE_TIMEOUT : MQTLS_ERR_NET_RESOLVE;
    }
    *out = l.res;
    return MQTLS_OK;
}
#endif

/* Tries one address within what is left of the deadline: 1 connected (or
 * the deadline passed: stop), 0 go on with the next; *ret the outcome. */
static int try_address(mqtls_tcp *t, const local_addr *local, int family, int socktype,
                       int protocol, const struct sockaddr *addr, socklen_t addrlen,
                       uint64_t deadline, int forever, int *ret)
{
    int left, fd;

    if (local->family != 0 && local->family != family)
        return 0; /* from an IPv4 address only to IPv4 ones, and so on */
    left = poll_timeout(deadline, forever);
    fd = connect_one(t, local, family, socktype, protocol, addr, addrlen,
                     left < 0 ? MQTLS_WAIT_FOREVER : (uint32_t)left);
    if (fd >= 0) {
        t->fd = fd;
        t->family = family;
        t->last_errno = 0;
        *ret = MQTLS_OK;
        return 1;
    }
    *ret = fd;
    return left == 0;
}

int mqtls_tcp_connect(mqtls_tcp *t, const char *host, uint16_t port, uint32_t timeout_ms)
{
    struct addrinfo hints, *list = NULL, *ai;
    const int forever = timeout_ms == MQTLS_WAIT_FOREVER;
    const uint64_t deadline = now_ms() + timeout_ms;
    char service[8];
    int ret = MQTLS_ERR_NET_RESOLVE, e;

    local_addr local;

    if (t == NULL || host == NULL)
        return MQTLS_ERR_INVALID_ARG;
    mqtls_tcp_close(t);
    if (t->unix_path != NULL) {
        struct sockaddr_un un;
        const size_t n = strlen(t->unix_path);
        if (n == 0 || n >= sizeof un.sun_path)
            return MQTLS_ERR_INVALID_ARG;
        memset(&un, 0, sizeof un);
        un.sun_family = AF_UNIX;
        memcpy(un.sun_path, t->unix_path, n + 1);
        e = connect_one(t, NULL, AF_UNIX, SOCK_STREAM, 0, (const struct sockaddr *)&un,
                        (socklen_t)sizeof un, timeout_ms);
        if (e < 0)
            return e;
        t->fd = e;
        t->family = AF_UNIX;
        t->last_errno = 0;
        return MQTLS_OK;
    }
    if (parse_bind_address(t->bind_address, &local) != MQTLS_OK)
        return MQTLS_ERR_INVALID_ARG;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST; /* an address: no resolver, no wait */
    snprintf(service, sizeof service, "%u", (unsigned)port);
    e = getaddrinfo(host, service, &hints, &list);
#if MQTLS_TCP_CARES
    if (e != 0) {
        struct ares_addrinfo *res = NULL;
        struct ares_addrinfo_node *n;
        ret = resolve(t, host, service, deadline, forever, &res);
        if (ret != MQTLS_OK)
            return ret;
        for (n = res->nodes; n != NULL; n = n->ai_next)
            if (try_address(t, &local, n->ai_family, n->ai_socktype, n->ai_protocol, n->ai_addr,
                            n->ai_addrlen, deadline, forever, &ret))
                break;
        ares_freeaddrinfo(res);
        return ret;
    }
#else
    if (e != 0) {
        /* A name: the system resolver, not bounded by the deadline. */
        hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
        e = getaddrinfo(host, service, &hints, &list);
        if (e != 0) { /* AI_ADDRCONFIG hides ::1 where only loopback has IPv6 */
            hints.ai_flags = AI_NUMERICSERV;
            e = getaddrinfo(host, service, &hints, &list);
        }
    }
#endif
    if (e != 0) {
        t->last_errno = e == EAI_SYSTEM ? errno : 0;
        return MQTLS_ERR_NET_RESOLVE;
    }
    for (ai = list; ai != NULL; ai = ai->ai_next)
        if (try_address(t, &local, ai->ai_family, ai->ai_socktype, ai->ai_protocol, ai->ai_addr,
                        ai->ai_addrlen, deadline, forever, &ret))
            break;
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
    mqtls_tcp_reset(&e->tcp); /* a fresh connection, with the caller's options */
    ret = mqtls_tcp_connect(&e->tcp, e->host, e->port,
                            e->connect_timeout_ms != 0 ? e->connect_timeout_ms : 10000u);
    e->last_error = ret;
    return ret == MQTLS_OK ? mqtls_tcp_transport(&e->tcp, out) : ret;
}
