/* SPDX-License-Identifier: Apache-2.0 */
/* Crypto that fails: SHA-256 made to fail on demand (ld --wrap around the
 * compat unit's SHA-256 calls, which every other object of tls/ makes, on
 * either mbedTLS version), and every place tls/ hashes must fail closed:
 * no pin from a failed hash, no CA loaded without its fingerprint, no
 * trusted set without its id, no connection without the id its saved
 * sessions are bound to. Run by make faults (in make check, once per
 * mbedTLS version). */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/castore.h"
#include "tls/tls_internal.h" /* the compat unit's calls, the trusted set */
#include "tls/tls_mbedtls.h"

#define CERTS MQTLS_SOURCE_DIR "/build/certs/"

static int sha_fails; /* while set, every SHA-256 call fails */

int __real_mqtls_sha256(const void *data, size_t len, uint8_t out[32]);
int __wrap_mqtls_sha256(const void *data, size_t len, uint8_t out[32]);
int __real_mqtls_sha256_finish(mqtls_sha256_ctx *h, uint8_t out[32]);
int __wrap_mqtls_sha256_finish(mqtls_sha256_ctx *h, uint8_t out[32]);

int __wrap_mqtls_sha256(const void *data, size_t len, uint8_t out[32])
{
    if (sha_fails) {
        memset(out, 0, 32);
        return -1; /* what a failing accelerator makes of it */
    }
    return __real_mqtls_sha256(data, len, out);
}

int __wrap_mqtls_sha256_finish(mqtls_sha256_ctx *h, uint8_t out[32])
{
    int ret = __real_mqtls_sha256_finish(h, out); /* frees h either way */
    if (sha_fails) {
        memset(out, 0, 32);
        return -1;
    }
    return ret;
}

static int passed, failed;

static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    if (f == NULL) {
        printf("faults: cannot open %s (make certs)\n0 passed, 1 failed\n", path);
        exit(1);
    }
    n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void check(int ok, const char *what)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("faults: FAILED: %s\n", what);
    }
}

static unsigned long lower_calls;

static int never_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    (void)ctx;
    (void)buf;
    (void)len;
    (void)timeout_ms;
    lower_calls++;
    return MQTLS_ERR_NET_CLOSED;
}

static int never_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    return never_send(ctx, buf, len, timeout_ms);
}

static void never_close(void *ctx)
{
    (void)ctx;
}

int main(void)
{
    static uint8_t pem[8192];
    size_t len = slurp(CERTS "root-a.crt", pem, sizeof pem);
    uint8_t pin[32], id[32];
    mqtls_castore cas;
    mqtls_tls_config cfg;
    mqtls_tls tls;
    const mqtls_transport lower = {NULL, never_send, never_recv, never_close};

    /* A pin from a hash that failed is no pin. */
    sha_fails = 1;
    check(mqtls_tls_pin_of_cert(pem, len, pin) == MQTLS_ERR_TLS_CRYPTO,
          "mqtls_tls_pin_of_cert reports a failed hash");
    sha_fails = 0;
    check(mqtls_tls_pin_of_cert(pem, len, pin) == MQTLS_OK, "and works when it works");

    /* A CA store slot is not loaded without its fingerprints. */
    mqtls_castore_init(&cas);
    sha_fails = 1;
    check(mqtls_castore_load_file(&cas, MQTLS_CA_ACTIVE, CERTS "bundle-current.pem", 1, NULL) ==
              MQTLS_ERR_TLS_CRYPTO,
          "a CA bundle is refused when its fingerprints cannot be made");
    check(mqtls_castore_count(&cas, MQTLS_CA_ACTIVE) == 0, "and nothing of it is loaded");
    sha_fails = 0;
    check(mqtls_castore_load_file(&cas, MQTLS_CA_ACTIVE, CERTS "bundle-current.pem", 1, NULL) ==
              MQTLS_OK,
          "the bundle loads when hashing works");

    /* No trusted set without its id (sessions are bound to it). */
    check(mqtls_castore_load_file(&cas, MQTLS_CA_STAGED, CERTS "bundle-next.pem", 2, NULL) == MQTLS_OK &&
              mqtls_castore_trust(&cas, MQTLS_TRUST_BOTH) == MQTLS_OK,
          "stage and trust both");
    sha_fails = 1;
    check(mqtls_castore_trusted(&cas, id) == NULL, "no trusted set when its id cannot be made");
    sha_fails = 0;
    check(mqtls_castore_trusted(&cas, id) != NULL, "the trusted set once hashing works");

    /* No connection when the trust id (what saved sessions are bound to)
     * cannot be made: refused before a byte goes out. */
    mqtls_tls_config_init(&cfg);
    check(mqtls_tls_config_setup(&cfg) == MQTLS_OK &&
              mqtls_tls_config_add_ca_file(&cfg, CERTS "root-a.crt", NULL) == MQTLS_OK,
          "config");
    mqtls_tls_init(&tls);
    sha_fails = 1;
    check(mqtls_tls_connect(&tls, &cfg, &lower, "localhost") == MQTLS_ERR_TLS_CRYPTO,
          "connect refuses when the trust id cannot be made");
    sha_fails = 0;
    check(lower_calls == 0, "and sent nothing");
    mqtls_tls_free(&tls);
    mqtls_tls_config_free(&cfg);
    mqtls_castore_free(&cas);

    printf("faults: SHA-256 failing: %d checks\n", passed + failed);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
