/* telemetry: a sensor loop publishing JSON readings at QoS 1 over mutual
 * TLS, through the file store (a reading promised survives a crash), with
 * a one-line status per reading.
 *
 *   telemetry PORT CERTS_DIR [COUNT]     (broker on 127.0.0.1, name localhost)
 *
 * Exit status 0 when all COUNT readings were acknowledged by the broker
 * (readings a crashed earlier run left in the journal are resent first). */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt/client.h"
#include "mqtt/posix/store_file.h"
#include "net/clock_posix.h"
#include "net/tcp_posix.h"
#include "tls/tls_mbedtls.h"

static struct {
    mqtls_tls_config tls_cfg;
    mqtls_tls tls;
    mqtls_tcp tcp;
    uint16_t port;
    int acked;
} app;

/* Builds client -> tls -> tcp for every (re)connect. */
static int open_stack(void *ctx, mqtls_transport *out)
{
    mqtls_transport lower;
    int ret;

    (void)ctx;
    mqtls_tls_free(&app.tls);
    mqtls_tls_init(&app.tls);
    ret = mqtls_tcp_connect(&app.tcp, "127.0.0.1", app.port, 5000);
    if (ret != MQTLS_OK)
        return ret;
    mqtls_tcp_transport(&app.tcp, &lower);
    ret = mqtls_tls_connect(&app.tls, &app.tls_cfg, &lower, "localhost");
    if (ret != MQTLS_OK) {
        fprintf(stderr, "telemetry: TLS: %s\n", mqtls_tls_why(&app.tls));
        mqtls_tcp_close(&app.tcp);
        return ret;
    }
    return mqtls_tls_transport(&app.tls, out);
}

static void on_delivered(void *ctx, uint16_t packet_id)
{
    (void)ctx;
    (void)packet_id;
    app.acked++;
}

static void on_lost(void *ctx, int reason)
{
    (void)ctx;
    fprintf(stderr, "telemetry: connection lost: %s; reconnecting\n", mqtls_strerror(reason));
}

int main(int argc, char **argv)
{
    static uint8_t tx[512], rx[512], ring[8192];
    static uint16_t qos2[8];
    char path[512], cert[512], key[512], json[128];
    mqtls_file_store store;
    mqtls_client_config cfg;
    mqtls_client client;
    int count = argc > 3 ? atoi(argv[3]) : 10, i, ret, rounds;

    if (argc < 3 || count < 1 || count > 100000) {
        fprintf(stderr, "usage: telemetry PORT CERTS_DIR [COUNT]\n");
        return 2;
    }
    app.port = (uint16_t)atoi(argv[1]);

    /* 1. TLS: trust the broker's CA, present this device's certificate. */
    mqtls_tls_config_init(&app.tls_cfg);
    snprintf(path, sizeof path, "%s/bundle-current.pem", argv[2]);
    snprintf(cert, sizeof cert, "%s/device-001.crt", argv[2]);
    snprintf(key, sizeof key, "%s/device-001.key", argv[2]);
    if ((ret = mqtls_tls_config_setup(&app.tls_cfg)) != MQTLS_OK ||
        (ret = mqtls_tls_config_add_ca_file(&app.tls_cfg, path, NULL)) != MQTLS_OK ||
        (ret = mqtls_tls_config_set_identity_files(&app.tls_cfg, cert, key, NULL)) != MQTLS_OK) {
        fprintf(stderr, "telemetry: TLS setup: %s\n", mqtls_strerror(ret));
        return 1;
    }

    /* 2. The store: unacknowledged readings live in a journal file. */
    snprintf(path, sizeof path, "%s/telemetry.journal", argv[2]);
    if ((ret = mqtls_file_store_open(&store, path, ring, sizeof ring)) != MQTLS_OK) {
        fprintf(stderr, "telemetry: store %s: %s\n", path, mqtls_strerror(ret));
        return 1;
    }

    /* 3. The client: buffers, store, clock, how to build the connection. */
    memset(&cfg, 0, sizeof cfg);
    cfg.connect.client_id = (mqtls_str){"telemetry-001", 13};
    cfg.connect.clean_session = true;
    cfg.connect.keepalive_s = 30;
    cfg.tx_buf = tx;
    cfg.tx_cap = sizeof tx;
    cfg.rx_buf = rx;
    cfg.rx_cap = sizeof rx;
    cfg.qos2_ids = qos2;
    cfg.qos2_cap = 8;
    mqtls_file_store_interface(&store, &cfg.store);
    mqtls_clock_posix(&cfg.clock);
    cfg.open = open_stack;
    cfg.events.delivered = on_delivered;
    cfg.events.lost = on_lost;
    cfg.window = 20;
    cfg.reconnect = true;
    mqtls_client_init(&client);
    if ((ret = mqtls_client_setup(&client, &cfg)) != MQTLS_OK) {
        fprintf(stderr, "telemetry: client setup: %s\n", mqtls_strerror(ret));
        return 1;
    }

    /* 4. Connect: TCP, TLS handshake, CONNECT, CONNACK. */
    if ((ret = mqtls_client_connect(&client, 10000)) != MQTLS_OK) {
        fprintf(stderr, "telemetry: connect: %s\n", mqtls_strerror(ret));
        return 1;
    }
    printf("telemetry: connected to 127.0.0.1:%u over mutual TLS (CA %s)\n",
           (unsigned)app.port, app.tls.ca_subject);

    /* 5. The sensor loop: a reading, published at QoS 1, then poll. */
    for (i = 0; i < count; i++) {
        mqtls_publish msg = {0};
        int n = snprintf(json, sizeof json, "{\"seq\":%d,\"temp_c\":%.1f,\"rh\":%d}", i,
                         21.0 + (i % 7) * 0.3, 40 + i % 11);
        msg.topic = (mqtls_str){"sensors/telemetry-001/env", 25};
        msg.payload = (mqtls_bytes){(const uint8_t *)json, (size_t)n};
        msg.qos = 1;
        ret = mqtls_client_publish(&client, &msg, NULL);
        if (ret != MQTLS_OK)
            fprintf(stderr, "telemetry: publish: %s\n", mqtls_strerror(ret));
        mqtls_client_poll(&client, 100);
        printf("telemetry: sent %d, acknowledged %d  %s\n", i + 1, app.acked, json);
    }

    /* 6. Wait (bounded) for the last acknowledgements, then leave cleanly. */
    for (rounds = 0; rounds < 100 && app.acked < count; rounds++)
        mqtls_client_poll(&client, 100);
    printf("telemetry: %d of %d readings acknowledged\n", app.acked, count);
    mqtls_client_disconnect(&client);
    mqtls_file_store_close(&store);
    mqtls_tls_free(&app.tls);
    mqtls_tls_config_free(&app.tls_cfg);
    return app.acked >= count ? 0 : 1; /* readings left by a crash count too */
}
