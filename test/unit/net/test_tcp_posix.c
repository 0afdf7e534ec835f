/* SPDX-License-Identifier: Apache-2.0 */
/* TCP over loopback only (127.0.0.1 and ::1): real sockets, no broker. */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mqtt/client.h"
#include "net/clock_posix.h"
#include "net/tcp_posix.h"
#include "test/unit/suites.h"

static long elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* A listening socket on the loopback address of the family, on a port the
 * kernel picks; returns the fd and sets *port. */
static int listener(int family, int backlog, uint16_t *port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int one = 1, fd = socket(family, SOCK_STREAM, 0);

    ck_assert_int_ge(fd, 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&ss, 0, sizeof ss);
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        len = sizeof *a;
    }
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&ss, len), 0);
    ck_assert_int_eq(listen(fd, backlog), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
    *port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                    : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

/* Connects, accepts, and checks bytes go both ways. */
static void round_trip(int family, const char *host)
{
    uint16_t port;
    int lfd = listener(family, 4, &port), sfd, nodelay = 0;
    socklen_t len = sizeof nodelay;
    mqtls_tcp tcp;
    mqtls_transport t;
    uint8_t buf[16];

    mqtls_tcp_init(&tcp);
    ck_assert_int_eq(mqtls_tcp_connect(&tcp, host, port, 2000), MQTLS_OK);
    ck_assert_int_eq(tcp.family, family);
    ck_assert_int_eq(mqtls_tcp_transport(&tcp, &t), MQTLS_OK);
    sfd = accept(lfd, NULL, NULL);
    ck_assert_int_ge(sfd, 0);
    /* Small packets must not wait for Nagle's algorithm. */
    ck_assert_int_eq(getsockopt(tcp.fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);
    ck_assert_int_ne(nodelay, 0);

    ck_assert_int_eq(t.send(t.ctx, (const uint8_t *)"hello", 5, 1000), 5);
    ck_assert_int_eq(recv(sfd, buf, sizeof buf, 0), 5);
    ck_assert_mem_eq(buf, "hello", 5);
    ck_assert_int_eq(send(sfd, "world!", 6, 0), 6);
    ck_assert_int_eq(t.recv(t.ctx, buf, sizeof buf, 1000), 6);
    ck_assert_mem_eq(buf, "world!", 6);
    t.close(t.ctx);
    ck_assert_int_eq(tcp.fd, -1);
    ck_assert_int_eq(t.send(t.ctx, buf, 1, 0), MQTLS_ERR_NET_NOT_CONNECTED);
    mqtls_tcp_close(&tcp); /* twice is harmless */
    close(sfd);
    close(lfd);
}

START_TEST(connects_over_ipv4_loopback)
{
    round_trip(AF_INET, "127.0.0.1");
}
END_TEST

START_TEST(connects_over_ipv6_loopback)
{
    round_trip(AF_INET6, "::1");
}
END_TEST

/* "localhost" resolves from /etc/hosts: no DNS query leaves the machine. */
START_TEST(connects_by_name)
{
    uint16_t port;
    int lfd = listener(AF_INET, 4, &port);
    mqtls_tcp tcp;

    mqtls_tcp_init(&tcp);
    ck_assert_int_eq(mqtls_tcp_connect(&tcp, "localhost", port, 2000), MQTLS_OK);
    mqtls_tcp_close(&tcp);
    close(lfd);
}
END_TEST

START_TEST(refused_when_nothing_listens)
{
    uint16_t port;
    int lfd = listener(AF_INET, 1, &port);
    mqtls_tcp tcp;

    close(lfd); /* the port is now free and closed */
    mqtls_tcp_init(&tcp);
    ck_assert_int_eq(mqtls_tcp_connect(&tcp, "127.0.0.1", port, 2000), MQTLS_ERR_NET_REFUSED);
    ck_assert_int_eq(tcp.last_errno, ECONNREFUSED);
    ck_assert_int_eq(tcp.fd, -1);
}
END_TEST

/* A malformed name fails inside the resolver library, before any query. */
START_TEST(unresolvable_name)
{
    mqtls_tcp tcp;
    mqtls_tcp_init(&tcp);
    ck_assert_int_eq(mqtls_tcp_connect(&tcp, "bad..name", 1883, 1000), MQTLS_ERR_NET_RESOLVE);
    ck_assert_int_eq(mqtls_tcp_connect(&tcp, NULL, 1883, 1000), MQTLS_ERR_INVALID_ARG);
}
END_TEST

/* A DNS server that never answers (a UDP socket on loopback nobody reads):
 * the connect's deadline holds for the name's resolution too, and says it
 * was the resolution that timed out. Before, getaddrinfo() waited out the
 * resolver's own timeouts, whatever the caller's deadline. */
START_TEST(a_resolver_that_never_answers_cannot_stretch_a_connect)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    struct timespec t0;
    char servers[64];
    mqtls_tcp tcp;
    long took;
    int dns = socket(AF_INET, SOCK_DGRAM, 0);

    ck_assert_int_ge(dns, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(dns, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(getsockname(dns, (struct sockaddr *)&a, &len), 0);
    snprintf(servers, sizeof servers, "127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
    mqtls_tcp_init(&tcp);
    tcp.dns_servers = servers;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(mqtls_tcp_connect(&tcp, "broker.never-answers.test", 8883, 700),
                     MQTLS_ERR_NET_RESOLVE_TIMEOUT);
    took = elapsed_ms(&t0);
    ck_assert_int_ge(took, 650);
    ck_assert_int_le(took, 1500);
    /* Addresses never reach the resolver: no wait at all. */
    ck_assert_int_eq(mqtls_tcp_connect(&tcp, "127.0.0.1", 1, 700), MQTLS_ERR_NET_REFUSED);
    close(dns);
}
END_TEST

/* A listener whose accept queue is full drops new SYNs, so the connect
 * can only time out: the loopback way to test a connect timeout. */
START_TEST(connect_times_out)
{
    uint16_t port;
    int lfd = listener(AF_INET, 0, &port), filler[4], i, filled = 0;
    struct sockaddr_in a;
    struct timespec t0;
    mqtls_tcp tcp;
    long ms;

    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (i = 0; i < 4; i++) {
        struct timeval tv = {0, 200000};
        filler[i] = socket(AF_INET, SOCK_STREAM, 0);
        setsockopt(filler[i], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(filler[i], (struct sockaddr *)&a, sizeof a) == 0)
            filled++;
    }
    ck_assert_int_ge(filled, 1);
    mqtls_tcp_init(&tcp);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(mqtls_tcp_connect(&tcp, "127.0.0.1", port, 300), MQTLS_ERR_NET_TIMEOUT);
    ms = elapsed_ms(&t0);
    ck_assert_int_ge(ms, 250);
    ck_assert_int_lt(ms, 2000);
    for (i = 0; i < 4; i++)
        close(filler[i]);
    close(lfd);
}
END_TEST

/* Helpers for the cases below: a connected pair (client t, server *sfd). */
static int lfd_pair;

static void connect_pair(mqtls_tcp *tcp, int *sfd)
{
    uint16_t port;
    lfd_pair = listener(AF_INET, 4, &port);
    mqtls_tcp_init(tcp);
    ck_assert_int_eq(mqtls_tcp_connect(tcp, "127.0.0.1", port, 2000), MQTLS_OK);
    *sfd = accept(lfd_pair, NULL, NULL);
    ck_assert_int_ge(*sfd, 0);
}

START_TEST(recv_returns_zero_when_nothing_arrives_in_time)
{
    mqtls_tcp tcp;
    int sfd;
    uint8_t b;
    struct timespec t0;

    connect_pair(&tcp, &sfd);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(mqtls_tcp_recv(&tcp, &b, 1, 100), 0);
    ck_assert_int_ge(elapsed_ms(&t0), 90);
    ck_assert_int_eq(mqtls_tcp_recv(&tcp, &b, 1, 0), 0);
    mqtls_tcp_close(&tcp);
    close(sfd);
    close(lfd_pair);
}
END_TEST

START_TEST(a_closed_peer_is_an_error_not_zero)
{
    mqtls_tcp tcp;
    int sfd;
    uint8_t b;

    connect_pair(&tcp, &sfd);
    close(sfd);
    ck_assert_int_eq(mqtls_tcp_recv(&tcp, &b, 1, 1000), MQTLS_ERR_NET_CLOSED);
    mqtls_tcp_close(&tcp);
    close(lfd_pair);
}
END_TEST

/* A reset peer is reported as such, and writing to it never raises
 * SIGPIPE (which would kill this test process). */
START_TEST(a_reset_peer_is_reported_and_no_sigpipe)
{
    struct linger lg = {1, 0};
    mqtls_tcp tcp;
    int sfd, i, ret = 0;
    uint8_t buf[1024] = {0};

    connect_pair(&tcp, &sfd);
    ck_assert_int_eq(setsockopt(sfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    close(sfd); /* RST */
    ck_assert_int_eq(mqtls_tcp_recv(&tcp, buf, 1, 1000), MQTLS_ERR_NET_RESET);
    for (i = 0; i < 100 && ret >= 0; i++)
        ret = mqtls_tcp_send(&tcp, buf, sizeof buf, 100);
    ck_assert_int_eq(ret, MQTLS_ERR_NET_RESET);
    mqtls_tcp_close(&tcp);
    close(lfd_pair);
}
END_TEST

/* A peer that does not read: sends fill the socket buffers, then return 0
 * at the timeout instead of blocking. */
START_TEST(send_returns_zero_when_the_peer_does_not_read)
{
    static uint8_t chunk[65536];
    mqtls_tcp tcp;
    int sfd, i, ret = 1;
    long total = 0;

    connect_pair(&tcp, &sfd);
    for (i = 0; i < 2000 && ret > 0; i++) {
        ret = mqtls_tcp_send(&tcp, chunk, sizeof chunk, 50);
        if (ret > 0)
            total += ret;
    }
    ck_assert_int_eq(ret, 0);
    ck_assert_int_gt(total, 0);
    mqtls_tcp_close(&tcp);
    close(sfd);
    close(lfd_pair);
}
END_TEST

static void on_alarm(int sig)
{
    (void)sig;
}

/* A signal in the middle of a wait does not cut the timeout short. */
START_TEST(eintr_does_not_end_a_wait_early)
{
    struct sigaction sa;
    struct itimerval it;
    struct timespec t0;
    mqtls_tcp tcp;
    int sfd;
    uint8_t b;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART: poll() sees EINTR */
    ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
    connect_pair(&tcp, &sfd);
    memset(&it, 0, sizeof it);
    it.it_value.tv_usec = 30000;
    it.it_interval.tv_usec = 30000;
    ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(mqtls_tcp_recv(&tcp, &b, 1, 250), 0);
    ck_assert_int_ge(elapsed_ms(&t0), 240);
    memset(&it, 0, sizeof it);
    setitimer(ITIMER_REAL, &it, NULL);
    mqtls_tcp_close(&tcp);
    close(sfd);
    close(lfd_pair);
}
END_TEST

/* mqtls_tcp_open is a client's open function: CONNECT arrives at the
 * listener over plain TCP, CONNACK goes back, the client is connected;
 * after abort the next open is a new connection. */
START_TEST(the_tcp_open_function_serves_a_client)
{
    static uint8_t txb[128], rxb[128], ring[256];
    uint8_t got[64];
    uint16_t port;
    int lfd = listener(AF_INET, 4, &port), round;
    mqtls_tcp_endpoint net = {"127.0.0.1", 0, 2000, 0, {-1, 0, 0, NULL, NULL, NULL}};
    mqtls_ram_store rs;
    mqtls_client_config cfg;
    mqtls_client cl;

    net.port = port;
    memset(&cfg, 0, sizeof cfg);
    cfg.connect.client_id = (mqtls_str){"tcp1", 4};
    cfg.connect.clean_session = true;
    cfg.tx_buf = txb;
    cfg.tx_cap = sizeof txb;
    cfg.rx_buf = rxb;
    cfg.rx_cap = sizeof rxb;
    mqtls_ram_store_init(&rs);
    ck_assert_int_eq(mqtls_ram_store_setup(&rs, ring, sizeof ring), MQTLS_OK);
    mqtls_ram_store_interface(&rs, &cfg.store);
    ck_assert_int_eq(mqtls_clock_posix(&cfg.clock), MQTLS_OK);
    cfg.open = mqtls_tcp_open;
    cfg.open_ctx = &net;
    mqtls_client_init(&cl);
    ck_assert_int_eq(mqtls_client_setup(&cl, &cfg), MQTLS_OK);
    for (round = 0; round < 2; round++) {
        int sfd;
        ssize_t n;
        ck_assert_int_eq(mqtls_client_start(&cl), MQTLS_OK);
        sfd = accept(lfd, NULL, NULL);
        ck_assert_int_ge(sfd, 0);
        n = recv(sfd, got, sizeof got, 0);
        ck_assert_int_eq(n, 18); /* CONNECT, client id "tcp1" */
        ck_assert_uint_eq(got[0], 0x10);
        ck_assert_int_eq(send(sfd, "\x20\x02\x00\x00", 4, 0), 4);
        ck_assert_int_eq(mqtls_client_poll(&cl, 2000), MQTLS_OK);
        ck_assert_int_eq(cl.state, MQTLS_CLIENT_CONNECTED);
        ck_assert_int_eq(mqtls_client_abort(&cl), MQTLS_OK);
        ck_assert_int_eq(net.tcp.fd, -1);
        close(sfd);
    }
    close(lfd);
}
END_TEST

/* bind_address (mosquitto's -A): the peer sees the connection come from
 * it (127.0.0.2 is this host's too: all of 127/8 is loopback). */
START_TEST(connects_from_the_bind_address)
{
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    uint16_t port;
    int lfd = listener(AF_INET, 4, &port), sfd;
    char text[INET_ADDRSTRLEN];
    mqtls_tcp tcp;

    mqtls_tcp_init(&tcp);
    tcp.bind_address = "127.0.0.2";
    ck_assert_int_eq(mqtls_tcp_connect(&tcp, "127.0.0.1", port, 2000), MQTLS_OK);
    sfd = accept(lfd, (struct sockaddr *)&peer, &len);
    ck_assert_int_ge(sfd, 0);
    ck_assert_ptr_nonnull(inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text));
    ck_assert_str_eq(text, "127.0.0.2");
    /* kept across connects */
    close(sfd);
    ck_assert_int_eq(mqtls_tcp_connect(&tcp, "127.0.0.1", port, 2000), MQTLS_OK);
    len = sizeof peer;
    sfd = accept(lfd, (struct sockaddr *)&peer, &len);
    ck_assert_int_ge(sfd, 0);
    ck_assert_uint_eq(ntohl(peer.sin_addr.s_addr), 0x7f000002u);
    ck_assert_str_eq(tcp.bind_address, "127.0.0.2");
    close(sfd);
    mqtls_tcp_close(&tcp);
    close(lfd);
}
END_TEST

START_TEST(a_bad_bind_address_is_refused_in_its_own_words)
{
    uint16_t port;
    int lfd = listener(AF_INET, 4, &port);
    mqtls_tcp tcp;

    mqtls_tcp_init(&tcp);
    tcp.bind_address = "not-an-address";
    ck_assert_int_eq(mqtls_tcp_connect(&tcp, "127.0.0.1", port, 2000), MQTLS_ERR_INVALID_ARG);
    /* No address of the bind address's family to go to. */
    tcp.bind_address = "::1";
    ck_assert_int_eq(mqtls_tcp_connect(&tcp, "127.0.0.1", port, 2000), MQTLS_ERR_NET_RESOLVE);
    /* Not this host's address (TEST-NET-1): cannot be bound. */
    tcp.bind_address = "192.0.2.1";
    ck_assert_int_eq(mqtls_tcp_connect(&tcp, "127.0.0.1", port, 2000), MQTLS_ERR_NET_UNREACHABLE);
    ck_assert_int_eq(tcp.last_errno, EADDRNOTAVAIL);
    ck_assert_int_eq(tcp.fd, -1);
    close(lfd);
}
END_TEST

/* unix_path (mosquitto's --unix): a Unix-domain stream socket instead of
 * TCP, through the same transport; the endpoint keeps it across opens. */
START_TEST(connects_to_a_unix_socket)
{
    char dir[] = "/tmp/mqtls-unix-XXXXXX", path[64];
    struct sockaddr_un un;
    mqtls_tcp_endpoint net;
    mqtls_transport t;
    uint8_t buf[8];
    int lfd, sfd;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/broker.sock", dir);
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_ge(lfd, 0);
    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    memcpy(un.sun_path, path, strlen(path) + 1);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&un, sizeof un), 0);
    ck_assert_int_eq(listen(lfd, 4), 0);

    memset(&net, 0, sizeof net);
    net.host = "localhost"; /* names the peer; no TCP connection is made */
    net.port = 1;
    net.tcp.unix_path = path;
    ck_assert_int_eq(mqtls_tcp_open(&net, &t), MQTLS_OK);
    ck_assert_int_eq(net.tcp.family, AF_UNIX);
    sfd = accept(lfd, NULL, NULL);
    ck_assert_int_ge(sfd, 0);
    ck_assert_int_eq(t.send(t.ctx, (const uint8_t *)"ping", 4, 1000), 4);
    ck_assert_int_eq(recv(sfd, buf, sizeof buf, 0), 4);
    ck_assert_int_eq(send(sfd, "pong", 4, 0), 4);
    ck_assert_int_eq(t.recv(t.ctx, buf, sizeof buf, 1000), 4);
    ck_assert_mem_eq(buf, "pong", 4);
    t.close(t.ctx);
    close(sfd);
    ck_assert_int_eq(mqtls_tcp_open(&net, &t), MQTLS_OK); /* the path is kept */
    ck_assert_str_eq(net.tcp.unix_path, path);
    t.close(t.ctx);

    close(lfd);
    unlink(path);
    /* Nothing listening there now: refused, as TCP would be. */
    ck_assert_int_eq(mqtls_tcp_open(&net, &t), MQTLS_ERR_NET_REFUSED);
    ck_assert_int_eq(net.tcp.last_errno, ENOENT);
    rmdir(dir);
    {   /* a path longer than a socket address holds */
        static char longpath[200];
        memset(longpath, 'a', sizeof longpath - 1);
        longpath[0] = '/';
        net.tcp.unix_path = longpath;
        ck_assert_int_eq(mqtls_tcp_open(&net, &t), MQTLS_ERR_INVALID_ARG);
    }
}
END_TEST

START_TEST(unconnected_and_bad_arguments)
{
    mqtls_tcp tcp;
    mqtls_transport t;
    uint8_t b;

    mqtls_tcp_init(&tcp);
    ck_assert_int_eq(mqtls_tcp_send(&tcp, &b, 1, 0), MQTLS_ERR_NET_NOT_CONNECTED);
    ck_assert_int_eq(mqtls_tcp_recv(&tcp, &b, 1, 0), MQTLS_ERR_NET_NOT_CONNECTED);
    ck_assert_int_eq(mqtls_tcp_recv(NULL, &b, 1, 0), MQTLS_ERR_INVALID_ARG);
    ck_assert_int_eq(mqtls_tcp_send(&tcp, NULL, 1, 0), MQTLS_ERR_INVALID_ARG);
    ck_assert_int_eq(mqtls_tcp_transport(NULL, &t), MQTLS_ERR_INVALID_ARG);
    mqtls_tcp_close(&tcp);
    mqtls_tcp_init(NULL);
}
END_TEST

Suite *tcp_posix_suite(void)
{
    Suite *s = suite_create("tcp_posix");
    TCase *tc = tcase_create("loopback");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, connects_over_ipv4_loopback);
    tcase_add_test(tc, connects_over_ipv6_loopback);
    tcase_add_test(tc, connects_by_name);
    tcase_add_test(tc, refused_when_nothing_listens);
    tcase_add_test(tc, unresolvable_name);
    tcase_add_test(tc, a_resolver_that_never_answers_cannot_stretch_a_connect);
    tcase_add_test(tc, connect_times_out);
    tcase_add_test(tc, recv_returns_zero_when_nothing_arrives_in_time);
    tcase_add_test(tc, a_closed_peer_is_an_error_not_zero);
    tcase_add_test(tc, a_reset_peer_is_reported_and_no_sigpipe);
    tcase_add_test(tc, send_returns_zero_when_the_peer_does_not_read);
    tcase_add_test(tc, eintr_does_not_end_a_wait_early);
    tcase_add_test(tc, unconnected_and_bad_arguments);
    tcase_add_test(tc, the_tcp_open_function_serves_a_client);
    tcase_add_test(tc, connects_from_the_bind_address);
    tcase_add_test(tc, a_bad_bind_address_is_refused_in_its_own_words);
    tcase_add_test(tc, connects_to_a_unix_socket);
    suite_add_tcase(s, tc);
    return s;
}
