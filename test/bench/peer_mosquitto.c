/* SPDX-License-Identifier: Apache-2.0 */
/* peer_publish() with libmosquitto (Debian's libmosquitto-dev), used the
 * way its documentation shows for a single-threaded program: publish
 * queues, mosquitto_loop() reads and writes. Library defaults otherwise
 * (no TCP_NODELAY). */
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/bench/peer.h"

const char peer_name[] = "libmosquitto";

static long acked;
static int connected = -1;

static void on_connect(struct mosquitto *m, void *obj, int rc)
{
    (void)m;
    (void)obj;
    connected = rc;
}

static void on_publish(struct mosquitto *m, void *obj, int mid)
{
    (void)m;
    (void)obj;
    (void)mid;
    acked++;
}

int peer_publish(const peer_args *a, long *done, double *secs)
{
    char ca[512], crt[512], key[512];
    struct mosquitto *m;
    char *payload;
    long sent = 0, rounds;
    double t0, deadline;
    int rc;

    mosquitto_lib_init();
    m = mosquitto_new("bench-mosquitto", true, NULL);
    payload = malloc(a->size);
    if (m == NULL || payload == NULL)
        return -1;
    memset(payload, 'x', a->size);
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_publish_callback_set(m, on_publish);
    mosquitto_max_inflight_messages_set(m, (unsigned)a->window);
    rc = mosquitto_tls_set(m, peer_cert(a, "root-a.crt", ca, sizeof ca), NULL,
                           peer_cert(a, "device-001.crt", crt, sizeof crt),
                           peer_cert(a, "device-001.key", key, sizeof key), NULL);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_connect(m, "localhost", (int)a->port, 60);
    for (rounds = 0; rc == MOSQ_ERR_SUCCESS && connected < 0 && rounds < 500; rounds++)
        rc = mosquitto_loop(m, 10, 1);
    if (rc != MOSQ_ERR_SUCCESS || connected != 0) {
        fprintf(stderr, "libmosquitto: connect failed: %s\n", mosquitto_strerror(rc));
        return -1;
    }
    t0 = peer_now();
    deadline = t0 + a->seconds;
    for (rounds = 0; rounds < 100000000L && acked < a->count; rounds++) {
        while (sent < a->count && sent - acked < 2L * a->window) {
            rc = mosquitto_publish(m, NULL, "bench/mosquitto", (int)a->size, payload, a->qos, false);
            if (rc != MOSQ_ERR_SUCCESS) {
                fprintf(stderr, "libmosquitto: publish: %s\n", mosquitto_strerror(rc));
                return -1;
            }
            sent++;
        }
        if (acked >= a->count)
            break;
        rc = mosquitto_loop(m, 5, 1);
        if (rc != MOSQ_ERR_SUCCESS) {
            fprintf(stderr, "libmosquitto: loop: %s\n", mosquitto_strerror(rc));
            return -1;
        }
        if ((rounds & 63) == 0 && peer_now() > deadline)
            break;
    }
    *secs = peer_now() - t0;
    *done = acked;
    mosquitto_disconnect(m);
    mosquitto_destroy(m);
    mosquitto_lib_cleanup();
    free(payload);
    return 0;
}

/* ---- QoS 0 end to end: a subscriber and a publisher, one thread --------- */

static long arrived;
static int sub_ready;

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
    (void)m;
    (void)obj;
    (void)msg;
    arrived++;
}

static void on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *granted)
{
    (void)m;
    (void)obj;
    (void)mid;
    (void)n;
    (void)granted;
    sub_ready = 1;
}

static int connected_flag[2];

static void on_connect_n(struct mosquitto *m, void *obj, int rc)
{
    (void)m;
    *(int *)obj = rc == 0 ? 1 : -1;
}

/* A connected client (obj: its connected flag). NULL on failure. */
static struct mosquitto *client(const peer_args *a, const char *id, int *flag)
{
    char ca[512], crt[512], key[512];
    struct mosquitto *m = mosquitto_new(id, true, flag);
    long rounds;
    int rc;
    if (m == NULL)
        return NULL;
    mosquitto_connect_callback_set(m, on_connect_n);
    rc = mosquitto_tls_set(m, peer_cert(a, "root-a.crt", ca, sizeof ca), NULL,
                           peer_cert(a, "device-001.crt", crt, sizeof crt),
                           peer_cert(a, "device-001.key", key, sizeof key), NULL);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_connect(m, "localhost", (int)a->port, 60);
    for (rounds = 0; rc == MOSQ_ERR_SUCCESS && *flag == 0 && rounds < 500; rounds++)
        rc = mosquitto_loop(m, 10, 1);
    if (rc != MOSQ_ERR_SUCCESS || *flag != 1) {
        fprintf(stderr, "libmosquitto: connect failed: %s\n", mosquitto_strerror(rc));
        mosquitto_destroy(m);
        return NULL;
    }
    return m;
}

int peer_e2e(const peer_args *a, long *done, double *secs)
{
    struct mosquitto *sub, *pub;
    char *payload = malloc(a->size);
    long sent = 0, rounds;
    double t0, deadline;

    mosquitto_lib_init();
    if (payload == NULL)
        return -1;
    memset(payload, 'x', a->size);
    sub = client(a, "bench-mosquitto-sub", &connected_flag[0]);
    pub = client(a, "bench-mosquitto-pub", &connected_flag[1]);
    if (sub == NULL || pub == NULL)
        return -1;
    mosquitto_message_callback_set(sub, on_message);
    mosquitto_subscribe_callback_set(sub, on_subscribe);
    mosquitto_subscribe(sub, NULL, "bench/e2e", 0);
    for (rounds = 0; !sub_ready && rounds < 500; rounds++)
        mosquitto_loop(sub, 10, 1);
    t0 = peer_now();
    deadline = t0 + a->seconds;
    for (rounds = 0; rounds < 100000000L && arrived < a->count; rounds++) {
        int k;
        for (k = 0; k < 64 && sent < a->count; k++, sent++)
            mosquitto_publish(pub, NULL, "bench/e2e", (int)a->size, payload, 0, false);
        mosquitto_loop(pub, 0, 1);
        mosquitto_loop(sub, sent < a->count ? 0 : 5, 1);
        if ((rounds & 15) == 0 && peer_now() > deadline)
            break;
    }
    *secs = peer_now() - t0;
    *done = arrived;
    mosquitto_disconnect(pub);
    mosquitto_disconnect(sub);
    mosquitto_destroy(pub);
    mosquitto_destroy(sub);
    mosquitto_lib_cleanup();
    free(payload);
    return 0;
}

/* ---- connect latency: new client each round (no TLS session reuse) ---- */

int peer_connect(const peer_args *a, double *full, double *resumed, int *n_resumed)
{
    char ca[512], crt[512], key[512];
    long i, rounds;
    (void)resumed;

    mosquitto_lib_init();
    for (i = 0; i < a->count; i++) {
        int flag = 0, rc;
        double t0;
        struct mosquitto *m = mosquitto_new("bench-mosquitto-connect", true, &flag);
        if (m == NULL)
            return -1;
        mosquitto_connect_callback_set(m, on_connect_n);
        rc = mosquitto_tls_set(m, peer_cert(a, "root-a.crt", ca, sizeof ca), NULL,
                               peer_cert(a, "device-001.crt", crt, sizeof crt),
                               peer_cert(a, "device-001.key", key, sizeof key), NULL);
        t0 = peer_now();
        if (rc == MOSQ_ERR_SUCCESS)
            rc = mosquitto_connect(m, "localhost", (int)a->port, 60);
        for (rounds = 0; rc == MOSQ_ERR_SUCCESS && flag == 0 && rounds < 5000; rounds++)
            rc = mosquitto_loop(m, 1, 1);
        if (rc != MOSQ_ERR_SUCCESS || flag != 1) {
            fprintf(stderr, "libmosquitto: connect failed: %s\n", mosquitto_strerror(rc));
            return -1;
        }
        full[i] = (peer_now() - t0) * 1e3;
        mosquitto_disconnect(m);
        mosquitto_loop(m, 1, 1);
        mosquitto_destroy(m);
    }
    *n_resumed = 0; /* libmosquitto has no client TLS session resumption */
    mosquitto_lib_cleanup();
    return 0;
}

/* ---- heap per connected client -------------------------------------------- */

int peer_heap(const peer_args *a, long *bytes, long *steady)
{
    struct mosquitto *m;
    size_t before;
    unsigned long calls;
    char payload[64];
    long i, rounds;
    int flag = 0;

    mosquitto_lib_init(); /* OpenSSL's global state: not per client */
    before = peer_heap_now();
    m = client(a, "bench-mosquitto-heap", &flag);
    if (m == NULL)
        return -1;
    *bytes = (long)(peer_heap_now() - before);
    memset(payload, 'x', sizeof payload);
    mosquitto_publish_callback_set(m, on_publish);
    acked = 0;
    calls = peer_heap_calls();
    for (i = 0; i < 100; i++)
        mosquitto_publish(m, NULL, "bench/heap", (int)sizeof payload, payload, 1, false);
    for (rounds = 0; rounds < 2000 && acked < 100; rounds++)
        mosquitto_loop(m, 5, 1);
    *steady = acked == 100 ? (long)(peer_heap_calls() - calls) : -1;
    mosquitto_disconnect(m);
    mosquitto_destroy(m);
    mosquitto_lib_cleanup();
    return 0;
}
