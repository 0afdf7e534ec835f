/* SPDX-License-Identifier: Apache-2.0 */
/* One MQTT client library driven the same way as every other, for
 * test/bench/bench_peers.c. Each library is its own program (Paho's
 * synchronous and asynchronous libraries cannot share a process), built
 * from peer_main.c plus one peer_<library>.c implementing peer_publish().
 *
 *   peer_<library> pub|e2e|connect PORT CERTDIR QOS WINDOW SIZE COUNT SECONDS
 *
 * pub:
 * connects to 127.0.0.1:PORT over mutual TLS (CERTDIR/root-a.crt trusted,
 * CERTDIR/device-001.crt and .key presented, the broker's name checked),
 * publishes COUNT messages of SIZE bytes at QOS with at most WINDOW
 * unacknowledged on the wire, and stops at the last acknowledgement
 * (PUBACK at QoS 1, PUBCOMP at QoS 2, the write at QoS 0) or after SECONDS,
 * whichever comes first. Prints one line: "done=N seconds=S", S timed
 * from the first publish (the connect is not timed).
 * e2e: QoS 0 end to end: a subscriber and a publisher (two connections of
 * the same library) in one process; COUNT messages of SIZE bytes, counted
 * as they arrive at the subscriber; "done=N seconds=S" with N arrived.
 * connect: COUNT rounds (at most PEER_MAX_ROUNDS) of a full mutual-TLS
 * connect + CONNECT/CONNACK + DISCONNECT; then, where the library can
 * resume a TLS session, the same with the session saved from the first;
 * "full_p50=MS full_p99=MS [resumed_p50=MS resumed_p99=MS]".
 * heap: "heap=BYTES steady_allocs=N" (see peer_heap()). */
#ifndef MQTLS_BENCH_PEER_H
#define MQTLS_BENCH_PEER_H

#include <stddef.h>

#define PEER_MAX_ROUNDS 1000

typedef struct peer_args {
    unsigned port;
    const char *certs; /* directory, ends in '/' */
    int qos;
    int window;
    size_t size;
    long count;
    double seconds;
} peer_args;

/* The library's name, as printed in the table. */
extern const char peer_name[];

/* Publishes as described above; sets *done to the acknowledged count and
 * *secs to the time from the first publish to the last acknowledgement
 * (connecting is not timed). Returns 0, or -1 when the library failed
 * (after printing why). */
int peer_publish(const peer_args *a, long *done, double *secs);

/* QoS 0 end to end (see above): *done messages arrived in *secs. */
int peer_e2e(const peer_args *a, long *done, double *secs);

/* Connect latency: full[0..a->count) in ms; resumed[0..*n_resumed), with
 * *n_resumed 0 when the library cannot resume a TLS session. */
int peer_connect(const peer_args *a, double *full, double *resumed, int *n_resumed);

/* Heap per connected client: *bytes held after one full mutual-TLS
 * connect (from before the client and its TLS configuration existed);
 * *steady the allocation calls made while that connection then publishes
 * and acknowledges 100 QoS 1 messages (-1 if not measured). */
int peer_heap(const peer_args *a, long *bytes, long *steady);

/* test/bench/peer_heap.c: heap in use, and allocation calls so far. */
size_t peer_heap_now(void);
unsigned long peer_heap_calls(void);

/* Monotonic seconds. */
double peer_now(void);

/* a->certs + name, in a static buffer (one at a time). */
const char *peer_cert(const peer_args *a, const char *name, char *buf, size_t cap);

#endif
