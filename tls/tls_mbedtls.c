/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L

#include "tls/tls_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/platform.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/platform_util.h>

#include "net/clock_posix.h"
#include "tls/bundle.h"
#include "tls/castore.h"

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void mqtls_tls_say(mqtls_tls_impl *tls, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tls->rep.why, sizeof tls->rep.why, fmt, ap);
    va_end(ap);
}

/* Without a clock (a device build that set none) time stands still: the
 * handshake timeout is then the transport's own timeouts. */
uint32_t mqtls_tls_now_ms(const mqtls_tls_cfg_impl *cfg)
{
    return cfg->clock.now_ms != NULL ? cfg->clock.now_ms(cfg->clock.ctx) : 0;
}

/* ---- the lower transport as mbedTLS's BIO -------------------------------- */

/* The deadline of the current call, for every lower read and write it
 * makes: a peer that dribbles bytes cannot stretch a call past it. */
static void set_deadline(mqtls_tls_impl *tls, uint32_t timeout_ms, bool free_try)
{
    tls->no_deadline = timeout_ms == MQTLS_WAIT_FOREVER;
    tls->deadline_ms = mqtls_tls_now_ms(tls->cfg) + timeout_ms;
    tls->free_try = free_try;
}

/* What is left of the deadline for the next lower call: 1 and *left, or 0
 * when it has passed (the call then returns "nothing moved" to mbedTLS,
 * which keeps what it has of a record for the next call). */
static int time_left(mqtls_tls_impl *tls, uint32_t *left)
{
    uint32_t end = tls->deadline_ms;
    bool forever = tls->no_deadline;
    int32_t d;

    /* A handshake in slices: this slice's end, when it comes first. */
    if (tls->handshaking && (forever || (int32_t)(tls->slice_end_ms - end) < 0)) {
        end = tls->slice_end_ms;
        forever = false;
    }
    if (forever) {
        *left = MQTLS_WAIT_FOREVER;
        return 1;
    }
    d = (int32_t)(end - mqtls_tls_now_ms(tls->cfg));
    *left = d > 0 ? (uint32_t)d : 0;
    if (d > 0 || tls->free_try) {
        tls->free_try = false;
        return 1;
    }
    return 0;
}

/* Follows the records our handshake sends (the bytes that went out,
 * header by header): a TLS 1.2 Certificate message (handshake record 22,
 * message 11) or, on 1.3, a second encrypted record goes out only when
 * the server asked for our certificate, so a hang-up after it is the
 * server refusing it. A header split across two writes is not seen. */
static void watch_handshake(mqtls_tls_impl *tls, const unsigned char *buf, size_t len)
{
    size_t pos = 0;
    int i;

    for (i = 0; i < 64 && pos < len; i++) {
        if (tls->rec_left > 0) {
            size_t take = len - pos < tls->rec_left ? len - pos : tls->rec_left;
            tls->rec_left -= take;
            pos += take;
            continue;
        }
        if (len - pos < 5)
            return;
        if (buf[pos] == 22 && len - pos >= 6 && buf[pos + 5] == 11)
            tls->sent_certificate = true;
        if (buf[pos] == 23 && tls->sent_encrypted < 255)
            tls->sent_encrypted++;
        tls->rec_left = (size_t)buf[pos + 3] << 8 | buf[pos + 4];
        pos += 5;
    }
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    mqtls_tls_impl *tls = ctx;
    uint32_t left;
    int n;
    if (!time_left(tls, &left))
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    n = tls->lower.send(tls->lower.ctx, buf, len, left);
    if (n > 0) {
        if (!tls->connected)
            watch_handshake(tls, buf, (size_t)n);
        return n;
    }
    if (n == 0)
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    tls->lower_error = n;
    return MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len, uint32_t timeout)
{
    mqtls_tls_impl *tls = ctx;
    uint32_t left;
    int n;

    (void)timeout; /* the limit is ours: the call's deadline */
    if (tls->ra_pos < tls->ra_len) { /* served from what was read ahead */
        size_t take = len < tls->ra_len - tls->ra_pos ? len : tls->ra_len - tls->ra_pos;
        memcpy(buf, tls->ra + tls->ra_pos, take);
        tls->ra_pos += take;
        return (int)take;
    }
    if (!time_left(tls, &left))
        return MBEDTLS_ERR_SSL_WANT_READ;
    if (tls->ra != NULL && len < tls->ra_cap) {
        n = tls->lower.recv(tls->lower.ctx, tls->ra, tls->ra_cap, left);
        if (n > 0) {
            size_t take = len < (size_t)n ? len : (size_t)n;
            memcpy(buf, tls->ra, take);
            tls->ra_pos = take;
            tls->ra_len = (size_t)n;
            return (int)take;
        }
    } else {
        n = tls->lower.recv(tls->lower.ctx, buf, len, left);
    }
    if (n > 0)
        return n;
    if (n == 0)
        return MBEDTLS_ERR_SSL_WANT_READ;
    tls->lower_error = n;
    return n == MQTLS_ERR_NET_CLOSED || n == MQTLS_ERR_NET_RESET ? MBEDTLS_ERR_NET_CONN_RESET
                                                                 : MBEDTLS_ERR_NET_RECV_FAILED;
}

/* ---- connection ----------------------------------------------------------- */

typedef char mqtls_tls_storage_too_small[sizeof(mqtls_tls_impl) <= MQTLS_TLS_STORAGE ? 1 : -1];

mqtls_tls_impl *mqtls_tls_of(const mqtls_tls *pub)
{
    return MQTLS_OPAQUE_STATE(mqtls_tls_impl, pub);
}

static int check(const mqtls_tls *pub)
{
    return MQTLS_OPAQUE_ERROR(pub);
}

void mqtls_tls_init_sized(mqtls_tls *pub, size_t size)
{
    mqtls_tls_impl *tls;

    if (pub == NULL ||
        !mqtls_opaque_init(&pub->size_, pub->opaque_.bytes, sizeof pub->opaque_.bytes,
                           sizeof *pub, size))
        return; /* another layout: every call says MQTLS_ERR_TLS_STORAGE */
    tls = (mqtls_tls_impl *)(uintptr_t)pub->opaque_.bytes;
    tls->rep.ciphersuite = "";
    tls->self = pub;
    mbedtls_ssl_init(&tls->ssl);
    mbedtls_ssl_session_init(&tls->current);
    mbedtls_ssl_session_init(&tls->saved);
    tls->top_depth = -1;
}

static void reset_report(mqtls_tls_impl *tls)
{
    memset(&tls->rep, 0, sizeof tls->rep);
    tls->rep.ciphersuite = "";
    tls->leaf_subject[0] = tls->leaf_issuer[0] = tls->leaf_names[0] = 0;
    tls->leaf_not_before[0] = tls->leaf_not_after[0] = 0;
    tls->top_depth = -1;
    tls->lower_error = 0;
    tls->pin_matched = tls->pin_failed = false;
}

/* What a saved session is bound to: the trusted set (the CA store's id,
 * or the CAs), the pins, the insecure flag and the server's name, so a
 * session is offered only to the same name under the same trust. 0, or
 * -1 when a hash failed. */
static int compute_trust_id(const mqtls_tls_cfg_impl *cfg, const mbedtls_x509_crt *chain,
                            const uint8_t store_id[32], const char *hostname, uint8_t out[16])
{
    mqtls_sha256_ctx h;
    uint8_t full[32], flag = cfg->insecure ? 1 : 0;
    const mbedtls_x509_crt *c;
    int r;

    mqtls_sha256_start(&h);
    if (store_id != NULL)
        mqtls_sha256_update(&h, store_id, 32);
    else
        for (c = chain; c != NULL && c->raw.len != 0; c = c->next)
            mqtls_sha256_update(&h, c->raw.p, c->raw.len);
    mqtls_sha256_update(&h, &cfg->pin_count, 1);
    mqtls_sha256_update(&h, cfg->pins[0], (size_t)cfg->pin_count * 32u);
    mqtls_sha256_update(&h, &flag, 1);
    mqtls_sha256_update(&h, hostname, strlen(hostname) + 1);
    r = mqtls_sha256_finish(&h, full);
    memcpy(out, full, 16);
    return r;
}

/* The elliptic-curve budget of the next handshake step: process-wide in
 * mbedTLS, so it is set around our own steps only. */
static void ecc_budget(unsigned ops)
{
#if MQTLS_COMPAT_ECC_RESTART
    mbedtls_ecp_set_max_ops(ops);
#else
    (void)ops;
#endif
}

/* Runs the handshake to its end; in slices, one step (or part of one: a
 * wait cut at the slice's end, elliptic-curve work paused at its budget)
 * and MQTLS_ERR_IN_PROGRESS while it is not over. */
static int handshake(mqtls_tls_impl *tls)
{
    const mqtls_tls_cfg_impl *cfg = tls->cfg;
    unsigned steps;
    int mret;

    tls->slice_end_ms = mqtls_tls_now_ms(cfg) + cfg->slice_wait_ms;
    for (steps = 0; !mqtls_ssl_handshake_over(&tls->ssl); steps++) {
        if (mqtls_clock_elapsed_ms(tls->hs_start_ms, mqtls_tls_now_ms(cfg)) >=
            cfg->handshake_timeout_ms) {
            tls->handshaking = false;
            tls->rep.mbedtls_error = MBEDTLS_ERR_SSL_TIMEOUT;
            mqtls_tls_say(tls, "TLS handshake did not finish within %u ms", (unsigned)cfg->handshake_timeout_ms);
            return MQTLS_ERR_TLS_HANDSHAKE_TIMEOUT;
        }
        if (tls->handshaking && steps > 0)
            return MQTLS_ERR_IN_PROGRESS;
        ecc_budget(cfg->slice_ecc_ops);
        mret = mbedtls_ssl_handshake_step(&tls->ssl);
        ecc_budget(0);
        if (mret == MBEDTLS_ERR_SSL_WANT_READ || mret == MBEDTLS_ERR_SSL_WANT_WRITE ||
            mret == MBEDTLS_ERR_SSL_CRYPTO_IN_PROGRESS) {
            if (tls->handshaking)
                return MQTLS_ERR_IN_PROGRESS;
            continue;
        }
        if (mret != 0) {
            tls->handshaking = false;
            return mqtls_tls_explain_failure(tls, mret);
        }
    }
    tls->handshaking = false;
    /* A resumed handshake carries no server Certificate, so verification
     * (and our callback) never ran: that is how resumption shows. */
    tls->rep.resumed = tls->have_saved && tls->top_depth < 0 && !cfg->insecure;
    tls->rep.ca_known = tls->top_depth >= 0 && !cfg->insecure;
    if (!tls->rep.ca_known)
        tls->rep.ca_subject[0] = 0;
    if (tls->rep.resumed) {
        /* Same trust as when the session was made: same CA. */
        static const uint8_t none[32];
        memcpy(tls->rep.ca_sha256, tls->saved_ca, 32);
        tls->rep.ca_known = memcmp(tls->saved_ca, none, 32) != 0;
    }
    if (cfg->castore != NULL && tls->rep.ca_known)
        cfg->castore_count_use(cfg->castore, tls->rep.ca_sha256);
    tls->rep.version = mqtls_ssl_version(&tls->ssl);
    tls->rep.ciphersuite = mbedtls_ssl_get_ciphersuite(&tls->ssl);
    if (tls->rep.ciphersuite == NULL)
        tls->rep.ciphersuite = "";
    tls->got_data = false;
    tls->connected = true;
    return MQTLS_OK;
}

int mqtls_tls_connect_continue(mqtls_tls *pub)
{
    mqtls_tls_impl *tls = mqtls_tls_of(pub);

    if (tls == NULL)
        return check(pub);
    if (!tls->handshaking)
        return tls->connected ? MQTLS_OK : MQTLS_ERR_NET_NOT_CONNECTED;
    return handshake(tls);
}

int mqtls_tls_connect(mqtls_tls *pub, const mqtls_tls_config *pub_cfg,
                      const mqtls_transport *lower, const char *hostname)
{
    mqtls_tls_impl *tls = mqtls_tls_of(pub);
    const mqtls_tls_cfg_impl *cfg = mqtls_tls_cfg_of(pub_cfg);
    mbedtls_x509_crt *chain;
    int mret, hashed = 0;

    if (pub == NULL || pub_cfg == NULL || lower == NULL || lower->send == NULL ||
        lower->recv == NULL || hostname == NULL)
        return MQTLS_ERR_INVALID_ARG;
    if (tls == NULL || cfg == NULL)
        return MQTLS_ERR_TLS_STORAGE;
    if (!cfg->ready)
        return MQTLS_ERR_TLS_CONFIG;
    reset_report(tls);
    if (cfg->castore != NULL) {
        uint8_t store_id[32];
        chain = cfg->castore_trusted(cfg->castore, store_id);
        if (chain == NULL && !cfg->insecure) {
            mqtls_tls_say(tls, "the CA store trusts nothing: its active slot is empty (load a bundle) "
                     "or the staged slot chosen for this connect is");
            return MQTLS_ERR_TLS_NO_TRUST;
        }
        if ((hashed = compute_trust_id(cfg, NULL, store_id, hostname, tls->trust_id)) != 0)
            goto crypto_failed;
    } else {
        if (cfg->ca_count == 0 && !cfg->insecure) {
            mqtls_tls_say(tls, "no trusted CA configured: add one, or disable verification explicitly");
            return MQTLS_ERR_TLS_NO_TRUST;
        }
        chain = (mbedtls_x509_crt *)(uintptr_t)&cfg->ca; /* mbedTLS reads it only */
        if ((hashed = compute_trust_id(cfg, &cfg->ca, NULL, hostname, tls->trust_id)) != 0)
            goto crypto_failed;
    }
    if (tls->have_saved && memcmp(tls->saved_trust, tls->trust_id, sizeof tls->trust_id) != 0) {
        /* Made under other trust, or for another server name: resuming
         * would skip verifying this server against what we trust now. */
        tls->have_saved = false;
        tls->rep.session_dropped = true;
    }
    mbedtls_ssl_session_free(&tls->current);
    mbedtls_ssl_session_init(&tls->current);
    tls->have_current = false;
    if (tls->ssl_ready) {
        mbedtls_ssl_free(&tls->ssl);
        mbedtls_ssl_init(&tls->ssl);
        tls->ssl_ready = false;
    }
    tls->cfg = cfg;
    tls->trusted = chain;
    tls->lower = *lower;
    tls->connected = false;
    tls->sent_certificate = false;
    tls->sent_encrypted = 0;
    tls->rec_left = 0;
    tls->ra_pos = tls->ra_len = 0;
    if (cfg->read_ahead != tls->ra_cap) {
        mbedtls_free(tls->ra);
        tls->ra = cfg->read_ahead > 0 ? mbedtls_calloc(1, cfg->read_ahead) : NULL;
        tls->ra_cap = tls->ra != NULL ? cfg->read_ahead : 0; /* no memory: read as asked */
    }
    mret = mqtls_ssl_setup(&tls->ssl, &cfg->conf);
    if (mret != 0)
        return mqtls_tls_explain_failure(tls, mret);
    tls->ssl_ready = true;
    mbedtls_ssl_set_verify(&tls->ssl, mqtls_tls_verify_callback, tls);
    if (!cfg->insecure && chain != NULL)
        mqtls_ssl_set_ca_chain(&tls->ssl, chain);
    /* SNI and host name check; always set: 2.28.10+ and 3.6.3+ refuse a
     * verified handshake without it. */
    mret = mbedtls_ssl_set_hostname(&tls->ssl, hostname);
    if (mret != 0)
        return mqtls_tls_explain_failure(tls, mret);
    mbedtls_ssl_set_bio(&tls->ssl, tls, bio_send, NULL, bio_recv);
    if (tls->have_saved && mbedtls_ssl_set_session(&tls->ssl, &tls->saved) != 0)
        tls->have_saved = false; /* offer nothing rather than fail */

    /* One deadline for the whole handshake, every lower call included. */
    set_deadline(tls, cfg->handshake_timeout_ms, false);
    tls->hs_start_ms = mqtls_tls_now_ms(cfg);
    tls->handshaking = cfg->slice_wait_ms != 0;
    return handshake(tls);

crypto_failed:
    if (hashed == -2) {
        mqtls_tls_say(tls, "out of memory while binding saved sessions to the trusted set");
        return MQTLS_ERR_TLS_OUT_OF_MEMORY;
    }
    mqtls_tls_say(tls, "SHA-256 failed while binding saved sessions to the trusted set: not connecting");
    return MQTLS_ERR_TLS_CRYPTO;
}

const char *mqtls_tls_why(const mqtls_tls *pub)
{
    return mqtls_tls_get_report(pub)->why;
}

const mqtls_tls_report *mqtls_tls_get_report(const mqtls_tls *pub)
{
    static const mqtls_tls_report empty = {"", 0, 0, 0, false, false, false, 0, "", "", {0}};
    const mqtls_tls_impl *tls = mqtls_tls_of(pub);
    return tls != NULL ? &tls->rep : &empty;
}

const char *mqtls_tls_version_name(const mqtls_tls *pub)
{
    const mqtls_tls_impl *tls = mqtls_tls_of(pub);
    if (tls == NULL || !tls->connected)
        return "";
    return tls->rep.version == 13 ? "TLSv1.3" : tls->rep.version == 12 ? "TLSv1.2" : "";
}

const char *mqtls_tls_backend(void)
{
#if MQTLS_COMPAT_PSA
    return MBEDTLS_VERSION_STRING_FULL " (PSA crypto)";
#else
    return MBEDTLS_VERSION_STRING_FULL;
#endif
}

int mqtls_tls_matches_ip_names(void)
{
    return 1; /* 3.6 itself; on 2.28, tls_verify.c */
}

const char *mqtls_tls_alpn(const mqtls_tls *pub)
{
    const mqtls_tls_impl *tls = mqtls_tls_of(pub);
    return tls != NULL && tls->connected ? mbedtls_ssl_get_alpn_protocol(&tls->ssl) : NULL;
}

int mqtls_tls_max_fragment(const mqtls_tls *pub)
{
    const mqtls_tls_impl *tls = mqtls_tls_of(pub);
    if (tls == NULL || !tls->connected)
        return MQTLS_ERR_NET_NOT_CONNECTED;
    return mqtls_ssl_max_fragment(&tls->ssl);
}

/* Saved session: "MQS1", the trust id (16), the CA the chain ended at
 * (32), then mbedTLS's own serialisation. */
static const uint8_t SESSION_MAGIC[4] = {'M', 'Q', 'S', '1'};
#define SESSION_HEADER (4u + 16u + 32u)

/* A TLS 1.3 ticket: this connection's session from now on. */
static void take_ticket(mqtls_tls_impl *tls)
{
    mbedtls_ssl_session s;

    mbedtls_ssl_session_init(&s);
    if (mbedtls_ssl_get_session(&tls->ssl, &s) != 0) {
        mbedtls_ssl_session_free(&s);
        return;
    }
    mbedtls_ssl_session_free(&tls->current);
    tls->current = s; /* moved: s is not freed */
    tls->have_current = true;
    if (tls->on_session != NULL)
        tls->on_session(tls->on_session_ctx, tls->self);
}

int mqtls_tls_set_session_hook(mqtls_tls *pub, void (*fn)(void *ctx, mqtls_tls *tls), void *ctx)
{
    mqtls_tls_impl *tls = mqtls_tls_of(pub);
    if (tls == NULL)
        return check(pub);
    tls->on_session = fn;
    tls->on_session_ctx = ctx;
    return MQTLS_OK;
}

int mqtls_tls_session_save(mqtls_tls *pub, uint8_t *buf, size_t cap, size_t *len)
{
    mqtls_tls_impl *tls = mqtls_tls_of(pub);
    size_t body = 0;
    int mret = 0;

    if (pub == NULL || len == NULL || (buf == NULL && cap != 0))
        return MQTLS_ERR_INVALID_ARG;
    if (tls == NULL)
        return MQTLS_ERR_TLS_STORAGE;
    *len = 0;
    if (!tls->connected)
        return MQTLS_ERR_NET_NOT_CONNECTED;
    if (!tls->have_current && tls->rep.version == 13)
        return MQTLS_ERR_TLS_NO_TICKET; /* the server's ticket has not come yet */
    if (!tls->have_current) {
        mret = mbedtls_ssl_get_session(&tls->ssl, &tls->current);
        tls->have_current = mret == 0;
    }
    if (mret == 0)
        mret = mbedtls_ssl_session_save(&tls->current, cap > SESSION_HEADER ? buf + SESSION_HEADER : NULL,
                                        cap > SESSION_HEADER ? cap - SESSION_HEADER : 0, &body);
    *len = SESSION_HEADER + body;
    if (mret == MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL)
        return MQTLS_ERR_BUFFER_TOO_SMALL;
    if (mret != 0)
        return MQTLS_ERR_TLS_BAD_SESSION;
    memcpy(buf, SESSION_MAGIC, 4);
    memcpy(buf + 4, tls->trust_id, 16);
    if (tls->rep.ca_known)
        memcpy(buf + 20, tls->rep.ca_sha256, 32);
    else
        memset(buf + 20, 0, 32);
    return MQTLS_OK;
}

int mqtls_tls_session_load(mqtls_tls *pub, const uint8_t *buf, size_t len)
{
    mqtls_tls_impl *tls = mqtls_tls_of(pub);

    if (pub == NULL || buf == NULL || len == 0)
        return MQTLS_ERR_INVALID_ARG;
    if (tls == NULL)
        return MQTLS_ERR_TLS_STORAGE;
    mbedtls_ssl_session_free(&tls->saved);
    mbedtls_ssl_session_init(&tls->saved);
    tls->have_saved = false;
    if (len <= SESSION_HEADER || memcmp(buf, SESSION_MAGIC, 4) != 0 ||
        mbedtls_ssl_session_load(&tls->saved, buf + SESSION_HEADER, len - SESSION_HEADER) != 0)
        return MQTLS_ERR_TLS_BAD_SESSION;
    memcpy(tls->saved_trust, buf + 4, 16);
    memcpy(tls->saved_ca, buf + 20, 32);
    tls->have_saved = true;
    return MQTLS_OK;
}

int mqtls_tls_transport(mqtls_tls *pub, mqtls_transport *out)
{
    if (pub == NULL || out == NULL)
        return MQTLS_ERR_INVALID_ARG;
    if (mqtls_tls_of(pub) == NULL)
        return MQTLS_ERR_TLS_STORAGE;
    out->ctx = pub;
    out->send = mqtls_tls_send;
    out->recv = mqtls_tls_recv;
    out->close = mqtls_tls_close;
    return MQTLS_OK;
}

/* An mbedTLS failure after the handshake, as an mqtls_err. */
static int io_error(mqtls_tls_impl *tls, int mret)
{
    tls->rep.mbedtls_error = mret;
    tls->connected = false;
    /* TLS 1.3: the client's Finished ends our handshake before the server
     * has judged our certificate, so its refusal (an alert, or a hang-up)
     * is what the first read finds. Explained as a handshake failure. */
    if (tls->rep.version == 13 && !tls->got_data &&
        (mret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE || tls->lower_error == MQTLS_ERR_NET_RESET ||
         tls->lower_error == MQTLS_ERR_NET_CLOSED))
        return mqtls_tls_explain_failure(tls, mret);
    if (tls->lower_error != 0)
        return tls->lower_error;
    if (mret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
        return MQTLS_ERR_NET_CLOSED;
    if (mqtls_is_out_of_memory(mret))
        return MQTLS_ERR_TLS_OUT_OF_MEMORY;
    /* Our arguments were checked, so a bad-input error is the record's. */
    if (mqtls_ssl_is_bad_record(mret))
        return MQTLS_ERR_TLS_RECORD_TOO_LARGE;
    return MQTLS_ERR_TLS_PROTOCOL;
}

/* The checks both directions share: 1 to go on, else what to return. */
static int io_start(mqtls_tls_impl *tls, const void *buf, size_t len, uint32_t timeout_ms)
{
    if (tls == NULL || (buf == NULL && len != 0))
        return MQTLS_ERR_INVALID_ARG;
    if (!tls->connected)
        return MQTLS_ERR_NET_NOT_CONNECTED;
    set_deadline(tls, timeout_ms, true);
    return len != 0;
}

int mqtls_tls_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    mqtls_tls_impl *tls = mqtls_tls_of(ctx);
    int mret = io_start(tls, buf, len, timeout_ms);

    if (mret != 1)
        return mret;
    mret = mbedtls_ssl_write(&tls->ssl, buf, len);
    if (mret > 0)
        return mret;
    if (mret == MBEDTLS_ERR_SSL_WANT_WRITE || mret == MBEDTLS_ERR_SSL_WANT_READ)
        return 0;
    return io_error(tls, mret);
}

int mqtls_tls_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    mqtls_tls_impl *tls = mqtls_tls_of(ctx);
    int mret = io_start(tls, buf, len, timeout_ms);
    int i;

    if (mret != 1)
        return mret;
    for (i = 0; i < 4; i++) { /* tickets come one record each */
        mret = mbedtls_ssl_read(&tls->ssl, buf, len);
        if (!mqtls_ssl_is_new_ticket(mret))
            break;
        take_ticket(tls);
        mret = MBEDTLS_ERR_SSL_WANT_READ; /* nothing for the caller yet */
    }
    if (mret > 0) {
        tls->got_data = true;
        return mret;
    }
    if (mret == MBEDTLS_ERR_SSL_WANT_READ || mret == MBEDTLS_ERR_SSL_WANT_WRITE)
        return 0;
    if (mret == 0) { /* the peer closed without close_notify: not "no data" */
        tls->connected = false;
        return MQTLS_ERR_NET_CLOSED;
    }
    return io_error(tls, mret);
}

void mqtls_tls_close(void *ctx)
{
    mqtls_tls_impl *tls = mqtls_tls_of(ctx);

    if (tls == NULL)
        return;
    tls->handshaking = false; /* one given up half-way ends here */
    if (tls->connected) {
        set_deadline(tls, 100, true);
        (void)mbedtls_ssl_close_notify(&tls->ssl); /* best effort */
        tls->connected = false;
    }
    if (tls->lower.close != NULL)
        tls->lower.close(tls->lower.ctx);
    tls->lower.close = NULL;
}

void mqtls_tls_free(mqtls_tls *pub)
{
    mqtls_tls_impl *tls = mqtls_tls_of(pub);

    if (tls == NULL)
        return;
    mbedtls_ssl_free(&tls->ssl);
    mbedtls_ssl_session_free(&tls->saved);
    mbedtls_ssl_session_free(&tls->current);
    if (tls->ra != NULL) {
        mbedtls_platform_zeroize(tls->ra, tls->ra_cap);
        mbedtls_free(tls->ra);
    }
    mbedtls_platform_zeroize(pub->opaque_.bytes, sizeof pub->opaque_.bytes);
    tls->top_depth = -1;
    tls->rep.ciphersuite = "";
}
