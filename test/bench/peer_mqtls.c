/* SPDX-License-Identifier: Apache-2.0 */
/* The peer_* modes (peer.h) with mqtls: mqtls_client over mbedTLS over
 * POSIX TCP (mqtls_tcp_tls), the RAM store holding what is not yet
 * acknowledged. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt/client.h"
#include "net/clock_posix.h"
#include "test/bench/peer.h"
#include "tls/tcp_tls.h"

const char peer_name[] = "mqtls";

/* One client with its stack and buffers. */
typedef struct node {
    mqtls_tls_config tls_cfg;
    mqtls_tcp_tls net;
    mqtls_client c;
    mqtls_client_config cfg;
    mqtls_ram_store store;
    uint8_t tx[8192], rx[8192], ring[1 << 20];
    uint16_t qos2[64];
    long acked, received;
} node;

static node a_node, b_node;

static void delivered(void *ctx, uint16_t id)
{
    (void)id;
    ((node *)ctx)->acked++;
}

static void arrived(void *ctx, const mqtls_publish *m)
{
    (void)m;
    ((node *)ctx)->received++;
}

static int node_setup(node *n, const peer_args *a, const char *id)
{
    char ca[512], crt[512], key[512];
    mqtls_tls_config_init(&n->tls_cfg);
    if (mqtls_tls_config_setup(&n->tls_cfg) != MQTLS_OK ||
        mqtls_tls_config_add_ca_file(&n->tls_cfg, peer_cert(a, "root-a.crt", ca, sizeof ca), NULL) !=
            MQTLS_OK ||
        mqtls_tls_config_set_identity_files(&n->tls_cfg, peer_cert(a, "device-001.crt", crt, sizeof crt),
                                            peer_cert(a, "device-001.key", key, sizeof key),
                                            NULL) != MQTLS_OK) {
        fprintf(stderr, "mqtls: cannot load the test PKI from %s\n", a->certs);
        return -1;
    }
    mqtls_tcp_tls_init(&n->net, &n->tls_cfg, "localhost", (uint16_t)a->port);
    mqtls_ram_store_init(&n->store);
    mqtls_ram_store_setup(&n->store, n->ring, sizeof n->ring);
    memset(&n->cfg, 0, sizeof n->cfg);
    n->cfg.connect.client_id = (mqtls_str){id, strlen(id)};
    n->cfg.connect.clean_session = true;
    n->cfg.connect.keepalive_s = 60;
    n->cfg.tx_buf = n->tx;
    n->cfg.tx_cap = sizeof n->tx;
    n->cfg.rx_buf = n->rx;
    n->cfg.rx_cap = sizeof n->rx;
    n->cfg.qos2_ids = n->qos2;
    n->cfg.qos2_cap = 64;
    mqtls_ram_store_interface(&n->store, &n->cfg.store);
    mqtls_clock_posix(&n->cfg.clock);
    n->cfg.open = mqtls_tcp_tls_open;
    n->cfg.open_ctx = &n->net;
    n->cfg.events.ctx = n;
    n->cfg.events.publish_acked = delivered;
    n->cfg.events.received = arrived;
    n->cfg.window = (uint16_t)a->window;
    n->cfg.reads_per_poll = 64; /* a burst of acknowledgements in one poll */
    mqtls_client_init(&n->c);
    return mqtls_client_setup(&n->c, &n->cfg) == MQTLS_OK ? 0 : -1;
}

static int node_connect(node *n)
{
    int ret = mqtls_client_connect(&n->c, 5000);
    if (ret != MQTLS_OK)
        fprintf(stderr, "mqtls: connect: %s %s\n", mqtls_strerror(ret), mqtls_tls_why(&n->net.tls));
    return ret == MQTLS_OK ? 0 : -1;
}

static void node_free(node *n)
{
    mqtls_client_disconnect(&n->c);
    mqtls_tcp_tls_free(&n->net);
    mqtls_tls_config_free(&n->tls_cfg);
}

static int publish(node *n, const peer_args *a, const char *topic, const uint8_t *payload)
{
    mqtls_publish p = {0};
    int ret;
    p.topic = (mqtls_str){topic, strlen(topic)};
    p.payload = (mqtls_bytes){payload, a->size};
    p.qos = (uint8_t)a->qos;
    ret = mqtls_client_publish(&n->c, &p, NULL);
    if (ret != MQTLS_OK)
        fprintf(stderr, "mqtls: publish: %s\n", mqtls_strerror(ret));
    return ret == MQTLS_OK ? 0 : -1;
}

static uint8_t *payload_of(const peer_args *a)
{
    uint8_t *p = malloc(a->size);
    if (p != NULL)
        memset(p, 'x', a->size);
    return p;
}

int peer_publish(const peer_args *a, long *done, double *secs)
{
    node *n = &a_node;
    uint8_t *payload = payload_of(a);
    long sent = 0, rounds;
    double t0, deadline;

    if (payload == NULL || node_setup(n, a, "bench-mqtls") != 0 || node_connect(n) != 0)
        return -1;
    t0 = peer_now();
    deadline = t0 + a->seconds;
    /* Bounded by the deadline (checked every 64 rounds) and a round count. */
    for (rounds = 0; rounds < 100000000L && n->acked < a->count; rounds++) {
        while (sent < a->count && (a->qos == 0 || sent - n->acked < 2L * a->window)) {
            if (publish(n, a, "bench/mqtls", payload) != 0)
                return -1;
            sent++;
            if (a->qos == 0)
                n->acked++; /* written: QoS 0 is done once on the wire */
        }
        if (n->acked >= a->count)
            break;
        if (mqtls_client_poll(&n->c, 5) != MQTLS_OK)
            return -1;
        if ((rounds & 63) == 0 && peer_now() > deadline)
            break;
    }
    *secs = peer_now() - t0;
    *done = n->acked;
    node_free(n);
    free(payload);
    return 0;
}

int peer_e2e(const peer_args *a, long *done, double *secs)
{
    node *sub = &a_node, *pub = &b_node;
    uint8_t *payload = payload_of(a);
    const mqtls_subscription s = {{"bench/e2e", 9}, 0};
    long sent = 0, rounds;
    double t0, deadline;
    peer_args q0 = *a;

    q0.qos = 0;
    if (payload == NULL || node_setup(sub, a, "bench-mqtls-sub") != 0 ||
        node_setup(pub, a, "bench-mqtls-pub") != 0 || node_connect(sub) != 0 ||
        node_connect(pub) != 0 || mqtls_client_subscribe(&sub->c, &s, 1, NULL) != MQTLS_OK)
        return -1;
    for (rounds = 0; rounds < 200; rounds++) /* the SUBACK */
        mqtls_client_poll(&sub->c, 5);
    t0 = peer_now();
    deadline = t0 + a->seconds;
    for (rounds = 0; rounds < 100000000L && sub->received < a->count; rounds++) {
        int k;
        for (k = 0; k < 64 && sent < a->count; k++, sent++)
            if (publish(pub, &q0, "bench/e2e", payload) != 0)
                return -1;
        mqtls_client_poll(&pub->c, 0);
        mqtls_client_poll(&sub->c, sent < a->count ? 0 : 5);
        if ((rounds & 15) == 0 && peer_now() > deadline)
            break;
    }
    *secs = peer_now() - t0;
    *done = sub->received;
    node_free(pub);
    node_free(sub);
    free(payload);
    return 0;
}

int peer_connect(const peer_args *a, double *full, double *resumed, int *n_resumed)
{
    static uint8_t saved[4096];
    node *n = &a_node;
    long i;

    if (node_setup(n, a, "bench-mqtls-connect") != 0)
        return -1;
    for (i = 0; i < a->count; i++) {
        double t0 = peer_now();
        if (node_connect(n) != 0)
            return -1;
        full[i] = (peer_now() - t0) * 1e3;
        mqtls_client_disconnect(&n->c);
    }
    /* Now with sessions resumed: the first connect saves, the rest resume. */
    mqtls_tcp_tls_resume(&n->net, saved, sizeof saved, 0);
    if (node_connect(n) != 0)
        return -1;
    mqtls_client_disconnect(&n->c);
    for (i = 0; i < a->count; i++) {
        double t0 = peer_now();
        if (node_connect(n) != 0)
            return -1;
        resumed[i] = (peer_now() - t0) * 1e3;
        if (!mqtls_tls_get_report(&n->net.tls)->resumed) {
            fprintf(stderr, "mqtls: round %ld did not resume\n", i);
            return -1;
        }
        mqtls_client_disconnect(&n->c);
    }
    *n_resumed = (int)a->count;
    node_free(n);
    return 0;
}

int peer_heap(const peer_args *a, long *bytes, long *steady)
{
    node *n = &a_node;
    uint8_t payload[64];
    size_t before = peer_heap_now();
    unsigned long calls;
    long i, rounds;
    peer_args q1 = *a;

    memset(payload, 'x', sizeof payload);
    q1.qos = 1;
    q1.size = sizeof payload;
    if (node_setup(n, a, "bench-mqtls-heap") != 0 || node_connect(n) != 0)
        return -1;
    *bytes = (long)(peer_heap_now() - before);
    /* The publish path, connected: no allocation at all (MQTT or TLS). */
    calls = peer_heap_calls();
    for (i = 0; i < 100; i++)
        if (publish(n, &q1, "bench/heap", payload) != 0)
            return -1;
    for (rounds = 0; rounds < 2000 && n->acked < 100; rounds++)
        mqtls_client_poll(&n->c, 5);
    *steady = n->acked == 100 ? (long)(peer_heap_calls() - calls) : -1;
    node_free(n);
    return 0;
}
