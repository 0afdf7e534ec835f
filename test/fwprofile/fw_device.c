/* SPDX-License-Identifier: Apache-2.0 */
/* What a device links for MQTT over mutual TLS: the firmware TLS profile's
 * flash measurement (scripts/fwprofile.sh links it for a Cortex-M4 with
 * --gc-sections). A board would supply the transport, the clock, the
 * entropy and the credentials; here they are stand-ins, so that the linker
 * keeps exactly what a real program calls: the TLS configuration from DER
 * certificates and key, a handshake, the client's connect, publish, poll,
 * subscribe and reconnect, and a saved session. Never run. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <mbedtls/memory_buffer_alloc.h>
#if defined(MBEDTLS_PLATFORM_MS_TIME_ALT)
#include <mbedtls/platform_time.h>
#endif

#include "mqtt/client.h"
#include "tls/tls_mbedtls.h"

void fw_device_entry(void);
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen);

/* The board's true random number generator. */
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen)
{
    volatile const uint32_t *trng = (volatile const uint32_t *)0x50060800u;
    size_t i;
    (void)data;
    for (i = 0; i < len; i++)
        output[i] = (unsigned char)*trng;
    *olen = len;
    return 0;
}

extern volatile uint32_t board_ticks;
volatile uint32_t board_ticks;

#if defined(MBEDTLS_PLATFORM_MS_TIME_ALT)
/* mbedTLS 3.6's millisecond clock (TLS 1.3 ticket ages): the board's. */
mbedtls_ms_time_t mbedtls_ms_time(void)
{
    return (mbedtls_ms_time_t)board_ticks;
}
#endif

/* The board's network and clock, as a port would write them. */
static int board_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms);
static int board_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms);
static void board_close(void *ctx);
static uint32_t board_now(void *ctx);

static int board_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    (void)ctx, (void)buf, (void)timeout_ms;
    return (int)len;
}

static int board_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    (void)ctx, (void)buf, (void)len, (void)timeout_ms;
    return 0;
}

static void board_close(void *ctx)
{
    (void)ctx;
}

static uint32_t board_now(void *ctx)
{
    (void)ctx;
    return board_ticks;
}

/* Credentials as DER in flash (a provisioning step writes them). */
extern const uint8_t fw_ca_der[], fw_cert_der[], fw_key_der[];
extern const size_t fw_ca_len, fw_cert_len, fw_key_len;
const uint8_t fw_ca_der[1] = {0}, fw_cert_der[1] = {0}, fw_key_der[1] = {0};
const size_t fw_ca_len = 1, fw_cert_len = 1, fw_key_len = 1;

static unsigned char arena[12 * 1024];
static mqtls_tls_config tls_cfg;
static mqtls_tls tls;
static uint8_t tx[512], rx[512], ring[2048], session[1024];
static uint16_t qos2[8];
static size_t session_len;

static int open_stack(void *ctx, mqtls_transport *out)
{
    mqtls_transport lower = {NULL, board_send, board_recv, board_close};
    int ret;
    (void)ctx;
    mqtls_tls_free(&tls);
    mqtls_tls_init(&tls);
    if (session_len > 0)
        mqtls_tls_session_load(&tls, session, session_len);
    ret = mqtls_tls_connect(&tls, &tls_cfg, &lower, "broker.example");
    if (ret != MQTLS_OK)
        return ret;
    mqtls_tls_session_save(&tls, session, sizeof session, &session_len);
    return mqtls_tls_transport(&tls, out);
}

void fw_device_entry(void)
{
    static mqtls_client c;
    static mqtls_ram_store store;
    mqtls_client_config cfg;
    mqtls_publish msg = {0};
    const mqtls_subscription sub = {{"cmd/dev1", 8}, 1};

    mbedtls_memory_buffer_alloc_init(arena, sizeof arena);
    mqtls_tls_config_init(&tls_cfg);
    mqtls_tls_config_setup(&tls_cfg);
    mqtls_tls_config_add_ca_der(&tls_cfg, fw_ca_der, fw_ca_len);
    mqtls_tls_config_set_identity(&tls_cfg, fw_cert_der, fw_cert_len, fw_key_der, fw_key_len, NULL);
    mqtls_tls_config_set_max_fragment(&tls_cfg, 2048);
    mqtls_tls_config_set_read_ahead(&tls_cfg, 0);
    mqtls_ram_store_init(&store);
    mqtls_ram_store_setup(&store, ring, sizeof ring);
    memset(&cfg, 0, sizeof cfg);
    cfg.connect.client_id = (mqtls_str){"dev1", 4};
    cfg.connect.keepalive_s = 60;
    cfg.tx_buf = tx;
    cfg.tx_cap = sizeof tx;
    cfg.rx_buf = rx;
    cfg.rx_cap = sizeof rx;
    cfg.qos2_ids = qos2;
    cfg.qos2_cap = 8;
    mqtls_ram_store_interface(&store, &cfg.store);
    cfg.clock.now_ms = board_now;
    mqtls_tls_config_set_clock(&tls_cfg, &cfg.clock);
    cfg.open = open_stack;
    cfg.window = 4;
    cfg.reconnect = true;
    mqtls_client_init(&c);
    mqtls_client_setup(&c, &cfg);
    if (mqtls_client_connect(&c, 10000) != MQTLS_OK)
        return;
    mqtls_client_subscribe(&c, &sub, 1, NULL);
    msg.topic = (mqtls_str){"sensors/dev1/t", 14};
    msg.payload = (mqtls_bytes){(const uint8_t *)"21.5", 4};
    msg.qos = 1;
    for (;;) {
        mqtls_client_publish(&c, &msg, NULL);
        mqtls_client_poll(&c, 1000);
    }
}
