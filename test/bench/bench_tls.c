/* SPDX-License-Identifier: Apache-2.0 */
/* TLS figures against a local Mosquitto with mutual TLS (ECDSA P-256):
 *  - heap one session holds at the handshake's peak and at rest, with and
 *    without a 2048-byte maximum fragment length, counted by interposing
 *    the allocator (Debian's mbedTLS has no memory hooks);
 *  - full and resumed connect times (TCP connect + TLS handshake), median
 *    and 90th percentile of ROUNDS each.
 * Figures only: nothing here passes or fails on speed.
 * Usage: bench_tls [ROUNDS]  (default 30, at most 1000) */
#define _GNU_SOURCE /* malloc_usable_size, __libc_* (glibc) */

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/version.h>

#include "net/clock_posix.h"
#include "net/tcp_posix.h"
#include "test/integration/broker.h"
#include "tls/tls_mbedtls.h"

/* ---- counting allocator ---------------------------------------------------- */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static size_t heap_now, heap_peak;

static void *counted(void *p)
{
    if (p != NULL) {
        heap_now += malloc_usable_size(p);
        if (heap_now > heap_peak)
            heap_peak = heap_now;
    }
    return p;
}

void *malloc(size_t n)
{
    return counted(__libc_malloc(n));
}

void *calloc(size_t n, size_t s)
{
    return counted(__libc_calloc(n, s));
}

void *realloc(void *p, size_t n)
{
    if (p != NULL)
        heap_now -= malloc_usable_size(p);
    return counted(__libc_realloc(p, n));
}

void free(void *p)
{
    if (p != NULL)
        heap_now -= malloc_usable_size(p);
    __libc_free(p);
}

/* ---- helpers ------------------------------------------------------------------ */

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

static int setup_config(mqtls_tls_config *cfg, unsigned mfl)
{
    size_t bad;
    mqtls_tls_config_init(cfg);
    if (mqtls_tls_config_setup(cfg) != MQTLS_OK ||
        mqtls_tls_config_add_ca_file(cfg, CERTS "bundle-current.pem", &bad) != MQTLS_OK ||
        mqtls_tls_config_set_identity_files(cfg, CERTS "device-001.crt", CERTS "device-001.key",
                                            NULL) != MQTLS_OK ||
        mqtls_tls_config_set_max_fragment(cfg, mfl) != MQTLS_OK)
        return -1;
    return 0;
}

/* One connect: TCP, then TLS (offering saved if len > 0). */
static int connect_once(const broker *b, mqtls_tls_config *cfg, mqtls_tcp *tcp, mqtls_tls *tls,
                        const uint8_t *saved, size_t len)
{
    mqtls_transport lower;
    int ret;

    mqtls_tcp_init(tcp);
    mqtls_tls_init(tls);
    if (len > 0 && mqtls_tls_session_load(tls, saved, len) != MQTLS_OK)
        return -1;
    if (mqtls_tcp_connect(tcp, "127.0.0.1", b->port, 3000) != MQTLS_OK)
        return -1;
    mqtls_tcp_transport(tcp, &lower);
    ret = mqtls_tls_connect(tls, cfg, &lower, "localhost");
    if (ret != MQTLS_OK) {
        fprintf(stderr, "handshake: %s\n", mqtls_tls_why(tls));
        return -1;
    }
    return 0;
}

static void disconnect(mqtls_tls *tls, mqtls_tcp *tcp)
{
    mqtls_tls_close(tls);
    mqtls_tls_free(tls);
    mqtls_tcp_close(tcp);
}

/* Heap of one session: peak during the handshake, and held after it. */
static int heap_figures(const broker *b, unsigned mfl)
{
    mqtls_tls_config cfg;
    mqtls_tcp tcp;
    mqtls_tls tls;
    size_t base_cfg, base, peak, rest;

    base_cfg = heap_now;
    if (setup_config(&cfg, mfl) != 0)
        return -1;
    mqtls_tcp_init(&tcp);
    mqtls_tls_init(&tls);
    if (mqtls_tcp_connect(&tcp, "127.0.0.1", b->port, 3000) != MQTLS_OK)
        return -1;
    base = heap_now;
    heap_peak = heap_now;
    {
        mqtls_transport lower;
        mqtls_tcp_transport(&tcp, &lower);
        if (mqtls_tls_connect(&tls, &cfg, &lower, "localhost") != MQTLS_OK) {
            fprintf(stderr, "handshake: %s\n", mqtls_tls_why(&tls));
            return -1;
        }
    }
    peak = heap_peak - base;
    rest = heap_now - base;
    printf("  max fragment %-5s  config (CA, key, DRBG) %6zu B   session peak %6zu B   "
           "session at rest %6zu B   (negotiated %d)\n",
           mfl ? (mfl == 2048 ? "2048" : "?") : "none", base - base_cfg, peak, rest,
           mqtls_tls_max_fragment(&tls));
    disconnect(&tls, &tcp);
    mqtls_tls_config_free(&cfg);
    return 0;
}

static void report(const char *what, double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    printf("  %-34s median %7.2f ms   p90 %7.2f ms   min %7.2f ms   (%d rounds)\n", what,
           t[n / 2], t[(n * 9) / 10 < n ? (n * 9) / 10 : n - 1], t[0], n);
}

int main(int argc, char **argv)
{
    static double full[1000], resumed[1000];
    char lines[1024];
    uint8_t saved[4096];
    size_t saved_len = 0;
    mqtls_tls_config cfg;
    mqtls_tcp tcp;
    mqtls_tls tls;
    broker b;
    int rounds = argc > 1 ? atoi(argv[1]) : 30, i, ok = 0;

    if (rounds < 1 || rounds > 1000) {
        fprintf(stderr, "usage: bench_tls [ROUNDS 1..1000]\n");
        return 2;
    }
    broker_tls_lines(lines, sizeof lines, "server-a-chain.pem", "server-a.key", 1);
    if (broker_start(&b, "127.0.0.1", lines) != 0)
        return 1;
    printf("TLS figures: mosquitto on 127.0.0.1, mutual TLS, ECDSA P-256, mbedTLS %s\n",
           MBEDTLS_VERSION_STRING);
    printf("heap (allocator interposition; mbedTLS allocates, the MQTT layer does not):\n");
    if (heap_figures(&b, 0) != 0 || heap_figures(&b, 2048) != 0)
        goto out;

    if (setup_config(&cfg, 0) != 0)
        goto out;
    for (i = 0; i < rounds; i++) {
        double t0 = now_ms();
        if (connect_once(&b, &cfg, &tcp, &tls, NULL, 0) != 0)
            goto out_cfg;
        full[i] = now_ms() - t0;
        if (i == 0 && mqtls_tls_session_save(&tls, saved, sizeof saved, &saved_len) != MQTLS_OK)
            goto out_cfg;
        disconnect(&tls, &tcp);
    }
    for (i = 0; i < rounds; i++) {
        double t0 = now_ms();
        if (connect_once(&b, &cfg, &tcp, &tls, saved, saved_len) != 0)
            goto out_cfg;
        resumed[i] = now_ms() - t0;
        if (!tls.resumed) {
            fprintf(stderr, "round %d did not resume\n", i);
            goto out_cfg;
        }
        disconnect(&tls, &tcp);
    }
    printf("connect time (TCP connect + TLS handshake, TCP_NODELAY):\n");
    report("full mutual-TLS handshake", full, rounds);
    report("resumed session (saved bytes)", resumed, rounds);
    printf("  saved session: %zu bytes\n", saved_len);
    ok = 1;
out_cfg:
    mqtls_tls_config_free(&cfg);
out:
    broker_stop(&b);
    return ok ? 0 : 1;
}
