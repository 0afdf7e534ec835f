/* SPDX-License-Identifier: Apache-2.0 */
/* make bench: full mutual-TLS handshakes (TLS 1.2, ECDSA P-256) to a
 * loopback Mosquitto with our key three ways: key bytes given to the
 * configuration, the same key through the software signer, and a key in
 * a SoftHSM token through PKCS#11 (a token of its own, in a temp dir).
 * Prints p50/p99 per way and "row|..." lines for docs/performance.md.
 * mbedTLS 2.28 (where the signer seam is). Usage: bench_signer [ROUNDS] */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/tcp_posix.h"
#include "test/integration/broker.h"
#include "tls/pkcs11.h"
#include "tls/signer.h"
#include "tls/tls_mbedtls.h"

#define MODULE "/usr/lib/softhsm/libsofthsm2.so"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = 0;
    if (f != NULL) {
        n = fread(buf, 1, cap, f);
        fclose(f);
    }
    return n;
}

/* rounds full handshakes with cfg; p50 and p99 in ms, or -1. */
static int measure(const broker *b, mqtls_tls_config *cfg, int rounds, double *p50, double *p99)
{
    double *t = calloc((size_t)rounds, sizeof *t);
    int i;
    if (t == NULL)
        return -1;
    for (i = 0; i < rounds; i++) {
        mqtls_tcp tcp;
        mqtls_tls tls;
        mqtls_transport lower;
        double t0 = now_ms();
        int ret;
        mqtls_tcp_init(&tcp);
        mqtls_tls_init(&tls);
        if (mqtls_tcp_connect(&tcp, "127.0.0.1", b->port, 3000) != MQTLS_OK) {
            free(t);
            return -1;
        }
        mqtls_tcp_transport(&tcp, &lower);
        ret = mqtls_tls_connect(&tls, cfg, &lower, "localhost");
        t[i] = now_ms() - t0;
        if (ret != MQTLS_OK) {
            fprintf(stderr, "bench_signer: %s\n", mqtls_tls_why(&tls));
            mqtls_tls_free(&tls);
            mqtls_tcp_close(&tcp);
            free(t);
            return -1;
        }
        mqtls_tls_close(&tls);
        mqtls_tls_free(&tls);
    }
    qsort(t, (size_t)rounds, sizeof *t, cmp_double);
    *p50 = t[rounds / 2];
    *p99 = t[(rounds * 99) / 100 < rounds ? (rounds * 99) / 100 : rounds - 1];
    free(t);
    return 0;
}

static int base_config(mqtls_tls_config *cfg)
{
    mqtls_tls_config_init(cfg);
    return mqtls_tls_config_setup(cfg) == MQTLS_OK &&
                   mqtls_tls_config_set_versions(cfg, MQTLS_TLS_1_2) == MQTLS_OK &&
                   mqtls_tls_config_add_ca_file(cfg, CERTS "root-a.crt", NULL) == MQTLS_OK
               ? 0
               : -1;
}

int main(int argc, char **argv)
{
    static uint8_t cert[4096], key[4096], hsm_cert[4096];
    const int rounds = argc > 1 ? atoi(argv[1]) : 30;
    char dir[] = "/tmp/mqtls-bench-p11-XXXXXX", cmd[512], path[256], lines[1024];
    size_t cert_len, key_len, hsm_len;
    mqtls_soft_signer soft;
    mqtls_pkcs11_key p11;
    mqtls_signer s;
    mqtls_tls_config cfg;
    broker b;
    double p50, p99;
    int ret = 1;

    if (rounds < 1 || rounds > 1000) {
        fprintf(stderr, "usage: bench_signer [ROUNDS 1..1000]\n");
        return 2;
    }
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(cmd, sizeof cmd, "sh %s/test/integration/pkcs11_token.sh %s %s", MQTLS_SOURCE_DIR,
             dir, CERTS);
    snprintf(path, sizeof path, "%s/softhsm2.conf", dir);
    if (system(cmd) != 0 || setenv("SOFTHSM2_CONF", path, 1) != 0) {
        fprintf(stderr, "bench_signer: no SoftHSM token\n");
        goto out;
    }
    snprintf(path, sizeof path, "%s/device.crt", dir);
    cert_len = read_file(CERTS "device-001.crt", cert, sizeof cert);
    key_len = read_file(CERTS "device-001.key", key, sizeof key);
    hsm_len = read_file(path, hsm_cert, sizeof hsm_cert);
    broker_tls_lines(lines, sizeof lines, "server-a-chain.pem", "server-a.key", 1);
    if (broker_start(&b, "127.0.0.1", lines) != 0)
        goto out;
    printf("bench_signer: %d full TLS 1.2 handshakes each, %s\n", rounds, mqtls_tls_backend());

    if (base_config(&cfg) != 0 ||
        mqtls_tls_config_set_identity(&cfg, cert, cert_len, key, key_len, NULL) != MQTLS_OK ||
        measure(&b, &cfg, rounds, &p50, &p99) != 0)
        goto stop;
    printf("  key bytes in the configuration  p50 %7.2f ms  p99 %7.2f ms\n", p50, p99);
    printf("row|key bytes (set_identity)|%.2f|%.2f\n", p50, p99);
    mqtls_tls_config_free(&cfg);

    mqtls_soft_signer_init(&soft);
    if (base_config(&cfg) != 0 || mqtls_soft_signer_load(&soft, key, key_len, NULL) != MQTLS_OK ||
        mqtls_soft_signer_interface(&soft, &s) != MQTLS_OK ||
        mqtls_tls_config_set_identity_signer(&cfg, cert, cert_len, &s) != MQTLS_OK ||
        measure(&b, &cfg, rounds, &p50, &p99) != 0)
        goto stop;
    printf("  software signer                 p50 %7.2f ms  p99 %7.2f ms\n", p50, p99);
    printf("row|software signer|%.2f|%.2f\n", p50, p99);
    mqtls_tls_config_free(&cfg);
    mqtls_soft_signer_free(&soft);

    mqtls_pkcs11_init(&p11);
    if (base_config(&cfg) != 0 ||
        mqtls_pkcs11_open(&p11, "pkcs11:token=mqtls;object=device", MODULE, "1234") != MQTLS_OK ||
        mqtls_pkcs11_signer(&p11, &s) != MQTLS_OK ||
        mqtls_tls_config_set_identity_signer(&cfg, hsm_cert, hsm_len, &s) != MQTLS_OK ||
        measure(&b, &cfg, rounds, &p50, &p99) != 0)
        goto stop;
    printf("  PKCS#11 (SoftHSM 2)             p50 %7.2f ms  p99 %7.2f ms\n", p50, p99);
    printf("row|PKCS#11 signer (SoftHSM 2)|%.2f|%.2f\n", p50, p99);
    mqtls_tls_config_free(&cfg);
    mqtls_pkcs11_free(&p11);
    ret = 0;
stop:
    broker_stop(&b);
out:
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        ret = 1;
    return ret;
}
