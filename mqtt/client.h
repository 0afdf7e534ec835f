/* mqtls — the MQTT 3.1.1 client session.
 *
 * What sensor firmware calls. It speaks only to an mqtls_transport (which
 * the caller's open function builds: tcp, or tls over tcp, or a modem), never
 * allocates, and never blocks longer than the timeout it is given.
 *
 *   mqtls_client c;
 *   mqtls_client_init(&c);
 *   mqtls_client_setup(&c, &config);        buffers, store, callbacks, clock
 *   mqtls_client_connect(&c, 5000);         open, CONNECT, wait for CONNACK
 *   mqtls_client_publish(&c, &msg, &id);    queue; QoS 1/2 go to the store
 *   for (;;) mqtls_client_poll(&c, 100);    all reading, writing, keep-alive
 *
 * QoS 1 and 2 messages go into the store first and stay there until
 * acknowledged; up to `window` of them are on the wire at once (pipelined),
 * the rest wait in the store, in order. A malformed or unexpected packet
 * from the broker closes the connection with the protocol error; stored
 * messages are kept.
 *
 * With reconnect set, a lost connection is rebuilt by poll() after a
 * backoff delay (full jitter; a slower schedule for refusals retrying
 * cannot fix), and what was on the wire goes out again first, in the
 * original order: PUBLISH with DUP set, PUBREL as PUBREL [MQTT-4.4.0-1].
 * When the broker has no session, the configured subscriptions are sent
 * again.
 */
#ifndef MQTLS_MQTT_CLIENT_H
#define MQTLS_MQTT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt/backoff.h"
#include "mqtt/codec.h"
#include "mqtt/store.h"
#include "net/clock.h"
#include "net/transport.h"

/* How many QoS 2 messages delivered last are remembered (32 bits each) after
 * their flow completed, to recognise a broker resending one of them with
 * DUP after a restart. Mosquitto's default in-flight limit is 20. */
#ifndef MQTLS_CLIENT_QOS2_RECENT
#define MQTLS_CLIENT_QOS2_RECENT 20
#endif

/* What the client tells the application. Any may be NULL. Called from
 * inside mqtls_client_poll() (or connect); they must not call back into
 * the client except mqtls_client_publish(). */
typedef struct mqtls_client_events {
    void *ctx;
    /* An inbound message; QoS 2 ones exactly once. Topic and payload point
     * into the receive buffer: valid for the call only, and not
     * NUL-terminated (copy before using string functions). */
    void (*message)(void *ctx, const mqtls_publish *msg);
    /* A QoS 1/2 message we published is acknowledged (PUBACK / PUBCOMP). */
    void (*delivered)(void *ctx, uint16_t packet_id);
    /* SUBACK: one code per filter, 0x80 a refusal for that filter. */
    void (*subscribed)(void *ctx, uint16_t packet_id, const uint8_t *codes, size_t count);
    void (*unsubscribed)(void *ctx, uint16_t packet_id);
    /* The connection was lost (reason: an mqtls_err). */
    void (*lost)(void *ctx, int reason);
    /* A reconnect succeeded; session_present from its CONNACK. */
    void (*restored)(void *ctx, bool session_present);
} mqtls_client_events;

/* Builds the byte stream for a connect (TCP, TLS over TCP, ...): fills
 * *out, returns MQTLS_OK or an error. */
typedef int (*mqtls_client_open_fn)(void *ctx, mqtls_transport *out);

typedef struct mqtls_client_config {
    mqtls_connect connect;      /* client id, will, credentials, keep-alive;
                                   strings must outlive the client */
    uint8_t *tx_buf;            /* encodes one outgoing packet at a time */
    size_t tx_cap;
    uint8_t *rx_buf;            /* holds the largest inbound packet accepted */
    size_t rx_cap;
    uint16_t *qos2_ids;         /* inbound QoS 2 ids awaiting PUBREL */
    size_t qos2_cap;            /* at least the broker's in-flight limit for us
                                   (Mosquitto: max_inflight_messages, 20) */
    mqtls_store store;          /* outgoing QoS 1/2 messages */
    mqtls_clock clock;
    mqtls_client_open_fn open;  /* called by mqtls_client_connect() */
    void *open_ctx;
    mqtls_client_events events;
    uint16_t window;            /* QoS 1/2 messages on the wire at once; 0 means 1 */
    uint8_t reads_per_poll;     /* transport reads a poll makes, the first waiting
                                   and the rest not: several handle a burst of
                                   acknowledgements at once (with QoS 2
                                   subscriptions see MQTLS_ERR_QOS2_TABLE_FULL
                                   in docs/errors.md first);
                                   0 means 1 */
    uint32_t write_timeout_ms;  /* to put one packet on the wire; 0 means 5,000 */
    bool reconnect;             /* poll() rebuilds a lost connection */
    uint32_t connect_timeout_ms; /* open to CONNACK, when poll() reconnects; 0: 10,000 */
    uint32_t stable_ms;         /* connected this long resets the backoff; 0: 60,000 */
    uint32_t backoff_seed;      /* jitter seed: something unique to the device */
    uint32_t backoff_min_ms;    /* first reconnect delay cap; 0: 500 */
    uint32_t backoff_max_ms;    /* largest cap; 0: 60,000 */
    uint32_t backoff_refused_ms; /* after a refusal retrying cannot fix; 0: 600,000 */
    const mqtls_subscription *resubscribe; /* sent again when the broker has no session */
    size_t resubscribe_count;
} mqtls_client_config;

typedef enum mqtls_client_state {
    MQTLS_CLIENT_DISCONNECTED = 0,
    MQTLS_CLIENT_CONNECTING = 1, /* CONNECT sent, waiting for CONNACK */
    MQTLS_CLIENT_CONNECTED = 2
} mqtls_client_state;

typedef struct mqtls_client {
    mqtls_client_state state;
    bool session_present;   /* from the last CONNACK */
    int last_error;         /* why the last connection ended, or 0 */
    /* private */
    mqtls_client_config cfg;
    mqtls_transport transport;
    size_t rx_len;          /* bytes in rx_buf */
    size_t qos2_count;      /* ids in qos2_ids */
    size_t sent;            /* leading store entries already on the wire */
    uint32_t last_tx_ms;    /* when we last sent anything */
    uint32_t last_rx_ms;    /* when anything last arrived */
    uint32_t ping_ms;       /* when the outstanding PINGREQ went */
    bool ping_outstanding;
    uint16_t next_id;       /* the next packet id to try */
    size_t resend;          /* leading store entries that were on the wire before a drop */
    uint32_t retry_at_ms;   /* when poll() tries to reconnect */
    uint32_t connected_ms;  /* when the current connection got its CONNACK */
    bool stopped;           /* disconnect() was called: no automatic reconnect */
    bool qos2_skipped;      /* a QoS 2 PUBLISH went unanswered: the table was full */
    uint8_t recent_next;    /* where the next delivered QoS 2 message goes */
    uint32_t recent[MQTLS_CLIENT_QOS2_RECENT]; /* their fingerprints; 0: none */
    mqtls_backoff backoff;
} mqtls_client;

/* Cannot fail. */
void mqtls_client_init(mqtls_client *c);
/* Checks and copies the configuration. */
int mqtls_client_setup(mqtls_client *c, const mqtls_client_config *cfg);

/* Opens the transport, sends CONNECT and polls until CONNACK or
 * timeout_ms. Returns MQTLS_OK, an MQTLS_ERR_CONNACK_* refusal,
 * MQTLS_ERR_CONNACK_TIMEOUT, or the transport's error. */
int mqtls_client_connect(mqtls_client *c, uint32_t timeout_ms);

/* Does everything due: waits up to timeout_ms for input and handles it,
 * puts waiting QoS 1/2 messages on the wire while the window has room,
 * keeps the connection alive; while disconnected (with reconnect set) it
 * waits out the backoff and reconnects. Returns MQTLS_OK, or the error that
 * ended the connection or the reconnect attempt (the client goes on). */
int mqtls_client_poll(mqtls_client *c, uint32_t timeout_ms);

/* QoS 0: sent now, or MQTLS_ERR_NET_NOT_CONNECTED. QoS 1/2: stored (with a
 * fresh packet id in *packet_id, which may be NULL) and sent when the window
 * allows, connected or not; MQTLS_ERR_STORE_FULL when there is no room.
 * msg->packet_id and msg->dup are ignored. */
int mqtls_client_publish(mqtls_client *c, const mqtls_publish *msg, uint16_t *packet_id);

/* For simple firmware: publishes and polls until the message is complete
 * (QoS 0: sent; QoS 1: PUBACK; QoS 2: PUBCOMP) or timeout_ms passes.
 * Returns MQTLS_OK, MQTLS_ERR_NET_TIMEOUT (the message stays stored and
 * will still be delivered), or a publish error. */
int mqtls_client_publish_wait(mqtls_client *c, const mqtls_publish *msg, uint32_t timeout_ms);

/* Sends SUBSCRIBE / UNSUBSCRIBE now; the answer comes to events. */
int mqtls_client_subscribe(mqtls_client *c, const mqtls_subscription *subs, size_t count,
                           uint16_t *packet_id);
int mqtls_client_unsubscribe(mqtls_client *c, const mqtls_str *filters, size_t count,
                             uint16_t *packet_id);

/* Sends DISCONNECT and closes; poll() does not reconnect until
 * mqtls_client_connect() is called again. Stored messages stay in the
 * store, and those that were on the wire are resent (DUP) next time. */
int mqtls_client_disconnect(mqtls_client *c);

#endif
