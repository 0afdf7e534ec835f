/* One MQTT client library driven the same way as every other, for
 * test/bench/bench_peers.c. Each library is its own program (Paho's
 * synchronous and asynchronous libraries cannot share a process), built
 * from peer_main.c plus one peer_<library>.c implementing peer_publish().
 *
 *   peer_<library> pub PORT CERTDIR QOS WINDOW SIZE COUNT SECONDS
 *
 * connects to 127.0.0.1:PORT over mutual TLS (CERTDIR/root-a.crt trusted,
 * CERTDIR/device-001.crt and .key presented, the broker's name checked),
 * publishes COUNT messages of SIZE bytes at QOS with at most WINDOW
 * unacknowledged on the wire, and stops at the last acknowledgement
 * (PUBACK at QoS 1, PUBCOMP at QoS 2, the write at QoS 0) or after SECONDS,
 * whichever comes first. Prints one line: "done=N seconds=S", S timed
 * from the first publish (the connect is not timed). */
#ifndef MQTLS_BENCH_PEER_H
#define MQTLS_BENCH_PEER_H

#include <stddef.h>

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

/* Monotonic seconds. */
double peer_now(void);

/* a->certs + name, in a static buffer (one at a time). */
const char *peer_cert(const peer_args *a, const char *name, char *buf, size_t cap);

#endif
