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

int main(int argc, char **argv)
{
    peer_args a;
    long done = 0;
    double secs = 0;

    if (argc != 9 || strcmp(argv[1], "pub") != 0) {
        fprintf(stderr, "usage: %s pub PORT CERTDIR QOS WINDOW SIZE COUNT SECONDS\n", argv[0]);
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
        a.window > 1000 || a.size < 1 || a.size > 1000000 || a.count < 1 || a.seconds <= 0) {
        fprintf(stderr, "%s: argument out of range\n", argv[0]);
        return 2;
    }
    if (peer_publish(&a, &done, &secs) != 0)
        return 1;
    printf("done=%ld seconds=%.6f\n", done, secs);
    return 0;
}
