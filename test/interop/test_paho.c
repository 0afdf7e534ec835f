/* SPDX-License-Identifier: Apache-2.0 */
/* Interop with the reference client: Eclipse Paho C (libpaho-mqtt-dev),
 * on the same Mosquitto over mutual TLS.
 *  - Paho subscribes at QoS 2; our client publishes numbered QoS 2
 *    messages; Paho receives each exactly once.
 *  - Paho publishes numbered QoS 1 and QoS 2 messages; our client receives
 *    every one, and the QoS 2 ones exactly once.
 * Prints "N passed, N failed". */
#define _POSIX_C_SOURCE 200809L

#include <MQTTClient.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mqtt/client.h"
#include "net/clock_posix.h"
#include "net/tcp_posix.h"
#include "test/integration/broker.h"
#include "tls/tls_mbedtls.h"

#define COUNT 50

static broker brk;
static int passed, failed;

static void check(int ok, const char *what)
{
    printf("%s: %s\n", ok ? "ok" : "FAIL", what);
    if (ok)
        passed++;
    else
        failed++;
}

/* ---- our side ------------------------------------------------------------------ */

static struct {
    mqtls_client c;
    mqtls_client_config cfg;
    uint8_t tx[512], rx[512], ring[16384];
    uint16_t qos2[32];
    mqtls_ram_store store;
    mqtls_tls_config tls_cfg;
    mqtls_tls tls;
    mqtls_tcp tcp;
    int received[2][COUNT]; /* [qos 1, qos 2][number] */
} us;

static int open_stack(void *ctx, mqtls_transport *out)
{
    mqtls_transport lower;
    int ret;
    (void)ctx;
    mqtls_tls_free(&us.tls);
    mqtls_tls_init(&us.tls);
    ret = mqtls_tcp_connect(&us.tcp, "127.0.0.1", brk.port, 3000);
    if (ret != MQTLS_OK)
        return ret;
    mqtls_tcp_transport(&us.tcp, &lower);
    ret = mqtls_tls_connect(&us.tls, &us.tls_cfg, &lower, "localhost");
    return ret != MQTLS_OK ? ret : mqtls_tls_transport(&us.tls, out);
}

static void on_message(void *ctx, const mqtls_publish *m)
{
    char text[16] = {0};
    int n;
    (void)ctx;
    /* Payloads point into the receive buffer: not NUL-terminated. */
    memcpy(text, m->payload.ptr, m->payload.len < sizeof text - 1 ? m->payload.len : sizeof text - 1);
    n = atoi(text);
    if (n >= 0 && n < COUNT && (m->qos == 1 || m->qos == 2))
        us.received[m->qos - 1][n]++;
}

static int our_client_up(void)
{
    mqtls_tls_config_init(&us.tls_cfg);
    mqtls_tls_init(&us.tls);
    if (mqtls_tls_config_setup(&us.tls_cfg) != MQTLS_OK ||
        mqtls_tls_config_add_ca_file(&us.tls_cfg, CERTS "bundle-current.pem", NULL) != MQTLS_OK ||
        mqtls_tls_config_set_identity_files(&us.tls_cfg, CERTS "device-001.crt",
                                            CERTS "device-001.key", NULL) != MQTLS_OK)
        return -1;
    mqtls_ram_store_init(&us.store);
    mqtls_ram_store_setup(&us.store, us.ring, sizeof us.ring);
    us.cfg.connect.client_id = (mqtls_str){"interop-mqtls", 13};
    us.cfg.connect.clean_session = true;
    us.cfg.connect.keepalive_s = 30;
    us.cfg.tx_buf = us.tx;
    us.cfg.tx_cap = sizeof us.tx;
    us.cfg.rx_buf = us.rx;
    us.cfg.rx_cap = sizeof us.rx;
    us.cfg.qos2_ids = us.qos2;
    us.cfg.qos2_cap = 32;
    mqtls_ram_store_interface(&us.store, &us.cfg.store);
    mqtls_clock_posix(&us.cfg.clock);
    us.cfg.open = open_stack;
    us.cfg.events.received = on_message;
    us.cfg.window = 20;
    mqtls_client_init(&us.c);
    if (mqtls_client_setup(&us.c, &us.cfg) != MQTLS_OK)
        return -1;
    return mqtls_client_connect(&us.c, 5000) == MQTLS_OK ? 0 : -1;
}

/* ---- Paho's side ---------------------------------------------------------------- */

static int paho_connect(MQTTClient *pc, const char *id)
{
    MQTTClient_connectOptions opts = MQTTClient_connectOptions_initializer;
    MQTTClient_SSLOptions ssl = MQTTClient_SSLOptions_initializer;
    char uri[64];

    snprintf(uri, sizeof uri, "ssl://127.0.0.1:%u", (unsigned)brk.port);
    if (MQTTClient_create(pc, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL) != MQTTCLIENT_SUCCESS)
        return -1;
    ssl.trustStore = CERTS "root-a.crt";
    ssl.keyStore = CERTS "device-002.crt";
    ssl.privateKey = CERTS "device-002.key";
    ssl.enableServerCertAuth = 1;
    ssl.verify = 1;
    opts.ssl = &ssl;
    opts.cleansession = 1;
    opts.keepAliveInterval = 30;
    return MQTTClient_connect(*pc, &opts) == MQTTCLIENT_SUCCESS ? 0 : -1;
}

static void paho_receives_our_qos2_exactly_once(void)
{
    MQTTClient pc;
    int got[COUNT] = {0}, i, total = 0, rounds, once = 1, all = 1;
    char payload[16];

    if (paho_connect(&pc, "interop-paho-sub") != 0 ||
        MQTTClient_subscribe(pc, "interop/ours", 2) != MQTTCLIENT_SUCCESS) {
        check(0, "Paho connects and subscribes over mutual TLS");
        return;
    }
    for (i = 0; i < COUNT; i++) {
        mqtls_publish p = {0};
        snprintf(payload, sizeof payload, "%d", i);
        p.topic = (mqtls_str){"interop/ours", 12};
        p.payload = (mqtls_bytes){(const uint8_t *)payload, strlen(payload)};
        p.qos = 2;
        mqtls_client_publish(&us.c, &p, NULL);
    }
    /* Bounded: 2,000 rounds of a short poll on each side. */
    for (rounds = 0; rounds < 2000 && (total < COUNT || mqtls_ram_store_count(&us.store) != 0);
         rounds++) {
        char *topic = NULL;
        int topic_len = 0;
        MQTTClient_message *m = NULL;
        mqtls_client_poll(&us.c, 2);
        if (MQTTClient_receive(pc, &topic, &topic_len, &m, 2) == MQTTCLIENT_SUCCESS && m != NULL) {
            char buf[16] = {0};
            int n;
            memcpy(buf, m->payload, m->payloadlen < 15 ? (size_t)m->payloadlen : 15);
            n = atoi(buf);
            if (n >= 0 && n < COUNT) {
                got[n]++;
                total++;
            }
            MQTTClient_freeMessage(&m);
            MQTTClient_free(topic);
        }
    }
    for (i = 0; i < COUNT; i++) {
        all &= got[i] >= 1;
        once &= got[i] <= 1;
    }
    check(all, "Paho received every QoS 2 message we published");
    check(once, "Paho received each of our QoS 2 messages exactly once");
    check(mqtls_ram_store_count(&us.store) == 0, "our store is empty: every PUBCOMP arrived");
    MQTTClient_disconnect(pc, 1000);
    MQTTClient_destroy(&pc);
}

static void we_receive_paho_qos1_and_qos2(void)
{
    mqtls_subscription sub = {{"interop/paho/#", 14}, 2};
    MQTTClient pc;
    int i, q, rounds, all = 1, once = 1;
    char payload[16];

    mqtls_client_subscribe(&us.c, &sub, 1, NULL);
    for (i = 0; i < 50; i++)
        mqtls_client_poll(&us.c, 5);
    if (paho_connect(&pc, "interop-paho-pub") != 0) {
        check(0, "Paho connects to publish");
        return;
    }
    for (q = 1; q <= 2; q++) {
        for (i = 0; i < COUNT; i++) {
            MQTTClient_message m = MQTTClient_message_initializer;
            MQTTClient_deliveryToken token;
            snprintf(payload, sizeof payload, "%d", i);
            m.payload = payload;
            m.payloadlen = (int)strlen(payload);
            m.qos = q;
            MQTTClient_publishMessage(pc, q == 1 ? "interop/paho/q1" : "interop/paho/q2", &m,
                                      &token);
            /* Paho's synchronous client waits per message; keep ours served. */
            mqtls_client_poll(&us.c, 1);
            MQTTClient_waitForCompletion(pc, token, 5000);
        }
    }
    /* Until all arrived, bounded: 3,000 polls of at most 2 ms. */
    for (rounds = 0; rounds < 3000; rounds++) {
        int done = 1;
        for (i = 0; i < COUNT; i++)
            done &= us.received[0][i] >= 1 && us.received[1][i] >= 1;
        if (done)
            break;
        mqtls_client_poll(&us.c, 2);
    }
    for (rounds = 0; rounds < 100; rounds++) /* late duplicates would show now */
        mqtls_client_poll(&us.c, 2);
    for (i = 0; i < COUNT; i++) {
        all &= us.received[0][i] >= 1 && us.received[1][i] >= 1;
        once &= us.received[1][i] == 1;
    }
    check(all, "we received every QoS 1 and QoS 2 message Paho published");
    check(once, "we received each of Paho's QoS 2 messages exactly once");
    MQTTClient_disconnect(pc, 1000);
    MQTTClient_destroy(&pc);
}

int main(void)
{
    char lines[1024];
    char tmp[] = "/tmp/mqtls-interop-XXXXXX";

    if (mkdtemp(tmp) == NULL || setenv("MQTLS_TEST_TMP", tmp, 1) != 0)
        return 1;
    broker_tls_lines(lines, sizeof lines, "server-a-chain.pem", "server-a.key", 1);
    if (broker_start(&brk, "127.0.0.1", lines) != 0) {
        rmdir(tmp);
        return 1;
    }
    if (our_client_up() != 0) {
        check(0, "our client connects over mutual TLS");
    } else {
        paho_receives_our_qos2_exactly_once();
        we_receive_paho_qos1_and_qos2();
        mqtls_client_disconnect(&us.c);
    }
    mqtls_tls_free(&us.tls);
    mqtls_tls_config_free(&us.tls_cfg);
    broker_stop(&brk);
    rmdir(tmp);
    printf("interop with Paho C: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
