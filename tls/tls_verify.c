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

    if ((f & dates) && mqtls_tls_clock_not_set(tls->cfg)) {
        char now[32];
        time_t t = tls->cfg->wall_clock();
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(now, sizeof now, "%Y-%m-%d", &tm);
        mqtls_tls_say(tls, "device clock not set (it reads %s, before this library was built on %s); "
                 "set the time (SNTP) or use the deferred time policy",
            now, __DATE__);
        return MQTLS_ERR_TLS_CLOCK_NOT_SET;
    }
    if (tls->pin_failed && f == MBEDTLS_X509_BADCERT_OTHER) {
        mqtls_tls_say(tls, "server chain verifies but matches none of the %u pinned public keys "
                 "(subject %s, issuer %s)",
            (unsigned)tls->cfg->pin_count, tls->leaf_subject, tls->leaf_issuer);
        return MQTLS_ERR_TLS_PIN_MISMATCH;
    }
    if (f & MBEDTLS_X509_BADCERT_NOT_TRUSTED) {
        if (issuer_name_is_trusted(tls))
            mqtls_tls_say(tls, "server certificate claims a trusted issuer but its signature does not "
                     "verify: an impostor CA with the same name? (subject %s, issuer %s)",
                tls->leaf_subject, tls->leaf_issuer);
        else
            mqtls_tls_say(tls, "server certificate is not signed by a trusted CA (subject %s, issuer %s)",
                tls->leaf_subject, tls->leaf_issuer);
        return MQTLS_ERR_TLS_CERT_UNTRUSTED;
    }
    if (f & MBEDTLS_X509_BADCERT_EXPIRED) {
        mqtls_tls_say(tls, "server certificate expired on %s (subject %s, issuer %s)", tls->leaf_not_after,
            tls->leaf_subject, tls->leaf_issuer);
        return MQTLS_ERR_TLS_CERT_EXPIRED;
    }
    if (f & MBEDTLS_X509_BADCERT_FUTURE) {
        mqtls_tls_say(tls, "server certificate is not valid until %s (subject %s, issuer %s)",
            tls->leaf_not_before, tls->leaf_subject, tls->leaf_issuer);
        return MQTLS_ERR_TLS_CERT_NOT_YET_VALID;
    }
    if (f & MBEDTLS_X509_BADCERT_CN_MISMATCH) {
        mqtls_tls_say(tls, "host name does not match the certificate (wanted %s, certificate names %s)",
            tls->ssl.hostname != NULL ? tls->ssl.hostname : "?", tls->leaf_names);
        return MQTLS_ERR_TLS_HOSTNAME_MISMATCH;
    }
    if (f & key) {
        mqtls_tls_say(tls, "server certificate uses a weak or unsupported key, hash or key usage "
                 "(subject %s)",
            tls->leaf_subject);
        return MQTLS_ERR_TLS_WEAK_KEY;
    }
    mqtls_tls_say(tls, "server certificate rejected (mbedTLS verify flags 0x%05x, subject %s)",
        (unsigned)f, tls->leaf_subject);
    return MQTLS_ERR_TLS_CERT_UNTRUSTED;
}

int mqtls_tls_explain_failure(mqtls_tls *tls, int mret)
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
            mqtls_tls_say(tls, "the broker refused our client certificate (%s): alert %s (%s)",
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
                mqtls_tls_say(tls, "the broker only speaks TLS 1.%d or older, which we refuse: its alert "
                         "%s (%s) came in a TLS 1.%d record; we require TLS 1.2",
                    tls->ssl.in_hdr[2] - 1, alert, alert_name(tls->alert), tls->ssl.in_hdr[2] - 1);
                return MQTLS_ERR_TLS_PROTOCOL;
            }
            if (tls->ssl.state <= MBEDTLS_SSL_SERVER_HELLO) {
                /* Refused before it even answered our hello: nothing it
                 * could accept in our cipher suites, versions or curves. */
                mqtls_tls_say(tls, "no cipher suite in common with the broker: it refused our hello "
                         "with alert %s (%s)",
                    alert, alert_name(tls->alert));
                return MQTLS_ERR_TLS_NO_COMMON_CIPHER;
            }
            if (!tls->cfg->has_identity) {
                mqtls_tls_say(tls, "the broker ended the handshake (alert 40, handshake failure); it "
                         "probably requires a client certificate and we have none");
                return MQTLS_ERR_TLS_CLIENT_CERT_REFUSED;
            }
            mqtls_tls_say(tls, "the broker ended the handshake (alert 40, handshake failure): no cipher "
                     "suite or curve in common, or it refused our certificate");
            return MQTLS_ERR_TLS_ALERT;
        case 70:
            mqtls_tls_say(tls, "the broker refused our TLS version (we offer only TLS 1.2 or later): "
                     "alert %s (%s)",
                alert, alert_name(tls->alert));
            return MQTLS_ERR_TLS_PROTOCOL;
        default:
            mqtls_tls_say(tls, "the broker ended the handshake with alert %s (%s)", alert,
                alert_name(tls->alert));
            return MQTLS_ERR_TLS_ALERT;
        }
    }
    if ((tls->lower_error == MQTLS_ERR_NET_RESET || tls->lower_error == MQTLS_ERR_NET_CLOSED) &&
        tls->ssl.client_auth && tls->ssl.state > MBEDTLS_SSL_CLIENT_CERTIFICATE) {
        /* The broker asked for our certificate, got it, and hung up. Its
         * alert, if it sent one, was lost with the reset. */
        if (!tls->cfg->has_identity) {
            mqtls_tls_say(tls, "the broker requires a client certificate and we have none configured "
                     "(it closed the connection)");
        } else {
            char subject[MQTLS_TLS_SUBJECT_LEN];
            subject_of(subject, sizeof subject, &tls->cfg->own_cert.subject);
            mqtls_tls_say(tls, "the broker refused our client certificate (%s): it closed the "
                     "connection on receiving it, as for an expired, revoked or untrusted one; "
                     "its log says which",
                subject);
        }
        return MQTLS_ERR_TLS_CLIENT_CERT_REFUSED;
    }
    if (tls->lower_error != 0) {
        mqtls_tls_say(tls, "the connection failed during the TLS handshake: %s", mqtls_strerror(tls->lower_error));
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
        mqtls_tls_say(tls, "no cipher suite in common with the broker (%s)", text);
        return MQTLS_ERR_TLS_NO_COMMON_CIPHER;
    case MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION:
        mqtls_tls_say(tls, "the broker only offers a version older than TLS 1.2, which we refuse (%s)",
            text);
        return MQTLS_ERR_TLS_PROTOCOL;
    case MBEDTLS_ERR_SSL_ALLOC_FAILED:
        mqtls_tls_say(tls, "out of memory during the TLS handshake");
        return MQTLS_ERR_TLS_OUT_OF_MEMORY;
    case MBEDTLS_ERR_SSL_INVALID_RECORD:
    case MBEDTLS_ERR_SSL_BAD_INPUT_DATA:
        mqtls_tls_say(tls, "the broker sent a TLS record larger than our buffer, or a malformed one (%s)",
            text);
        return MQTLS_ERR_TLS_RECORD_TOO_LARGE;
    default:
        mqtls_tls_say(tls, "TLS handshake failed: %s", text);
        return MQTLS_ERR_TLS_PROTOCOL;
    }
}
