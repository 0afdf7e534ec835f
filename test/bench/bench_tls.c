/* SPDX-License-Identifier: Apache-2.0 */
/* TLS figures against a local Mosquitto with mutual TLS (ECDSA P-256):
 *  - heap one session holds at the handshake's peak and at rest, with and
 *    without a 2048-byte maximum fragment length, counted by interposing
 *    the allocator (Debian's mbedTLS has no memory hooks);
 *  - full and resumed connect times (TCP connect + TLS handshake), median
 *    and 99th percentile of ROUNDS each;
 * once per TLS version the mbedTLS it is built with speaks (1.2; 1.3 too
 * with 3.6). The last lines ("row|...") are one table row per version,
 * which make bench gathers from both builds into docs/performance.md.
 * Figures only: nothing here passes or fails on speed.
 * Usage: bench_tls [ROUNDS]  (default 30, at most 1000) */
#define _GNU_SOURCE /* malloc_usable_size, __libc_* (glibc) */

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static int setup_config(mqtls_tls_config *cfg, unsigned mfl, unsigned version)
{
    size_t bad;
    mqtls_tls_config_init(cfg);
    if (mqtls_tls_config_setup(cfg) != MQTLS_OK ||
        mqtls_tls_config_set_versions(cfg, version == 13 ? MQTLS_TLS_1_3 : MQTLS_TLS_1_2) !=
            MQTLS_OK ||
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

/* TLS 1.3: the ticket comes after the handshake, with a read. Bounded. */
static int save_session(mqtls_tls *tls, uint8_t *saved, size_t cap, size_t *len)
{
    mqtls_transport t;
    uint8_t buf[64];
    int i, ret = mqtls_tls_session_save(tls, saved, cap, len);
    mqtls_tls_transport(tls, &t);
    for (i = 0; i < 40 && ret == MQTLS_ERR_TLS_NO_TICKET; i++) {
        if (t.recv(t.ctx, buf, sizeof buf, 50) < 0)
            break;
        ret = mqtls_tls_session_save(tls, saved, cap, len);
    }
    return ret;
}

static size_t last_peak, last_rest, last_rest_mfl;

/* Heap of one session: peak during the handshake, and held after it. */
static int heap_figures(const broker *b, unsigned mfl, unsigned version)
{
    mqtls_tls_config cfg;
    mqtls_tcp tcp;
    mqtls_tls tls;
    size_t base_cfg, base, peak, rest;

    base_cfg = heap_now;
    if (setup_config(&cfg, mfl, version) != 0)
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
    printf("  TLS 1.%u, max fragment %-5s  config (CA, key, RNG) %6zu B   session peak %6zu B   "
           "session at rest %6zu B   (we may send %d)\n",
           version - 10, mfl ? (mfl == 2048 ? "2048" : "?") : "none", base - base_cfg, peak, rest,
           mqtls_tls_max_fragment(&tls));
    if (mfl == 0) {
        last_peak = peak;
        last_rest = rest;
    } else {
        last_rest_mfl = rest;
    }
    disconnect(&tls, &tcp);
    mqtls_tls_config_free(&cfg);
    return 0;
}

static double p50, p99;

static void report(const char *what, double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    p50 = t[n / 2];
    p99 = t[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1];
    printf("  %-34s median %7.2f ms   p99 %7.2f ms   min %7.2f ms   (%d rounds)\n", what, p50,
           p99, t[0], n);
}

/* Connect times for one version: full, then resumed. 0 or -1. */
static int times(const broker *b, int rounds, unsigned version, char *row, size_t cap)
{
    static double full[1000], resumed[1000];
    uint8_t saved[4096];
    size_t saved_len = 0;
    mqtls_tls_config cfg;
    mqtls_tcp tcp;
    mqtls_tls tls;
    double f50, f99;
    int i, ok = -1;

    if (setup_config(&cfg, 0, version) != 0)
        return -1;
    for (i = 0; i < rounds; i++) {
        double t0 = now_ms();
        if (connect_once(b, &cfg, &tcp, &tls, NULL, 0) != 0)
            goto out;
        full[i] = now_ms() - t0;
        if (i == 0 && save_session(&tls, saved, sizeof saved, &saved_len) != MQTLS_OK)
            goto out;
        disconnect(&tls, &tcp);
    }
    for (i = 0; i < rounds; i++) {
        double t0 = now_ms();
        if (connect_once(b, &cfg, &tcp, &tls, saved, saved_len) != 0)
            goto out;
        resumed[i] = now_ms() - t0;
        if (!mqtls_tls_get_report(&tls)->resumed) {
            fprintf(stderr, "round %d did not resume\n", i);
            goto out;
        }
        if (version == 13) /* 1.3 tickets are for one use: take the new one */
            (void)save_session(&tls, saved, sizeof saved, &saved_len);
        disconnect(&tls, &tcp);
    }
    printf("connect time, TLS 1.%u (TCP connect + TLS handshake, TCP_NODELAY):\n", version - 10);
    report("full mutual-TLS handshake", full, rounds);
    f50 = p50;
    f99 = p99;
    report("resumed session (saved bytes)", resumed, rounds);
    printf("  saved session: %zu bytes\n", saved_len);
    snprintf(row, cap, "row|%s|TLS 1.%u|%.2f|%.2f|%.2f|%.2f|%zu|%zu|%s", mqtls_tls_backend(),
             version - 10, f50, f99, p50, p99, last_peak, last_rest, "");
    ok = 0;
out:
    mqtls_tls_config_free(&cfg);
    return ok;
}

int main(int argc, char **argv)
{
    static const unsigned versions[] = {12, 13};
    char lines[1024], rows[2][256];
    size_t v, nrows = 0;
    broker b;
    int rounds = argc > 1 ? atoi(argv[1]) : 30, ok = 0;

    if (rounds < 1 || rounds > 1000) {
        fprintf(stderr, "usage: bench_tls [ROUNDS 1..1000]\n");
        return 2;
    }
    broker_tls_lines(lines, sizeof lines, "server-a-chain.pem", "server-a.key", 1);
    if (broker_start(&b, "127.0.0.1", lines) != 0)
        return 1;
    printf("TLS figures: mosquitto on 127.0.0.1, mutual TLS, ECDSA P-256, %s\n",
           mqtls_tls_backend());
    for (v = 0; v < 2; v++) {
        mqtls_tls_config probe;
        int speaks;
        mqtls_tls_config_init(&probe);
        speaks = mqtls_tls_config_setup(&probe) == MQTLS_OK &&
                 mqtls_tls_config_set_versions(&probe, versions[v] == 13 ? MQTLS_TLS_1_3
                                                                          : MQTLS_TLS_1_2) ==
                     MQTLS_OK;
        mqtls_tls_config_free(&probe);
        if (!speaks)
            continue;
        printf("heap, TLS 1.%u (allocator interposition; mbedTLS allocates, the MQTT layer does "
               "not):\n",
               versions[v] - 10);
        last_rest_mfl = 0;
        if (heap_figures(&b, 0, versions[v]) != 0 ||
            (versions[v] == 12 && heap_figures(&b, 2048, versions[v]) != 0))
            goto out;
        if (times(&b, rounds, versions[v], rows[nrows], sizeof rows[nrows]) != 0)
            goto out;
        if (last_rest_mfl != 0) { /* the at-rest figure with a 2048-byte fragment */
            size_t n = strlen(rows[nrows]);
            snprintf(rows[nrows] + n, sizeof rows[nrows] - n, "%zu", last_rest_mfl);
        }
        nrows++;
    }
    for (v = 0; v < nrows; v++)
        printf("%s\n", rows[v]);
    ok = 1;
out:
    broker_stop(&b);
    return ok ? 0 : 1;
}
