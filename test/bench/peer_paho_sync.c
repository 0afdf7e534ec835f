/* peer_publish() with Eclipse Paho C, synchronous API (MQTTClient,
 * libpaho-mqtt3cs), used the way its examples show: publish, then
 * MQTTClient_waitForCompletion() on the token. With a window, up to WINDOW
 * messages are published before waiting on the oldest token. */
#include <MQTTClient.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/bench/peer.h"

const char peer_name[] = "Paho C sync";

int peer_publish(const peer_args *a, long *done, double *secs)
{
    MQTTClient client;
    MQTTClient_connectOptions opts = MQTTClient_connectOptions_initializer;
    MQTTClient_SSLOptions ssl = MQTTClient_SSLOptions_initializer;
    char uri[64], ca[512], crt[512], key[512];
    MQTTClient_deliveryToken ring[1000];
    char *payload;
    long sent = 0, acked = 0, rounds;
    double t0, deadline;
    int rc;

    snprintf(uri, sizeof uri, "ssl://127.0.0.1:%u", a->port);
    payload = malloc(a->size);
    if (payload == NULL ||
        MQTTClient_create(&client, uri, "bench-paho-sync", MQTTCLIENT_PERSISTENCE_NONE, NULL) !=
            MQTTCLIENT_SUCCESS)
        return -1;
    memset(payload, 'x', a->size);
    ssl.trustStore = peer_cert(a, "root-a.crt", ca, sizeof ca);
    ssl.keyStore = peer_cert(a, "device-001.crt", crt, sizeof crt);
    ssl.privateKey = peer_cert(a, "device-001.key", key, sizeof key);
    ssl.enableServerCertAuth = 1;
    ssl.verify = 1;
    opts.ssl = &ssl;
    opts.cleansession = 1;
    opts.keepAliveInterval = 60;
    opts.maxInflightMessages = a->window;
    if ((rc = MQTTClient_connect(client, &opts)) != MQTTCLIENT_SUCCESS) {
        fprintf(stderr, "Paho C sync: connect: %d\n", rc);
        return -1;
    }
    t0 = peer_now();
    deadline = t0 + a->seconds;
    for (rounds = 0; rounds < 100000000L && acked < a->count && peer_now() <= deadline; rounds++) {
        if (sent < a->count && sent - acked < a->window) {
            MQTTClient_message msg = MQTTClient_message_initializer;
            msg.payload = payload;
            msg.payloadlen = (int)a->size;
            msg.qos = a->qos;
            rc = MQTTClient_publishMessage(client, "bench/paho-sync", &msg,
                                           &ring[sent % a->window]);
            if (rc != MQTTCLIENT_SUCCESS) {
                fprintf(stderr, "Paho C sync: publish: %d\n", rc);
                return -1;
            }
            sent++;
            if (a->qos == 0)
                acked++;
            continue;
        }
        rc = MQTTClient_waitForCompletion(client, ring[acked % a->window], 5000);
        if (rc != MQTTCLIENT_SUCCESS) {
            fprintf(stderr, "Paho C sync: waitForCompletion: %d\n", rc);
            return -1;
        }
        acked++;
    }
    *secs = peer_now() - t0;
    *done = acked;
    MQTTClient_disconnect(client, 1000);
    MQTTClient_destroy(&client);
    free(payload);
    return 0;
}
