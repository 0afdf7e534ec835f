/* SPDX-License-Identifier: Apache-2.0 */
/* Publishing from several threads while one thread polls, with the
 * client's lock hook on a pthread mutex, under ThreadSanitizer (make
 * tsan). A peer thread on the other end of a socketpair plays the broker:
 * CONNACK, PUBACK for every QoS 1 PUBLISH. Every message must arrive
 * exactly once and, per publishing thread, in order; TSan must see no
 * race. A callback publishes too (the lock is released around callbacks,
 * so a non-recursive mutex does not deadlock). */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "mqtt/client.h"
#include "net/clock_posix.h"
#include "net/tcp_posix.h"

#define THREADS 4
#define PER_THREAD 400
#define FROM_CALLBACK 20 /* one publish per this many acknowledgements */

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static mqtls_client cl;
static mqtls_tcp client_end;
static int peer_fd;

/* What the peer saw (only the peer thread writes these until it ends). */
static int next_seq[THREADS + 1]; /* per publisher; index THREADS: the callback */
static int out_of_order, unreadable, received;

static void take(void *ctx)
{
    (void)ctx;
    pthread_mutex_lock(&mutex);
}

static void give(void *ctx)
{
    (void)ctx;
    pthread_mutex_unlock(&mutex);
}

static int open_pair(void *ctx, mqtls_transport *out)
{
    (void)ctx;
    return mqtls_tcp_transport(&client_end, out);
}

/* Acknowledgements counted by the callback (called without the lock, from
 * the polling thread only). */
static int acked, cb_published;


static void publish_text(const char *text)
{
    mqtls_publish p = {0};
    int tries;
    p.topic = (mqtls_str){"t/threads", 9};
    p.payload = (mqtls_bytes){(const uint8_t *)text, strlen(text)};
    p.qos = 1;
    for (tries = 0; tries < 20000; tries++) { /* a full store: wait for room */
        int ret = mqtls_client_publish(&cl, &p, NULL);
        if (ret == MQTLS_OK)
            return;
        if (ret != MQTLS_ERR_STORE_FULL) {
            fprintf(stderr, "threads: publish: %s\n", mqtls_errname(ret));
            exit(1);
        }
        nanosleep(&(struct timespec){0, 200000}, NULL);
    }
    fprintf(stderr, "threads: the store never had room\n");
    exit(1);
}

/* One publish per FROM_CALLBACK acknowledgements; a callback must not
 * wait for room (only the polling thread makes room), so one the store
 * refuses is tried again at the next acknowledgement. */
static int cb_owed;

static void on_acked(void *ctx, uint16_t id)
{
    char text[32];
    mqtls_publish p = {0};
    (void)ctx;
    (void)id;
    if (++acked % FROM_CALLBACK == 0)
        cb_owed++;
    if (cb_owed == 0)
        return;
    snprintf(text, sizeof text, "%d %d", THREADS, cb_published);
    p.topic = (mqtls_str){"t/threads", 9};
    p.payload = (mqtls_bytes){(const uint8_t *)text, strlen(text)};
    p.qos = 1;
    if (mqtls_client_publish(&cl, &p, NULL) == MQTLS_OK) {
        cb_published++;
        cb_owed--;
    }
}

static void *publisher(void *arg)
{
    const int me = (int)(long)arg;
    char text[32];
    int i;
    for (i = 0; i < PER_THREAD; i++) {
        snprintf(text, sizeof text, "%d %d", me, i);
        publish_text(text);
    }
    return NULL;
}

/* The peer: reads whole packets, answers CONNECT and QoS 1 PUBLISH, checks
 * every payload "thread seq" against the next one expected. */
static void *peer(void *arg)
{
    static uint8_t buf[65536];
    size_t len = 0;
    (void)arg;
    for (;;) {
        ssize_t n = recv(peer_fd, buf + len, sizeof buf - len, 0);
        size_t off = 0;
        if (n <= 0)
            return NULL; /* the client closed */
        len += (size_t)n;
        for (;;) {
            mqtls_packet pkt;
            uint8_t ans[4];
            int used = mqtls_codec_decode_from_client(buf + off, len - off, &pkt);
            if (used == MQTLS_ERR_INCOMPLETE)
                break;
            if (used < 0) {
                unreadable++;
                return NULL;
            }
            off += (size_t)used;
            if (pkt.type == MQTLS_CONNECT) {
                if (send(peer_fd, "\x20\x02\x00\x00", 4, MSG_NOSIGNAL) != 4)
                    return NULL;
            } else if (pkt.type == MQTLS_PINGREQ) {
                if (send(peer_fd, "\xd0\x00", 2, MSG_NOSIGNAL) != 2)
                    return NULL;
            } else if (pkt.type == MQTLS_PUBLISH) {
                char text[32] = {0};
                int who = -1, seq = -1;
                memcpy(text, pkt.u.publish.payload.ptr,
                       pkt.u.publish.payload.len < sizeof text - 1 ? pkt.u.publish.payload.len
                                                                   : sizeof text - 1);
                if (sscanf(text, "%d %d", &who, &seq) != 2 || who < 0 || who > THREADS ||
                    seq != next_seq[who] || pkt.u.publish.dup)
                    out_of_order++;
                else
                    next_seq[who]++;
                received++;
                mqtls_codec_encode_puback(ans, sizeof ans, pkt.packet_id);
                if (send(peer_fd, ans, 4, MSG_NOSIGNAL) != 4)
                    return NULL;
            }
        }
        memmove(buf, buf + off, len - off);
        len -= off;
    }
}

int main(void)
{
    static uint8_t tx[2048], rx[512], ring[8192];
    mqtls_ram_store rs;
    mqtls_client_config cfg;
    pthread_t pubs[THREADS], peer_thread;
    int fds[2], i, done = 0, rounds;
    const int want = THREADS * PER_THREAD;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        return 1;
    mqtls_tcp_init(&client_end);
    client_end.fd = fds[0];
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK); /* as mqtls_tcp keeps it */
    peer_fd = fds[1];
    memset(&cfg, 0, sizeof cfg);
    cfg.connect.client_id = (mqtls_str){"threads", 7};
    cfg.connect.clean_session = true;
    cfg.connect.keepalive_s = 30;
    cfg.tx_buf = tx;
    cfg.tx_cap = sizeof tx;
    cfg.rx_buf = rx;
    cfg.rx_cap = sizeof rx;
    mqtls_ram_store_init(&rs);
    mqtls_ram_store_setup(&rs, ring, sizeof ring);
    mqtls_ram_store_interface(&rs, &cfg.store);
    mqtls_clock_posix(&cfg.clock);
    cfg.open = open_pair;
    cfg.events.publish_acked = on_acked;
    cfg.lock = (mqtls_client_lock){NULL, take, give};
    cfg.window = 20;
    mqtls_client_init(&cl);
    if (mqtls_client_setup(&cl, &cfg) != MQTLS_OK)
        return 1;
    pthread_create(&peer_thread, NULL, peer, NULL);
    if (mqtls_client_connect(&cl, 5000) != MQTLS_OK) {
        fprintf(stderr, "threads: connect failed\n");
        return 1;
    }
    for (i = 0; i < THREADS; i++)
        pthread_create(&pubs[i], NULL, publisher, (void *)(long)i);
    /* The polling thread; bounded: 60,000 polls of at most 2 ms. */
    for (rounds = 0; rounds < 60000; rounds++) {
        int pending;
        (void)mqtls_client_poll(&cl, 2);
        pthread_mutex_lock(&mutex);
        pending = (int)mqtls_ram_store_count(&rs);
        pthread_mutex_unlock(&mutex);
        if (acked >= want + cb_published && cb_owed == 0 && pending == 0) {
            done = 1;
            break;
        }
    }
    for (i = 0; i < THREADS; i++)
        pthread_join(pubs[i], NULL);
    /* The last callback publishes may still be in flight. */
    for (rounds = 0; rounds < 5000 && mqtls_ram_store_count(&rs) != 0; rounds++)
        (void)mqtls_client_poll(&cl, 2);
    mqtls_client_disconnect(&cl);
    pthread_join(peer_thread, NULL);
    close(peer_fd);
    {
        int passed = 0, failed = 0;
        for (i = 0; i < THREADS; i++)
            if (next_seq[i] == PER_THREAD)
                passed++;
            else
                failed++;
        if (!done || out_of_order != 0 || unreadable != 0 || next_seq[THREADS] != cb_published ||
            received != want + cb_published)
            failed++;
        else
            passed++;
        printf("threads: %d publishers x %d QoS 1 and %d from callbacks: %d arrived, "
               "%d out of order or twice, all acknowledged: %s\n",
               THREADS, PER_THREAD, cb_published, received, out_of_order, done ? "yes" : "no");
        printf("%d passed, %d failed\n", passed, failed);
        return failed == 0 ? 0 : 1;
    }
}
