#include "mqtt/client.h"

#include <string.h>

#define DEFAULT_WRITE_TIMEOUT_MS 5000u
#define DEFAULT_CONNECT_TIMEOUT_MS 10000u
#define DEFAULT_STABLE_MS 60000u

static uint32_t now(const mqtls_client *c)
{
    return c->cfg.clock.now_ms(c->cfg.clock.ctx);
}

/* Refusals that retrying cannot fix wait on the slow schedule. */
static mqtls_backoff_reason why_down(int reason)
{
    switch (reason) {
    case MQTLS_ERR_CONNACK_PROTOCOL_VERSION:
    case MQTLS_ERR_CONNACK_IDENTIFIER_REJECTED:
    case MQTLS_ERR_CONNACK_BAD_CREDENTIALS:
    case MQTLS_ERR_CONNACK_NOT_AUTHORIZED:
    case MQTLS_ERR_TLS_CLIENT_CERT_REFUSED:
    case MQTLS_ERR_TLS_CERT_UNTRUSTED:
    case MQTLS_ERR_TLS_HOSTNAME_MISMATCH:
    case MQTLS_ERR_TLS_CERT_EXPIRED:
    case MQTLS_ERR_TLS_NO_TRUST:
        return MQTLS_BACKOFF_REFUSED;
    default:
        return MQTLS_BACKOFF_TRANSIENT;
    }
}

/* When to try again after reason: at once when we chose to reconnect so
 * that the broker resends what a full QoS 2 table left unanswered (the
 * connection worked; a backlog may take several rounds). */
static void schedule_retry(mqtls_client *c, int reason)
{
    uint32_t delay = 0;
    if (reason == MQTLS_ERR_QOS2_TABLE_FULL)
        mqtls_backoff_reset(&c->backoff);
    else
        mqtls_backoff_next(&c->backoff, why_down(reason), &delay);
    c->retry_at_ms = now(c) + delay;
}

/* Ends the connection; stored messages stay for the next one, and those
 * that were on the wire go out again first. */
static int lose(mqtls_client *c, int reason)
{
    const bool was_up = c->state == MQTLS_CLIENT_CONNECTED;

    if (c->state != MQTLS_CLIENT_DISCONNECTED && c->transport.close != NULL)
        c->transport.close(c->transport.ctx);
    c->state = MQTLS_CLIENT_DISCONNECTED;
    c->last_error = reason;
    c->rx_len = 0;
    if (c->sent > c->resend)
        c->resend = c->sent;
    c->sent = 0;
    c->ping_outstanding = false;
    schedule_retry(c, reason);
    if (was_up && c->cfg.events.lost != NULL)
        c->cfg.events.lost(c->cfg.events.ctx, reason);
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
 * takes it in parts. */
static int send_all(mqtls_client *c, const uint8_t *p, size_t len)
{
    size_t off;
    int ret = write_out(c, p, len, &off);
    return ret == MQTLS_OK ? MQTLS_OK : lose(c, ret);
}

/* Sends what an encoder just wrote into tx_buf (n bytes, or its error). */
static int send_encoded(mqtls_client *c, int n)
{
    return n < 0 ? n : send_all(c, c->cfg.tx_buf, (size_t)n);
}

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

/* Puts waiting QoS 1/2 messages on the wire while the window has room, in
 * store order, several packets to one write: they are gathered in tx_buf
 * (so a TLS transport makes one record of them) and written when it is
 * full or nothing more may go. A message larger than tx_buf goes straight
 * from the store. The ones on the wire are always the first `sent`
 * entries, and only those are acknowledged. */
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
        const bool dup = c->sent + count < c->resend;
        if (used > 0 && used + need > c->cfg.tx_cap) {
            ret = send_batch(c, used, count);
            used = count = 0;
            if (ret != MQTLS_OK)
                return ret;
        }
        if (need > c->cfg.tx_cap) {
            /* Too big to gather: straight from the store (without DUP if
             * it was on the wire before: the stored bytes are not ours to
             * change). */
            ret = send_all(c, e.packet, e.len);
            if (ret != MQTLS_OK)
                return ret;
            c->sent++;
            continue;
        }
        if (e.state == MQTLS_STORE_PUBREL) {
            int n = mqtls_codec_encode_pubrel(c->cfg.tx_buf + used, c->cfg.tx_cap - used,
                                              e.packet_id);
            if (n < 0)
                return n;
        } else {
            memcpy(c->cfg.tx_buf + used, e.packet, e.len);
            if (dup) /* on the wire before a drop: again, with DUP [MQTT-3.3.1-1] */
                c->cfg.tx_buf[used] |= 0x08u;
        }
        used += need;
        count++;
    }
    return used > 0 ? send_batch(c, used, count) : MQTLS_OK;
}

/* PUBACK or PUBCOMP: the flow of packet_id is complete. */
static int acknowledged(mqtls_client *c, uint16_t packet_id, uint8_t want_state)
{
    mqtls_store_entry e;
    long i = index_of(c, packet_id, &e);

    /* An id we did not send, or in another phase: not ours to act on. */
    if (i < 0 || (size_t)i >= c->sent || e.state != want_state)
        return MQTLS_OK;
    c->cfg.store.remove(c->cfg.store.ctx, packet_id);
    c->sent--;
    if ((size_t)i < c->resend)
        c->resend--;
    if (c->cfg.events.delivered != NULL)
        c->cfg.events.delivered(c->cfg.events.ctx, packet_id);
    return MQTLS_OK;
}

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

static bool delivered_recently(const mqtls_client *c, uint32_t fp)
{
    size_t i;
    for (i = 0; i < MQTLS_CLIENT_QOS2_RECENT; i++)
        if (c->recent[i] == fp)
            return true;
    return false;
}

static int inbound_publish(mqtls_client *c, const mqtls_publish *p)
{
    const mqtls_client_events *ev = &c->cfg.events;
    uint32_t fp;
    size_t i;

    if (p->qos < 2) {
        if (ev->message != NULL)
            ev->message(ev->ctx, p);
        if (p->qos == 0)
            return MQTLS_OK;
        return send_encoded(c, mqtls_codec_encode_puback(c->cfg.tx_buf, c->cfg.tx_cap,
                                                         p->packet_id));
    }
    /* QoS 2: deliver once, remember the id until PUBREL [MQTT-4.3.3-2]. */
    for (i = 0; i < c->qos2_count && c->cfg.qos2_ids[i] != p->packet_id; i++)
        ;
    if (i == c->qos2_count) {
        /* Its flow is complete, yet here it is again, with DUP: a broker
         * restarted from persistence may resend a PUBLISH it had already
         * sent PUBREL for (Mosquitto 2.0 does), which must not deliver it
         * twice. Same id, topic and payload as one of the last delivered:
         * answered, not delivered. */
        fp = fingerprint(p);
        if (!p->dup || !delivered_recently(c, fp)) {
            if (c->qos2_count == c->cfg.qos2_cap) {
                /* No room to remember it: leave it unanswered (the broker
                 * still owes it) and carry on, so the PUBRELs behind it
                 * free the table; released() then reconnects to have it
                 * resent. */
                c->qos2_skipped = true;
                return MQTLS_OK;
            }
            c->cfg.qos2_ids[c->qos2_count++] = p->packet_id;
            c->recent[c->recent_next] = fp;
            if (++c->recent_next == MQTLS_CLIENT_QOS2_RECENT)
                c->recent_next = 0;
            if (ev->message != NULL)
                ev->message(ev->ctx, p);
        }
    }
    return send_encoded(c, mqtls_codec_encode_pubrec(c->cfg.tx_buf, c->cfg.tx_cap,
                                                     p->packet_id));
}

static int released(mqtls_client *c, uint16_t packet_id)
{
    size_t i;
    int ret;
    for (i = 0; i < c->qos2_count; i++) {
        if (c->cfg.qos2_ids[i] == packet_id) {
            c->cfg.qos2_ids[i] = c->cfg.qos2_ids[--c->qos2_count];
            break;
        }
    }
    ret = send_encoded(c, mqtls_codec_encode_pubcomp(c->cfg.tx_buf, c->cfg.tx_cap, packet_id));
    /* A MQTT 3.1.1 broker resends an unanswered PUBLISH only on a new
     * connection: once the table is empty, make one. */
    if (ret == MQTLS_OK && c->qos2_skipped && c->qos2_count == 0)
        return MQTLS_ERR_QOS2_TABLE_FULL;
    return ret;
}

static int handle(mqtls_client *c, const mqtls_packet *pkt)
{
    const mqtls_client_events *ev = &c->cfg.events;
    mqtls_store_entry e;
    long i;

    c->ping_outstanding = false; /* anything at all shows the link is alive */
    if (c->state == MQTLS_CLIENT_CONNECTING) {
        if (pkt->type != MQTLS_CONNACK)
            return MQTLS_ERR_UNEXPECTED_PACKET; /* [MQTT-3.2.0-1] */
        if (pkt->u.connack.return_code != MQTLS_CONNACK_ACCEPTED)
            return MQTLS_ERR_CONNACK_PROTOCOL_VERSION + 1 - pkt->u.connack.return_code;
        c->state = MQTLS_CLIENT_CONNECTED;
        c->session_present = pkt->u.connack.session_present;
        c->qos2_skipped = false; /* the broker resends what we left unanswered */
        c->connected_ms = now(c);
        c->sent = 0;
        if (c->session_present)
            return MQTLS_OK;
        c->qos2_count = 0; /* a new session: the broker forgot them too */
        memset(c->recent, 0, sizeof c->recent);
        if (c->cfg.resubscribe_count == 0)
            return MQTLS_OK;
        return send_encoded(c, mqtls_codec_encode_subscribe(c->cfg.tx_buf, c->cfg.tx_cap,
                                                            take_id(c), c->cfg.resubscribe,
                                                            c->cfg.resubscribe_count));
    }
    switch (pkt->type) {
    case MQTLS_PUBLISH: return inbound_publish(c, &pkt->u.publish);
    case MQTLS_PUBREL: return released(c, pkt->packet_id);
    case MQTLS_PUBACK: return acknowledged(c, pkt->packet_id, MQTLS_STORE_PUBLISH);
    case MQTLS_PUBCOMP: return acknowledged(c, pkt->packet_id, MQTLS_STORE_PUBREL);
    case MQTLS_PUBREC:
        i = index_of(c, pkt->packet_id, &e);
        if (i >= 0 && (size_t)i < c->sent && e.state == MQTLS_STORE_PUBLISH)
            c->cfg.store.set_state(c->cfg.store.ctx, pkt->packet_id, MQTLS_STORE_PUBREL);
        /* PUBREL for any PUBREC, so a broker's retry is answered too. */
        return send_encoded(c, mqtls_codec_encode_pubrel(c->cfg.tx_buf, c->cfg.tx_cap,
                                                         pkt->packet_id));
    case MQTLS_SUBACK:
        if (ev->subscribed != NULL)
            ev->subscribed(ev->ctx, pkt->packet_id, pkt->u.return_codes.ptr,
                           pkt->u.return_codes.len);
        return MQTLS_OK;
    case MQTLS_UNSUBACK:
        if (ev->unsubscribed != NULL)
            ev->unsubscribed(ev->ctx, pkt->packet_id);
        return MQTLS_OK;
    case MQTLS_PINGRESP: return MQTLS_OK;
    default: return MQTLS_ERR_UNEXPECTED_PACKET; /* a second CONNACK */
    }
}

/* Handles every whole packet in rx_buf, then moves what is left (part of
 * the next one) to the front, once. */
static int handle_received(mqtls_client *c)
{
    size_t off = 0;
    int ret = MQTLS_OK;
    while (off < c->rx_len && c->state != MQTLS_CLIENT_DISCONNECTED) {
        mqtls_packet pkt;
        int used = mqtls_codec_decode_from_server(c->cfg.rx_buf + off, c->rx_len - off, &pkt);
        if (used == MQTLS_ERR_INCOMPLETE) {
            int total = mqtls_codec_packet_length(c->cfg.rx_buf + off, c->rx_len - off);
            if (total > 0 && (size_t)total > c->cfg.rx_cap)
                return lose(c, MQTLS_ERR_PACKET_TOO_LARGE);
            break;
        }
        if (used < 0)
            return lose(c, used); /* malformed: close; the store keeps all */
        ret = handle(c, &pkt);
        if (ret < 0)
            return lose(c, ret);
        off += (size_t)used;
    }
    if (c->state == MQTLS_CLIENT_DISCONNECTED)
        return c->last_error;
    c->rx_len -= off;
    memmove(c->cfg.rx_buf, c->cfg.rx_buf + off, c->rx_len);
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
        c->last_rx_ms = now(c);
        c->rx_len += (size_t)n;
        ret = handle_received(c);
    }
    return ret;
}

/* PINGREQ when we have been quiet for the keep-alive period; lost when the
 * broker then stays silent for another [MQTT-3.1.2-23]. */
static int keep_alive(mqtls_client *c)
{
    const uint32_t period = (uint32_t)c->cfg.connect.keepalive_s * 1000u;
    const uint32_t t = now(c);

    if (c->state != MQTLS_CLIENT_CONNECTED || period == 0)
        return MQTLS_OK;
    if (c->ping_outstanding)
        return mqtls_clock_elapsed_ms(c->ping_ms, t) >= period
                   ? lose(c, MQTLS_ERR_KEEPALIVE_TIMEOUT)
                   : MQTLS_OK;
    if (mqtls_clock_elapsed_ms(c->last_tx_ms, t) < period)
        return MQTLS_OK;
    c->ping_outstanding = true;
    c->ping_ms = t;
    return send_encoded(c, mqtls_codec_encode_pingreq(c->cfg.tx_buf, c->cfg.tx_cap));
}

void mqtls_client_init(mqtls_client *c)
{
    if (c != NULL)
        memset(c, 0, sizeof *c);
}

int mqtls_client_setup(mqtls_client *c, const mqtls_client_config *cfg)
{
    if (c == NULL || cfg == NULL || cfg->tx_buf == NULL || cfg->tx_cap < 16 ||
        cfg->rx_buf == NULL || cfg->rx_cap < 16 || cfg->store.find == NULL ||
        cfg->clock.now_ms == NULL || cfg->open == NULL ||
        (cfg->qos2_ids == NULL && cfg->qos2_cap != 0))
        return MQTLS_ERR_INVALID_ARG;
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
    return MQTLS_OK;
}

int mqtls_client_connect(mqtls_client *c, uint32_t timeout_ms)
{
    uint32_t start;
    int ret, rounds;

    if (c == NULL || c->cfg.open == NULL)
        return MQTLS_ERR_INVALID_ARG;
    if (c->state == MQTLS_CLIENT_CONNECTED)
        return MQTLS_OK;
    c->stopped = false;
    ret = c->cfg.open(c->cfg.open_ctx, &c->transport);
    if (ret != MQTLS_OK) {
        c->last_error = ret;
        schedule_retry(c, ret);
        return ret;
    }
    c->state = MQTLS_CLIENT_CONNECTING;
    c->rx_len = 0;
    ret = mqtls_codec_encode_connect(c->cfg.tx_buf, c->cfg.tx_cap, &c->cfg.connect);
    if (ret < 0)
        return lose(c, ret);
    ret = send_encoded(c, ret);
    start = now(c);
    for (rounds = 0; ret == MQTLS_OK && c->state == MQTLS_CLIENT_CONNECTING; rounds++) {
        uint32_t spent = mqtls_clock_elapsed_ms(start, now(c));
        if (spent >= timeout_ms || rounds > 100000)
            return lose(c, MQTLS_ERR_CONNACK_TIMEOUT);
        ret = read_and_handle(c, timeout_ms - spent);
    }
    if (ret == MQTLS_OK)
        ret = fill_window(c);
    return ret;
}

/* While disconnected: wait out the backoff (within timeout_ms), then try. */
static int reconnect(mqtls_client *c, uint32_t timeout_ms)
{
    const uint32_t t = now(c);
    /* Signed distance to the retry time, so a wrapped clock still works. */
    const int32_t wait = (int32_t)(c->retry_at_ms - t);
    int ret;

    if (!c->cfg.reconnect || c->stopped)
        return MQTLS_ERR_NET_NOT_CONNECTED;
    if (wait > 0) {
        uint32_t nap = (uint32_t)wait < timeout_ms ? (uint32_t)wait : timeout_ms;
        if (c->cfg.clock.sleep_ms != NULL && nap != 0)
            c->cfg.clock.sleep_ms(c->cfg.clock.ctx, nap);
        if ((int32_t)(c->retry_at_ms - now(c)) > 0)
            return MQTLS_OK; /* not yet */
    }
    ret = mqtls_client_connect(c, c->cfg.connect_timeout_ms);
    if (ret == MQTLS_OK && c->cfg.events.restored != NULL)
        c->cfg.events.restored(c->cfg.events.ctx, c->session_present);
    return ret;
}

int mqtls_client_poll(mqtls_client *c, uint32_t timeout_ms)
{
    int ret;

    if (c == NULL)
        return MQTLS_ERR_INVALID_ARG;
    if (c->state != MQTLS_CLIENT_CONNECTED)
        return reconnect(c, timeout_ms);
    /* Stable long enough: the next failure starts the backoff over. */
    if (c->backoff.failures != 0 &&
        mqtls_clock_elapsed_ms(c->connected_ms, now(c)) >= c->cfg.stable_ms)
        mqtls_backoff_reset(&c->backoff);
    ret = fill_window(c);
    if (ret == MQTLS_OK)
        ret = read_and_handle(c, timeout_ms);
    if (ret == MQTLS_OK)
        ret = keep_alive(c);
    if (ret == MQTLS_OK)
        ret = fill_window(c); /* acknowledgements made room */
    return ret;
}

int mqtls_client_publish(mqtls_client *c, const mqtls_publish *msg, uint16_t *packet_id)
{
    mqtls_publish p;
    int n, ret;

    if (c == NULL || msg == NULL)
        return MQTLS_ERR_INVALID_ARG;
    p = *msg;
    p.dup = false;
    p.packet_id = 0;
    if (p.qos == 0) {
        if (c->state != MQTLS_CLIENT_CONNECTED)
            return MQTLS_ERR_NET_NOT_CONNECTED;
        return send_encoded(c, mqtls_codec_encode_publish(c->cfg.tx_buf, c->cfg.tx_cap, &p));
    }
    p.packet_id = take_id(c);
    if (p.packet_id == 0)
        return MQTLS_ERR_STORE_FULL;
    n = mqtls_codec_encode_publish(c->cfg.tx_buf, c->cfg.tx_cap, &p);
    if (n < 0)
        return n;
    ret = c->cfg.store.add(c->cfg.store.ctx, p.packet_id, c->cfg.tx_buf, (size_t)n);
    if (ret != MQTLS_OK)
        return ret;
    if (packet_id != NULL)
        *packet_id = p.packet_id;
    /* Stored: promised. A failure to send now only ends the connection. */
    (void)fill_window(c);
    return MQTLS_OK;
}

int mqtls_client_publish_wait(mqtls_client *c, const mqtls_publish *msg, uint32_t timeout_ms)
{
    mqtls_store_entry e;
    uint32_t start;
    uint16_t id = 0;
    int ret, rounds;

    if (c == NULL || msg == NULL)
        return MQTLS_ERR_INVALID_ARG;
    start = now(c);
    ret = mqtls_client_publish(c, msg, &id);
    if (ret != MQTLS_OK || msg->qos == 0)
        return ret;
    /* Done when the store no longer holds it (bounded: each poll waits). */
    for (rounds = 0; rounds < 100000; rounds++) {
        uint32_t spent = mqtls_clock_elapsed_ms(start, now(c));
        if (c->cfg.store.find(c->cfg.store.ctx, id, &e) == MQTLS_ERR_STORE_NOT_FOUND)
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
    int ret;

    if (c == NULL)
        return MQTLS_ERR_INVALID_ARG;
    if (c->state != MQTLS_CLIENT_CONNECTED)
        return MQTLS_ERR_NET_NOT_CONNECTED;
    id = take_id(c);
    ret = send_encoded(c, subs != NULL ? mqtls_codec_encode_subscribe(c->cfg.tx_buf, c->cfg.tx_cap,
                                                                      id, subs, count)
                                       : mqtls_codec_encode_unsubscribe(
                                             c->cfg.tx_buf, c->cfg.tx_cap, id, filters, count));
    if (ret == MQTLS_OK && packet_id != NULL)
        *packet_id = id;
    return ret;
}

int mqtls_client_subscribe(mqtls_client *c, const mqtls_subscription *subs, size_t count,
                           uint16_t *packet_id)
{
    if (subs == NULL)
        return MQTLS_ERR_INVALID_ARG;
    return send_filters(c, subs, NULL, count, packet_id);
}

int mqtls_client_unsubscribe(mqtls_client *c, const mqtls_str *filters, size_t count,
                             uint16_t *packet_id)
{
    if (filters == NULL)
        return MQTLS_ERR_INVALID_ARG;
    return send_filters(c, NULL, filters, count, packet_id);
}

int mqtls_client_disconnect(mqtls_client *c)
{
    if (c == NULL)
        return MQTLS_ERR_INVALID_ARG;
    c->stopped = true;
    if (c->state == MQTLS_CLIENT_CONNECTED)
        (void)send_encoded(c, mqtls_codec_encode_disconnect(c->cfg.tx_buf, c->cfg.tx_cap));
    if (c->state != MQTLS_CLIENT_DISCONNECTED) {
        c->transport.close(c->transport.ctx);
        c->state = MQTLS_CLIENT_DISCONNECTED;
    }
    c->rx_len = 0;
    if (c->sent > c->resend)
        c->resend = c->sent;
    c->sent = 0;
    return MQTLS_OK;
}
