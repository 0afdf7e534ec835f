/* SPDX-License-Identifier: Apache-2.0 */
/* peer_publish() with Eclipse Paho C, synchronous API (MQTTClient,
 * libpaho-mqtt3cs), used the way its examples show: publish, then
 * MQTTClient_waitForCompletion() on the token. With a window, up to WINDOW
 * messages are published before waiting on the oldest token. */
#include <MQTTClient.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/bench/peer.h"

const char peer_name[] = "Paho C sync";

/* ---- QoS 0 end to end ---------------------------------------------------------- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long arrived;

static int on_arrived(void *ctx, char *topic, int len, MQTTClient_message *m)
{
    (void)ctx;
    (void)len;
    MQTTClient_freeMessage(&m);
    MQTTClient_free(topic);
    pthread_mutex_lock(&lock);
    arrived++;
    pthread_mutex_unlock(&lock);
    return 1;
}

/* Creates and connects a client; with with_arrived, messages are counted;
 * max_inflight > 0 sets Paho's window. 0 or -1. */
static int connect_client(const peer_args *a, const char *id, MQTTClient *c, int with_arrived,
                          int max_inflight)
{
    MQTTClient_connectOptions opts = MQTTClient_connectOptions_initializer;
    MQTTClient_SSLOptions ssl = MQTTClient_SSLOptions_initializer;
    char uri[64], ca[512], crt[512], key[512];
    snprintf(uri, sizeof uri, "ssl://localhost:%u", a->port);
    if (MQTTClient_create(c, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL) != MQTTCLIENT_SUCCESS)
        return -1;
    if (with_arrived)
        MQTTClient_setCallbacks(*c, NULL, NULL, on_arrived, NULL);
    ssl.trustStore = peer_cert(a, "root-a.crt", ca, sizeof ca);
    ssl.keyStore = peer_cert(a, "device-001.crt", crt, sizeof crt);
    ssl.privateKey = peer_cert(a, "device-001.key", key, sizeof key);
    ssl.enableServerCertAuth = 1;
    ssl.verify = 1;
    opts.ssl = &ssl;
    opts.cleansession = 1;
    opts.keepAliveInterval = 60;
    if (max_inflight > 0)
        opts.maxInflightMessages = max_inflight;
    return MQTTClient_connect(*c, &opts) == MQTTCLIENT_SUCCESS ? 0 : -1;
}

int peer_publish(const peer_args *a, long *done, double *secs)
{
    MQTTClient client;
    MQTTClient_deliveryToken ring[1000];
    char *payload = malloc(a->size);
    long sent = 0, acked = 0, rounds;
    double t0, deadline;
    int rc;

    if (payload == NULL || connect_client(a, "bench-paho-sync", &client, 0, a->window) != 0) {
        fprintf(stderr, "Paho C sync: connect failed\n");
        return -1;
    }
    memset(payload, 'x', a->size);
    t0 = peer_now();
    deadline = t0 + a->seconds;
    for (rounds = 0; rounds < 100000000L && acked < a->count && peer_now() <= deadline; rounds++) {
        if (sent < a->count && sent - acked < a->window) {
            MQTTClient_message msg = MQTTClient_message_initializer;
            msg.payload = payload;
            msg.payloadlen = (int)a->size;
            msg.qos = a->qos;
            rc = MQTTClient_publishMessage(client, "bench/paho-sync", &msg,
                                           &ring[sent % a->window]);
            if (rc != MQTTCLIENT_SUCCESS) {
                fprintf(stderr, "Paho C sync: publish: %d\n", rc);
                return -1;
            }
            sent++;
            if (a->qos == 0)
                acked++;
            continue;
        }
        rc = MQTTClient_waitForCompletion(client, ring[acked % a->window], 5000);
        if (rc != MQTTCLIENT_SUCCESS) {
            fprintf(stderr, "Paho C sync: waitForCompletion: %d\n", rc);
            return -1;
        }
        acked++;
    }
    *secs = peer_now() - t0;
    *done = acked;
    MQTTClient_disconnect(client, 1000);
    MQTTClient_destroy(&client);
    free(payload);
    return 0;
}

int peer_e2e(const peer_args *a, long *done, double *secs)
{
    MQTTClient sub, pub;
    char *payload = malloc(a->size);
    long sent = 0, got = 0, rounds;
    double t0, deadline;

    if (payload == NULL || connect_client(a, "bench-paho-sync-sub", &sub, 1, 0) != 0 ||
        connect_client(a, "bench-paho-sync-pub", &pub, 0, 0) != 0 ||
        MQTTClient_subscribe(sub, "bench/e2e", 0) != MQTTCLIENT_SUCCESS)
        return -1;
    memset(payload, 'x', a->size);
    t0 = peer_now();
    deadline = t0 + a->seconds;
    for (rounds = 0; rounds < 100000000L && got < a->count && peer_now() <= deadline; rounds++) {
        if (sent < a->count) {
            MQTTClient_message msg = MQTTClient_message_initializer;
            msg.payload = payload;
            msg.payloadlen = (int)a->size;
            msg.qos = 0;
            if (MQTTClient_publishMessage(pub, "bench/e2e", &msg, NULL) == MQTTCLIENT_SUCCESS)
                sent++;
        } else {
            MQTTClient_yield();
        }
        pthread_mutex_lock(&lock);
        got = arrived;
        pthread_mutex_unlock(&lock);
    }
    *secs = peer_now() - t0;
    *done = got;
    MQTTClient_disconnect(pub, 1000);
    MQTTClient_disconnect(sub, 1000);
    MQTTClient_destroy(&pub);
    MQTTClient_destroy(&sub);
    free(payload);
    return 0;
}

int peer_connect(const peer_args *a, double *full, double *resumed, int *n_resumed)
{
    long i;
    (void)resumed;
    for (i = 0; i < a->count; i++) {
        MQTTClient c;
        double t0 = peer_now();
        if (connect_client(a, "bench-paho-sync-connect", &c, 0, 0) != 0)
            return -1;
        full[i] = (peer_now() - t0) * 1e3;
        MQTTClient_disconnect(c, 1000);
        MQTTClient_destroy(&c);
    }
    *n_resumed = 0; /* Paho C does not expose TLS session resumption */
    return 0;
}

/* ---- heap per connected client -------------------------------------------- */

int peer_heap(const peer_args *a, long *bytes, long *steady)
{
    MQTTClient c;
    size_t before = peer_heap_now();
    unsigned long calls;
    char payload[64];
    long i;

    if (connect_client(a, "bench-paho-sync-heap", &c, 0, 0) != 0)
        return -1;
    *bytes = (long)(peer_heap_now() - before);
    memset(payload, 'x', sizeof payload);
    calls = peer_heap_calls();
    for (i = 0; i < 100; i++) {
        MQTTClient_message msg = MQTTClient_message_initializer;
        MQTTClient_deliveryToken token;
        msg.payload = payload;
        msg.payloadlen = (int)sizeof payload;
        msg.qos = 1;
        if (MQTTClient_publishMessage(c, "bench/heap", &msg, &token) != MQTTCLIENT_SUCCESS ||
            MQTTClient_waitForCompletion(c, token, 5000) != MQTTCLIENT_SUCCESS)
            break;
    }
    *steady = i == 100 ? (long)(peer_heap_calls() - calls) : -1;
    MQTTClient_disconnect(c, 1000);
    MQTTClient_destroy(&c);
    return 0;
}
