/* SPDX-License-Identifier: Apache-2.0 */
/* first: publish one reading over mutual TLS and wait for its PUBACK. */
#include <stdio.h>
#include <stdlib.h>
#include <mqtls/mqtt/client.h>
#include <mqtls/net/clock_posix.h>
#include <mqtls/tls/tcp_tls.h>

int main(int argc, char **argv)
{
    static uint8_t tx[256], rx[256], ring[1024];
    static uint16_t qos2[4];
    mqtls_tls_config tls_cfg;
    mqtls_tcp_tls net;      /* TCP + TLS, rebuilt on every (re)connect */
    mqtls_ram_store store;  /* QoS 1/2 messages until acknowledged */
    mqtls_client c;
    mqtls_client_config cfg = {.tx_buf = tx, .tx_cap = sizeof tx, .rx_buf = rx,
                               .rx_cap = sizeof rx, .qos2_ids = qos2, .qos2_cap = 4,
                               .open = mqtls_tcp_tls_open, .open_ctx = &net,
                               .connect = {.client_id = {"first", 5}, .clean_session = true}};
    mqtls_publish msg = {.topic = {"sensors/first/temp", 18}, .qos = 1,
                         .payload = {(const uint8_t *)"21.5", 4}};
    int ret;
    mqtls_tls_config_init(&tls_cfg);
    mqtls_tls_config_setup(&tls_cfg);
    mqtls_tls_config_add_ca_file(&tls_cfg, "build/certs/root-a.crt", NULL);
    mqtls_tls_config_set_identity_files(&tls_cfg, "build/certs/device-001.crt",
                                        "build/certs/device-001.key", NULL);
    mqtls_tcp_tls_init(&net, &tls_cfg, "localhost", (uint16_t)(argc > 1 ? atoi(argv[1]) : 8883));
    mqtls_ram_store_init(&store);
    mqtls_ram_store_setup(&store, ring, sizeof ring);
    mqtls_ram_store_interface(&store, &cfg.store);
    mqtls_clock_posix(&cfg.clock);
    mqtls_client_init(&c);
    mqtls_client_setup(&c, &cfg);
    if ((ret = mqtls_client_connect(&c, 5000)) == MQTLS_OK)
        ret = mqtls_client_publish_wait(&c, &msg, 5000);  /* QoS 1: until PUBACK */
    printf("first: %s %s\n", mqtls_strerror(ret), mqtls_tls_why(&net.tls));
    mqtls_client_disconnect(&c);
    mqtls_tcp_tls_free(&net);
    mqtls_tls_config_free(&tls_cfg);  /* wipes the private key */
    return ret == MQTLS_OK ? 0 : 1;
}
