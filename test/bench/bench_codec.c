/* SPDX-License-Identifier: Apache-2.0 */
/* Codec cost per QoS 1 PUBLISH round trip: encode, then decode with full
 * validation (UTF-8 and wildcard checks of the topic on both sides).
 *
 * Run under callgrind by test/bench/codec_callgrind.sh, which runs this
 * twice with different round counts and divides the difference in
 * instructions by the difference in rounds, so start-up costs cancel out.
 * Also prints wall-clock figures when run alone.
 * Usage: bench_codec ROUNDS */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mqtt/codec.h"

int main(int argc, char **argv)
{
    static const char topic[] = "sensors/device-001/temperature";
    uint8_t payload[64], buf[256];
    mqtls_publish pub = {0};
    mqtls_packet pkt;
    struct timespec t0, t1;
    long rounds, i;
    unsigned long check = 0;
    double ns;

    rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
    if (rounds <= 0 || rounds > 1000000000L) {
        fprintf(stderr, "usage: bench_codec ROUNDS (1..1e9)\n");
        return 2;
    }
    memset(payload, 'x', sizeof payload);
    pub.topic = (mqtls_str){topic, sizeof topic - 1};
    pub.payload = (mqtls_bytes){payload, sizeof payload};
    pub.qos = 1;
    pub.packet_id = 0x1234;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < rounds; i++) {
        int n = mqtls_codec_encode_publish(buf, sizeof buf, &pub);
        if (n <= 0 || mqtls_codec_decode_from_server(buf, (size_t)n, &pkt) != n) {
            fprintf(stderr, "round trip failed at %ld\n", i);
            return 1;
        }
        check += pkt.packet_id;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
    printf("rounds %ld  packet %d bytes  %.1f ns per round trip  (check %lu)\n", rounds,
           mqtls_codec_encode_publish(buf, sizeof buf, &pub), ns / (double)rounds, check);
    return 0;
}
