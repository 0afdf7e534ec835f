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

#include "tls/castore.h"

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

bool mqtls_tls_clock_not_set(const mqtls_tls_config *cfg)
{
    return cfg->wall_clock() < build_time();
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

int mqtls_tls_verify_callback(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
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
    if (tls->cfg->time_policy == MQTLS_TLS_TIME_DEFER_UNTIL_CLOCK_SET && mqtls_tls_clock_not_set(tls->cfg))
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

/* Gathers what mbedTLS left of a failed handshake into version-neutral
 * facts (the only mbedTLS-specific part of explaining: private fields of
 * 2.28's ssl context among them), then mqtls_tls_explain() words them. */
int mqtls_tls_explain_failure(mqtls_tls *tls, int mret)
{
    const uint32_t key = MBEDTLS_X509_BADCERT_BAD_MD | MBEDTLS_X509_BADCERT_BAD_PK |
                         MBEDTLS_X509_BADCERT_BAD_KEY | MBEDTLS_X509_BADCERT_KEY_USAGE |
                         MBEDTLS_X509_BADCERT_EXT_KEY_USAGE;
    mqtls_tls_facts f;
    char text[128], now[32], own[MQTLS_TLS_SUBJECT_LEN];

    memset(&f, 0, sizeof f);
    own[0] = '\0';
    tls->mbedtls_error = mret;
#if defined(MBEDTLS_ERROR_C)
    mbedtls_strerror(mret, text, sizeof text);
#else /* a device build without mbedTLS's error strings: the code alone */
    snprintf(text, sizeof text, "mbedTLS error -0x%04x", (unsigned)-mret);
#endif
    f.detail = text;
    f.has_identity = tls->cfg->has_identity;
    if (f.has_identity)
        subject_of(own, sizeof own, &tls->cfg->own_cert.subject);
    f.own_subject = own;
    f.lower_error = tls->lower_error;
    f.record_minor = -1;
    if (mret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        const uint32_t v = tls->verify_flags = mbedtls_ssl_get_verify_result(&tls->ssl);
        time_t t = tls->cfg->wall_clock();
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(now, sizeof now, "%Y-%m-%d", &tm);
        f.kind = MQTLS_FAIL_VERIFY;
        f.flags = v;
        f.not_trusted = (v & MBEDTLS_X509_BADCERT_NOT_TRUSTED) != 0;
        f.expired = (v & MBEDTLS_X509_BADCERT_EXPIRED) != 0;
        f.future = (v & MBEDTLS_X509_BADCERT_FUTURE) != 0;
        f.name_mismatch = (v & MBEDTLS_X509_BADCERT_CN_MISMATCH) != 0;
        f.weak = (v & key) != 0;
        f.only_pin = v == MBEDTLS_X509_BADCERT_OTHER;
        f.pin_failed = tls->pin_failed;
        f.pin_count = tls->cfg->pin_count;
        f.clock_not_set = mqtls_tls_clock_not_set(tls->cfg);
        f.issuer_name_trusted = f.not_trusted && issuer_name_is_trusted(tls);
        f.now = now;
        f.built = __DATE__;
        f.subject = tls->leaf_subject;
        f.issuer = tls->leaf_issuer;
        f.names = tls->leaf_names;
        f.not_before = tls->leaf_not_before;
        f.not_after = tls->leaf_not_after;
        f.hostname = tls->ssl.hostname;
    } else if (mret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
        f.kind = MQTLS_FAIL_ALERT;
        tls->alert = tls->ssl.in_msg != NULL ? tls->ssl.in_msg[1] : 0;
        f.alert = tls->alert;
        f.before_server_hello = tls->ssl.state <= MBEDTLS_SSL_SERVER_HELLO;
        if (tls->ssl.in_hdr != NULL && tls->ssl.in_hdr[1] == 3)
            f.record_minor = tls->ssl.in_hdr[2];
    } else {
        f.after_our_certificate =
            tls->ssl.client_auth && tls->ssl.state > MBEDTLS_SSL_CLIENT_CERTIFICATE;
        switch (mret) {
        case MBEDTLS_ERR_SSL_NO_CIPHER_CHOSEN:
        case MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE:
        case MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO: f.kind = MQTLS_FAIL_NO_COMMON; break;
        case MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION: f.kind = MQTLS_FAIL_OLD_VERSION; break;
        case MBEDTLS_ERR_SSL_ALLOC_FAILED: f.kind = MQTLS_FAIL_NO_MEMORY; break;
        case MBEDTLS_ERR_SSL_INVALID_RECORD:
        case MBEDTLS_ERR_SSL_BAD_INPUT_DATA: f.kind = MQTLS_FAIL_BAD_RECORD; break;
        default: f.kind = MQTLS_FAIL_OTHER; break;
        }
    }
    return mqtls_tls_explain(&f, tls->why, sizeof tls->why);
}
