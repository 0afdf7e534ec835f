/* peer_publish() with libmosquitto (Debian's libmosquitto-dev), used the
 * way its documentation shows for a single-threaded program: publish
 * queues, mosquitto_loop() reads and writes. Library defaults otherwise
 * (no TCP_NODELAY). */
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/bench/peer.h"

const char peer_name[] = "libmosquitto";

static long acked;
static int connected = -1;

static void on_connect(struct mosquitto *m, void *obj, int rc)
{
    (void)m;
    (void)obj;
    connected = rc;
}

static void on_publish(struct mosquitto *m, void *obj, int mid)
{
    (void)m;
    (void)obj;
    (void)mid;
    acked++;
}

int peer_publish(const peer_args *a, long *done, double *secs)
{
    char ca[512], crt[512], key[512];
    struct mosquitto *m;
    char *payload;
    long sent = 0, rounds;
    double t0, deadline;
    int rc;

    mosquitto_lib_init();
    m = mosquitto_new("bench-mosquitto", true, NULL);
    payload = malloc(a->size);
    if (m == NULL || payload == NULL)
        return -1;
    memset(payload, 'x', a->size);
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_publish_callback_set(m, on_publish);
    mosquitto_max_inflight_messages_set(m, (unsigned)a->window);
    rc = mosquitto_tls_set(m, peer_cert(a, "root-a.crt", ca, sizeof ca), NULL,
                           peer_cert(a, "device-001.crt", crt, sizeof crt),
                           peer_cert(a, "device-001.key", key, sizeof key), NULL);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_connect(m, "127.0.0.1", (int)a->port, 60);
    for (rounds = 0; rc == MOSQ_ERR_SUCCESS && connected < 0 && rounds < 500; rounds++)
        rc = mosquitto_loop(m, 10, 1);
    if (rc != MOSQ_ERR_SUCCESS || connected != 0) {
        fprintf(stderr, "libmosquitto: connect failed: %s\n", mosquitto_strerror(rc));
        return -1;
    }
    t0 = peer_now();
    deadline = t0 + a->seconds;
    for (rounds = 0; rounds < 100000000L && acked < a->count; rounds++) {
        while (sent < a->count && sent - acked < 2L * a->window) {
            rc = mosquitto_publish(m, NULL, "bench/mosquitto", (int)a->size, payload, a->qos, false);
            if (rc != MOSQ_ERR_SUCCESS) {
                fprintf(stderr, "libmosquitto: publish: %s\n", mosquitto_strerror(rc));
                return -1;
            }
            sent++;
        }
        if (acked >= a->count)
            break;
        rc = mosquitto_loop(m, 5, 1);
        if (rc != MOSQ_ERR_SUCCESS) {
            fprintf(stderr, "libmosquitto: loop: %s\n", mosquitto_strerror(rc));
            return -1;
        }
        if ((rounds & 63) == 0 && peer_now() > deadline)
            break;
    }
    *secs = peer_now() - t0;
    *done = acked;
    mosquitto_disconnect(m);
    mosquitto_destroy(m);
    mosquitto_lib_cleanup();
    free(payload);
    return 0;
}
