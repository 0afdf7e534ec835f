/* SPDX-License-Identifier: Apache-2.0 */
/* telemetry: a sensor loop publishing JSON readings at QoS 1 over mutual
 * TLS, through the file store (a reading promised survives a crash),
 * reconnecting by itself when the broker goes away, with a one-line status
 * every second.
 *
 *   telemetry PORT CERTS_DIR [COUNT [INTERVAL_MS]]
 *       broker on 127.0.0.1 (name localhost); COUNT readings (10), one every
 *       INTERVAL_MS (250)
 *
 * Exit status 0 when all COUNT readings were acknowledged by the broker
 * (readings a crashed earlier run left in the journal are resent first). */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mqtls/mqtt/client.h>
#include <mqtls/mqtt/posix/store_file.h>
#include <mqtls/net/clock_posix.h>
#include <mqtls/tls/tcp_tls.h>

static struct {
    mqtls_tls_config tls_cfg;
    mqtls_tcp_tls net; /* client -> TLS -> TCP, rebuilt on every (re)connect */
    uint16_t port;
    int acked;
    int lost_reason; /* why the connection is down, or 0 */
} app;

static void on_delivered(void *ctx, uint16_t packet_id)
{
    (void)ctx;
    (void)packet_id;
    app.acked++;
}

static void on_closed(void *ctx, int reason)
{
    (void)ctx;
    if (reason == MQTLS_OK)
        return; /* our own disconnect() */
    app.lost_reason = reason;
    fprintf(stderr, "telemetry: connection ended: %s; reconnecting\n", mqtls_strerror(reason));
    if (app.net.last_error != MQTLS_OK && mqtls_tls_why(&app.net.tls)[0] != '\0')
        fprintf(stderr, "telemetry: TLS: %s\n", mqtls_tls_why(&app.net.tls));
}

static void on_connected(void *ctx, bool session_present)
{
    (void)ctx;
    (void)session_present;
    if (app.lost_reason != 0)
        fprintf(stderr, "telemetry: reconnected\n");
    app.lost_reason = 0;
}

/* One line a second: state, readings sent, acknowledged, still stored. */
static void status(const mqtls_client *c, const mqtls_file_store *store, int sent)
{
    printf("telemetry: %s, sent %d, acknowledged %d, waiting in the journal %u\n",
           c->state == MQTLS_CLIENT_CONNECTED ? "connected" : "reconnecting", sent, app.acked,
           (unsigned)mqtls_ram_store_count(&store->ram));
    fflush(stdout);
}

int main(int argc, char **argv)
{
    static uint8_t tx[512], rx[512], ring[8192];
    static uint16_t qos2[8];
    char path[512], cert[512], key[512], json[128];
    mqtls_file_store store;
    mqtls_client_config cfg;
    mqtls_client client;
    int count = argc > 3 ? atoi(argv[3]) : 10, interval = argc > 4 ? atoi(argv[4]) : 250;
    int i = 0, ret, rounds;
    uint32_t next_reading, next_status;

    if (argc < 3 || count < 1 || count > 100000 || interval < 1 || interval > 60000) {
        fprintf(stderr, "usage: telemetry PORT CERTS_DIR [COUNT [INTERVAL_MS]]\n");
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
    mqtls_tcp_tls_init(&app.net, &app.tls_cfg, "127.0.0.1", app.port);
    app.net.tls_name = "localhost";
    cfg.open = mqtls_tcp_tls_open;
    cfg.open_ctx = &app.net;
    cfg.events.publish_acked = on_delivered;
    cfg.events.closed = on_closed;
    cfg.events.connected = on_connected;
    cfg.backoff_seed = (uint32_t)getpid();
    cfg.window = 20;
    cfg.reconnect = true;
    mqtls_client_init(&client);
    if ((ret = mqtls_client_setup(&client, &cfg)) != MQTLS_OK) {
        fprintf(stderr, "telemetry: client setup: %s\n", mqtls_strerror(ret));
        return 1;
    }

    /* 4. Connect: TCP, TLS handshake, CONNECT, CONNACK. */
    if ((ret = mqtls_client_connect(&client, 10000)) != MQTLS_OK) {
        fprintf(stderr, "telemetry: connect: %s %s\n", mqtls_strerror(ret),
                mqtls_tls_why(&app.net.tls));
        return 1;
    }
    printf("telemetry: connected to 127.0.0.1:%u over mutual TLS (CA %s)\n",
           (unsigned)app.port, mqtls_tls_get_report(&app.net.tls)->ca_subject);

    /* 5. The sensor loop: a reading every interval, published at QoS 1 into
     * the journal (connected or not: the client sends it when it can), and
     * poll in between; poll also reconnects, with backoff, after a drop. */
    next_reading = next_status = cfg.clock.now_ms(cfg.clock.ctx);
    for (rounds = 0; rounds < 10000000 && (i < count || (app.acked < count &&
                                                         mqtls_ram_store_count(&store.ram) > 0));
         rounds++) {
        uint32_t now = cfg.clock.now_ms(cfg.clock.ctx);
        if (i < count && (int32_t)(now - next_reading) >= 0) {
            mqtls_publish msg = {0};
            int n = snprintf(json, sizeof json, "{\"seq\":%d,\"temp_c\":%.1f,\"rh\":%d}", i,
                             21.0 + (i % 7) * 0.3, 40 + i % 11);
            msg.topic = (mqtls_str){"sensors/telemetry-001/env", 25};
            msg.payload = (mqtls_bytes){(const uint8_t *)json, (size_t)n};
            msg.qos = 1;
            ret = mqtls_client_publish(&client, &msg, NULL);
            if (ret == MQTLS_OK)
                i++;
            else /* the journal is full while the broker is away: try later */
                fprintf(stderr, "telemetry: publish: %s\n", mqtls_strerror(ret));
            next_reading += (uint32_t)interval;
        }
        if ((int32_t)(now - next_status) >= 0) {
            status(&client, &store, i);
            next_status += 1000;
        }
        mqtls_client_poll(&client, 20);
        if (i >= count && rounds > 0 && (int32_t)(now - next_reading) > 30000)
            break; /* 30 s after the last reading without the last acknowledgement */
    }
    status(&client, &store, i);
    printf("telemetry: %d of %d readings acknowledged\n", app.acked, count);
    mqtls_client_disconnect(&client);
    mqtls_file_store_close(&store);
    mqtls_tcp_tls_free(&app.net);
    mqtls_tls_config_free(&app.tls_cfg);
    return app.acked >= count ? 0 : 1; /* readings left by a crash count too */
}
