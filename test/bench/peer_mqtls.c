/* peer_publish() with mqtls: mqtls_client over mbedTLS over POSIX TCP,
 * the RAM store holding what is not yet acknowledged. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mqtt/client.h"
#include "net/clock_posix.h"
#include "net/tcp_posix.h"
#include "test/bench/peer.h"
#include "tls/tls_mbedtls.h"

const char peer_name[] = "mqtls";

static struct {
    const peer_args *a;
    mqtls_tls_config cfg;
    mqtls_tls tls;
    mqtls_tcp tcp;
    long acked;
} s;

static int open_stack(void *ctx, mqtls_transport *out)
{
    mqtls_transport lower;
    int ret;
    (void)ctx;
    mqtls_tls_free(&s.tls);
    mqtls_tls_init(&s.tls);
    ret = mqtls_tcp_connect(&s.tcp, "127.0.0.1", (uint16_t)s.a->port, 3000);
    if (ret != MQTLS_OK)
        return ret;
    mqtls_tcp_transport(&s.tcp, &lower);
    ret = mqtls_tls_connect(&s.tls, &s.cfg, &lower, "localhost");
    if (ret != MQTLS_OK) {
        fprintf(stderr, "mqtls: %s\n", mqtls_tls_why(&s.tls));
        return ret;
    }
    return mqtls_tls_transport(&s.tls, out);
}

static void delivered(void *ctx, uint16_t id)
{
    (void)ctx;
    (void)id;
    s.acked++;
}

int peer_publish(const peer_args *a, long *done, double *secs)
{
    static uint8_t tx[8192], rx[512], ring[1 << 20], payload[1000000];
    static uint16_t qos2[64];
    char p1[512], p2[512], p3[512];
    mqtls_ram_store store;
    mqtls_client_config cfg;
    mqtls_client c;
    long sent = 0, rounds;
    double t0, deadline;
    int ret;

    s.a = a;
    mqtls_tls_config_init(&s.cfg);
    mqtls_tls_init(&s.tls);
    mqtls_tcp_init(&s.tcp);
    if (mqtls_tls_config_setup(&s.cfg) != MQTLS_OK ||
        mqtls_tls_config_add_ca_file(&s.cfg, peer_cert(a, "root-a.crt", p1, sizeof p1), NULL) !=
            MQTLS_OK ||
        mqtls_tls_config_set_identity_files(&s.cfg, peer_cert(a, "device-001.crt", p2, sizeof p2),
                                            peer_cert(a, "device-001.key", p3, sizeof p3),
                                            NULL) != MQTLS_OK) {
        fprintf(stderr, "mqtls: cannot load the test PKI from %s\n", a->certs);
        return -1;
    }
    if (a->size + 64 > sizeof tx || (size_t)a->window * 2 * (a->size + 64) > sizeof ring) {
        fprintf(stderr, "mqtls: payload too large for the bench's buffers\n");
        return -1;
    }
    memset(payload, 'x', a->size);
    mqtls_ram_store_init(&store);
    mqtls_ram_store_setup(&store, ring, sizeof ring);
    memset(&cfg, 0, sizeof cfg);
    cfg.connect.client_id = (mqtls_str){"bench-mqtls", 11};
    cfg.connect.clean_session = true;
    cfg.connect.keepalive_s = 60;
    cfg.tx_buf = tx;
    cfg.tx_cap = sizeof tx;
    cfg.rx_buf = rx;
    cfg.rx_cap = sizeof rx;
    cfg.qos2_ids = qos2;
    cfg.qos2_cap = 64;
    mqtls_ram_store_interface(&store, &cfg.store);
    mqtls_clock_posix(&cfg.clock);
    cfg.open = open_stack;
    cfg.events.delivered = delivered;
    cfg.window = (uint16_t)a->window;
    mqtls_client_init(&c);
    if (mqtls_client_setup(&c, &cfg) != MQTLS_OK ||
        (ret = mqtls_client_connect(&c, 5000)) != MQTLS_OK) {
        fprintf(stderr, "mqtls: connect failed\n");
        return -1;
    }
    t0 = peer_now();
    deadline = t0 + a->seconds;
    /* Bounded by the deadline (checked every round) and a round count. */
    for (rounds = 0; rounds < 100000000L && s.acked < a->count; rounds++) {
        while (sent < a->count && (a->qos == 0 || sent - s.acked < 2L * a->window)) {
            mqtls_publish p = {0};
            uint16_t id;
            p.topic = (mqtls_str){"bench/mqtls", 11};
            p.payload = (mqtls_bytes){payload, a->size};
            p.qos = (uint8_t)a->qos;
            if (mqtls_client_publish(&c, &p, &id) != MQTLS_OK) {
                fprintf(stderr, "mqtls: publish failed\n");
                return -1;
            }
            sent++;
            if (a->qos == 0)
                s.acked++; /* written: QoS 0 is done once on the wire */
        }
        if (s.acked >= a->count)
            break;
        if ((ret = mqtls_client_poll(&c, 5)) != MQTLS_OK) {
            fprintf(stderr, "mqtls: %s\n", mqtls_strerror(ret));
            return -1;
        }
        if ((rounds & 63) == 0 && peer_now() > deadline)
            break;
    }
    *secs = peer_now() - t0;
    *done = s.acked;
    mqtls_client_disconnect(&c);
    mqtls_tls_free(&s.tls);
    mqtls_tls_config_free(&s.cfg);
    return 0;
}
