/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L

#include "tls/tls_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include "net/clock_posix.h"
#include "tls/bundle.h"
#include "tls/castore.h"

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void mqtls_tls_say(mqtls_tls *tls, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tls->why, sizeof tls->why, fmt, ap);
    va_end(ap);
}

/* Without a clock (a device build that set none) time stands still: the
 * handshake timeout is then the transport's own timeouts. */
uint32_t mqtls_tls_now_ms(const mqtls_tls_config *cfg)
{
    return cfg->clock.now_ms != NULL ? cfg->clock.now_ms(cfg->clock.ctx) : 0;
}

/* ---- the lower transport as mbedTLS's BIO -------------------------------- */

/* The deadline of the current call, for every lower read and write it
 * makes: a peer that dribbles bytes cannot stretch a call past it. */
static void set_deadline(mqtls_tls *tls, uint32_t timeout_ms, bool free_try)
{
    tls->no_deadline = timeout_ms == MQTLS_WAIT_FOREVER;
    tls->deadline_ms = mqtls_tls_now_ms(tls->cfg) + timeout_ms;
    tls->free_try = free_try;
}

/* What is left of the deadline for the next lower call: 1 and *left, or 0
 * when it has passed (the call then returns "nothing moved" to mbedTLS,
 * which keeps what it has of a record for the next call). */
static int time_left(mqtls_tls *tls, uint32_t *left)
{
    const int32_t d = (int32_t)(tls->deadline_ms - mqtls_tls_now_ms(tls->cfg));
    if (tls->no_deadline) {
        *left = MQTLS_WAIT_FOREVER;
        return 1;
    }
    *left = d > 0 ? (uint32_t)d : 0;
    if (d > 0 || tls->free_try) {
        tls->free_try = false;
        return 1;
    }
    return 0;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    mqtls_tls *tls = ctx;
    uint32_t left;
    int n;
    if (!time_left(tls, &left))
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    n = tls->lower.send(tls->lower.ctx, buf, len, left);
    if (n > 0)
        return n;
    if (n == 0)
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    tls->lower_error = n;
    return MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len, uint32_t timeout)
{
    mqtls_tls *tls = ctx;
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

void mqtls_tls_init(mqtls_tls *tls)
{
    if (tls == NULL)
        return;
    memset(tls, 0, sizeof *tls);
    mbedtls_ssl_init(&tls->ssl);
    mbedtls_ssl_session_init(&tls->saved);
    tls->top_depth = -1;
}

static void reset_report(mqtls_tls *tls)
{
    tls->mbedtls_error = 0;
    tls->verify_flags = 0;
    tls->alert = 0;
    tls->resumed = false;
    tls->ca_known = false;
    tls->why[0] = 0;
    tls->ca_subject[0] = 0;
    memset(tls->ca_sha256, 0, sizeof tls->ca_sha256);
    tls->leaf_subject[0] = tls->leaf_issuer[0] = tls->leaf_names[0] = 0;
    tls->leaf_not_before[0] = tls->leaf_not_after[0] = 0;
    tls->top_depth = -1;
    tls->lower_error = 0;
    tls->pin_matched = tls->pin_failed = false;
    tls->session_dropped = false;
}

/* Identifies what a handshake trusts: the CA set (from the store, or the
 * add_ca chain), the pins, and whether verification is on. A saved
 * session made under another trust id is not offered. */
/* What a saved session is bound to: the trusted set (the CA store's id,
 * or the CAs), the pins, the insecure flag and the server's name, so a
 * session is offered only to the same name under the same trust. 0, or
 * -1 when a hash failed. */
static int compute_trust_id(mqtls_tls_config *cfg, const mbedtls_x509_crt *chain,
                            const uint8_t store_id[32], const char *hostname, uint8_t out[16])
{
    mbedtls_sha256_context h;
    uint8_t full[32], flag = cfg->insecure ? 1 : 0;
    const mbedtls_x509_crt *c;
    int r;

    mbedtls_sha256_init(&h);
    r = mbedtls_sha256_starts_ret(&h, 0);
    if (store_id != NULL)
        r |= mbedtls_sha256_update_ret(&h, store_id, 32);
    else
        for (c = chain; c != NULL && c->raw.len != 0; c = c->next)
            r |= mbedtls_sha256_update_ret(&h, c->raw.p, c->raw.len);
    r |= mbedtls_sha256_update_ret(&h, &cfg->pin_count, 1);
    r |= mbedtls_sha256_update_ret(&h, cfg->pins[0], (size_t)cfg->pin_count * 32u);
    r |= mbedtls_sha256_update_ret(&h, &flag, 1);
    r |= mbedtls_sha256_update_ret(&h, (const unsigned char *)hostname, strlen(hostname) + 1);
    r |= mbedtls_sha256_finish_ret(&h, full);
    mbedtls_sha256_free(&h);
    memcpy(out, full, 16);
    return r == 0 ? 0 : -1;
}

int mqtls_tls_connect(mqtls_tls *tls, mqtls_tls_config *cfg, const mqtls_transport *lower,
                      const char *hostname)
{
    uint32_t start;
    int mret;

    if (tls == NULL || cfg == NULL || lower == NULL || lower->send == NULL ||
        lower->recv == NULL || hostname == NULL)
        return MQTLS_ERR_INVALID_ARG;
    if (!cfg->ready)
        return MQTLS_ERR_TLS_CONFIG;
    reset_report(tls);
    if (cfg->castore != NULL) {
        uint8_t store_id[32];
        mbedtls_x509_crt *chain = cfg->castore_trusted(cfg->castore, store_id);
        if (chain == NULL && !cfg->insecure) {
            mqtls_tls_say(tls, "the CA store trusts nothing: its active slot is empty (load a bundle) "
                     "or the staged slot chosen for this connect is");
            return MQTLS_ERR_TLS_NO_TRUST;
        }
        mbedtls_ssl_conf_ca_chain(&cfg->conf, chain, NULL);
        if (compute_trust_id(cfg, NULL, store_id, hostname, tls->trust_id) != 0)
            goto crypto_failed;
    } else {
        if (cfg->ca_count == 0 && !cfg->insecure) {
            mqtls_tls_say(tls, "no trusted CA configured: add one, or disable verification explicitly");
            return MQTLS_ERR_TLS_NO_TRUST;
        }
        mbedtls_ssl_conf_ca_chain(&cfg->conf, &cfg->ca, NULL);
        if (compute_trust_id(cfg, &cfg->ca, NULL, hostname, tls->trust_id) != 0)
            goto crypto_failed;
    }
    if (tls->have_saved && memcmp(tls->saved_trust, tls->trust_id, sizeof tls->trust_id) != 0) {
        /* Made under other trust, or for another server name: resuming
         * would skip verifying this server against what we trust now. */
        tls->have_saved = false;
        tls->session_dropped = true;
    }
    if (tls->ssl_ready) {
        mbedtls_ssl_free(&tls->ssl);
        mbedtls_ssl_init(&tls->ssl);
        tls->ssl_ready = false;
    }
    tls->cfg = cfg;
    tls->lower = *lower;
    tls->connected = false;
    tls->ra_pos = tls->ra_len = 0;
    if (cfg->read_ahead != tls->ra_cap) {
        free(tls->ra);
        tls->ra = cfg->read_ahead > 0 ? malloc(cfg->read_ahead) : NULL;
        tls->ra_cap = tls->ra != NULL ? cfg->read_ahead : 0; /* no memory: read as asked */
    }
    mret = mbedtls_ssl_setup(&tls->ssl, &cfg->conf);
    if (mret != 0)
        return mqtls_tls_explain_failure(tls, mret);
    tls->ssl_ready = true;
    mbedtls_ssl_set_verify(&tls->ssl, mqtls_tls_verify_callback, tls);
    /* SNI and host name check; always set (newer mbedTLS insists). */
    mret = mbedtls_ssl_set_hostname(&tls->ssl, hostname);
    if (mret != 0)
        return mqtls_tls_explain_failure(tls, mret);
    mbedtls_ssl_set_bio(&tls->ssl, tls, bio_send, NULL, bio_recv);
    if (tls->have_saved && mbedtls_ssl_set_session(&tls->ssl, &tls->saved) != 0)
        tls->have_saved = false; /* offer nothing rather than fail */

    /* One deadline for the whole handshake, every lower call included. */
    set_deadline(tls, cfg->handshake_timeout_ms, false);
    start = mqtls_tls_now_ms(cfg);
    while (tls->ssl.state != MBEDTLS_SSL_HANDSHAKE_OVER) {
        uint32_t spent = mqtls_clock_elapsed_ms(start, mqtls_tls_now_ms(cfg));
        if (spent >= cfg->handshake_timeout_ms) {
            tls->mbedtls_error = MBEDTLS_ERR_SSL_TIMEOUT;
            mqtls_tls_say(tls, "TLS handshake did not finish within %u ms", (unsigned)cfg->handshake_timeout_ms);
            return MQTLS_ERR_TLS_HANDSHAKE_TIMEOUT;
        }
        mret = mbedtls_ssl_handshake_step(&tls->ssl);
        if (mret == MBEDTLS_ERR_SSL_WANT_READ || mret == MBEDTLS_ERR_SSL_WANT_WRITE)
            continue;
        if (mret != 0)
            return mqtls_tls_explain_failure(tls, mret);
    }
    /* A resumed handshake carries no server Certificate, so verification
     * (and our callback) never ran: that is how resumption shows. */
    tls->resumed = tls->have_saved && tls->top_depth < 0 && !cfg->insecure;
    tls->ca_known = tls->top_depth >= 0 && !cfg->insecure;
    if (!tls->ca_known)
        tls->ca_subject[0] = 0;
    if (tls->resumed) {
        /* Same trust as when the session was made: same CA. */
        static const uint8_t none[32];
        memcpy(tls->ca_sha256, tls->saved_ca, 32);
        tls->ca_known = memcmp(tls->saved_ca, none, 32) != 0;
    }
    if (cfg->castore != NULL && tls->ca_known)
        cfg->castore_count_use(cfg->castore, tls->ca_sha256);
    tls->connected = true;
    return MQTLS_OK;

crypto_failed:
    mqtls_tls_say(tls, "SHA-256 failed while binding saved sessions to the trusted set: not connecting");
    return MQTLS_ERR_TLS_CRYPTO;
}

const char *mqtls_tls_why(const mqtls_tls *tls)
{
    return tls != NULL ? tls->why : "";
}

const char *mqtls_tls_alpn(const mqtls_tls *tls)
{
    return tls != NULL && tls->connected ? mbedtls_ssl_get_alpn_protocol(&tls->ssl) : NULL;
}

int mqtls_tls_max_fragment(const mqtls_tls *tls)
{
    if (tls == NULL || !tls->connected)
        return MQTLS_ERR_NET_NOT_CONNECTED;
    return (int)mbedtls_ssl_get_output_max_frag_len(&tls->ssl);
}

/* Saved session: "MQS1", the trust id (16), the CA the chain ended at
 * (32), then mbedTLS's own serialisation. */
static const uint8_t SESSION_MAGIC[4] = {'M', 'Q', 'S', '1'};
#define SESSION_HEADER (4u + 16u + 32u)

int mqtls_tls_session_save(mqtls_tls *tls, uint8_t *buf, size_t cap, size_t *len)
{
    mbedtls_ssl_session session;
    size_t body = 0;
    int mret;

    if (tls == NULL || len == NULL || (buf == NULL && cap != 0))
        return MQTLS_ERR_INVALID_ARG;
    if (!tls->connected)
        return MQTLS_ERR_NET_NOT_CONNECTED;
    mbedtls_ssl_session_init(&session);
    mret = mbedtls_ssl_get_session(&tls->ssl, &session);
    if (mret == 0)
        mret = mbedtls_ssl_session_save(&session, cap > SESSION_HEADER ? buf + SESSION_HEADER : NULL,
                                        cap > SESSION_HEADER ? cap - SESSION_HEADER : 0, &body);
    mbedtls_ssl_session_free(&session);
    *len = SESSION_HEADER + body;
    if (mret == MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL)
        return MQTLS_ERR_BUFFER_TOO_SMALL;
    if (mret != 0)
        return MQTLS_ERR_TLS_BAD_SESSION;
    memcpy(buf, SESSION_MAGIC, 4);
    memcpy(buf + 4, tls->trust_id, 16);
    if (tls->ca_known)
        memcpy(buf + 20, tls->ca_sha256, 32);
    else
        memset(buf + 20, 0, 32);
    return MQTLS_OK;
}

int mqtls_tls_session_load(mqtls_tls *tls, const uint8_t *buf, size_t len)
{
    if (tls == NULL || buf == NULL || len == 0)
        return MQTLS_ERR_INVALID_ARG;
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

int mqtls_tls_transport(mqtls_tls *tls, mqtls_transport *out)
{
    if (tls == NULL || out == NULL)
        return MQTLS_ERR_INVALID_ARG;
    out->ctx = tls;
    out->send = mqtls_tls_send;
    out->recv = mqtls_tls_recv;
    out->close = mqtls_tls_close;
    return MQTLS_OK;
}

/* An mbedTLS failure after the handshake, as an mqtls_err. */
static int io_error(mqtls_tls *tls, int mret)
{
    tls->mbedtls_error = mret;
    tls->connected = false;
    if (tls->lower_error != 0)
        return tls->lower_error;
    if (mret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
        return MQTLS_ERR_NET_CLOSED;
    if (mret == MBEDTLS_ERR_SSL_ALLOC_FAILED)
        return MQTLS_ERR_TLS_OUT_OF_MEMORY;
    /* A record too big to fetch is BAD_INPUT_DATA in mbedTLS 2.28 ("more
     * data than fits"); our arguments were checked, so nothing else can be. */
    if (mret == MBEDTLS_ERR_SSL_INVALID_RECORD || mret == MBEDTLS_ERR_SSL_BAD_INPUT_DATA)
        return MQTLS_ERR_TLS_RECORD_TOO_LARGE;
    return MQTLS_ERR_TLS_PROTOCOL;
}

/* The checks both directions share: 1 to go on, else what to return. */
static int io_start(mqtls_tls *tls, const void *buf, size_t len, uint32_t timeout_ms)
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
    mqtls_tls *tls = ctx;
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
    mqtls_tls *tls = ctx;
    int mret = io_start(tls, buf, len, timeout_ms);

    if (mret != 1)
        return mret;
    mret = mbedtls_ssl_read(&tls->ssl, buf, len);
    if (mret > 0)
        return mret;
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
    mqtls_tls *tls = ctx;

    if (tls == NULL)
        return;
    if (tls->connected) {
        set_deadline(tls, 100, true);
        (void)mbedtls_ssl_close_notify(&tls->ssl); /* best effort */
        tls->connected = false;
    }
    if (tls->lower.close != NULL)
        tls->lower.close(tls->lower.ctx);
    tls->lower.close = NULL;
}

void mqtls_tls_free(mqtls_tls *tls)
{
    if (tls == NULL)
        return;
    mbedtls_ssl_free(&tls->ssl);
    mbedtls_ssl_session_free(&tls->saved);
    if (tls->ra != NULL) {
        mbedtls_platform_zeroize(tls->ra, tls->ra_cap);
        free(tls->ra);
    }
    mbedtls_platform_zeroize(tls, sizeof *tls);
    tls->top_depth = -1;
}
