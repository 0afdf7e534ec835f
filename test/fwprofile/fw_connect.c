/* SPDX-License-Identifier: Apache-2.0 */
/* The firmware TLS profile's measurement (scripts/fwprofile.sh): mqtls with
 * a device-configured mbedTLS (test/fwprofile/), built for 32-bit ARM and
 * run under qemu-arm, against a loopback Mosquitto with mutual TLS:
 *   connect (full handshake), publish one QoS 1 message and wait for its
 *   PUBACK (on TLS 1.3 the session ticket comes meanwhile), save the
 *   session, disconnect; connect again resuming it, publish, disconnect.
 * Every byte mbedTLS allocates comes from one arena
 * (MBEDTLS_MEMORY_BUFFER_ALLOC_C); the whole run happens on a thread
 * whose stack was painted first, so the stack used is read off it. The
 * two TCP connections are opened beforehand on the main thread: the host's
 * resolver and socket calls are not what a device's stack pays for.
 *
 *   fw_connect PORT CERTS_DIR VERSION MFL
 * VERSION: 12 or 13 (pinned); MFL: a maximum fragment length, or 0.
 * Prints the figures; exit status 0 when both rounds were acknowledged. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/memory_buffer_alloc.h>
#include <mbedtls/platform.h>

#include "mqtt/client.h"
#include "net/clock_posix.h"
#include "net/tcp_posix.h"
#include "tls/tls_mbedtls.h"

#define ARENA (96u * 1024u)
#define STACK (256u * 1024u)
#define PAINT 0xA5

static unsigned char arena[ARENA];
static unsigned char stack_area[STACK] __attribute__((aligned(64)));

/* The TLS stack over the pre-opened sockets, one per connect. */
static mqtls_tls_config tls_cfg;
static mqtls_tls tls;
static mqtls_tcp tcps[2];
static int next_tcp;
static uint8_t session[2048];
static size_t session_len;

static int open_stack(void *ctx, mqtls_transport *out)
{
    mqtls_transport lower;
    int ret;
    (void)ctx;
    if (next_tcp >= 2)
        return MQTLS_ERR_NET_REFUSED;
    mqtls_tls_free(&tls);
    mqtls_tls_init(&tls);
    if (session_len > 0 && mqtls_tls_session_load(&tls, session, session_len) != MQTLS_OK)
        return MQTLS_ERR_TLS_BAD_SESSION;
    mqtls_tcp_transport(&tcps[next_tcp++], &lower);
    ret = mqtls_tls_connect(&tls, &tls_cfg, &lower, "localhost");
    return ret == MQTLS_OK ? mqtls_tls_transport(&tls, out) : ret;
}

static struct {
    uint16_t port;
    const char *certs;
    unsigned version, mfl;
    size_t heap_config, heap_peak_handshake, heap_connected, heap_after_close;
    size_t heap_resumed_peak, session_len;
    int negotiated_mfl, resumed, ok;
    unsigned got_version;
    double ms_full, ms_resumed;
} r;

static size_t heap_now(void)
{
    size_t used, blocks;
    mbedtls_memory_buffer_alloc_cur_get(&used, &blocks);
    return used;
}

static size_t heap_peak(void)
{
    size_t used, blocks;
    mbedtls_memory_buffer_alloc_max_get(&used, &blocks);
    return used;
}

static int round_trip(mqtls_client *c, const char *what)
{
    mqtls_publish m = {0};
    m.topic = (mqtls_str){"fw/profile", 10};
    m.payload = (mqtls_bytes){(const uint8_t *)what, strlen(what)};
    m.qos = 1;
    return mqtls_client_publish_wait(c, &m, 5000);
}

static void *run(void *unused)
{
    static uint8_t tx[512], rx[512], ring[2048];
    static uint16_t qos2[4];
    char ca[256], crt[256], key[256];
    mqtls_ram_store store;
    mqtls_client_config cfg;
    mqtls_client c;
    size_t base;
    int ret;

    (void)unused;
    snprintf(ca, sizeof ca, "%s/root-a.crt", r.certs);
    snprintf(crt, sizeof crt, "%s/device-001.crt", r.certs);
    snprintf(key, sizeof key, "%s/device-001.key", r.certs);
    mqtls_tls_config_init(&tls_cfg);
    if (mqtls_tls_config_setup(&tls_cfg) != MQTLS_OK ||
        mqtls_tls_config_add_ca_file(&tls_cfg, ca, NULL) != MQTLS_OK ||
        mqtls_tls_config_set_identity_files(&tls_cfg, crt, key, NULL) != MQTLS_OK ||
        mqtls_tls_config_set_versions(&tls_cfg, r.version == 13 ? MQTLS_TLS_1_3 : MQTLS_TLS_1_2) !=
            MQTLS_OK ||
        mqtls_tls_config_set_max_fragment(&tls_cfg, r.mfl) != MQTLS_OK ||
        mqtls_tls_config_set_read_ahead(&tls_cfg, 0) != MQTLS_OK) {
        fprintf(stderr, "fw_connect: TLS configuration failed\n");
        return NULL;
    }
    mqtls_ram_store_init(&store);
    mqtls_ram_store_setup(&store, ring, sizeof ring);
    memset(&cfg, 0, sizeof cfg);
    cfg.connect.client_id = (mqtls_str){"fw-profile", 10};
    cfg.connect.clean_session = true;
    cfg.connect.keepalive_s = 60;
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
    mqtls_client_setup(&c, &cfg);

    /* The configuration (CA, our certificate and key, DRBG) is held for
     * the device's life: measured apart from a session. */
    base = heap_now();
    r.heap_config = base;
    ret = mqtls_client_connect(&c, 10000);
    if (ret != MQTLS_OK) {
        fprintf(stderr, "fw_connect: connect: %s %s\n", mqtls_strerror(ret), mqtls_tls_why(&tls));
        return NULL;
    }
    r.heap_peak_handshake = heap_peak() - base;
    r.heap_connected = heap_now() - base;
    r.negotiated_mfl = mqtls_tls_max_fragment(&tls);
    r.got_version = mqtls_tls_get_report(&tls)->version;
    if (round_trip(&c, "full") != MQTLS_OK)
        return NULL;
    r.heap_connected = heap_now() - base > r.heap_connected ? heap_now() - base : r.heap_connected;
    /* After a read: on TLS 1.3 the ticket has come with the PUBACK. */
    if (mqtls_tls_session_save(&tls, session, sizeof session, &session_len) != MQTLS_OK) {
        fprintf(stderr, "fw_connect: no session to save\n");
        return NULL;
    }
    r.session_len = session_len;
    mqtls_client_disconnect(&c);
    mqtls_tls_free(&tls);
    r.heap_after_close = heap_now() - base;

    /* Resumed: no certificate exchange, no ECDSA (TLS 1.3 still does an
     * ECDHE). Its own peak, from what the configuration holds. */
    mbedtls_memory_buffer_alloc_max_reset();
    ret = mqtls_client_connect(&c, 10000);
    r.heap_resumed_peak = heap_peak() - base;
    if (ret != MQTLS_OK || !mqtls_tls_get_report(&tls)->resumed || round_trip(&c, "resumed") != MQTLS_OK) {
        fprintf(stderr, "fw_connect: resumed connect: %s (resumed %d)\n", mqtls_strerror(ret),
                mqtls_tls_get_report(&tls)->resumed);
        return NULL;
    }
    r.resumed = 1;
    mqtls_client_disconnect(&c);
    mqtls_tls_free(&tls);
    mqtls_tls_config_free(&tls_cfg);
    r.ok = 1;
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_attr_t attr;
    pthread_t th;
    size_t used_stack = 0, i;

    if (argc != 5)
        return 2;
    r.port = (uint16_t)atoi(argv[1]);
    r.certs = argv[2];
    r.version = (unsigned)atoi(argv[3]);
    r.mfl = (unsigned)atoi(argv[4]);
    mbedtls_memory_buffer_alloc_init(arena, sizeof arena);
    for (i = 0; i < 2; i++) {
        mqtls_tcp_init(&tcps[i]);
        if (mqtls_tcp_connect(&tcps[i], "127.0.0.1", r.port, 5000) != MQTLS_OK) {
            fprintf(stderr, "fw_connect: no broker on port %u\n", (unsigned)r.port);
            return 1;
        }
    }
    memset(stack_area, PAINT, sizeof stack_area);
    pthread_attr_init(&attr);
    if (pthread_attr_setstack(&attr, stack_area, sizeof stack_area) != 0 ||
        pthread_create(&th, &attr, run, NULL) != 0 || pthread_join(th, NULL) != 0) {
        fprintf(stderr, "fw_connect: no thread\n");
        return 1;
    }
    /* The stack grows down from the top: the first unpainted byte from the
     * bottom marks the deepest point reached. */
    for (i = 0; i < sizeof stack_area && stack_area[i] == PAINT; i++)
        ;
    used_stack = sizeof stack_area - i;
    printf("%s, TLS 1.%u%s, %u-bit build, arena %u bytes\n", mqtls_tls_backend(), r.version - 10,
           r.mfl ? " with a maximum fragment length" : "", (unsigned)(sizeof(void *) * 8),
           (unsigned)ARENA);
    if (!r.ok) {
        printf("  FAILED\n");
        return 1;
    }
    printf("  configuration (CA, our certificate and key, DRBG), held  %6u bytes\n",
           (unsigned)r.heap_config);
    printf("  session: peak during the full handshake                 %6u bytes\n",
           (unsigned)r.heap_peak_handshake);
    printf("  session: held while connected                           %6u bytes\n",
           (unsigned)r.heap_connected);
    printf("  session: left after disconnect                          %6u bytes\n",
           (unsigned)r.heap_after_close);
    printf("  session: peak during the resumed handshake              %6u bytes\n",
           (unsigned)r.heap_resumed_peak);
    printf("  total peak, configuration + session (arena needed)      %6u bytes\n",
           (unsigned)(r.heap_config + r.heap_peak_handshake));
    printf("  total held while connected                              %6u bytes\n",
           (unsigned)(r.heap_config + r.heap_connected));
    printf("  stack used (MQTT + TLS, painted thread stack)           %6u bytes\n",
           (unsigned)used_stack);
    printf("  version agreed                                          TLS 1.%u\n",
           r.got_version - 10);
    printf("  record payload we may send                              %6d bytes\n",
           r.negotiated_mfl);
    printf("  saved session                                           %6u bytes, resumed: %s\n",
           (unsigned)r.session_len, r.resumed ? "yes" : "no");
    return 0;
}
