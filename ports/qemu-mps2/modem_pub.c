/* SPDX-License-Identifier: Apache-2.0 */
/* Firmware: the mqtls client on the emulated Cortex-M4, reaching the
 * broker through the AT modem on UART0, its QoS 1 messages in the flash
 * message store. Reads "host:port count" from device.cfg on the host,
 * publishes readings seq = 1..count to mps2/telemetry (continuing after
 * the last one a previous boot stored), waits until every one is
 * acknowledged, hangs up and exits 0. Plain MQTT: TLS on the device comes
 * with the mbedTLS device build. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt/client.h"
#include "mqtt/store_flash.h"
#include "ports/qemu-mps2/board.h"
#include "ports/qemu-mps2/flash_semihost.h"
#include "ports/qemu-mps2/modem.h"
#include "ports/qemu-mps2/semihost.h"

static uint8_t tx[512], rx[256], packet[128];
static mqtls_flash_store_slot slots[64];
static mqtls_flash_store_sector sectors[4];
static mqtls_client client;
static modem mdm;
static char target[64];

static int open_modem(void *ctx, mqtls_transport *out)
{
    int ret = modem_dial(ctx, target, 10000);
    if (ret == MQTLS_OK)
        modem_transport(ctx, out);
    return ret;
}

static void say(const char *what, int ret)
{
    char line[160];
    snprintf(line, sizeof line, "mps2: %s: %s\n", what, mqtls_strerror(ret));
    sh_puts(line);
}

int main(void)
{
    modem_line line;
    mqtls_client_config cfg;
    mps2_flash mf;
    mqtls_flash fl;
    mqtls_flash_store fs;
    char text[96];
    long count = 0;
    unsigned rounds;
    int fd, ret, n;

    board_init();
    board_modem_line(&line);
    fd = sh_open("device.cfg", "rb");
    memset(text, 0, sizeof text);
    if (fd < 0 || (n = (int)sh_flen(fd)) <= 0 || n >= (int)sizeof text ||
        sh_read(fd, text, (size_t)n) != 0 || sscanf(text, "%63s %ld", target, &count) != 2)
        return 10;
    (void)sh_close(fd);
    if (mps2_flash_open(&mf, "device.flash", 1024, 4, 8, &fl) != MQTLS_OK ||
        mqtls_flash_store_mount(&fs, &fl, slots, 64, sectors, packet, sizeof packet) != MQTLS_OK)
        return 11;
    modem_init(&mdm, &line);
    memset(&cfg, 0, sizeof cfg);
    cfg.connect.client_id = (mqtls_str){"mps2-dev", 8};
    cfg.connect.keepalive_s = 30;
    cfg.tx_buf = tx;
    cfg.tx_cap = sizeof tx;
    cfg.rx_buf = rx;
    cfg.rx_cap = sizeof rx;
    board_clock(&cfg.clock);
    cfg.open = open_modem;
    cfg.open_ctx = &mdm;
    cfg.window = 4;
    (void)mqtls_flash_store_interface(&fs, &cfg.store);
    mqtls_client_init(&client);
    if ((ret = mqtls_client_setup(&client, &cfg)) != MQTLS_OK ||
        (ret = mqtls_client_connect(&client, 10000)) != MQTLS_OK) {
        say("connect", ret);
        return 12;
    }
    for (n = 1; n <= count; n++) {
        mqtls_publish msg;
        memset(&msg, 0, sizeof msg);
        snprintf(text, sizeof text, "%d", n);
        msg.topic = (mqtls_str){"mps2/telemetry", 14};
        msg.payload = (mqtls_bytes){(const uint8_t *)text, strlen(text)};
        msg.qos = 1;
        if ((ret = mqtls_client_publish(&client, &msg, NULL)) != MQTLS_OK) {
            say("publish", ret);
            return 13;
        }
        (void)mqtls_client_poll(&client, 0);
    }
    for (rounds = 0; rounds < 2000 && mqtls_flash_store_count(&fs) != 0; rounds++)
        (void)mqtls_client_poll(&client, 10);
    ret = mqtls_flash_store_count(&fs) == 0 ? MQTLS_OK : MQTLS_ERR_NET_TIMEOUT;
    say("all acknowledged", ret);
    (void)mqtls_client_disconnect(&client);
    snprintf(text, sizeof text, "mps2: published %ld over the modem, stack %u bytes\n", count,
             (unsigned)board_stack_high_water());
    sh_puts(text);
    return ret == MQTLS_OK ? 0 : 14;
}
