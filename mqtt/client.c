/* SPDX-License-Identifier: Apache-2.0 */
#include "mqtt/client.h"

#include <string.h>

#define DEFAULT_WRITE_TIMEOUT_MS 5000u
#define DEFAULT_CONNECT_TIMEOUT_MS 10000u
#define DEFAULT_STABLE_MS 60000u

/* handle(): the QoS 2 PUBLISH waits in rx_buf for a free slot. */
#define PARKED 1

static uint32_t now(const mqtls_client *c)
{
    return c->cfg.clock.now_ms(c->cfg.clock.ctx);
}

#if MQTLS_CLIENT_LOCK
static void lock(mqtls_client *c)
{
    if (c->cfg.lock.lock != NULL)
        c->cfg.lock.lock(c->cfg.lock.ctx);
}

static void unlock(mqtls_client *c)
{
    if (c->cfg.lock.unlock != NULL)
        c->cfg.lock.unlock(c->cfg.lock.ctx);
}
#else
#define lock(c) ((void)(c))
#define unlock(c) ((void)(c))
#endif

/* Runs an event callback, if set, without the lock: it may publish. */
#define EVENT(c, name, ...)                                                   \
    do {                                                                      \
        if ((c)->cfg.events.name != NULL) {                                   \
            unlock(c);                                                        \
            (c)->cfg.events.name((c)->cfg.events.ctx, __VA_ARGS__);           \
            lock(c);                                                          \
        }                                                                     \
    } while (0)

#if MQTLS_CLIENT_LOG
static void log_packet(mqtls_client *c, bool out, const uint8_t *p, size_t len)
{
    if (c->cfg.log == NULL)
        return;
    if (out && len > 0 && (p[0] >> 4) == MQTLS_CONNECT) /* credentials stay out */
        c->cfg.log(c->cfg.log_ctx, 3, "CONNECT (its fields are not logged)", true, NULL, 0);
    else
        c->cfg.log(c->cfg.log_ctx, 3, out ? "sent" : "received", out, p, len);
}

/* Each whole packet in p[0..len). */
static void log_packets(mqtls_client *c, const uint8_t *p, size_t len)
{
    int n;
    while (len > 0 && (n = mqtls_codec_packet_length(p, len)) > 0 && (size_t)n <= len) {
        log_packet(c, true, p, (size_t)n);
        p += n;
        len -= (size_t)n;
    }
}

static void log_event(mqtls_client *c, int level, const char *what)
{
    if (c->cfg.log != NULL)
        c->cfg.log(c->cfg.log_ctx, level, what, false, NULL, 0);
}
#define LOG_SENT(c, p, len) log_packets(c, p, len)
#define LOG_RECEIVED(c, p, len) log_packet(c, false, p, len)
#define LOG_EVENT(c, level, what) log_event(c, level, what)
#else
#define LOG_SENT(c, p, len) ((void)0)
#define LOG_RECEIVED(c, p, len) ((void)0)
#define LOG_EVENT(c, level, what) ((void)0)
#endif

/* Refusals that retrying cannot fix wait on the slow schedule. */
static mqtls_backoff_reason why_down(int reason)
{
    return mqtls_err_is_refusal(reason) ? MQTLS_BACKOFF_REFUSED : MQTLS_BACKOFF_TRANSIENT;
}

/* When to try again after reason: at once when we chose to reconnect so
 * that the broker resends what a full QoS 2 table left unanswered (the
 * connection worked). */
static void schedule_retry(mqtls_client *c, int reason)
{
    uint32_t delay = 0;
    if (reason == MQTLS_ERR_QOS2_TABLE_FULL)
        mqtls_backoff_reset(&c->backoff);
    else
        mqtls_backoff_next(&c->backoff, why_down(reason), &delay);
    c->retry_at_ms = now(c) + delay;
}

/* Closes the transport (never touched again until the next open) and
 * tells the application; stored messages stay, and those that were on the
 * wire are remembered for a resend. Nothing when already closed. */
static void end(mqtls_client *c, int reason)
{
    if (c->state == MQTLS_CLIENT_DISCONNECTED)
        return;
    c->transport.close(c->transport.ctx);
    c->state = MQTLS_CLIENT_DISCONNECTED;
    c->last_error = reason;
    c->rx_len = 0;
#if MQTLS_CLIENT_ACK_BATCH
    c->acks_len = 0; /* the broker resends what they answered */
#endif
    if (c->sent > c->resend)
        c->resend = c->sent;
    c->sent = 0;
    c->ping_outstanding = false;
    LOG_EVENT(c, reason == MQTLS_OK ? 2 : 1, "connection closed");
    EVENT(c, closed, reason);
}

/* The connection is lost (or refused) for reason: ends it and schedules
 * the reconnect. Once: a second call after the first returns the first
 * reason and does nothing. */
static int lose(mqtls_client *c, int reason)
{
    if (c->state == MQTLS_CLIENT_DISCONNECTED)
        return c->last_error;
    schedule_retry(c, reason);
    end(c, reason);
    return reason;
}

/* Hands p[0..len) to the transport within the write timeout; *off says how
 * much it took. MQTLS_OK, or the error that broke the connection (not yet
 * acted on). */
static int write_out(mqtls_client *c, const uint8_t *p, size_t len, size_t *off)
{
    const uint32_t start = now(c);
    size_t rounds = 0;

    *off = 0;
    while (*off < len) {
        uint32_t spent = mqtls_clock_elapsed_ms(start, now(c));
        int n;
        if (spent >= c->cfg.write_timeout_ms || ++rounds > len + 1000)
            return MQTLS_ERR_NET_TIMEOUT;
        n = c->transport.send(c->transport.ctx, p + *off, len - *off,
                              c->cfg.write_timeout_ms - spent);
        if (n < 0)
            return n;
        *off += (size_t)n;
    }
    c->last_tx_ms = now(c);
    return MQTLS_OK;
}

/* Puts all of p on the wire: one packet, one write unless the transport
 * takes it in parts. Never on a closed connection. */
static int send_all(mqtls_client *c, const uint8_t *p, size_t len)
{
    size_t off;
    int ret;
    if (c->state == MQTLS_CLIENT_DISCONNECTED)
        return MQTLS_ERR_NET_NOT_CONNECTED;
    ret = write_out(c, p, len, &off);
    if (ret != MQTLS_OK)
        return lose(c, ret);
    LOG_SENT(c, p, len);
    return MQTLS_OK;
}

/* Sends what an encoder just wrote into tx_buf (n bytes, or its error). */
static int send_encoded(mqtls_client *c, int n)
{
    if (n == MQTLS_ERR_BUFFER_TOO_SMALL)
        return MQTLS_ERR_TX_BUF_TOO_SMALL;
    return n < 0 ? n : send_all(c, c->cfg.tx_buf, (size_t)n);
}

/* An acknowledgement (PUBACK, PUBREC, PUBREL, PUBCOMP; 4 bytes) for
 * packet_id. With MQTLS_CLIENT_ACK_BATCH it waits in acks for the end of
 * the read being handled (read_and_handle() sends them in one write, in
 * the order they were made); otherwise it goes at once. */
#if MQTLS_CLIENT_ACK_BATCH
typedef int (*ack_encoder)(uint8_t *buf, size_t cap, uint16_t packet_id);
static int flush_acks(mqtls_client *c)
{
    const size_t len = c->acks_len;
    c->acks_len = 0;
    return len > 0 ? send_all(c, c->acks, len) : MQTLS_OK;
}

static int send_ack(mqtls_client *c, ack_encoder encode, uint16_t packet_id)
{
    int n;
    if (c->acks_len + 4 > sizeof c->acks) {
        n = flush_acks(c);
        if (n != MQTLS_OK)
            return n;
    }
    n = encode(c->acks + c->acks_len, sizeof c->acks - c->acks_len, packet_id);
    if (n < 0)
        return n;
    c->acks_len += (size_t)n;
    return MQTLS_OK;
}
#else /* the same code as sending it directly */
#define flush_acks(c) MQTLS_OK
#define send_ack(c, encode, packet_id)                                                     \
    send_encoded((c), encode((c)->cfg.tx_buf, (c)->cfg.tx_cap, (packet_id)))
#endif

/* A packet id that is not 0 and not held by a stored message [MQTT-2.3.1-2];
 * 0 when all 65,535 are taken. Wraps from 65535 to 1. */
static uint16_t take_id(mqtls_client *c)
{
    mqtls_store_entry e;
    uint32_t tries;

    for (tries = 0; tries < 65535u; tries++) {
        uint16_t id = c->next_id;
        c->next_id = id == 65535u ? 1 : (uint16_t)(id + 1u);
        if (c->cfg.store.find(c->cfg.store.ctx, id, &e) == MQTLS_ERR_STORE_NOT_FOUND)
            return id;
    }
    return 0;
}

/* The index of stored packet_id among the entries, or -1. */
static long index_of(mqtls_client *c, uint16_t packet_id, mqtls_store_entry *out)
{
    mqtls_store_iter it = {0, 0};
    long i = 0;

    while (c->cfg.store.next(c->cfg.store.ctx, &it, out) == 1) {
        if (out->packet_id == packet_id)
            return i;
        i++;
    }
    return -1;
}

/* Bytes a store entry takes on the wire. */
static size_t wire_len(const mqtls_store_entry *e)
{
    return e->state == MQTLS_STORE_PUBREL ? 4u : e->len;
}

/* The QoS of a stored PUBLISH, from its first byte. */
static unsigned stored_qos(const mqtls_store_entry *e)
{
    return (e->packet[0] >> 1) & 3u;
}

/* Writes tx_buf[0..len): count whole packets, the store's entries from
 * index c->sent on. On success they are on the wire. If the connection
 * breaks part way, the ones the transport took whole count as sent (they
 * may have arrived, so they go again with DUP) before it is dropped. */
static int send_batch(mqtls_client *c, size_t len, size_t count)
{
    size_t off, whole = 0, sum = 0, i;
    mqtls_store_iter it = {0, 0};
    mqtls_store_entry e;
    int ret = write_out(c, c->cfg.tx_buf, len, &off);

    if (ret == MQTLS_OK) {
        LOG_SENT(c, c->cfg.tx_buf, len);
        c->sent += count;
        return MQTLS_OK;
    }
    for (i = 0; c->cfg.store.next(c->cfg.store.ctx, &it, &e) == 1 && whole < count; i++) {
        if (i < c->sent)
            continue;
        sum += wire_len(&e);
        if (sum > off)
            break;
        whole++;
    }
    c->sent += whole;
    return lose(c, ret);
}

/* A stored PUBLISH larger than tx_buf (stored by a run with a larger one):
 * its first tx_cap bytes through tx_buf, where DUP can be set without
 * touching the stored bytes, the rest straight from the store. Cut part
 * way, it cannot have arrived, and counts as not sent. */
static int send_large(mqtls_client *c, const mqtls_store_entry *e, bool dup)
{
    const size_t head = c->cfg.tx_cap;
    size_t off;
    int ret;

    memcpy(c->cfg.tx_buf, e->packet, head);
    if (dup)
        c->cfg.tx_buf[0] |= 0x08u;
    ret = write_out(c, c->cfg.tx_buf, head, &off);
    if (ret == MQTLS_OK)
        ret = write_out(c, e->packet + head, e->len - head, &off);
    if (ret != MQTLS_OK)
        return lose(c, ret);
    LOG_SENT(c, e->packet, e->len);
    c->sent++;
    return MQTLS_OK;
}

/* Puts waiting QoS 1/2 messages on the wire while the window has room, in
 * store order, several packets to one write: they are gathered in tx_buf
 * (so a TLS transport makes one record of them) and written when it is
 * full or nothing more may go. The ones on the wire are always the first
 * `sent` entries, and only those are acknowledged. DUP is set on the way
 * out, in tx_buf: stored bytes are never rewritten. */
static int fill_window(mqtls_client *c)
{
    const size_t window = c->cfg.window != 0 ? c->cfg.window : 1;
    mqtls_store_iter it = {0, 0};
    mqtls_store_entry e;
    size_t i, used = 0, count = 0;
    int ret = MQTLS_OK;

    if (c->state != MQTLS_CLIENT_CONNECTED || c->sent >= window)
        return MQTLS_OK;
    for (i = 0; i < c->sent; i++) /* skip what is on the wire already */
        if (c->cfg.store.next(c->cfg.store.ctx, &it, &e) != 1)
            return MQTLS_OK;
    while (c->sent + count < window && c->cfg.store.next(c->cfg.store.ctx, &it, &e) == 1) {
        const size_t need = wire_len(&e);
        /* on the wire before a drop: again, with DUP [MQTT-3.3.1-1] */
        const bool dup = c->sent + count < c->resend;
        /* A store that survives a reboot learns it goes out, first: then a
         * reboot resends it with DUP and no policy drops it. */
        if (e.state == MQTLS_STORE_PUBLISH && !(e.flags & MQTLS_STORE_SENT) &&
            c->cfg.store.mark_sent != NULL &&
            c->cfg.store.mark_sent(c->cfg.store.ctx, e.packet_id) != MQTLS_OK)
            break; /* it waits (and the store's error shows again) */
        if (used > 0 && used + need > c->cfg.tx_cap) {
            ret = send_batch(c, used, count);
            used = count = 0;
            if (ret != MQTLS_OK)
                return ret;
        }
        if (need > c->cfg.tx_cap) {
            ret = send_large(c, &e, dup);
            if (ret != MQTLS_OK)
                return ret;
            continue;
        }
        if (e.state == MQTLS_STORE_PUBREL) {
            (void)mqtls_codec_encode_pubrel(c->cfg.tx_buf + used, 4, e.packet_id);
        } else {
            memcpy(c->cfg.tx_buf + used, e.packet, e.len);
            if (dup)
                c->cfg.tx_buf[used] |= 0x08u;
        }
        used += need;
        count++;
    }
    return used > 0 ? send_batch(c, used, count) : MQTLS_OK;
}

/* PUBACK (a QoS 1 message) or PUBCOMP (a QoS 2 message past PUBREC): the
 * flow of packet_id is complete. One that does not fit the message's QoS
 * or phase is a protocol error; an id not on the wire is ignored. */
static int acknowledged(mqtls_client *c, uint16_t packet_id, unsigned qos, uint8_t want_state)
{
    mqtls_store_entry e;
    long i = index_of(c, packet_id, &e);

    if (i < 0 || (size_t)i >= c->sent)
        return MQTLS_OK;
    if (stored_qos(&e) != qos || e.state != want_state)
        return MQTLS_ERR_UNEXPECTED_PACKET;
    c->cfg.store.remove(c->cfg.store.ctx, packet_id);
    c->sent--;
    if ((size_t)i < c->resend)
        c->resend--;
    EVENT(c, publish_acked, packet_id);
    return MQTLS_OK;
}

/* PUBREC: a QoS 2 message moves to PUBREL (one already there: the
 * broker's retry, answered again). On a QoS 1 message it is an error. */
static int received_pubrec(mqtls_client *c, uint16_t packet_id)
{
    mqtls_store_entry e;
    long i = index_of(c, packet_id, &e);

    if (i >= 0 && (size_t)i < c->sent) {
        if (stored_qos(&e) != 2)
            return MQTLS_ERR_UNEXPECTED_PACKET;
        if (e.state == MQTLS_STORE_PUBLISH)
            c->cfg.store.set_state(c->cfg.store.ctx, packet_id, MQTLS_STORE_PUBREL);
    }
    return send_ack(c, mqtls_codec_encode_pubrel, packet_id);
}

#if MQTLS_CLIENT_QOS2_GUARD
/* FNV-1a, continued over n more bytes. */
static uint32_t fnv1a(uint32_t h, const void *bytes, size_t n)
{
    const uint8_t *b = bytes;
    while (n-- != 0)
        h = (h ^ *b++) * 16777619u;
    return h;
}

/* A QoS 2 message's id, topic and payload in 32 bits; never 0. */
static uint32_t fingerprint(const mqtls_publish *p)
{
    uint32_t h = fnv1a(2166136261u ^ p->packet_id, p->topic.ptr, p->topic.len);
    return fnv1a(h, p->payload.ptr, p->payload.len) | 1u;
}

/* The opt-in guard (qos2_recent): a DUP resend of a recently completed
 * flow? Otherwise remembers this one's fingerprint when it is delivered. */
static bool resent_after_completion(mqtls_client *c, const mqtls_publish *p, bool remember)
{
    const uint32_t fp = fingerprint(p);
    size_t i;

    if (!remember) {
        for (i = 0; i < c->cfg.qos2_recent_cap; i++)
            if (c->cfg.qos2_recent[i] == fp)
                return true;
        return false;
    }
    c->cfg.qos2_recent[c->recent_next] = fp;
    if (++c->recent_next == c->cfg.qos2_recent_cap)
        c->recent_next = 0;
    return false;
}
#define GUARD_ON(c) ((c)->cfg.qos2_recent_cap != 0)
#else
#define GUARD_ON(c) false
#define resent_after_completion(c, p, remember) false
#endif

static int inbound_publish(mqtls_client *c, const mqtls_publish *p, bool untracked)
{
    size_t i;

    if (p->qos < 2) {
        EVENT(c, received, p);
        if (p->qos == 0)
            return MQTLS_OK;
        return send_ack(c, mqtls_codec_encode_puback, p->packet_id);
    }
    /* QoS 2: deliver once, remember the id until PUBREL [MQTT-4.3.3-2]. */
    for (i = 0; i < c->qos2_count && c->cfg.qos2_ids[i] != p->packet_id; i++)
        ;
    if (i == c->qos2_count && !(GUARD_ON(c) && p->dup && resent_after_completion(c, p, false))) {
        if (untracked) {
            /* rx_buf is full of messages waiting for a slot, and with a
             * clean session no reconnect can bring them back: delivered
             * without an id to recognise a resend by. A 3.1.1 broker
             * resends only on a reconnect, which ends this session. */
        } else if (c->qos2_count == c->cfg.qos2_cap) {
            return PARKED;
        } else {
            c->cfg.qos2_ids[c->qos2_count++] = p->packet_id;
        }
        if (GUARD_ON(c))
            (void)resent_after_completion(c, p, true);
        EVENT(c, received, p);
    }
    return send_ack(c, mqtls_codec_encode_pubrec, p->packet_id);
}

static int released(mqtls_client *c, uint16_t packet_id)
{
    size_t i;
    for (i = 0; i < c->qos2_count; i++) {
        if (c->cfg.qos2_ids[i] == packet_id) {
            c->cfg.qos2_ids[i] = c->cfg.qos2_ids[--c->qos2_count];
            break;
        }
    }
    return send_ack(c, mqtls_codec_encode_pubcomp, packet_id);
}

/* A session the broker did not keep: its flows are gone [MQTT-3.1.2-6].
 * Stored messages are new messages now (DUP 0, PUBREL back to PUBLISH),
 * or, under the discard policy, the ones whose flow had begun are given
 * up, each reported. */
static void new_session(mqtls_client *c)
{
    mqtls_store_iter it;
    mqtls_store_entry e;
    uint32_t rounds;

    c->qos2_count = 0; /* the broker forgot them too */
    if (GUARD_ON(c))
        memset(c->cfg.qos2_recent, 0, c->cfg.qos2_recent_cap * sizeof c->cfg.qos2_recent[0]);
    for (rounds = 0; rounds < 65536u; rounds++) {
        size_t i = 0;
        bool begun = false;
        it.pos = 0;
        it.started = 0;
        while (c->cfg.store.next(c->cfg.store.ctx, &it, &e) == 1) {
            begun = i < c->resend || e.state == MQTLS_STORE_PUBREL;
            if (begun && c->cfg.new_session == MQTLS_NEW_SESSION_DISCARD)
                break;
            if (e.state == MQTLS_STORE_PUBREL)
                c->cfg.store.set_state(c->cfg.store.ctx, e.packet_id, MQTLS_STORE_PUBLISH);
            begun = false;
            i++;
        }
        if (!begun)
            break;
        /* Removing ends the walk: start again after each one. */
        c->cfg.store.remove(c->cfg.store.ctx, e.packet_id);
        if (i < c->resend)
            c->resend--;
        EVENT(c, publish_dropped, e.packet_id, MQTLS_ERR_SESSION_DISCARDED);
    }
    c->resend = 0;
}

static int connack(mqtls_client *c, const mqtls_connack *ack)
{
    if (ack->return_code != MQTLS_CONNACK_ACCEPTED)
        return MQTLS_ERR_CONNACK_PROTOCOL_VERSION + 1 - ack->return_code;
    if (ack->session_present && c->cfg.connect.clean_session)
        return MQTLS_ERR_CONNACK_SESSION_PRESENT; /* [MQTT-3.2.2-1] */
    c->state = MQTLS_CLIENT_CONNECTED;
    c->session_present = ack->session_present;
    c->connected_ms = now(c);
    c->sent = 0;
    LOG_EVENT(c, 2, "connected");
    if (!ack->session_present)
        new_session(c);
    EVENT(c, connected, ack->session_present);
    if (ack->session_present || c->cfg.resubscribe_count == 0)
        return MQTLS_OK;
    return send_encoded(c, mqtls_codec_encode_subscribe(c->cfg.tx_buf, c->cfg.tx_cap,
                                                        take_id(c), c->cfg.resubscribe,
                                                        c->cfg.resubscribe_count));
}

/* Acts on one packet: MQTLS_OK, PARKED, or an error that ends the
 * connection. */
static int handle(mqtls_client *c, const mqtls_packet *pkt, bool untracked)
{
    c->ping_outstanding = false; /* anything at all shows the link is alive */
    if (c->state == MQTLS_CLIENT_CONNECTING)
        return pkt->type == MQTLS_CONNACK ? connack(c, &pkt->u.connack)
                                          : MQTLS_ERR_UNEXPECTED_PACKET; /* [MQTT-3.2.0-1] */
    switch (pkt->type) {
    case MQTLS_PUBLISH: return inbound_publish(c, &pkt->u.publish, untracked);
    case MQTLS_PUBREL: return released(c, pkt->packet_id);
    case MQTLS_PUBACK: return acknowledged(c, pkt->packet_id, 1, MQTLS_STORE_PUBLISH);
    case MQTLS_PUBCOMP: return acknowledged(c, pkt->packet_id, 2, MQTLS_STORE_PUBREL);
    case MQTLS_PUBREC: return received_pubrec(c, pkt->packet_id);
    case MQTLS_SUBACK:
        EVENT(c, subscribe_acked, pkt->packet_id, pkt->u.return_codes.ptr,
              pkt->u.return_codes.len);
        return MQTLS_OK;
    case MQTLS_UNSUBACK:
        EVENT(c, unsubscribe_acked, pkt->packet_id);
        return MQTLS_OK;
    case MQTLS_PINGRESP: return MQTLS_OK;
    default: return MQTLS_ERR_UNEXPECTED_PACKET; /* a second CONNACK */
    }
}

/* Handles every whole packet in rx_buf. A QoS 2 PUBLISH that finds the id
 * table full is parked where it is: the packets behind it that are not
 * PUBLISH (the PUBRELs that free the table among them) are handled and
 * taken out, PUBLISHes wait behind it in order, and when a slot frees the
 * parked ones go first. What is left (parked ones, part of the next
 * packet) moves to the front, once. */
static int handle_received(mqtls_client *c)
{
    size_t done = 0, pos = 0; /* [0, done) handled; [done, pos) parked */
    uint8_t *rx = c->cfg.rx_buf;
    bool untracked = false;

    /* Bounded by rx_buf: every round moves pos on, takes a packet out, or
     * (after a PUBREL freed a slot, or untracked) hands the oldest parked
     * one over, which moves done on. */
    for (;;) {
        mqtls_packet pkt;
        int ret, used = pos < c->rx_len
                            ? mqtls_codec_decode_from_server(rx + pos, c->rx_len - pos, &pkt)
                            : MQTLS_ERR_INCOMPLETE;
        if (used == MQTLS_ERR_INCOMPLETE) {
            /* Is there room for what must come after what is kept? */
            int total = pos < c->rx_len ? mqtls_codec_packet_length(rx + pos, c->rx_len - pos) : 0;
            if (!(total > 0 && (size_t)total > c->cfg.rx_cap - (pos - done)) &&
                !(done < pos && c->rx_len - done == c->cfg.rx_cap))
                break;
            if (done == pos) {
                c->needed = (size_t)total;
                return lose(c, MQTLS_ERR_RX_BUF_TOO_SMALL);
            }
            /* rx_buf is full of parked messages and the PUBRELs the table
             * waits for cannot be read. With a kept session the broker
             * resends them on a new connection (made at once); with a
             * clean one it would not, so the oldest is delivered
             * untracked. */
            if (!c->cfg.connect.clean_session)
                return lose(c, MQTLS_ERR_QOS2_TABLE_FULL);
            untracked = true;
            pos = done;
            continue;
        }
        if (used < 0)
            return lose(c, used); /* malformed: close; the store keeps all */
        if (pos > done && pkt.type == MQTLS_PUBLISH) {
            pos += (size_t)used; /* behind a parked one */
            continue;
        }
        LOG_RECEIVED(c, rx + pos, (size_t)used);
        ret = handle(c, &pkt, untracked);
        untracked = false;
        if (c->state == MQTLS_CLIENT_DISCONNECTED) /* lost inside, told already */
            return c->last_error;
        if (ret < 0)
            return lose(c, ret);
        if (ret == PARKED) {
            pos += (size_t)used;
        } else if (pos == done) {
            done = pos += (size_t)used;
        } else { /* handled behind parked ones: take it out */
            memmove(rx + pos, rx + pos + used, c->rx_len - pos - (size_t)used);
            c->rx_len -= (size_t)used;
            if (c->qos2_count < c->cfg.qos2_cap)
                pos = done; /* a slot is free: the parked ones first */
        }
    }
    c->rx_len -= done;
    memmove(rx, rx + done, c->rx_len);
    return MQTLS_OK;
}

/* Waits up to timeout_ms for something to arrive and handles it; with
 * reads_per_poll above 1, also what else has arrived (reads that do not
 * wait), so a burst of acknowledgements is answered in one poll. */
static int read_and_handle(mqtls_client *c, uint32_t timeout_ms)
{
    int reads, ret = MQTLS_OK;
    for (reads = 0; ret == MQTLS_OK && (reads == 0 || reads < c->cfg.reads_per_poll); reads++) {
        int n = c->transport.recv(c->transport.ctx, c->cfg.rx_buf + c->rx_len,
                                  c->cfg.rx_cap - c->rx_len, reads == 0 ? timeout_ms : 0);
        if (n < 0)
            return lose(c, n);
        if (n == 0)
            break;
        c->rx_len += (size_t)n;
        ret = handle_received(c);
    }
    /* What the reads made answers to, in one write. */
    return ret == MQTLS_OK ? flush_acks(c) : ret;
}

/* Milliseconds until keep_alive() has something to do: a PINGREQ after
 * a quiet keep-alive period, or giving up on an unanswered one. */
static uint32_t until_keep_alive(const mqtls_client *c)
{
    const uint32_t period = (uint32_t)c->cfg.connect.keepalive_s * 1000u;
    uint32_t since;

    if (period == 0)
        return MQTLS_WAIT_FOREVER;
    since = mqtls_clock_elapsed_ms(c->ping_outstanding ? c->ping_ms : c->last_tx_ms, now(c));
    return since >= period ? 0 : period - since;
}

/* PINGREQ when we have been quiet for the keep-alive period; lost when the
 * broker then stays silent for another [MQTT-3.1.2-23]. */
static int keep_alive(mqtls_client *c)
{
    if (c->state != MQTLS_CLIENT_CONNECTED || until_keep_alive(c) != 0)
        return MQTLS_OK;
    if (c->ping_outstanding)
        return lose(c, MQTLS_ERR_KEEPALIVE_TIMEOUT);
    c->ping_outstanding = true;
    c->ping_ms = now(c);
    return send_encoded(c, mqtls_codec_encode_pingreq(c->cfg.tx_buf, c->cfg.tx_cap));
}

void mqtls_client_init(mqtls_client *c)
{
    if (c != NULL)
        memset(c, 0, sizeof *c);
}

int mqtls_client_setup(mqtls_client *c, const mqtls_client_config *cfg)
{
    if (c == NULL || cfg == NULL)
        return MQTLS_ERR_INVALID_ARG;
    if (cfg->tx_buf == NULL || cfg->tx_cap < 16)
        return MQTLS_ERR_CONFIG_TX_BUF;
    if (cfg->rx_buf == NULL || cfg->rx_cap < 16)
        return MQTLS_ERR_CONFIG_RX_BUF;
    if ((cfg->qos2_ids == NULL && cfg->qos2_cap != 0) ||
        ((cfg->qos2_recent == NULL || !MQTLS_CLIENT_QOS2_GUARD) && cfg->qos2_recent_cap != 0))
        return MQTLS_ERR_CONFIG_QOS2_IDS;
    if (cfg->store.find == NULL || cfg->store.set_state == NULL)
        return MQTLS_ERR_CONFIG_STORE; /* the interface functions fill all five */
    if (cfg->clock.now_ms == NULL)
        return MQTLS_ERR_CONFIG_CLOCK;
    if ((cfg->max_age_s != 0 || cfg->drop_oldest) &&
        (!MQTLS_CLIENT_STORE_POLICY || (cfg->max_age_s != 0 && cfg->clock.now_s == NULL)))
        return MQTLS_ERR_CONFIG_POLICY;
    if (cfg->open == NULL)
        return MQTLS_ERR_CONFIG_OPEN;
    mqtls_client_init(c);
    c->cfg = *cfg;
    if (c->cfg.write_timeout_ms == 0)
        c->cfg.write_timeout_ms = DEFAULT_WRITE_TIMEOUT_MS;
    if (c->cfg.connect_timeout_ms == 0)
        c->cfg.connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
    if (c->cfg.stable_ms == 0)
        c->cfg.stable_ms = DEFAULT_STABLE_MS;
    mqtls_backoff_init(&c->backoff, cfg->backoff_seed);
    if (cfg->backoff_min_ms != 0 || cfg->backoff_max_ms != 0 || cfg->backoff_refused_ms != 0) {
        int ret = mqtls_backoff_configure(
            &c->backoff, cfg->backoff_min_ms != 0 ? cfg->backoff_min_ms : c->backoff.min_ms,
            cfg->backoff_max_ms != 0 ? cfg->backoff_max_ms : c->backoff.max_ms,
            cfg->backoff_refused_ms != 0 ? cfg->backoff_refused_ms : c->backoff.refused_ms);
        if (ret != MQTLS_OK)
            return ret;
    }
    c->next_id = 1;
    c->aged_ms = now(c) - 1000u;
    /* What the store holds from before (a reboot): resent with DUP up to
     * the last one it knows went out; all of it when it cannot know. */
    {
        mqtls_store_iter it = {0, 0};
        mqtls_store_entry e;
        size_t i = 0;
        while (c->cfg.store.next(c->cfg.store.ctx, &it, &e) == 1)
            if (++i, c->cfg.store.mark_sent == NULL || (e.flags & MQTLS_STORE_SENT))
                c->resend = i;
    }
    return MQTLS_OK;
}

/* Calls the open function (again, while it makes the connection in
 * slices); once it has, sends CONNECT: the CONNACK is due within the
 * wait start() was given, counted from then. */
static int open_step(mqtls_client *c)
{
    int ret = c->cfg.open(c->cfg.open_ctx, &c->transport);

    if (ret == MQTLS_ERR_IN_PROGRESS) {
        c->state = MQTLS_CLIENT_OPENING;
        return MQTLS_OK;
    }
    if (ret != MQTLS_OK) {
        c->state = MQTLS_CLIENT_DISCONNECTED; /* the open released what it had */
        c->last_error = ret;
        schedule_retry(c, ret);
        LOG_EVENT(c, 1, "open failed");
        EVENT(c, closed, ret);
        return ret;
    }
    c->state = MQTLS_CLIENT_CONNECTING;
    c->rx_len = 0;
    c->ping_outstanding = false;
    c->connack_by_ms += now(c);
    ret = mqtls_codec_encode_connect(c->cfg.tx_buf, c->cfg.tx_cap, &c->cfg.connect);
    return ret < 0 ? lose(c, ret == MQTLS_ERR_BUFFER_TOO_SMALL ? MQTLS_ERR_TX_BUF_TOO_SMALL : ret)
                   : send_all(c, c->cfg.tx_buf, (size_t)ret);
}

/* Opens the transport and sends CONNECT; CONNACK is due within wait_ms. */
static int start(mqtls_client *c, uint32_t wait_ms)
{
    if (c->state != MQTLS_CLIENT_DISCONNECTED)
        return MQTLS_OK;
    c->stopped = false;
    c->connack_by_ms = wait_ms;
    return open_step(c);
}

/* CONNECTING: waits up to timeout_ms (and never past the CONNACK deadline)
 * for the CONNACK. */
static int await_connack(mqtls_client *c, uint32_t timeout_ms)
{
    const int32_t left = (int32_t)(c->connack_by_ms - now(c));
    int ret = MQTLS_OK;

    if (left > 0)
        ret = read_and_handle(c, (uint32_t)left < timeout_ms ? (uint32_t)left : timeout_ms);
    if (ret == MQTLS_OK && c->state == MQTLS_CLIENT_CONNECTING &&
        (int32_t)(c->connack_by_ms - now(c)) <= 0)
        ret = lose(c, MQTLS_ERR_CONNACK_TIMEOUT);
    return ret;
}

int mqtls_client_connect(mqtls_client *c, uint32_t timeout_ms)
{
    int ret, rounds;

    if (c == NULL || c->cfg.open == NULL)
        return MQTLS_ERR_INVALID_ARG;
    lock(c);
    ret = c->state == MQTLS_CLIENT_CONNECTED ? MQTLS_OK : start(c, timeout_ms);
    for (rounds = 0; ret == MQTLS_OK && (c->state == MQTLS_CLIENT_CONNECTING ||
                                         c->state == MQTLS_CLIENT_OPENING); rounds++)
        ret = rounds >= 100000                     ? lose(c, MQTLS_ERR_CONNACK_TIMEOUT)
              : c->state == MQTLS_CLIENT_OPENING ? open_step(c)
                                                   : await_connack(c, timeout_ms);
    if (ret == MQTLS_OK)
        ret = fill_window(c);
    unlock(c);
    return ret;
}

int mqtls_client_start(mqtls_client *c)
{
    int ret;
    if (c == NULL || c->cfg.open == NULL)
        return MQTLS_ERR_INVALID_ARG;
    lock(c);
    ret = start(c, c->cfg.connect_timeout_ms);
    unlock(c);
    return ret;
}

/* While disconnected: wait out the backoff (within timeout_ms), then start
 * a reconnect. */
static int reconnect(mqtls_client *c, uint32_t timeout_ms)
{
    /* Signed distance to the retry time, so a wrapped clock still works. */
    const int32_t wait = (int32_t)(c->retry_at_ms - now(c));

    if (!c->cfg.reconnect || c->stopped)
        return MQTLS_ERR_NET_NOT_CONNECTED;
    if (wait > 0) {
        uint32_t nap = (uint32_t)wait < timeout_ms ? (uint32_t)wait : timeout_ms;
        if (c->cfg.clock.sleep_ms != NULL && nap != 0) {
            unlock(c);
            c->cfg.clock.sleep_ms(c->cfg.clock.ctx, nap);
            lock(c);
        }
        if ((int32_t)(c->retry_at_ms - now(c)) > 0 || c->state != MQTLS_CLIENT_DISCONNECTED)
            return MQTLS_OK; /* not yet */
    }
    return start(c, c->cfg.connect_timeout_ms);
}

#if MQTLS_CLIENT_STORE_POLICY
/* The oldest stored message never put on the wire (a policy may drop
 * only those) that is older than max_age_s (expired true) or any (false):
 * 1 and *out, or 0. Stops at the first unsent one young enough: messages
 * are stored in time order. */
static int unsent(mqtls_client *c, bool expired, mqtls_store_entry *out)
{
    const size_t from = c->sent > c->resend ? c->sent : c->resend;
    const uint32_t t = c->cfg.clock.now_s != NULL ? c->cfg.clock.now_s(c->cfg.clock.ctx) : 0;
    mqtls_store_iter it = {0, 0};
    size_t i = 0;

    while (c->cfg.store.next(c->cfg.store.ctx, &it, out) == 1) {
        if (i++ < from || (out->flags & MQTLS_STORE_SENT) || out->state != MQTLS_STORE_PUBLISH)
            continue;
        if (!expired)
            return 1;
        if (out->time != 0 && t >= out->time) /* a later stamp: age not known */
            return t - out->time > c->cfg.max_age_s;
    }
    return 0;
}

/* Drops messages past max_age_s, at most 64 (the rest next time). */
static void expire(mqtls_client *c)
{
    mqtls_store_entry e;
    int rounds;

    if (c->cfg.max_age_s == 0 || mqtls_clock_elapsed_ms(c->aged_ms, now(c)) < 1000u)
        return;
    c->aged_ms = now(c);
    for (rounds = 0; rounds < 64 && unsent(c, true, &e) == 1; rounds++) {
        c->cfg.store.remove(c->cfg.store.ctx, e.packet_id);
        EVENT(c, publish_dropped, e.packet_id, MQTLS_ERR_STORE_EXPIRED);
    }
}

/* Stores tx_buf's n bytes as packet_id; with drop_oldest, a full store
 * gives up its oldest unsent messages (up to 8) for it, reported after. */
static int store(mqtls_client *c, uint16_t packet_id, size_t n)
{
    const uint32_t t = c->cfg.clock.now_s != NULL ? c->cfg.clock.now_s(c->cfg.clock.ctx) : 0;
    mqtls_store_entry e;
    uint16_t gone[8];
    size_t k = 0, i;
    int ret = c->cfg.store.add(c->cfg.store.ctx, packet_id, c->cfg.tx_buf, n, t);

    while (ret == MQTLS_ERR_STORE_FULL && c->cfg.drop_oldest && k < 8 && unsent(c, false, &e)) {
        c->cfg.store.remove(c->cfg.store.ctx, e.packet_id);
        gone[k++] = e.packet_id;
        ret = c->cfg.store.add(c->cfg.store.ctx, packet_id, c->cfg.tx_buf, n, t);
    }
    for (i = 0; i < k; i++) /* after the add: a handler may publish (tx_buf) */
        EVENT(c, publish_dropped, gone[i], MQTLS_ERR_STORE_DROPPED);
    return ret;
}
#else
static void expire(mqtls_client *c)
{
    (void)c;
}

/* Without the policies nothing reads a time stamp: none is taken. */
static int store(mqtls_client *c, uint16_t packet_id, size_t n)
{
    return c->cfg.store.add(c->cfg.store.ctx, packet_id, c->cfg.tx_buf, n, 0);
}
#endif

/* What is left of timeout_ms since t0. */
static uint32_t left(const mqtls_client *c, uint32_t t0, uint32_t timeout_ms)
{
    const uint32_t spent = mqtls_clock_elapsed_ms(t0, now(c));
    return spent < timeout_ms ? timeout_ms - spent : 0;
}

int mqtls_client_poll(mqtls_client *c, uint32_t timeout_ms)
{
    uint32_t t0, wait, ping;
    int ret = MQTLS_OK;

    if (c == NULL)
        return MQTLS_ERR_INVALID_ARG;
    lock(c);
    t0 = now(c);
    expire(c); /* offline too: that is when messages wait */
    if (c->state == MQTLS_CLIENT_DISCONNECTED)
        ret = reconnect(c, timeout_ms);
    else if (c->state == MQTLS_CLIENT_OPENING)
        ret = open_step(c); /* one slice */
    if (ret == MQTLS_OK && c->state == MQTLS_CLIENT_CONNECTING)
        ret = await_connack(c, left(c, t0, timeout_ms));
    if (ret == MQTLS_OK && c->state == MQTLS_CLIENT_CONNECTED) {
        /* Stable long enough: the next failure starts the backoff over. */
        if (mqtls_clock_elapsed_ms(c->connected_ms, now(c)) >= c->cfg.stable_ms)
            mqtls_backoff_reset(&c->backoff);
        ret = fill_window(c);
        wait = left(c, t0, timeout_ms);
        ping = until_keep_alive(c);
        if (ret == MQTLS_OK)
            ret = read_and_handle(c, ping < wait ? ping : wait); /* a PINGREQ may fall due first */
        if (ret == MQTLS_OK)
            ret = keep_alive(c);
        if (ret == MQTLS_OK)
            ret = fill_window(c); /* acknowledgements made room */
    }
    unlock(c);
    return ret;
}

/* When poll() must next look for expired messages (max_age_s). */
static uint32_t until_expiry_check(const mqtls_client *c)
{
#if MQTLS_CLIENT_STORE_POLICY
    const uint32_t since = mqtls_clock_elapsed_ms(c->aged_ms, now(c));
    if (c->cfg.max_age_s != 0)
        return since >= 1000u ? 0 : 1000u - since;
#else
    (void)c;
#endif
    return MQTLS_WAIT_FOREVER;
}

static uint32_t next_due(const mqtls_client *c)
{
    int32_t d;

    switch (c->state) {
    case MQTLS_CLIENT_DISCONNECTED:
        if (!c->cfg.reconnect || c->stopped)
            return MQTLS_WAIT_FOREVER;
        d = (int32_t)(c->retry_at_ms - now(c));
        return d > 0 ? (uint32_t)d : 0;
    case MQTLS_CLIENT_CONNECTING:
        d = (int32_t)(c->connack_by_ms - now(c));
        return d > 0 ? (uint32_t)d : 0;
    case MQTLS_CLIENT_CONNECTED:
        return until_keep_alive(c);
    default: /* OPENING: the open function's own input and deadline */
        return MQTLS_WAIT_FOREVER;
    }
}

uint32_t mqtls_client_next_due_ms(const mqtls_client *c)
{
    uint32_t due, expiry;

    if (c == NULL)
        return MQTLS_WAIT_FOREVER;
    due = next_due(c);
    expiry = until_expiry_check(c);
    return expiry < due ? expiry : due;
}

/* The bytes a PUBLISH takes: fixed header, topic, packet id, payload. */
static size_t publish_size(const mqtls_publish *p)
{
    size_t rl = 2 + p->topic.len + (p->qos != 0 ? 2u : 0u) + p->payload.len, hdr = 2, v;
    for (v = rl >> 7; v != 0; v >>= 7)
        hdr++;
    return hdr + rl;
}

static int publish(mqtls_client *c, const mqtls_publish *msg, uint16_t *packet_id)
{
    mqtls_publish p = *msg;
    int n, ret;

    p.dup = false;
    p.packet_id = 0;
    if (p.qos == 0 && c->state != MQTLS_CLIENT_CONNECTED)
        return MQTLS_ERR_NET_NOT_CONNECTED;
    if (p.qos != 0) {
        p.packet_id = take_id(c);
        if (p.packet_id == 0)
            return MQTLS_ERR_STORE_FULL;
    }
    n = mqtls_codec_encode_publish(c->cfg.tx_buf, c->cfg.tx_cap, &p);
    if (n == MQTLS_ERR_BUFFER_TOO_SMALL) {
        c->needed = publish_size(&p);
        return MQTLS_ERR_TX_BUF_TOO_SMALL;
    }
    if (n < 0 || p.qos == 0)
        return send_encoded(c, n);
    ret = store(c, p.packet_id, (size_t)n);
    if (ret != MQTLS_OK)
        return ret;
    if (packet_id != NULL)
        *packet_id = p.packet_id;
    /* Stored: promised. A failure to send now only ends the connection. */
    (void)fill_window(c);
    return MQTLS_OK;
}

int mqtls_client_publish(mqtls_client *c, const mqtls_publish *msg, uint16_t *packet_id)
{
    int ret;
    if (c == NULL || msg == NULL)
        return MQTLS_ERR_INVALID_ARG;
    lock(c);
    ret = publish(c, msg, packet_id);
    unlock(c);
    return ret;
}

int mqtls_client_publish_wait(mqtls_client *c, const mqtls_publish *msg, uint32_t timeout_ms)
{
    mqtls_store_entry e;
    uint32_t start_ms;
    uint16_t id = 0;
    int ret, rounds;

    if (c == NULL || msg == NULL)
        return MQTLS_ERR_INVALID_ARG;
    start_ms = now(c);
    ret = mqtls_client_publish(c, msg, &id);
    if (ret != MQTLS_OK || msg->qos == 0)
        return ret;
    /* Done when the store no longer holds it (bounded: each poll waits). */
    for (rounds = 0; rounds < 100000; rounds++) {
        uint32_t spent = mqtls_clock_elapsed_ms(start_ms, now(c));
        lock(c);
        ret = c->cfg.store.find(c->cfg.store.ctx, id, &e);
        unlock(c);
        if (ret == MQTLS_ERR_STORE_NOT_FOUND)
            return MQTLS_OK;
        if (spent >= timeout_ms)
            break;
        (void)mqtls_client_poll(c, timeout_ms - spent);
    }
    return MQTLS_ERR_NET_TIMEOUT;
}

/* SUBSCRIBE (subs) or UNSUBSCRIBE (filters), now, under a fresh id. */
static int send_filters(mqtls_client *c, const mqtls_subscription *subs,
                        const mqtls_str *filters, size_t count, uint16_t *packet_id)
{
    uint16_t id;
    int ret = MQTLS_ERR_NET_NOT_CONNECTED;

    lock(c);
    if (c->state == MQTLS_CLIENT_CONNECTED) {
        id = take_id(c);
        ret = send_encoded(c, subs != NULL ? mqtls_codec_encode_subscribe(
                                                 c->cfg.tx_buf, c->cfg.tx_cap, id, subs, count)
                                           : mqtls_codec_encode_unsubscribe(
                                                 c->cfg.tx_buf, c->cfg.tx_cap, id, filters, count));
        if (ret == MQTLS_OK && packet_id != NULL)
            *packet_id = id;
    }
    unlock(c);
    return ret;
}

int mqtls_client_subscribe(mqtls_client *c, const mqtls_subscription *subs, size_t count,
                           uint16_t *packet_id)
{
    if (c == NULL || subs == NULL)
        return MQTLS_ERR_INVALID_ARG;
    return send_filters(c, subs, NULL, count, packet_id);
}

int mqtls_client_unsubscribe(mqtls_client *c, const mqtls_str *filters, size_t count,
                             uint16_t *packet_id)
{
    if (c == NULL || filters == NULL)
        return MQTLS_ERR_INVALID_ARG;
    return send_filters(c, NULL, filters, count, packet_id);
}

int mqtls_client_disconnect(mqtls_client *c)
{
    if (c == NULL)
        return MQTLS_ERR_INVALID_ARG;
    lock(c);
    c->stopped = true;
    if (c->state == MQTLS_CLIENT_CONNECTED)
        (void)send_encoded(c, mqtls_codec_encode_disconnect(c->cfg.tx_buf, c->cfg.tx_cap));
    end(c, MQTLS_OK); /* nothing if sending DISCONNECT lost the link */
    unlock(c);
    return MQTLS_OK;
}

int mqtls_client_abort(mqtls_client *c)
{
    if (c == NULL)
        return MQTLS_ERR_INVALID_ARG;
    lock(c);
    (void)lose(c, MQTLS_ERR_ABORTED);
    unlock(c);
    return MQTLS_OK;
}
