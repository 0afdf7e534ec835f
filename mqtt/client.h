/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — the MQTT 3.1.1 client session.
 *
 * What sensor firmware calls. It speaks only to an mqtls_transport (which
 * the caller's open function builds: tcp, or tls over tcp, or a modem), never
 * allocates, and never blocks longer than the timeout it is given (plus, when
 * it opens a connection, the time the open function takes: see poll()).
 *
 *   mqtls_client c;
 *   mqtls_client_init(&c);
 *   mqtls_client_setup(&c, &config);        buffers, store, callbacks, clock
 *   mqtls_client_connect(&c, 5000);         open, CONNECT, wait for CONNACK
 *   mqtls_client_publish(&c, &msg, &id);    queue; QoS 1/2 go to the store
 *   for (;;) mqtls_client_poll(&c, 100);    all reading, writing, keep-alive
 *
 * A main loop that must not wait for the CONNACK calls mqtls_client_start()
 * instead of connect(): poll() finishes the connection and
 * events.connected (or events.closed) says how it went.
 *
 * QoS 1 and 2 messages go into the store first and stay there until
 * acknowledged; up to `window` of them are on the wire at once (pipelined),
 * the rest wait in the store, in order. A malformed or unexpected packet
 * from the broker (an acknowledgement that does not fit the message's QoS
 * or phase included) closes the connection with the protocol error; stored
 * messages are kept.
 *
 * Sessions. With reconnect set, a lost connection is rebuilt by poll()
 * after a backoff delay (full jitter; a slower schedule for refusals
 * retrying cannot fix). When the broker kept the session (CONNACK session
 * present 1, only possible with clean_session 0), what was on the wire goes
 * out again first, in the original order: PUBLISH with DUP set, PUBREL as
 * PUBREL [MQTT-4.4.0-1]. When it did not (clean_session 1, or a broker that
 * lost the session), the old flows are gone [MQTT-3.1.2-6] and nothing of
 * them is resent: `new_session` says what happens to the stored messages
 * (see mqtls_client_new_session_policy), the configured subscriptions are
 * sent again, and inbound QoS 2 ids are forgotten. A CONNACK with session
 * present 1 in answer to clean_session 1 is a broker fault
 * (MQTLS_ERR_CONNACK_SESSION_PRESENT) [MQTT-3.2.2-1].
 *
 * Threads and tasks. Without `lock`, the client belongs to one task. With
 * it, mqtls_client_publish() (and publish_wait, subscribe, unsubscribe) may
 * be called from any task while one task runs poll(); connect, start,
 * poll, disconnect and abort belong to that one task. Every call holds the
 * lock while it works, poll() included, but poll() releases it around each
 * event callback, so a callback may call publish() with a non-recursive
 * mutex. poll() also holds it while it waits for input: keep its timeout
 * short (tens of ms) where other tasks publish, or they wait that long.
 */
#ifndef MQTLS_MQTT_CLIENT_H
#define MQTLS_MQTT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backoff.h"
#include "codec.h"
#include "store.h"
#include "../net/clock.h"
#include "../net/transport.h"
#include "../net/api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

/* What the client tells the application. Any may be NULL. Called from
 * inside mqtls_client_poll() (or connect, start, publish, disconnect,
 * abort); they may call mqtls_client_publish() and nothing else of the
 * client. */
typedef struct mqtls_client_events {
    void *ctx; /* passed to each call below as its first argument */
    /* An inbound message; QoS 2 ones exactly once. Topic and payload point
     * into the receive buffer: valid for the call only, and not
     * NUL-terminated (copy before using string functions). */
    void (*received)(void *ctx, const mqtls_publish *msg);
    /* A QoS 1/2 message we published is complete: PUBACK (QoS 1) or
     * PUBCOMP (QoS 2) arrived, and it left the store. */
    void (*publish_acked)(void *ctx, uint16_t packet_id);
    /* A stored QoS 1/2 message was given up, never to be sent again
     * (reason: MQTLS_ERR_SESSION_DISCARDED under MQTLS_NEW_SESSION_DISCARD,
     * MQTLS_ERR_STORE_EXPIRED under max_age_s, MQTLS_ERR_STORE_DROPPED
     * under drop_oldest). */
    void (*publish_dropped)(void *ctx, uint16_t packet_id, int reason);
    /* SUBACK: one code per filter, 0x80 a refusal for that filter. */
    void (*subscribe_acked)(void *ctx, uint16_t packet_id, const uint8_t *codes, size_t count);
    void (*unsubscribe_acked)(void *ctx, uint16_t packet_id);
    /* A CONNACK accepted the connection: after connect, start or a
     * reconnect. session_present is the broker's flag. */
    void (*connected)(void *ctx, bool session_present);
    /* A connection, or an attempt at one, ended; once per attempt. reason:
     * MQTLS_OK after disconnect(), MQTLS_ERR_ABORTED after abort(), else
     * why it was lost (a transport error, MQTLS_ERR_KEEPALIVE_TIMEOUT, a
     * protocol error), refused (MQTLS_ERR_CONNACK_*, a TLS refusal) or
     * timed out (MQTLS_ERR_CONNACK_TIMEOUT, a transport timeout). */
    void (*closed)(void *ctx, int reason);
} mqtls_client_events;

/* Builds the byte stream for a connect (TCP, TLS over TCP, ...): fills
 * *out, returns MQTLS_OK or an error. Ready made: mqtls_tcp_open
 * (net/tcp_posix.h), mqtls_tcp_tls_open (tls/tcp_tls.h).
 * An open made in slices (a TLS handshake that must not hold a superloop
 * for seconds: mqtls_tls_config_set_slices()) returns MQTLS_ERR_IN_PROGRESS
 * with *out already able to close the half-made connection; the client
 * (state OPENING) calls it again from each poll() until it returns
 * anything else, and calls out->close if it gives up first (disconnect,
 * abort). The open function keeps its own progress in between. */
typedef int (*mqtls_client_open_fn)(void *ctx, mqtls_transport *out);

/* What a new session (CONNACK session present 0) does with the stored
 * QoS 1/2 messages whose flow began in the session that is gone. */
typedef enum mqtls_client_new_session_policy {
    /* Every stored message that was not completely acknowledged is
     * published again as a new message: DUP 0, its stored packet id (a new
     * session has no flows, so the id is free), a message past PUBREC back
     * to PUBLISH. Nothing is lost; one the broker had already passed on
     * may arrive twice (a QoS 2 message past PUBREC included: Mosquitto
     * releases on PUBREL and drops it with the old session, other brokers
     * may already have delivered it). */
    MQTLS_NEW_SESSION_REPUBLISH = 0,
    /* Messages whose flow had begun (on the wire when the old session
     * ended, or past PUBREC) are removed from the store, each reported by
     * events.publish_dropped; messages never sent go out as usual. */
    MQTLS_NEW_SESSION_DISCARD = 1
} mqtls_client_new_session_policy;

/* Optional mutual exclusion for publishing from several tasks (see the top
 * of this file). Both NULL: no locking. The calls are compiled in only
 * where MQTLS_CLIENT_LOCK is 1 (the host library; a device build that
 * wants them defines it), so a device without tasks pays nothing. */
typedef struct mqtls_client_lock {
    void *ctx;                /* passed to lock and unlock: your mutex */
    void (*lock)(void *ctx);  /* takes the mutex (blocks until it has it) */
    void (*unlock)(void *ctx); /* gives it back */
} mqtls_client_lock;

/* Optional log: level 1 errors, 2 connection events, 3 every packet.
 * `packet` (may be NULL) is the whole packet sent (out true) or received,
 * for a decoder to print; a CONNECT is cut after its client id, so a
 * password never reaches the log. Calls are compiled in only where
 * MQTLS_CLIENT_LOG is 1 (the host library; devices default to 0). */
typedef void (*mqtls_client_log_fn)(void *ctx, int level, const char *what, bool out,
                                    const uint8_t *packet, size_t len);

#ifndef MQTLS_CLIENT_LOG
#define MQTLS_CLIENT_LOG 0
#endif
#ifndef MQTLS_CLIENT_LOCK
#define MQTLS_CLIENT_LOCK 0
#endif
#ifndef MQTLS_CLIENT_QOS2_GUARD
#define MQTLS_CLIENT_QOS2_GUARD 0
#endif
/* 1: the acknowledgements one poll makes (PUBACK, PUBREC, PUBREL,
 * PUBCOMP) go out together in one write after what it read is handled:
 * one TLS record for a burst of PUBRECs instead of one per PUBREL, which
 * is what a broker pays for most at QoS 2. 1 in the host library, 0 by
 * default (a device's flash budget); the client's 64-byte buffer for it
 * is there either way. */
#ifndef MQTLS_CLIENT_ACK_BATCH
#define MQTLS_CLIENT_ACK_BATCH 0
#endif
/* 1: the max_age_s and drop_oldest policies are compiled in (the host
 * library); 0 (default): setup refuses them, and a device pays nothing. */
#ifndef MQTLS_CLIENT_STORE_POLICY
#define MQTLS_CLIENT_STORE_POLICY 0
#endif

typedef struct mqtls_client_config {
    mqtls_connect connect;      /* client id, will, credentials, keep-alive;
                                   strings must outlive the client */
    uint8_t *tx_buf;            /* encodes one outgoing packet at a time:
                                   the largest PUBLISH sent, and more to
                                   gather several in one write */
    size_t tx_cap;              /* its size in bytes */
    uint8_t *rx_buf;            /* holds the largest inbound packet accepted */
    size_t rx_cap;              /* its size in bytes */
    uint16_t *qos2_ids;         /* inbound QoS 2 ids awaiting PUBREL */
    size_t qos2_cap;            /* at least the broker's in-flight limit for us
                                   (Mosquitto: max_inflight_messages, 20) */
    /* Opt-in, off when NULL: answer without delivering a QoS 2 PUBLISH
     * with DUP 1 whose id, topic and payload match one of the last
     * qos2_recent_cap delivered (32-bit fingerprints), for brokers that
     * resend completed flows after a restart (Mosquitto 2.0). RISK: it
     * loses a real message when a broker reuses the id for a new message
     * with the same topic and payload that had to be resent with DUP (a
     * repeated reading), or on a fingerprint collision. See
     * MQTLS_ERR_QOS2_TABLE_FULL in docs/errors.md for sizing. Compiled in
     * where MQTLS_CLIENT_QOS2_GUARD is 1 (the host library); elsewhere
     * setup refuses a qos2_recent_cap. */
    uint32_t *qos2_recent;
    size_t qos2_recent_cap;
    mqtls_store store;          /* outgoing QoS 1/2 messages */
    mqtls_client_new_session_policy new_session;
    /* Telemetry policies (docs/store.md), off by default. Both drop only
     * messages never put on the wire (one the broker holds a packet id
     * for stays until its flow ends), each reported by
     * events.publish_dropped. max_age_s: a waiting message older than
     * this by clock.now_s is dropped (MQTLS_ERR_STORE_EXPIRED), checked
     * by poll() at most once a second, 64 at a time; 0: never. drop_oldest:
     * a full store drops its oldest unsent message to take the new one
     * (MQTLS_ERR_STORE_DROPPED) instead of publish() refusing. Compiled
     * in where MQTLS_CLIENT_STORE_POLICY is 1 (MQTLS_ERR_CONFIG_POLICY
     * otherwise, and when max_age_s has no clock.now_s). */
    uint32_t max_age_s;
    bool drop_oldest;
    mqtls_clock clock;
    mqtls_client_open_fn open;  /* called by connect, start and reconnects */
    void *open_ctx;
    mqtls_client_events events;
    mqtls_client_lock lock;
    mqtls_client_log_fn log;    /* see mqtls_client_log_fn; NULL: none */
    void *log_ctx;
    uint16_t window;            /* QoS 1/2 messages on the wire at once; 0 means 1 */
    uint8_t reads_per_poll;     /* transport reads a poll makes, the first waiting
                                   and the rest not: several handle a burst of
                                   acknowledgements at once (with QoS 2
                                   subscriptions see MQTLS_ERR_QOS2_TABLE_FULL
                                   in docs/errors.md first);
                                   0 means 1 */
    uint32_t write_timeout_ms;  /* to put one packet on the wire; 0 means 5,000 */
    bool reconnect;             /* poll() rebuilds a lost connection */
    uint32_t connect_timeout_ms; /* CONNECT to CONNACK for start() and
                                    reconnects; 0: 10,000 */
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
    MQTLS_CLIENT_CONNECTED = 2,
    MQTLS_CLIENT_OPENING = 3     /* the open function is making the connection
                                    in slices (MQTLS_ERR_IN_PROGRESS) */
} mqtls_client_state;

typedef struct mqtls_client {
    mqtls_client_state state; /* where the connection is (read only) */
    bool session_present;   /* from the last CONNACK */
    int last_error;         /* why the last connection ended, or 0 */
    size_t needed;          /* after MQTLS_ERR_TX_BUF_TOO_SMALL or
                               MQTLS_ERR_RX_BUF_TOO_SMALL: the bytes that
                               buffer needs for the packet */
    /* private */
    mqtls_client_config cfg;
    mqtls_transport transport;
    size_t rx_len;          /* bytes in rx_buf */
    size_t qos2_count;      /* ids in qos2_ids */
    size_t sent;            /* leading store entries already on the wire */
    size_t resend;          /* leading store entries that were on the wire before a drop */
    size_t recent_next;     /* where the next fingerprint goes in qos2_recent */
    uint32_t last_tx_ms;    /* when we last sent anything */
    uint32_t ping_ms;       /* when the outstanding PINGREQ went */
    uint32_t retry_at_ms;   /* when poll() tries to reconnect */
    uint32_t connected_ms;  /* when the current connection got its CONNACK */
    uint32_t connack_by_ms; /* CONNECTING: when waiting for CONNACK ends;
                               OPENING: how long it will wait */
    uint32_t aged_ms;       /* when poll() last looked for expired messages */
    uint16_t next_id;       /* the next packet id to try */
    bool ping_outstanding;
    bool stopped;           /* disconnect() was called: no automatic reconnect */
    mqtls_backoff backoff;
    /* acknowledgements waiting for the end of a read (MQTLS_CLIENT_ACK_BATCH;
       always here, so the layout does not depend on the option) */
    uint8_t acks[64];
    size_t acks_len;
} mqtls_client;

/* Cannot fail. */
void mqtls_client_init(mqtls_client *c);
/* Checks cfg and copies it into c (cfg may go away; the buffers, store
 * and contexts it points to must outlive c). Returns MQTLS_OK, or names
 * a missing or wrong field by its error: MQTLS_ERR_CONFIG_TX_BUF, _RX_BUF,
 * _QOS2_IDS, _STORE, _CLOCK, _OPEN (mqtls_strerror() says what it needs). */
int mqtls_client_setup(mqtls_client *c, const mqtls_client_config *cfg);

/* Opens the transport, sends CONNECT and waits until CONNACK or
 * timeout_ms. Returns MQTLS_OK, an MQTLS_ERR_CONNACK_* refusal,
 * MQTLS_ERR_CONNACK_TIMEOUT, or the transport's error. */
int mqtls_client_connect(mqtls_client *c, uint32_t timeout_ms);

/* Opens the transport and sends CONNECT, then returns: MQTLS_OK (state
 * CONNECTING: poll() waits for the CONNACK up to connect_timeout_ms, then
 * events.connected or events.closed) or the open's error. The open itself
 * (TCP connect, TLS handshake) is one blocking call bounded by its own
 * timeouts. */
int mqtls_client_start(mqtls_client *c);

/* Does everything due: waits up to timeout_ms for input and handles it
 * (the wait ends early when a PINGREQ falls due [MQTT-3.1.2-23]), puts
 * waiting QoS 1/2 messages on the wire while the window has room, keeps
 * the connection alive, finishes a started connection; while disconnected
 * (with reconnect set) it waits out the backoff and starts a reconnect.
 * One call takes at most timeout_ms, plus write_timeout_ms for each packet
 * it writes, plus, when it opens a connection, the open function's own
 * time: with mqtls_tcp_tls that is the TCP connect timeout plus the TLS
 * handshake timeout, because an open is one blocking call; an open in
 * slices (state OPENING) costs one slice per poll().
 * Returns MQTLS_OK, or the error that ended the connection or the
 * reconnect attempt (the client goes on). */
int mqtls_client_poll(mqtls_client *c, uint32_t timeout_ms);

/* For a loop that sleeps until something happens (an event loop holding
 * many clients, a tickless RTOS): the milliseconds until poll() has
 * something to do that no input brings — the reconnect after the backoff
 * (0 once due), the CONNACK deadline, the next PINGREQ or the end of the
 * wait for its PINGRESP. Input (the transport readable) needs a poll()
 * sooner, and so does anything called in between (publish(), subscribe()).
 * MQTLS_WAIT_FOREVER when nothing is due: disconnected without reconnect
 * or after disconnect(), keep-alive 0, NULL c, and while OPENING, where
 * the open function's own input and deadline decide (see
 * mqtls_client_open_fn). Reads the clock; changes nothing. */
uint32_t mqtls_client_next_due_ms(const mqtls_client *c);

/* QoS 0: sent now, or MQTLS_ERR_NET_NOT_CONNECTED. QoS 1/2: stored (with a
 * fresh packet id in *packet_id, which may be NULL) and sent when the window
 * allows, connected or not; MQTLS_ERR_STORE_FULL when there is no room.
 * MQTLS_ERR_TX_BUF_TOO_SMALL (c->needed says how big) when the PUBLISH does
 * not fit tx_buf. msg->packet_id and msg->dup are ignored. */
int mqtls_client_publish(mqtls_client *c, const mqtls_publish *msg, uint16_t *packet_id);

/* For simple firmware: publishes msg (as mqtls_client_publish() does) and
 * polls until the message is complete
 * (QoS 0: sent; QoS 1: PUBACK; QoS 2: PUBCOMP) or timeout_ms passes.
 * Returns MQTLS_OK, MQTLS_ERR_NET_TIMEOUT (the message stays stored and
 * will still be delivered), or a publish error. From the polling task only. */
int mqtls_client_publish_wait(mqtls_client *c, const mqtls_publish *msg, uint32_t timeout_ms);

/* Sends SUBSCRIBE for subs[0..count) (count >= 1, each a valid filter
 * and a QoS 0..2), or UNSUBSCRIBE for filters[0..count), now; the packet
 * id used goes to *packet_id (may be NULL), and the broker's answer comes
 * to events.subscribe_acked / events.unsubscribe_acked with it. Returns MQTLS_OK,
 * MQTLS_ERR_NET_NOT_CONNECTED, MQTLS_ERR_TX_BUF_TOO_SMALL, the codec's
 * error for a bad filter, or the transport's error. */
int mqtls_client_subscribe(mqtls_client *c, const mqtls_subscription *subs, size_t count,
                           uint16_t *packet_id);
int mqtls_client_unsubscribe(mqtls_client *c, const mqtls_str *filters, size_t count,
                             uint16_t *packet_id);

/* Sends DISCONNECT and closes (events.closed with MQTLS_OK); poll() does
 * not reconnect until connect() or start() is called again. Stored
 * messages stay in the store, and those that were on the wire are resent
 * (DUP) next time if the broker kept the session. */
int mqtls_client_disconnect(mqtls_client *c);

/* Drops the connection without DISCONNECT, as when the link goes down
 * (the broker publishes the will): events.closed with MQTLS_ERR_ABORTED,
 * and with reconnect set poll() rebuilds it after the backoff. */
int mqtls_client_abort(mqtls_client *c);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
