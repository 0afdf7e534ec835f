/* SPDX-License-Identifier: Apache-2.0 */
/* A program built out of tree against an installed mqtls (pkg-config) or
 * with CMake's add_subdirectory: connects to a broker over mutual TLS,
 * publishes one QoS 1 message and waits for its PUBACK.
 *
 *   consumer PORT CERTS_DIR       (broker on 127.0.0.1, name localhost)
 *
 * Exit status 0 when the broker acknowledged the message. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mqtls/mqtt/client.h>
#include <mqtls/net/clock_posix.h>
#include <mqtls/net/tcp_posix.h>
#include <mqtls/tls/tls_mbedtls.h>

static mqtls_tls_config tls_cfg;
static mqtls_tls tls;
static mqtls_tcp tcp;
static uint16_t port;

static int open_stack(void *ctx, mqtls_transport *out)
{
    mqtls_transport lower;
    int ret;
    (void)ctx;
    mqtls_tls_free(&tls);
    mqtls_tls_init(&tls);
    if ((ret = mqtls_tcp_connect(&tcp, "127.0.0.1", port, 5000)) != MQTLS_OK)
        return ret;
    mqtls_tcp_transport(&tcp, &lower);
    if ((ret = mqtls_tls_connect(&tls, &tls_cfg, &lower, "localhost")) != MQTLS_OK) {
        fprintf(stderr, "consumer: %s\n", mqtls_tls_why(&tls));
        mqtls_tcp_close(&tcp);
        return ret;
    }
    return mqtls_tls_transport(&tls, out);
}

int main(int argc, char **argv)
{
    static uint8_t tx[512], rx[512], ring[2048];
    static uint16_t qos2[4];
    char ca[256], crt[256], key[256];
    mqtls_ram_store store;
    mqtls_client_config cfg = {0};
    mqtls_client c;
    mqtls_publish msg = {0};
    int ret;

    if (argc != 3)
        return 2;
    port = (uint16_t)atoi(argv[1]);
    snprintf(ca, sizeof ca, "%s/root-a.crt", argv[2]);
    snprintf(crt, sizeof crt, "%s/device-001.crt", argv[2]);
    snprintf(key, sizeof key, "%s/device-001.key", argv[2]);
    mqtls_tls_config_init(&tls_cfg);
    if (mqtls_tls_config_setup(&tls_cfg) != MQTLS_OK ||
        mqtls_tls_config_add_ca_file(&tls_cfg, ca, NULL) != MQTLS_OK ||
        mqtls_tls_config_set_identity_files(&tls_cfg, crt, key, NULL) != MQTLS_OK)
        return 1;
    mqtls_ram_store_init(&store);
    mqtls_ram_store_setup(&store, ring, sizeof ring);
    cfg.connect.client_id = (mqtls_str){"consumer", 8};
    cfg.connect.clean_session = true;
    cfg.tx_buf = tx;
    cfg.tx_cap = sizeof tx;
    cfg.rx_buf = rx;
    cfg.rx_cap = sizeof rx;
    cfg.qos2_ids = qos2;
    cfg.qos2_cap = 4;
    mqtls_ram_store_interface(&store, &cfg.store);
    mqtls_clock_posix(&cfg.clock);
    cfg.open = open_stack;
    mqtls_client_init(&c);
    if ((ret = mqtls_client_setup(&c, &cfg)) != MQTLS_OK ||
        (ret = mqtls_client_connect(&c, 5000)) != MQTLS_OK) {
        fprintf(stderr, "consumer: connect: %s\n", mqtls_strerror(ret));
        return 1;
    }
    msg.topic = (mqtls_str){"consumer/hello", 14};
    msg.payload = (mqtls_bytes){(const uint8_t *)"hi", 2};
    msg.qos = 1;
    ret = mqtls_client_publish_wait(&c, &msg, 5000);
    printf("consumer: %s\n", ret == MQTLS_OK ? "published, acknowledged" : mqtls_strerror(ret));
    mqtls_client_disconnect(&c);
    mqtls_tls_free(&tls);
    mqtls_tls_config_free(&tls_cfg);
    return ret == MQTLS_OK ? 0 : 1;
}
