/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L

#include "tls/tls_mbedtls.h"

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

#define PERSONALISATION "mqtls tls client"
#define DEFAULT_HANDSHAKE_TIMEOUT_MS 10000u

/* ---- small helpers ------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void say(mqtls_tls *tls, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tls->why, sizeof tls->why, fmt, ap);
    va_end(ap);
}

/* "YYYY-MM-DD" of an mbedTLS time. */
static void format_date(char *out, size_t cap, const mbedtls_x509_time *t)
{
    snprintf(out, cap, "%04d-%02d-%02d", t->year, t->mon, t->day);
}

/* The library's build date, from __DATE__ ("Nov 21 2026"), as seconds
 * since the epoch: a clock reading earlier than this was never set. */
static time_t build_time(void)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *d = __DATE__;
    const char *m = strstr(months, (char[4]){d[0], d[1], d[2], 0});
    struct tm tm;

    memset(&tm, 0, sizeof tm);
    tm.tm_year = atoi(d + 7) - 1900;
    tm.tm_mon = m != NULL ? (int)(m - months) / 3 : 0;
    tm.tm_mday = atoi(d + 4);
    return mktime(&tm);
}

static time_t system_time(void)
{
    return time(NULL);
}

static bool clock_not_set(const mqtls_tls_config *cfg)
{
    return cfg->wall_clock() < build_time();
}

/* Without a clock (a device build that set none) time stands still: the
 * handshake timeout is then the transport's own timeouts. */
static uint32_t now_ms(const mqtls_tls_config *cfg)
{
    return cfg->clock.now_ms != NULL ? cfg->clock.now_ms(cfg->clock.ctx) : 0;
}

/* Copies len bytes and a terminating NUL into a fresh buffer (PEM parsing
 * in mbedTLS needs the NUL inside the length). */
static unsigned char *nul_terminated(const void *data, size_t len)
{
    unsigned char *p = malloc(len + 1);
    if (p != NULL) {
        memcpy(p, data, len);
        p[len] = 0;
    }
    return p;
}

static void wipe_free(unsigned char *p, size_t len)
{
    if (p != NULL) {
        mbedtls_platform_zeroize(p, len);
        free(p);
    }
}


/* ---- configuration ------------------------------------------------------- */

void mqtls_tls_config_init(mqtls_tls_config *cfg)
{
    if (cfg == NULL)
        return;
    memset(cfg, 0, sizeof *cfg);
    mbedtls_ssl_config_init(&cfg->conf);
    mbedtls_x509_crt_init(&cfg->ca);
    mbedtls_x509_crt_init(&cfg->own_cert);
    mbedtls_pk_init(&cfg->own_key);
    mbedtls_entropy_init(&cfg->entropy);
    mbedtls_ctr_drbg_init(&cfg->drbg);
    cfg->handshake_timeout_ms = DEFAULT_HANDSHAKE_TIMEOUT_MS;
    cfg->read_ahead = MQTLS_TLS_READ_AHEAD;
#if MQTLS_TLS_POSIX_CLOCK
    mqtls_clock_posix(&cfg->clock);
#endif
    cfg->wall_clock = system_time;
}

static int verify_callback(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags);

/* What we offer unless told otherwise: forward secrecy (ECDHE) and AEAD
 * only, 128-bit strength: ChaCha20-Poly1305 first, because mbedTLS 2.28's
 * AES-GCM runs one block at a time even with AES-NI (4 KB QoS 1 publishes
 * went 1.36x faster with ChaCha20 against the same broker), then
 * AES-128-GCM (the one to put first, with mqtls_tls_config_set_ciphersuites(),
 * on a chip with an AES accelerator). AES-256-GCM is not offered: brokers
 * that choose by their own preference (Mosquitto, OpenSSL's order) would
 * pick it over both, for no gain a device needs. */
static const int default_suites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    0};

int mqtls_tls_config_setup(mqtls_tls_config *cfg)
{
    int ret;

    if (cfg == NULL)
        return MQTLS_ERR_INVALID_ARG;
    ret = mbedtls_ctr_drbg_seed(&cfg->drbg, mbedtls_entropy_func, &cfg->entropy,
                                (const unsigned char *)PERSONALISATION,
                                sizeof PERSONALISATION - 1);
    if (ret != 0)
        return MQTLS_ERR_TLS_CONFIG;
    ret = mbedtls_ssl_config_defaults(&cfg->conf, MBEDTLS_SSL_IS_CLIENT,
                                      MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0)
        return ret == MBEDTLS_ERR_SSL_ALLOC_FAILED ? MQTLS_ERR_TLS_OUT_OF_MEMORY
                                                   : MQTLS_ERR_TLS_CONFIG;
    mbedtls_ssl_conf_rng(&cfg->conf, mbedtls_ctr_drbg_random, &cfg->drbg);
    mbedtls_ssl_conf_min_version(&cfg->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3); /* TLS 1.2 */
    mbedtls_ssl_conf_authmode(&cfg->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&cfg->conf, &cfg->ca, NULL);
    mbedtls_ssl_conf_ciphersuites(&cfg->conf, default_suites);
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    mbedtls_ssl_conf_session_tickets(&cfg->conf, MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
#endif
#if defined(MBEDTLS_SSL_RENEGOTIATION) /* a device build leaves it out entirely */
    mbedtls_ssl_conf_renegotiation(&cfg->conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
#endif
    /* Non-zero, so mbedTLS hands our receive callback a timeout; the value
     * itself is replaced by the per-call limit. */
    mbedtls_ssl_conf_read_timeout(&cfg->conf, 1);
    cfg->ready = true;
    return MQTLS_OK;
}

int mqtls_tls_config_add_ca_pem(mqtls_tls_config *cfg, const char *pem, size_t len,
                                size_t *bad_index)
{
    size_t n = 0;
    int ret;

    if (cfg == NULL || pem == NULL)
        return MQTLS_ERR_INVALID_ARG;
    ret = mqtls_bundle_parse(&cfg->ca, (const uint8_t *)pem, len, 0, &n, bad_index);
    if (ret == MQTLS_ERR_CA_EMPTY)
        return MQTLS_ERR_TLS_BAD_CA; /* no certificate at all */
    if (ret == MQTLS_OK)
        cfg->ca_count += (int)n;
    return ret;
}

int mqtls_tls_config_add_ca_der(mqtls_tls_config *cfg, const uint8_t *der, size_t len)
{
    if (cfg == NULL || der == NULL || len == 0)
        return MQTLS_ERR_INVALID_ARG;
    if (mbedtls_x509_crt_parse_der(&cfg->ca, der, len) != 0)
        return MQTLS_ERR_TLS_BAD_CA;
    cfg->ca_count++;
    return MQTLS_OK;
}

int mqtls_tls_config_add_ca_file(mqtls_tls_config *cfg, const char *path, size_t *bad_index)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    int ret;

    if (cfg == NULL)
        return MQTLS_ERR_INVALID_ARG;
    ret = mqtls_bundle_read_file(path, &buf, &len);
    if (ret != MQTLS_OK)
        return ret;
    /* PEM bundle, or one or more DER certificates: told apart by content. */
    ret = mqtls_tls_config_add_ca_pem(cfg, (const char *)buf, len, bad_index);
    free(buf);
    return ret;
}

int mqtls_tls_config_set_identity(mqtls_tls_config *cfg, const uint8_t *cert, size_t cert_len,
                                  const uint8_t *key, size_t key_len, const char *passphrase)
{
    unsigned char *c = NULL, *k = NULL;
    const size_t pass_len = passphrase != NULL ? strlen(passphrase) : 0;
    mbedtls_x509_crt new_cert;
    mbedtls_pk_context new_key;
    int ret = MQTLS_OK, mret;

    if (cfg == NULL || cert == NULL || key == NULL || cert_len == 0 || key_len == 0)
        return MQTLS_ERR_INVALID_ARG;
    /* All or nothing: the new pair is parsed and checked on the side, and
     * only a good one replaces the identity in use. */
    mbedtls_x509_crt_init(&new_cert);
    mbedtls_pk_init(&new_key);
    /* PEM must carry its NUL inside the length; DER must not. */
    c = nul_terminated(cert, cert_len);
    k = nul_terminated(key, key_len);
    if (c == NULL || k == NULL) {
        ret = MQTLS_ERR_TLS_OUT_OF_MEMORY;
        goto out;
    }
    mret = mbedtls_x509_crt_parse(&new_cert, c,
                                  mqtls_bundle_looks_like_pem(cert, cert_len) ? cert_len + 1 : cert_len);
    if (mret != 0) { /* > 0: part of the chain failed, which is failure too */
        ret = MQTLS_ERR_TLS_BAD_CERT;
        goto out;
    }
    mret = mbedtls_pk_parse_key(&new_key, k,
                                mqtls_bundle_looks_like_pem(key, key_len) ? key_len + 1 : key_len,
                                (const unsigned char *)passphrase, pass_len);
    if (mret != 0) {
        ret = MQTLS_ERR_TLS_BAD_KEY;
        goto out;
    }
    if (mbedtls_pk_check_pair(&new_cert.pk, &new_key) != 0) {
        ret = MQTLS_ERR_TLS_KEY_MISMATCH;
        goto out;
    }
    /* mbedTLS appends to a list on every call; own_cert and own_key are
     * the same objects each time, so register them once. */
    if (!cfg->own_registered &&
        mbedtls_ssl_conf_own_cert(&cfg->conf, &cfg->own_cert, &cfg->own_key) != 0) {
        ret = MQTLS_ERR_TLS_OUT_OF_MEMORY;
        goto out;
    }
    cfg->own_registered = true;
    /* Swap in: the old pair is freed (the key zeroized), the new one moves
     * into the objects the configuration points at. */
    mbedtls_x509_crt_free(&cfg->own_cert);
    mbedtls_pk_free(&cfg->own_key);
    cfg->own_cert = new_cert;
    cfg->own_key = new_key;
    cfg->has_identity = true;
    mbedtls_x509_crt_init(&new_cert);
    mbedtls_pk_init(&new_key);
out:
    mbedtls_x509_crt_free(&new_cert);
    mbedtls_pk_free(&new_key); /* zeroizes a key that was not taken */
    free(c);
    wipe_free(k, key_len + 1);
    return ret;
}

int mqtls_tls_config_set_identity_files(mqtls_tls_config *cfg, const char *cert_path,
                                        const char *key_path, const char *passphrase)
{
    unsigned char *c = NULL, *k = NULL;
    size_t clen = 0, klen = 0;
    int ret = mqtls_bundle_read_file(cert_path, &c, &clen);

    if (ret == MQTLS_OK)
        ret = mqtls_bundle_read_file(key_path, &k, &klen);
    if (ret == MQTLS_OK)
        ret = mqtls_tls_config_set_identity(cfg, c, clen, k, klen, passphrase);
    free(c);
    wipe_free(k, klen + 1);
    return ret;
}

int mqtls_tls_config_set_alpn(mqtls_tls_config *cfg, const char *const *protocols)
{
    size_t n = 0;

    if (cfg == NULL || protocols == NULL)
        return MQTLS_ERR_INVALID_ARG;
    while (protocols[n] != NULL) {
        if (n == MQTLS_TLS_MAX_ALPN)
            return MQTLS_ERR_TLS_CONFIG;
        cfg->alpn[n] = protocols[n];
        n++;
    }
    cfg->alpn[n] = NULL;
    if (n == 0)
        return MQTLS_ERR_TLS_CONFIG;
    return mbedtls_ssl_conf_alpn_protocols(&cfg->conf, cfg->alpn) == 0 ? MQTLS_OK
                                                                         : MQTLS_ERR_TLS_CONFIG;
}

int mqtls_tls_config_set_max_fragment(mqtls_tls_config *cfg, unsigned bytes)
{
    unsigned char code;

    if (cfg == NULL)
        return MQTLS_ERR_INVALID_ARG;
    switch (bytes) {
    case 0: code = MBEDTLS_SSL_MAX_FRAG_LEN_NONE; break;
    case 512: code = MBEDTLS_SSL_MAX_FRAG_LEN_512; break;
    case 1024: code = MBEDTLS_SSL_MAX_FRAG_LEN_1024; break;
    case 2048: code = MBEDTLS_SSL_MAX_FRAG_LEN_2048; break;
    case 4096: code = MBEDTLS_SSL_MAX_FRAG_LEN_4096; break;
    default: return MQTLS_ERR_TLS_CONFIG;
    }
    return mbedtls_ssl_conf_max_frag_len(&cfg->conf, code) == 0 ? MQTLS_OK
                                                                 : MQTLS_ERR_TLS_CONFIG;
}

int mqtls_tls_config_set_ciphersuites(mqtls_tls_config *cfg, const int *ids)
{
    if (cfg == NULL || ids == NULL || ids[0] == 0)
        return MQTLS_ERR_INVALID_ARG;
    mbedtls_ssl_conf_ciphersuites(&cfg->conf, ids);
    return MQTLS_OK;
}

int mqtls_tls_config_set_handshake_timeout(mqtls_tls_config *cfg, uint32_t timeout_ms)
{
    if (cfg == NULL || timeout_ms == 0)
        return MQTLS_ERR_INVALID_ARG;
    cfg->handshake_timeout_ms = timeout_ms;
    return MQTLS_OK;
}

int mqtls_tls_config_set_time_policy(mqtls_tls_config *cfg, mqtls_tls_time_policy policy)
{
    if (cfg == NULL ||
        (policy != MQTLS_TLS_TIME_STRICT && policy != MQTLS_TLS_TIME_DEFER_UNTIL_CLOCK_SET))
        return MQTLS_ERR_INVALID_ARG;
    cfg->time_policy = policy;
    return MQTLS_OK;
}

int mqtls_tls_config_set_clock(mqtls_tls_config *cfg, const mqtls_clock *clock)
{
    if (cfg == NULL || clock == NULL || clock->now_ms == NULL)
        return MQTLS_ERR_INVALID_ARG;
    cfg->clock = *clock;
    return MQTLS_OK;
}

int mqtls_tls_config_set_wall_clock(mqtls_tls_config *cfg, time_t (*now)(void))
{
    if (cfg == NULL || now == NULL)
        return MQTLS_ERR_INVALID_ARG;
    cfg->wall_clock = now;
    return MQTLS_OK;
}

int mqtls_tls_config_set_read_ahead(mqtls_tls_config *cfg, size_t bytes)
{
    if (cfg == NULL || bytes > 65536)
        return MQTLS_ERR_INVALID_ARG;
    cfg->read_ahead = bytes;
    return MQTLS_OK;
}

int mqtls_tls_config_use_castore(mqtls_tls_config *cfg, struct mqtls_castore *store)
{
    if (cfg == NULL)
        return MQTLS_ERR_INVALID_ARG;
    cfg->castore = store;
    cfg->castore_trusted = mqtls_castore_trusted;
    cfg->castore_count_use = mqtls_castore_count_use;
    return MQTLS_OK;
}

int mqtls_tls_config_set_pins(mqtls_tls_config *cfg, const uint8_t (*pins)[32], size_t n)
{
    if (cfg == NULL || (pins == NULL && n != 0) || n == 1 || n > MQTLS_TLS_MAX_PINS)
        return MQTLS_ERR_INVALID_ARG;
    if (n != 0) /* pins may be NULL with n 0 (pins off): no memcpy from NULL */
        memcpy(cfg->pins, pins, n * sizeof pins[0]);
    cfg->pin_count = (uint8_t)n;
    return MQTLS_OK;
}

int mqtls_tls_pin_of_cert(const uint8_t *cert, size_t len, uint8_t pin[32])
{
    mbedtls_x509_crt crt;
    size_t n = 0;
    int ret;

    if (cert == NULL || len == 0 || pin == NULL)
        return MQTLS_ERR_INVALID_ARG;
    mbedtls_x509_crt_init(&crt);
    ret = mqtls_bundle_parse(&crt, cert, len, 0, &n, NULL);
    if (ret == MQTLS_OK && n != 1)
        ret = MQTLS_ERR_INVALID_ARG; /* one certificate, please */
    if (ret == MQTLS_OK && mbedtls_sha256_ret(crt.pk_raw.p, crt.pk_raw.len, pin, 0) != 0) {
        memset(pin, 0, 32);
        ret = MQTLS_ERR_TLS_CRYPTO;
    }
    mbedtls_x509_crt_free(&crt);
    return ret == MQTLS_ERR_CA_EMPTY ? MQTLS_ERR_TLS_BAD_CERT : ret;
}

int mqtls_tls_config_disable_verification_INSECURE(mqtls_tls_config *cfg)
{
    if (cfg == NULL)
        return MQTLS_ERR_INVALID_ARG;
    cfg->insecure = true;
    mbedtls_ssl_conf_authmode(&cfg->conf, MBEDTLS_SSL_VERIFY_NONE);
    return MQTLS_OK;
}

void mqtls_tls_config_free(mqtls_tls_config *cfg)
{
    if (cfg == NULL)
        return;
    mbedtls_ssl_config_free(&cfg->conf);
    mbedtls_x509_crt_free(&cfg->ca);
    mbedtls_x509_crt_free(&cfg->own_cert);
    mbedtls_pk_free(&cfg->own_key); /* zeroizes the key */
    mbedtls_ctr_drbg_free(&cfg->drbg);
    mbedtls_entropy_free(&cfg->entropy);
    mbedtls_platform_zeroize(cfg, sizeof *cfg);
}

/* ---- the lower transport as mbedTLS's BIO -------------------------------- */

/* The deadline of the current call, for every lower read and write it
 * makes: a peer that dribbles bytes cannot stretch a call past it. */
static void set_deadline(mqtls_tls *tls, uint32_t timeout_ms, bool free_try)
{
    tls->no_deadline = timeout_ms == MQTLS_WAIT_FOREVER;
    tls->deadline_ms = now_ms(tls->cfg) + timeout_ms;
    tls->free_try = free_try;
}

/* What is left of the deadline for the next lower call: 1 and *left, or 0
 * when it has passed (the call then returns "nothing moved" to mbedTLS,
 * which keeps what it has of a record for the next call). */
static int time_left(mqtls_tls *tls, uint32_t *left)
{
    const int32_t d = (int32_t)(tls->deadline_ms - now_ms(tls->cfg));
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

/* ---- verification: remember what we saw, for the reasons and the CA report */

static void subject_of(char *out, size_t cap, const mbedtls_x509_name *name)
{
    if (mbedtls_x509_dn_gets(out, cap, name) < 0)
        snprintf(out, cap, "(unreadable)");
}

static void names_of(char *out, size_t cap, const mbedtls_x509_crt *crt)
{
    const mbedtls_x509_sequence *san = &crt->subject_alt_names;
    size_t used = 0;

    out[0] = 0;
    for (; san != NULL && san->buf.len != 0; san = san->next) {
        /* dNSName entries only: [2] IA5String */
        int n;
        if ((san->buf.tag & MBEDTLS_ASN1_TAG_VALUE_MASK) != 2)
            continue;
        n = snprintf(out + used, cap - used, "%s%.*s", used ? ", " : "", (int)san->buf.len,
                     (const char *)san->buf.p);
        if (n < 0 || (size_t)n >= cap - used)
            break;
        used += (size_t)n;
    }
    if (used == 0)
        subject_of(out, cap, &crt->subject);
}

static int verify_callback(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    mqtls_tls *tls = ctx;
    const uint32_t dates = MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE;

    if (depth == 0) {
        subject_of(tls->leaf_subject, sizeof tls->leaf_subject, &crt->subject);
        subject_of(tls->leaf_issuer, sizeof tls->leaf_issuer, &crt->issuer);
        names_of(tls->leaf_names, sizeof tls->leaf_names, crt);
        format_date(tls->leaf_not_before, sizeof tls->leaf_not_before, &crt->valid_from);
        format_date(tls->leaf_not_after, sizeof tls->leaf_not_after, &crt->valid_to);
    }
    if (tls->cfg->time_policy == MQTLS_TLS_TIME_DEFER_UNTIL_CLOCK_SET && clock_not_set(tls->cfg))
        *flags &= ~dates; /* chain and signatures still count */
    if (tls->cfg->pin_count > 0) {
        uint8_t spki[32];
        unsigned i;
        /* A hash that failed matches nothing: the pin check fails closed. */
        if (mbedtls_sha256_ret(crt->pk_raw.p, crt->pk_raw.len, spki, 0) == 0)
            for (i = 0; i < tls->cfg->pin_count; i++)
                if (memcmp(spki, tls->cfg->pins[i], 32) == 0)
                    tls->pin_matched = true;
        /* The leaf comes last: by then every certificate was seen. */
        if (depth == 0 && !tls->pin_matched) {
            tls->pin_failed = true;
            *flags |= MBEDTLS_X509_BADCERT_OTHER;
        }
    }
    if (depth > tls->top_depth) {
        /* The deepest certificate mbedTLS shows us is the trust anchor the
         * chain ended at. */
        tls->top_depth = depth;
        subject_of(tls->ca_subject, sizeof tls->ca_subject, &crt->subject);
        if (mbedtls_sha256_ret(crt->raw.p, crt->raw.len, tls->ca_sha256, 0) != 0)
            memset(tls->ca_sha256, 0, sizeof tls->ca_sha256); /* counts no CA's use */
    }
    return 0;
}

/* ---- failures in words ---------------------------------------------------- */

static const char *alert_name(uint8_t a)
{
    switch (a) {
    case 40: return "handshake failure";
    case 42: return "bad certificate";
    case 43: return "unsupported certificate";
    case 44: return "certificate revoked";
    case 45: return "certificate expired";
    case 46: return "certificate unknown";
    case 48: return "unknown CA";
    case 49: return "access denied";
    case 70: return "protocol version";
    case 71: return "insufficient security";
    case 80: return "internal error";
    case 112: return "unrecognized name";
    case 116: return "certificate required";
    case 120: return "no application protocol";
    default: return "unknown alert";
    }
}

/* True when a trusted CA has the subject our leaf names as its issuer:
 * then "not trusted" means a signature that does not verify, an impostor. */
static bool issuer_name_is_trusted(const mqtls_tls *tls)
{
    const mbedtls_x509_crt *c;
    char name[MQTLS_TLS_SUBJECT_LEN];

    for (c = &tls->cfg->ca; c != NULL && c->raw.len != 0; c = c->next) {
        subject_of(name, sizeof name, &c->subject);
        if (strcmp(name, tls->leaf_issuer) == 0)
            return true;
    }
    return false;
}

static int explain_verify_failure(mqtls_tls *tls)
{
    const uint32_t f = tls->verify_flags;
    const uint32_t dates = MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE;
    const uint32_t key = MBEDTLS_X509_BADCERT_BAD_MD | MBEDTLS_X509_BADCERT_BAD_PK |
                         MBEDTLS_X509_BADCERT_BAD_KEY | MBEDTLS_X509_BADCERT_KEY_USAGE |
                         MBEDTLS_X509_BADCERT_EXT_KEY_USAGE;

    if ((f & dates) && clock_not_set(tls->cfg)) {
        char now[32];
        time_t t = tls->cfg->wall_clock();
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(now, sizeof now, "%Y-%m-%d", &tm);
        say(tls, "device clock not set (it reads %s, before this library was built on %s); "
                 "set the time (SNTP) or use the deferred time policy",
            now, __DATE__);
        return MQTLS_ERR_TLS_CLOCK_NOT_SET;
    }
    if (tls->pin_failed && f == MBEDTLS_X509_BADCERT_OTHER) {
        say(tls, "server chain verifies but matches none of the %u pinned public keys "
                 "(subject %s, issuer %s)",
            (unsigned)tls->cfg->pin_count, tls->leaf_subject, tls->leaf_issuer);
        return MQTLS_ERR_TLS_PIN_MISMATCH;
    }
    if (f & MBEDTLS_X509_BADCERT_NOT_TRUSTED) {
        if (issuer_name_is_trusted(tls))
            say(tls, "server certificate claims a trusted issuer but its signature does not "
                     "verify: an impostor CA with the same name? (subject %s, issuer %s)",
                tls->leaf_subject, tls->leaf_issuer);
        else
            say(tls, "server certificate is not signed by a trusted CA (subject %s, issuer %s)",
                tls->leaf_subject, tls->leaf_issuer);
        return MQTLS_ERR_TLS_CERT_UNTRUSTED;
    }
    if (f & MBEDTLS_X509_BADCERT_EXPIRED) {
        say(tls, "server certificate expired on %s (subject %s, issuer %s)", tls->leaf_not_after,
            tls->leaf_subject, tls->leaf_issuer);
        return MQTLS_ERR_TLS_CERT_EXPIRED;
    }
    if (f & MBEDTLS_X509_BADCERT_FUTURE) {
        say(tls, "server certificate is not valid until %s (subject %s, issuer %s)",
            tls->leaf_not_before, tls->leaf_subject, tls->leaf_issuer);
        return MQTLS_ERR_TLS_CERT_NOT_YET_VALID;
    }
    if (f & MBEDTLS_X509_BADCERT_CN_MISMATCH) {
        say(tls, "host name does not match the certificate (wanted %s, certificate names %s)",
            tls->ssl.hostname != NULL ? tls->ssl.hostname : "?", tls->leaf_names);
        return MQTLS_ERR_TLS_HOSTNAME_MISMATCH;
    }
    if (f & key) {
        say(tls, "server certificate uses a weak or unsupported key, hash or key usage "
                 "(subject %s)",
            tls->leaf_subject);
        return MQTLS_ERR_TLS_WEAK_KEY;
    }
    say(tls, "server certificate rejected (mbedTLS verify flags 0x%05x, subject %s)",
        (unsigned)f, tls->leaf_subject);
    return MQTLS_ERR_TLS_CERT_UNTRUSTED;
}

static int explain_failure(mqtls_tls *tls, int mret)
{
    char text[128];

    tls->mbedtls_error = mret;
    if (mret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        tls->verify_flags = mbedtls_ssl_get_verify_result(&tls->ssl);
        return explain_verify_failure(tls);
    }
    if (mret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
        char alert[16], own[MQTLS_TLS_SUBJECT_LEN];
        tls->alert = tls->ssl.in_msg != NULL ? tls->ssl.in_msg[1] : 0;
        snprintf(alert, sizeof alert, "%u", (unsigned)tls->alert);
        switch (tls->alert) {
        case 42: case 43: case 44: case 45: case 46: case 48: case 49: case 116:
            if (tls->cfg->has_identity)
                subject_of(own, sizeof own, &tls->cfg->own_cert.subject);
            say(tls, "the broker refused our client certificate (%s): alert %s (%s)",
                tls->cfg->has_identity ? own : "we have none configured", alert,
                alert_name(tls->alert));
            return MQTLS_ERR_TLS_CLIENT_CERT_REFUSED;
        case 40:
        case 71:
            if (tls->ssl.state <= MBEDTLS_SSL_SERVER_HELLO && tls->ssl.in_hdr != NULL &&
                tls->ssl.in_hdr[1] == 3 && tls->ssl.in_hdr[2] < 3) {
                /* The alert came in a record older than TLS 1.2: the
                 * broker settled on an old version, then found none of our
                 * (TLS 1.2-only, AEAD) suites usable in it. */
                say(tls, "the broker only speaks TLS 1.%d or older, which we refuse: its alert "
                         "%s (%s) came in a TLS 1.%d record; we require TLS 1.2",
                    tls->ssl.in_hdr[2] - 1, alert, alert_name(tls->alert), tls->ssl.in_hdr[2] - 1);
                return MQTLS_ERR_TLS_PROTOCOL;
            }
            if (tls->ssl.state <= MBEDTLS_SSL_SERVER_HELLO) {
                /* Refused before it even answered our hello: nothing it
                 * could accept in our cipher suites, versions or curves. */
                say(tls, "no cipher suite in common with the broker: it refused our hello "
                         "with alert %s (%s)",
                    alert, alert_name(tls->alert));
                return MQTLS_ERR_TLS_NO_COMMON_CIPHER;
            }
            if (!tls->cfg->has_identity) {
                say(tls, "the broker ended the handshake (alert 40, handshake failure); it "
                         "probably requires a client certificate and we have none");
                return MQTLS_ERR_TLS_CLIENT_CERT_REFUSED;
            }
            say(tls, "the broker ended the handshake (alert 40, handshake failure): no cipher "
                     "suite or curve in common, or it refused our certificate");
            return MQTLS_ERR_TLS_ALERT;
        case 70:
            say(tls, "the broker refused our TLS version (we offer only TLS 1.2 or later): "
                     "alert %s (%s)",
                alert, alert_name(tls->alert));
            return MQTLS_ERR_TLS_PROTOCOL;
        default:
            say(tls, "the broker ended the handshake with alert %s (%s)", alert,
                alert_name(tls->alert));
            return MQTLS_ERR_TLS_ALERT;
        }
    }
    if ((tls->lower_error == MQTLS_ERR_NET_RESET || tls->lower_error == MQTLS_ERR_NET_CLOSED) &&
        tls->ssl.client_auth && tls->ssl.state > MBEDTLS_SSL_CLIENT_CERTIFICATE) {
        /* The broker asked for our certificate, got it, and hung up. Its
         * alert, if it sent one, was lost with the reset. */
        if (!tls->cfg->has_identity) {
            say(tls, "the broker requires a client certificate and we have none configured "
                     "(it closed the connection)");
        } else {
            char subject[MQTLS_TLS_SUBJECT_LEN];
            subject_of(subject, sizeof subject, &tls->cfg->own_cert.subject);
            say(tls, "the broker refused our client certificate (%s): it closed the "
                     "connection on receiving it, as for an expired, revoked or untrusted one; "
                     "its log says which",
                subject);
        }
        return MQTLS_ERR_TLS_CLIENT_CERT_REFUSED;
    }
    if (tls->lower_error != 0) {
        say(tls, "the connection failed during the TLS handshake: %s", mqtls_strerror(tls->lower_error));
        return tls->lower_error;
    }
#if defined(MBEDTLS_ERROR_C)
    mbedtls_strerror(mret, text, sizeof text);
#else /* a device build without mbedTLS's error strings: the code alone */
    snprintf(text, sizeof text, "mbedTLS error -0x%04x", (unsigned)-mret);
#endif
    switch (mret) {
    case MBEDTLS_ERR_SSL_NO_CIPHER_CHOSEN:
    case MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE:
    case MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO:
        say(tls, "no cipher suite in common with the broker (%s)", text);
        return MQTLS_ERR_TLS_NO_COMMON_CIPHER;
    case MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION:
        say(tls, "the broker only offers a version older than TLS 1.2, which we refuse (%s)",
            text);
        return MQTLS_ERR_TLS_PROTOCOL;
    case MBEDTLS_ERR_SSL_ALLOC_FAILED:
        say(tls, "out of memory during the TLS handshake");
        return MQTLS_ERR_TLS_OUT_OF_MEMORY;
    case MBEDTLS_ERR_SSL_INVALID_RECORD:
    case MBEDTLS_ERR_SSL_BAD_INPUT_DATA:
        say(tls, "the broker sent a TLS record larger than our buffer, or a malformed one (%s)",
            text);
        return MQTLS_ERR_TLS_RECORD_TOO_LARGE;
    default:
        say(tls, "TLS handshake failed: %s", text);
        return MQTLS_ERR_TLS_PROTOCOL;
    }
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
            say(tls, "the CA store trusts nothing: its active slot is empty (load a bundle) "
                     "or the staged slot chosen for this connect is");
            return MQTLS_ERR_TLS_NO_TRUST;
        }
        mbedtls_ssl_conf_ca_chain(&cfg->conf, chain, NULL);
        if (compute_trust_id(cfg, NULL, store_id, hostname, tls->trust_id) != 0)
            goto crypto_failed;
    } else {
        if (cfg->ca_count == 0 && !cfg->insecure) {
            say(tls, "no trusted CA configured: add one, or disable verification explicitly");
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
        return explain_failure(tls, mret);
    tls->ssl_ready = true;
    mbedtls_ssl_set_verify(&tls->ssl, verify_callback, tls);
    /* SNI and host name check; always set (newer mbedTLS insists). */
    mret = mbedtls_ssl_set_hostname(&tls->ssl, hostname);
    if (mret != 0)
        return explain_failure(tls, mret);
    mbedtls_ssl_set_bio(&tls->ssl, tls, bio_send, NULL, bio_recv);
    if (tls->have_saved && mbedtls_ssl_set_session(&tls->ssl, &tls->saved) != 0)
        tls->have_saved = false; /* offer nothing rather than fail */

    /* One deadline for the whole handshake, every lower call included. */
    set_deadline(tls, cfg->handshake_timeout_ms, false);
    start = now_ms(cfg);
    while (tls->ssl.state != MBEDTLS_SSL_HANDSHAKE_OVER) {
        uint32_t spent = mqtls_clock_elapsed_ms(start, now_ms(cfg));
        if (spent >= cfg->handshake_timeout_ms) {
            tls->mbedtls_error = MBEDTLS_ERR_SSL_TIMEOUT;
            say(tls, "TLS handshake did not finish within %u ms", (unsigned)cfg->handshake_timeout_ms);
            return MQTLS_ERR_TLS_HANDSHAKE_TIMEOUT;
        }
        mret = mbedtls_ssl_handshake_step(&tls->ssl);
        if (mret == MBEDTLS_ERR_SSL_WANT_READ || mret == MBEDTLS_ERR_SSL_WANT_WRITE)
            continue;
        if (mret != 0)
            return explain_failure(tls, mret);
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
    say(tls, "SHA-256 failed while binding saved sessions to the trusted set: not connecting");
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
