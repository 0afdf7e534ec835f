/* SPDX-License-Identifier: Apache-2.0 */
/* Command line of every peer_<library> program: see peer.h. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test/bench/peer.h"

double peer_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *peer_cert(const peer_args *a, const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s%s", a->certs, name);
    return buf;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* The q-th percentile (0..100) of v[0..n), nearest rank; sorts v. */
static double percentile(double *v, int n, int q)
{
    int rank = (q * n + 99) / 100;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[rank < 1 ? 0 : (rank > n ? n - 1 : rank - 1)];
}

int main(int argc, char **argv)
{
    static double full[PEER_MAX_ROUNDS], resumed[PEER_MAX_ROUNDS];
    peer_args a;
    long done = 0;
    double secs = 0;
    int n_resumed = 0, ret;
    const char *mode = argc > 1 ? argv[1] : "";

    if (argc != 9 || (strcmp(mode, "pub") != 0 && strcmp(mode, "e2e") != 0 &&
                      strcmp(mode, "connect") != 0 && strcmp(mode, "heap") != 0)) {
        fprintf(stderr, "usage: %s pub|e2e|connect|heap PORT CERTDIR QOS WINDOW SIZE COUNT SECONDS\n",
                argv[0]);
        return 2;
    }
    a.port = (unsigned)strtoul(argv[2], NULL, 10);
    a.certs = argv[3];
    a.qos = atoi(argv[4]);
    a.window = atoi(argv[5]);
    a.size = (size_t)strtoul(argv[6], NULL, 10);
    a.count = strtol(argv[7], NULL, 10);
    a.seconds = strtod(argv[8], NULL);
    if (a.port == 0 || a.port > 65535 || a.qos < 0 || a.qos > 2 || a.window < 1 ||
        a.window > 1000 || a.size < 1 || a.size > 1000000 || a.count < 1 || a.seconds <= 0 ||
        (strcmp(mode, "connect") == 0 && a.count > PEER_MAX_ROUNDS)) {
        fprintf(stderr, "%s: argument out of range\n", argv[0]);
        return 2;
    }
    if (strcmp(mode, "heap") == 0) {
        long bytes = 0, steady = -1;
        if (peer_heap(&a, &bytes, &steady) != 0)
            return 1;
        printf("heap=%ld steady_allocs=%ld\n", bytes, steady);
        return 0;
    }
    if (strcmp(mode, "connect") == 0) {
        if (peer_connect(&a, full, resumed, &n_resumed) != 0)
            return 1;
        printf("full_p50=%.3f full_p99=%.3f", percentile(full, (int)a.count, 50),
               percentile(full, (int)a.count, 99));
        if (n_resumed > 0)
            printf(" resumed_p50=%.3f resumed_p99=%.3f", percentile(resumed, n_resumed, 50),
                   percentile(resumed, n_resumed, 99));
        printf("\n");
        return 0;
    }
    ret = strcmp(mode, "pub") == 0 ? peer_publish(&a, &done, &secs) : peer_e2e(&a, &done, &secs);
    if (ret != 0)
        return 1;
    printf("done=%ld seconds=%.6f\n", done, secs);
    return 0;
}
