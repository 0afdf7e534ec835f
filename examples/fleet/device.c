/* SPDX-License-Identifier: Apache-2.0 */
/* One device of the fleet: the client and TLS stack firmware runs, opened
 * without blocking so that thousands share one thread.
 *
 * The open function is the client's (mqtls_client_open_fn) in slices: a
 * non-blocking TCP connect, then the TLS handshake one step per call
 * (mqtls_tls_config_set_slices()), MQTLS_ERR_IN_PROGRESS until it is
 * done. The lower transport never waits for input (the loop's epoll
 * does), and says when a read found nothing (starved), which is when the
 * loop stops stepping a handshake and waits for the socket. */
#define _GNU_SOURCE
#include "examples/fleet/fleet.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/clock_posix.h"
#include "net/error.h"

bool fleet_seen(uint8_t *bits, uint32_t seq)
{
    bool before;
    if (seq >= FLEET_SEQ_MAX)
        return false;
    before = (bits[seq / 8] >> (seq % 8)) & 1u;
    bits[seq / 8] |= (uint8_t)(1u << (seq % 8));
    return before;
}

/* ---- the lower transport: TCP that never waits for input ---------------- */

static int lower_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    return mqtls_tcp_send(&((fleet_dev *)ctx)->tcp, buf, len, timeout_ms);
}

static int lower_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    fleet_dev *d = ctx;
    int n = mqtls_tcp_recv(&d->tcp, buf, len, 0);
    (void)timeout_ms; /* the loop waits, in epoll */
    if (n == 0)
        d->starved = true;
    return n;
}

static void lower_close(void *ctx)
{
    mqtls_tcp_close(&((fleet_dev *)ctx)->tcp);
}

/* ---- the transport the client gets ---------------------------------------- */

static int dev_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    return mqtls_tls_send(&((fleet_dev *)ctx)->tls, buf, len, timeout_ms);
}

static int dev_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    return mqtls_tls_recv(&((fleet_dev *)ctx)->tls, buf, len, timeout_ms);
}

/* ---- handshake slots ------------------------------------------------------
 * Every device here shares one CPU, where real devices each have their
 * own: thousands of handshakes stepped side by side all miss their
 * deadlines together. At most --max-handshakes run at once; an attempt
 * that finds none free waits in a queue (before its TCP connect, so the
 * broker sees nothing of it) and the wait is reported. */

static void release_slot(fleet_dev *d)
{
    fleet *f = d->f;
    if (!d->holds_slot)
        return;
    d->holds_slot = false;
    f->opening_now--;
    while (f->q_len > 0 && f->opening_now + f->admitted_pending < f->o.max_open) {
        fleet_dev *next = f->dev[f->queue[f->q_head]];
        f->q_head = (f->q_head + 1) % f->count;
        f->q_len--;
        next->queued = false;
        if (next->c.state != MQTLS_CLIENT_OPENING)
            continue; /* it gave up waiting (disconnect, abort) */
        next->admitted = true;
        f->admitted_pending++;
        fleet_schedule(f, next, 0);
    }
}

/* 1: this attempt may start; 0: it waits in the queue. */
static int take_slot(fleet_dev *d)
{
    fleet *f = d->f;
    const uint32_t now = fleet_now(f);
    if (d->admitted) {
        d->admitted = false;
        f->admitted_pending--;
    } else if (f->o.max_open != 0 && f->opening_now + f->admitted_pending >= f->o.max_open) {
        if (!d->queued) {
            d->queued = true;
            d->queued_at = now;
            f->queue[(f->q_head + f->q_len) % f->count] = d->operator_ ? f->n : d->idx;
            f->q_len++;
        }
        return 0;
    }
    if (d->queued_at != 0) {
        const uint32_t waited = now - d->queued_at;
        f->queued_total_ms += waited;
        f->queued_count++;
        if (waited > f->queued_max_ms)
            f->queued_max_ms = waited;
        d->queued_at = 0;
    }
    d->holds_slot = true;
    f->opening_now++;
    return 1;
}

/* Closes whatever the open made, and gives the TLS buffers back: a device
 * waiting to reconnect holds no record buffers. */
static void dev_close(void *ctx)
{
    fleet_dev *d = ctx;
    release_slot(d);
    if (d->admitted) { /* given a slot it will not use now */
        d->admitted = false;
        d->f->admitted_pending--;
    }
    if (d->phase >= PH_TLS)
        mqtls_tls_close(&d->tls);
    if (d->tcp.fd >= 0)
        mqtls_tcp_close(&d->tcp);
    mqtls_tls_free(&d->tls);
    mqtls_tls_init(&d->tls);
    d->phase = PH_IDLE;
    d->reg_events = 0; /* the socket left epoll as it closed */
}

static void as_transport(fleet_dev *d, mqtls_transport *out)
{
    out->ctx = d;
    out->send = dev_send;
    out->recv = dev_recv;
    out->close = dev_close;
}

/* A TLS 1.3 ticket arrived: the session to offer next time. */
static void on_ticket(void *ctx, mqtls_tls *tls)
{
    fleet_dev *d = ctx;
    size_t len = 0;
    if (d->session != NULL &&
        mqtls_tls_session_save(tls, d->session, FLEET_SESSION_CAP, &len) == MQTLS_OK)
        d->session_len = len;
}

/* This second's counters: what the broker saw of the devices (the
 * operator's own connects are not counted). */
static fleet_second *tally(fleet_dev *d)
{
    static fleet_second operator_seconds;
    return d->operator_ ? &operator_seconds : fleet_this_second(d->f);
}

static int errno_error(int e)
{
    switch (e) {
    case ECONNREFUSED: return MQTLS_ERR_NET_REFUSED;
    case ETIMEDOUT: return MQTLS_ERR_NET_TIMEOUT;
    case ENETUNREACH:
    case EHOSTUNREACH: return MQTLS_ERR_NET_UNREACHABLE;
    case ECONNRESET: return MQTLS_ERR_NET_RESET;
    default: return MQTLS_ERR_NET_IO;
    }
}

static int failed(fleet_dev *d, int ret, const char *why)
{
    snprintf(d->why, sizeof d->why, "%s", why != NULL && why[0] ? why : mqtls_strerror(ret));
    dev_close(d);
    return ret;
}

/* A non-blocking connect to the fleet's address. */
static int tcp_start(fleet_dev *d)
{
    fleet *f = d->f;
    int one = 1, fd;

    mqtls_tcp_reset(&d->tcp);
    fd = socket(f->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno == EMFILE || errno == ENFILE ? MQTLS_ERR_NET_IO : errno_error(errno);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    d->tcp.fd = fd;
    d->tcp.family = f->addr.ss_family;
    d->reg_events = 0;
    if (connect(fd, (const struct sockaddr *)&f->addr, f->addr_len) != 0 && errno != EINPROGRESS) {
        d->tcp.last_errno = errno;
        return errno_error(errno);
    }
    return MQTLS_OK;
}

/* 1 connected, 0 not yet, or an error. */
static int tcp_done(fleet_dev *d)
{
    struct pollfd p = {d->tcp.fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;

    if (poll(&p, 1, 0) < 0 || (p.revents & (POLLOUT | POLLERR | POLLHUP)) == 0)
        return 0;
    if (getsockopt(d->tcp.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    if (err != 0) {
        d->tcp.last_errno = err;
        return errno_error(err);
    }
    return 1;
}

static int tls_start(fleet_dev *d)
{
    fleet *f = d->f;
    mqtls_tls_init(&d->tls);
    (void)mqtls_tls_set_session_hook(&d->tls, on_ticket, d);
    if (d->session != NULL && d->session_len > 0 &&
        mqtls_tls_session_load(&d->tls, d->session, d->session_len) != MQTLS_OK)
        d->session_len = 0;
    d->lower.ctx = d;
    d->lower.send = lower_send;
    d->lower.recv = lower_recv;
    d->lower.close = lower_close;
    d->phase = PH_TLS;
    d->open_deadline = fleet_now(f) + f->o.connect_timeout_ms + 50;
    return mqtls_tls_connect(&d->tls, &d->tls_cfg, &d->lower, f->o.tls_name);
}

static void handshake_done(fleet_dev *d)
{
    fleet_second *s = tally(d);
    const mqtls_tls_report *r = mqtls_tls_get_report(&d->tls);

    d->phase = PH_UP;
    release_slot(d);
    d->f->tls_version = r->version;
    d->f->suite = r->ciphersuite;
    if (r->resumed) {
        d->resumed++;
        s->resumed++;
    } else {
        d->full++;
        s->full++;
        if (d->session != NULL) {
            size_t len = 0;
            int ret = mqtls_tls_session_save(&d->tls, d->session, FLEET_SESSION_CAP, &len);
            if (ret == MQTLS_OK)
                d->session_len = len;
            else if (ret != MQTLS_ERR_TLS_NO_TICKET)
                d->session_len = 0; /* TLS 1.3: the ticket comes later (on_ticket) */
        }
    }
}

/* The client's open function. */
static int dev_open(void *ctx, mqtls_transport *out)
{
    fleet_dev *d = ctx;
    fleet *f = d->f;
    int ret;

    as_transport(d, out); /* closes a half-made connection too */
    if (d->phase == PH_IDLE || d->phase == PH_UP) {
        if (d->phase == PH_UP)
            dev_close(d);
        if (!take_slot(d))
            return MQTLS_ERR_IN_PROGRESS; /* queued: phase stays idle */
        d->attempts++;
        tally(d)->attempts++;
        ret = tcp_start(d);
        if (ret != MQTLS_OK)
            return failed(d, ret, NULL);
        d->phase = PH_TCP;
        d->open_deadline = fleet_now(f) + f->o.connect_timeout_ms;
    }
    if (d->phase == PH_TCP) {
        ret = tcp_done(d);
        if (ret == 0 && (int32_t)(d->open_deadline - fleet_now(f)) <= 0)
            return failed(d, MQTLS_ERR_NET_TIMEOUT, "TCP connect timed out");
        if (ret == 0) {
            d->starved = true;
            return MQTLS_ERR_IN_PROGRESS;
        }
        if (ret < 0) {
            char why[FLEET_WHY];
            snprintf(why, sizeof why, "TCP connect: %s", strerror(d->tcp.last_errno));
            return failed(d, ret, why);
        }
        ret = tls_start(d);
    } else {
        ret = mqtls_tls_connect_continue(&d->tls);
    }
    if (ret == MQTLS_ERR_IN_PROGRESS)
        return ret;
    if (ret != MQTLS_OK)
        return failed(d, ret, mqtls_tls_why(&d->tls));
    handshake_done(d);
    d->why[0] = '\0';
    return MQTLS_OK;
}

/* ---- events --------------------------------------------------------------- */

static void on_connected(void *ctx, bool session_present)
{
    fleet_dev *d = ctx;
    fleet *f = d->f;
    const uint32_t now = fleet_now(f);

    d->up = true;
    if (!d->operator_)
        f->up++;
    d->connects++;
    tally(d)->connacks++;
    if (session_present)
        d->sessions_found++;
    if (!d->ever_up) {
        d->ever_up = true;
        d->first_up_ms = now;
    }
    if (f->event_on && d->lost_in_event && !d->back) {
        d->back = true;
        d->back_session = session_present;
        d->back_ms = now - f->event_ms;
    }
}

static void on_closed(void *ctx, int reason)
{
    fleet_dev *d = ctx;
    fleet *f = d->f;

    if (d->up) {
        d->up = false;
        if (!d->operator_)
            f->up--;
        d->losses++;
        tally(d)->losses++;
        if (f->event_on && !d->lost_in_event) {
            d->lost_in_event = true;
            d->lost_at_ms = fleet_now(f);
        }
    }
    d->last_error = reason;
    if (d->first_error == 0 && reason != MQTLS_OK)
        d->first_error = reason;
    if (reason != MQTLS_OK && d->why[0] == '\0')
        snprintf(d->why, sizeof d->why, "%s", mqtls_strerror(reason));
}

static void on_acked(void *ctx, uint16_t packet_id)
{
    (void)packet_id;
    ((fleet_dev *)ctx)->acked++;
}

static void on_suback(void *ctx, uint16_t id, const uint8_t *codes, size_t count)
{
    (void)id;
    (void)codes;
    (void)count;
    ((fleet_dev *)ctx)->subacked++;
}

static bool topic_is(const mqtls_publish *m, const char *topic)
{
    return m->topic.len == strlen(topic) && memcmp(m->topic.ptr, topic, m->topic.len) == 0;
}

/* "IDX SEQ": the operator's telemetry from a device, or a command. */
static int parse_two(const mqtls_publish *m, unsigned long *a, unsigned long *b)
{
    char text[48];
    size_t len = m->payload.len < sizeof text - 1 ? m->payload.len : sizeof text - 1;
    memcpy(text, m->payload.ptr, len);
    text[len] = '\0';
    return sscanf(text, "%lu %lu", a, b) == 2 ? 0 : -1;
}

static void on_received(void *ctx, const mqtls_publish *m)
{
    fleet_dev *d = ctx;
    fleet *f = d->f;
    unsigned long idx, seq;
    size_t k;

    if (d->operator_) {
        if (parse_two(m, &idx, &seq) == 0 && idx < f->n && topic_is(m, f->dev[idx]->tel_topic)) {
            fleet_dev *from = f->dev[idx];
            if (fleet_seen(from->tel_seen, (uint32_t)seq)) {
                from->tel_dup++;
                from->tel_dup_new += !m->dup;
            } else {
                from->tel_rx++;
            }
        }
        return;
    }
    if (topic_is(m, d->cmd_topic) && parse_two(m, &idx, &seq) == 0) {
        if (fleet_seen(d->cmd_seen, (uint32_t)seq)) {
            d->cmd_dup++;
            d->cmd_dup_new += !m->dup; /* sent again as a new message */
        } else {
            d->cmd_rx++;
        }
        return;
    }
    if (topic_is(m, FLEET_UPDATE_TOPIC)) {
        /* The fleet keeps one copy of each update; applying runs a
         * handshake, so the loop does it, one device at a time. */
        for (k = 0; k < 2; k++)
            if (f->updates[k] != NULL && m->payload.len == f->update_len[k] &&
                memcmp(m->payload.ptr, f->updates[k], m->payload.len) == 0 &&
                d->applied_version < f->update_version[k]) {
                if (d->pending_update < 0)
                    f->pending++;
                d->pending_update = (int)k;
            }
    }
}

/* ---- CA updates ----------------------------------------------------------- */

/* The proof: one handshake with the staged CAs alone, on a connection of
 * its own, blocking (the loop waits for it; one device at a time). */
static int probe(void *ctx, char *why, size_t cap)
{
    fleet_dev *d = ctx;
    fleet *f = d->f;
    mqtls_tls t;
    mqtls_tcp tcp;
    mqtls_transport lower;
    int ret, rounds;

    mqtls_tls_init(&t);
    mqtls_tcp_init(&tcp);
    ret = mqtls_tcp_connect(&tcp, f->o.host, f->o.port, f->o.connect_timeout_ms);
    if (ret == MQTLS_OK) {
        mqtls_tcp_transport(&tcp, &lower);
        ret = mqtls_tls_connect(&t, &d->tls_cfg, &lower, f->o.tls_name);
        for (rounds = 0; ret == MQTLS_ERR_IN_PROGRESS && rounds < 100000; rounds++)
            ret = mqtls_tls_connect_continue(&t);
        snprintf(why, cap, "%s", mqtls_tls_why(&t));
        if (ret == MQTLS_OK)
            mqtls_tls_close(&t);
        else
            mqtls_tcp_close(&tcp);
    } else {
        snprintf(why, cap, "probe: %s", mqtls_strerror(ret));
    }
    mqtls_tls_free(&t);
    return ret;
}

int fleet_dev_apply_update(fleet_dev *d)
{
    fleet *f = d->f;
    mqtls_ca_update_result res;
    mqtls_publish p = {0};
    char json[600];
    size_t len = 0;
    const int k = d->pending_update;
    int ret;

    if (k < 0)
        return MQTLS_OK;
    d->pending_update = -1;
    f->pending--;
    f->applies++;
    ret = mqtls_ca_update_apply(&d->cas, &f->signer, f->updates[k], f->update_len[k],
                                time(NULL), probe, d, &res);
    d->update_error = ret;
    snprintf(d->update_why, sizeof d->update_why, "%s", res.why);
    if (ret == MQTLS_OK)
        d->applied_version = res.version;
    /* What a device tells its operator. */
    if (mqtls_ca_update_status_json(&res, json, sizeof json, &len) == MQTLS_OK) {
        p.topic = (mqtls_str){d->status_topic, strlen(d->status_topic)};
        p.payload = (mqtls_bytes){(const uint8_t *)json, len};
        p.qos = 1;
        if (mqtls_client_publish(&d->c, &p, NULL) == MQTLS_OK)
            d->status_sent++;
    }
    return ret;
}

/* ---- telemetry ------------------------------------------------------------ */

int fleet_dev_publish_telemetry(fleet_dev *d)
{
    fleet *f = d->f;
    char payload[1024];
    mqtls_publish p = {0};
    int n, ret;

    n = snprintf(payload, sizeof payload, "%u %u ", d->idx, d->next_seq);
    while ((size_t)n < f->o.size && (size_t)n < sizeof payload - 1)
        payload[n++] = 'x';
    p.topic = (mqtls_str){d->tel_topic, strlen(d->tel_topic)};
    p.payload = (mqtls_bytes){(const uint8_t *)payload, (size_t)n};
    p.qos = (uint8_t)f->o.qos;
    ret = mqtls_client_publish(&d->c, &p, NULL);
    if (ret == MQTLS_OK)
        d->next_seq++;
    else if (ret == MQTLS_ERR_STORE_FULL)
        d->store_full++;
    return ret;
}

/* ---- the loop's entry points ---------------------------------------------- */

void fleet_dev_service(fleet_dev *d)
{
    fleet *f = d->f;
    uint32_t due, now;
    int k;

    /* A handshake goes on step by step until it waits for the peer (a
     * step may do no I/O at all: mbedTLS's first sends nothing). */
    for (k = 0; k < 64; k++) {
        d->starved = false;
        (void)mqtls_client_poll(&d->c, 0);
        if (d->c.state != MQTLS_CLIENT_OPENING || d->starved)
            break;
    }
    now = fleet_now(f);
    if (!d->operator_ && f->publishing && f->o.interval_s > 0 && d->ever_up &&
        (int32_t)(now - d->next_pub_ms) >= 0) {
        if (d->c.state == MQTLS_CLIENT_CONNECTED || f->o.qos > 0)
            (void)fleet_dev_publish_telemetry(d);
        d->next_pub_ms += (uint32_t)(f->o.interval_s * 1000.0);
        if ((int32_t)(now - d->next_pub_ms) > 0)
            d->next_pub_ms = now + 1; /* fell behind: no burst */
        (void)mqtls_client_poll(&d->c, 0); /* on the wire now */
    }
    fleet_watch(d);
    due = mqtls_client_next_due_ms(&d->c);
    if (d->c.state == MQTLS_CLIENT_OPENING)
        due = d->queued ? MQTLS_WAIT_FOREVER /* woken by release_slot() */
              : (int32_t)(d->open_deadline - now) > 0 ? d->open_deadline - now : 0;
    if (!d->operator_ && f->publishing && f->o.interval_s > 0 && d->ever_up) {
        uint32_t pub = (int32_t)(d->next_pub_ms - now) > 0 ? d->next_pub_ms - now : 0;
        due = pub < due ? pub : due;
    }
    fleet_schedule(f, d, due);
}

int fleet_dev_start(fleet_dev *d)
{
    int ret;
    d->start_ms = fleet_now(d->f);
    ret = mqtls_client_start(&d->c);
    fleet_dev_service(d);
    return ret;
}

int fleet_dev_setup(fleet *f, fleet_dev *d, uint32_t idx, bool operator_)
{
    const fleet_opts *o = &f->o;
    const size_t ring = operator_ ? (size_t)1 << 20 : FLEET_RING;
    size_t nsubs = 0;

    d->f = f;
    d->idx = idx;
    d->operator_ = operator_;
    d->pending_update = -1;
    d->phase = PH_IDLE;
    if (operator_)
        snprintf(d->id, sizeof d->id, "%soperator", o->id_prefix);
    else
        snprintf(d->id, sizeof d->id, "%s%05u", o->id_prefix, idx);
    snprintf(d->tel_topic, sizeof d->tel_topic, "fleet/%s/telemetry", d->id);
    snprintf(d->cmd_topic, sizeof d->cmd_topic, "fleet/%s/cmd", d->id);
    snprintf(d->status_topic, sizeof d->status_topic, "fleet/%s/ca/status", d->id);
    d->ring = calloc(1, ring);
    d->tx = calloc(1, operator_ ? 8192 : FLEET_TX);
    if (d->ring == NULL || d->tx == NULL || (o->resume && (d->session = calloc(1, FLEET_SESSION_CAP)) == NULL))
        return MQTLS_ERR_TLS_OUT_OF_MEMORY;

    /* TLS: the device's own configuration (its identity comes from pki.c),
     * trusting its CA store, the handshake in slices, no read-ahead (as on
     * a device). */
    mqtls_tls_config_init(&d->tls_cfg);
    mqtls_castore_init(&d->cas);
    mqtls_tls_init(&d->tls);
    mqtls_tcp_init(&d->tcp);
    if (mqtls_tls_config_setup(&d->tls_cfg) != MQTLS_OK ||
        mqtls_tls_config_set_handshake_timeout(&d->tls_cfg, o->connect_timeout_ms) != MQTLS_OK ||
        mqtls_tls_config_set_slices(&d->tls_cfg, 1, 0) != MQTLS_OK ||
        mqtls_tls_config_set_read_ahead(&d->tls_cfg, 0) != MQTLS_OK ||
        (o->tls_versions != 0 &&
         mqtls_tls_config_set_versions(&d->tls_cfg, o->tls_versions) != MQTLS_OK) ||
        mqtls_tls_config_use_castore(&d->tls_cfg, &d->cas) != MQTLS_OK)
        return MQTLS_ERR_TLS_CONFIG;

    mqtls_ram_store_init(&d->store);
    if (mqtls_ram_store_setup(&d->store, d->ring, ring) != MQTLS_OK)
        return MQTLS_ERR_INVALID_ARG;
    memset(&d->cfg, 0, sizeof d->cfg);
    d->cfg.connect.client_id = (mqtls_str){d->id, strlen(d->id)};
    d->cfg.connect.clean_session = o->clean;
    d->cfg.connect.keepalive_s = (uint16_t)o->keepalive_s;
    d->cfg.tx_buf = d->tx;
    d->cfg.tx_cap = operator_ ? 8192 : FLEET_TX;
    d->cfg.rx_buf = d->rx;
    d->cfg.rx_cap = sizeof d->rx;
    d->cfg.qos2_ids = d->qos2;
    d->cfg.qos2_cap = sizeof d->qos2 / sizeof d->qos2[0];
    mqtls_ram_store_interface(&d->store, &d->cfg.store);
    mqtls_clock_posix(&d->cfg.clock);
    d->cfg.clock.sleep_ms = NULL; /* the loop never sleeps in a client */
    d->cfg.open = dev_open;
    d->cfg.open_ctx = d;
    d->cfg.events.ctx = d;
    d->cfg.events.connected = on_connected;
    d->cfg.events.closed = on_closed;
    d->cfg.events.received = on_received;
    d->cfg.events.publish_acked = on_acked;
    d->cfg.events.subscribe_acked = on_suback;
    d->cfg.window = 20;
    d->cfg.reads_per_poll = 32;
    d->cfg.reconnect = !o->once;
    d->cfg.connect_timeout_ms = o->connect_timeout_ms;
    d->cfg.backoff_min_ms = o->backoff_min_ms;
    d->cfg.backoff_max_ms = o->backoff_max_ms;
    d->cfg.backoff_refused_ms = o->backoff_max_ms * 4;
    /* Jitter off: one seed for all, so every device draws the same delays
     * and they retry in lockstep, as a fleet whose firmware seeds its
     * jitter with a constant does. */
    d->cfg.backoff_seed = o->jitter ? 2654435761u * (idx + 1u) : 12345u;
    if (operator_) {
        if (o->telemetry)
            d->subs[nsubs++] = (mqtls_subscription){{"fleet/+/telemetry", 17}, (uint8_t)o->qos};
    } else {
        if (o->cmd_interval_s > 0)
            d->subs[nsubs++] =
                (mqtls_subscription){{d->cmd_topic, strlen(d->cmd_topic)}, (uint8_t)o->cmd_qos};
        if (f->update_len[0] > 0)
            d->subs[nsubs++] =
                (mqtls_subscription){{FLEET_UPDATE_TOPIC, sizeof FLEET_UPDATE_TOPIC - 1}, 1};
    }
    d->cfg.resubscribe = nsubs > 0 ? d->subs : NULL;
    d->cfg.resubscribe_count = nsubs;
    mqtls_client_init(&d->c);
    return mqtls_client_setup(&d->c, &d->cfg);
}

void fleet_dev_free(fleet_dev *d)
{
    if (d == NULL)
        return;
    if (d->c.state != MQTLS_CLIENT_DISCONNECTED)
        (void)mqtls_client_abort(&d->c);
    dev_close(d);
    mqtls_tls_free(&d->tls);
    mqtls_tls_config_free(&d->tls_cfg);
    mqtls_castore_free(&d->cas);
    free(d->ring);
    free(d->tx);
    free(d->session);
}
