/* SPDX-License-Identifier: Apache-2.0 */
/* peer_publish() with Eclipse Paho C, asynchronous API (MQTTAsync,
 * libpaho-mqtt3as): sendMessage with an onSuccess callback, which Paho
 * calls from its own thread at the PUBACK / PUBCOMP (or the write, at
 * QoS 0). maxInflight is the window. */
#define _POSIX_C_SOURCE 200809L

#include <MQTTAsync.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test/bench/peer.h"

const char peer_name[] = "Paho C async";

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static long acked, failures;
static int connected; /* 1 up, -1 refused */

static void on_connect(void *ctx, MQTTAsync_successData *d)
{
    (void)ctx;
    (void)d;
    pthread_mutex_lock(&lock);
    connected = 1;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

static void on_connect_failure(void *ctx, MQTTAsync_failureData *d)
{
    (void)ctx;
    fprintf(stderr, "Paho C async: connect failed (%d)\n", d != NULL ? d->code : 0);
    pthread_mutex_lock(&lock);
    connected = -1;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

static void on_sent(void *ctx, MQTTAsync_successData *d)
{
    (void)ctx;
    (void)d;
    pthread_mutex_lock(&lock);
    acked++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

static void on_send_failure(void *ctx, MQTTAsync_failureData *d)
{
    (void)ctx;
    (void)d;
    pthread_mutex_lock(&lock);
    failures++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

/* Waits for a change for at most ms (lock held). */
static void wait_change(int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += (long)ms * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&changed, &lock, &until);
}

/* ---- shared by e2e and connect -------------------------------------------- */

static long arrived;
static int subscribed;

static int on_arrived(void *ctx, char *topic, int len, MQTTAsync_message *m)
{
    (void)ctx;
    (void)len;
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    pthread_mutex_lock(&lock);
    arrived++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    return 1;
}

static void on_subscribed(void *ctx, MQTTAsync_successData *d)
{
    (void)ctx;
    (void)d;
    pthread_mutex_lock(&lock);
    subscribed = 1;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

/* Creates and connects a client; *client set, 0 or -1. With with_arrived,
 * messages are counted; max_inflight > 0 sets Paho's window. */
static int connect_client(const peer_args *a, const char *id, MQTTAsync *client, int with_arrived,
                          int max_inflight)
{
    MQTTAsync_connectOptions opts = MQTTAsync_connectOptions_initializer;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    char uri[64], ca[512], crt[512], key[512];
    long rounds;

    snprintf(uri, sizeof uri, "ssl://localhost:%u", a->port);
    if (MQTTAsync_create(client, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL) != MQTTASYNC_SUCCESS)
        return -1;
    if (with_arrived)
        MQTTAsync_setCallbacks(*client, NULL, NULL, on_arrived, NULL);
    ssl.trustStore = peer_cert(a, "root-a.crt", ca, sizeof ca);
    ssl.keyStore = peer_cert(a, "device-001.crt", crt, sizeof crt);
    ssl.privateKey = peer_cert(a, "device-001.key", key, sizeof key);
    ssl.enableServerCertAuth = 1;
    ssl.verify = 1;
    opts.ssl = &ssl;
    opts.cleansession = 1;
    opts.keepAliveInterval = 60;
    if (max_inflight > 0)
        opts.maxInflight = max_inflight;
    opts.onSuccess = on_connect;
    opts.onFailure = on_connect_failure;
    pthread_mutex_lock(&lock);
    connected = 0;
    pthread_mutex_unlock(&lock);
    if (MQTTAsync_connect(*client, &opts) != MQTTASYNC_SUCCESS)
        return -1;
    pthread_mutex_lock(&lock);
    for (rounds = 0; connected == 0 && rounds < 5000; rounds++)
        wait_change(2);
    pthread_mutex_unlock(&lock);
    return connected == 1 ? 0 : -1;
}

int peer_publish(const peer_args *a, long *done, double *secs)
{
    MQTTAsync client;
    char *payload = malloc(a->size);
    long sent = 0, rounds;
    double t0, deadline;
    int rc;

    if (payload == NULL || connect_client(a, "bench-paho-async", &client, 0, a->window) != 0)
        return -1;
    memset(payload, 'x', a->size);

    t0 = peer_now();
    deadline = t0 + a->seconds;
    for (rounds = 0; rounds < 100000000L; rounds++) {
        long outstanding;
        pthread_mutex_lock(&lock);
        if (acked + failures >= a->count || peer_now() > deadline) {
            pthread_mutex_unlock(&lock);
            break;
        }
        outstanding = sent - acked - failures;
        if (sent >= a->count || outstanding >= 2L * a->window) {
            wait_change(5);
            pthread_mutex_unlock(&lock);
            continue;
        }
        pthread_mutex_unlock(&lock);
        {
            MQTTAsync_message msg = MQTTAsync_message_initializer;
            MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
            msg.payload = payload;
            msg.payloadlen = (int)a->size;
            msg.qos = a->qos;
            ro.onSuccess = on_sent;
            ro.onFailure = on_send_failure;
            rc = MQTTAsync_sendMessage(client, "bench/paho-async", &msg, &ro);
            if (rc != MQTTASYNC_SUCCESS) {
                fprintf(stderr, "Paho C async: sendMessage: %d\n", rc);
                return -1;
            }
            sent++;
        }
    }
    *secs = peer_now() - t0;
    pthread_mutex_lock(&lock);
    *done = acked;
    pthread_mutex_unlock(&lock);
    MQTTAsync_disconnect(client, NULL);
    MQTTAsync_destroy(&client);
    free(payload);
    return failures == 0 ? 0 : -1;
}

int peer_e2e(const peer_args *a, long *done, double *secs)
{
    MQTTAsync sub, pub;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    char *payload = malloc(a->size);
    long sent = 0, rounds;
    double t0, deadline;

    if (payload == NULL || connect_client(a, "bench-paho-async-sub", &sub, 1, 0) != 0 ||
        connect_client(a, "bench-paho-async-pub", &pub, 0, 0) != 0)
        return -1;
    memset(payload, 'x', a->size);
    ro.onSuccess = on_subscribed;
    MQTTAsync_subscribe(sub, "bench/e2e", 0, &ro);
    pthread_mutex_lock(&lock);
    for (rounds = 0; !subscribed && rounds < 1000; rounds++)
        wait_change(5);
    pthread_mutex_unlock(&lock);
    t0 = peer_now();
    deadline = t0 + a->seconds;
    for (rounds = 0; rounds < 100000000L; rounds++) {
        long got;
        pthread_mutex_lock(&lock);
        got = arrived;
        if (got >= a->count || peer_now() > deadline) {
            pthread_mutex_unlock(&lock);
            break;
        }
        if (sent >= a->count || sent - got > 1000) { /* keep the queue bounded */
            wait_change(5);
            pthread_mutex_unlock(&lock);
            continue;
        }
        pthread_mutex_unlock(&lock);
        {
            MQTTAsync_message msg = MQTTAsync_message_initializer;
            msg.payload = payload;
            msg.payloadlen = (int)a->size;
            msg.qos = 0;
            if (MQTTAsync_sendMessage(pub, "bench/e2e", &msg, NULL) == MQTTASYNC_SUCCESS)
                sent++;
            else
                wait_change(1);
        }
    }
    *secs = peer_now() - t0;
    pthread_mutex_lock(&lock);
    *done = arrived;
    pthread_mutex_unlock(&lock);
    MQTTAsync_disconnect(pub, NULL);
    MQTTAsync_disconnect(sub, NULL);
    MQTTAsync_destroy(&pub);
    MQTTAsync_destroy(&sub);
    free(payload);
    return 0;
}

int peer_connect(const peer_args *a, double *full, double *resumed, int *n_resumed)
{
    long i;
    (void)resumed;
    for (i = 0; i < a->count; i++) {
        MQTTAsync c;
        double t0 = peer_now();
        if (connect_client(a, "bench-paho-async-connect", &c, 0, 0) != 0)
            return -1;
        full[i] = (peer_now() - t0) * 1e3;
        MQTTAsync_disconnect(c, NULL);
        MQTTAsync_destroy(&c);
    }
    *n_resumed = 0; /* Paho C does not expose TLS session resumption */
    return 0;
}

/* ---- heap per connected client -------------------------------------------- */

int peer_heap(const peer_args *a, long *bytes, long *steady)
{
    MQTTAsync c;
    size_t before = peer_heap_now();
    unsigned long calls;
    char payload[64];
    long i, rounds;

    if (connect_client(a, "bench-paho-async-heap", &c, 0, 0) != 0)
        return -1;
    *bytes = (long)(peer_heap_now() - before);
    memset(payload, 'x', sizeof payload);
    pthread_mutex_lock(&lock);
    acked = failures = 0;
    pthread_mutex_unlock(&lock);
    calls = peer_heap_calls();
    for (i = 0; i < 100; i++) {
        MQTTAsync_message msg = MQTTAsync_message_initializer;
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        msg.payload = payload;
        msg.payloadlen = (int)sizeof payload;
        msg.qos = 1;
        ro.onSuccess = on_sent;
        ro.onFailure = on_send_failure;
        MQTTAsync_sendMessage(c, "bench/heap", &msg, &ro);
    }
    pthread_mutex_lock(&lock);
    for (rounds = 0; rounds < 2000 && acked + failures < 100; rounds++)
        wait_change(5);
    *steady = acked == 100 ? (long)(peer_heap_calls() - calls) : -1;
    pthread_mutex_unlock(&lock);
    MQTTAsync_disconnect(c, NULL);
    MQTTAsync_destroy(&c);
    return 0;
}
