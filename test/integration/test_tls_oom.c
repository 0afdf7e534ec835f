/* SPDX-License-Identifier: Apache-2.0 */
/* Out of memory during the TLS set-up: the k-th allocation inside
 * mqtls_tls_connect() fails, for every k it makes before its first I/O,
 * and each time the answer is MQTLS_ERR_TLS_OUT_OF_MEMORY with a reason,
 * not a crash. calloc is interposed (mbedTLS allocates with calloc and has
 * no hook in Debian's build), so this is its own small program.
 * Prints "N passed, N failed". */
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/integration/broker.h"
#include "tls/tls_mbedtls.h"

extern void *__libc_calloc(size_t, size_t);

static long fail_in = -1; /* allocations left before one fails; -1: never */
static long seen;

void *calloc(size_t n, size_t s)
{
    seen++;
    if (fail_in == 0)
        return NULL;
    if (fail_in > 0)
        fail_in--;
    return __libc_calloc(n, s);
}

/* A lower transport that is never reached when set-up fails, and says
 * "nothing yet" otherwise, so the handshake stops at its timeout. */
static int quiet_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    (void)ctx;
    (void)buf;
    (void)timeout_ms;
    return (int)len;
}

static int quiet_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    (void)ctx;
    (void)buf;
    (void)len;
    (void)timeout_ms;
    return 0;
}

int main(void)
{
    mqtls_transport lower = {NULL, quiet_send, quiet_recv, NULL};
    mqtls_tls_config cfg;
    long k, before;
    int passed = 0, failed = 0;

    mqtls_tls_config_init(&cfg);
    if (mqtls_tls_config_setup(&cfg) != MQTLS_OK ||
        mqtls_tls_config_add_ca_file(&cfg, CERTS "root-a.crt", NULL) != MQTLS_OK ||
        mqtls_tls_config_set_handshake_timeout(&cfg, 50) != MQTLS_OK) {
        fprintf(stderr, "setup failed (run make certs)\n");
        return 1;
    }
    /* How many allocations one connect attempt makes (it times out). */
    {
        mqtls_tls tls;
        mqtls_tls_init(&tls);
        before = seen;
        (void)mqtls_tls_connect(&tls, &cfg, &lower, "localhost");
        mqtls_tls_free(&tls);
    }
    for (k = 0; k < 16; k++) {
        mqtls_tls tls;
        int ret;
        mqtls_tls_init(&tls);
        fail_in = k;
        ret = mqtls_tls_connect(&tls, &cfg, &lower, "localhost");
        fail_in = -1;
        if (ret == MQTLS_ERR_TLS_OUT_OF_MEMORY && strstr(mqtls_tls_why(&tls), "memory") != NULL) {
            passed++;
        } else if (ret == MQTLS_ERR_TLS_HANDSHAKE_TIMEOUT && k > 0) {
            /* k is past the set-up's allocations: the handshake ran on. */
            mqtls_tls_free(&tls);
            break;
        } else {
            printf("FAIL: allocation %ld failing gave %s (%s)\n", k, mqtls_errname(ret),
                   mqtls_tls_why(&tls));
            failed++;
        }
        mqtls_tls_free(&tls);
    }
    if (passed == 0)
        failed++;
    mqtls_tls_config_free(&cfg);
    printf("(%ld allocations in one whole connect attempt; the first %d fail cleanly)\n",
           seen > before ? seen - before : 0, passed);
    printf("tls out-of-memory: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
