/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L

#include "tls/tls_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/error.h>

#include "tls/castore.h"

/* "YYYY-MM-DD" of an mbedTLS time. */
static void format_date(char *out, size_t cap, const mbedtls_x509_time *t)
{
    snprintf(out, cap, "%04d-%02d-%02d", t->year, t->mon, t->day);
}

/* The library's build date, from __DATE__ ("Nov 21 2026"), as seconds
 * since the epoch (UTC, counted here: mktime would take the local zone
 * and pull a time-zone database into firmware): a clock reading earlier
 * than this was never set. */
static time_t build_time(void)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    static const unsigned short before[12] = {0,   31,  59,  90,  120, 151,
                                              181, 212, 243, 273, 304, 334};
    const char *d = __DATE__;
    const char *m = strstr(months, (char[4]){d[0], d[1], d[2], 0});
    const int year = atoi(d + 7), mon = m != NULL ? (int)(m - months) / 3 : 0;
    long days = 0;
    int y;

    for (y = 1970; y <= year; y++) {
        const int leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
        days += y < year ? 365 + leap : before[mon] + (mon > 1 && leap) + atoi(d + 4) - 1;
    }
    return (time_t)days * 86400;
}

bool mqtls_tls_clock_not_set(const mqtls_tls_cfg_impl *cfg)
{
    return cfg->wall_clock() < build_time();
}

/* ---- verification: remember what we saw, for the reasons and the CA report */

static void subject_of(char *out, size_t cap, const mbedtls_x509_name *name)
{
    if (mbedtls_x509_dn_gets(out, cap, name) < 0)
        snprintf(out, cap, "(unreadable)");
}

/* An iPAddress name (4 or 16 bytes) as text: dotted IPv4, or IPv6 in
 * eight hex groups (as openssl x509 -text prints them). */
static int ip_text(char *out, size_t cap, const unsigned char *p, size_t len)
{
    if (len == 4)
        return snprintf(out, cap, "IP:%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
    if (len == 16)
        return snprintf(out, cap, "IP:%x:%x:%x:%x:%x:%x:%x:%x", p[0] << 8 | p[1], p[2] << 8 | p[3],
                        p[4] << 8 | p[5], p[6] << 8 | p[7], p[8] << 8 | p[9], p[10] << 8 | p[11],
                        p[12] << 8 | p[13], p[14] << 8 | p[15]);
    return snprintf(out, cap, "IP:(%u bytes)", (unsigned)len);
}

/* The names the certificate holds: dNSName and iPAddress entries, else
 * its subject. */
static void names_of(char *out, size_t cap, const mbedtls_x509_crt *crt)
{
    const mbedtls_x509_sequence *san = &crt->subject_alt_names;
    size_t used = 0;

    out[0] = 0;
    for (; san != NULL && san->buf.len != 0; san = san->next) {
        const unsigned tag = (unsigned)san->buf.tag & MBEDTLS_ASN1_TAG_VALUE_MASK;
        char one[48];
        int n;
        if (tag == 2) /* [2] dNSName, IA5String */
            n = snprintf(one, sizeof one, "%.*s", (int)(san->buf.len < 40 ? san->buf.len : 40),
                         (const char *)san->buf.p);
        else if (tag == 7) /* [7] iPAddress, 4 or 16 bytes */
            n = ip_text(one, sizeof one, san->buf.p, san->buf.len);
        else
            continue;
        if (n < 0)
            continue;
        n = snprintf(out + used, cap - used, "%s%s", used ? ", " : "", one);
        if (n < 0 || (size_t)n >= cap - used)
            break;
        used += (size_t)n;
    }
    if (used == 0)
        subject_of(out, cap, &crt->subject);
}

#if !MQTLS_COMPAT_IP_NAMES
/* IPv6 host names matched against iPAddress names on 2.28: on for hosts,
 * off for 32-bit targets (the device profile, as MQTLS_CONFIG_SMALL
 * chooses it: IPv4 addresses only, about 300 bytes less flash; a device on
 * a modem speaks IPv4). Define MQTLS_TLS_IP6_NAMES to choose. */
#ifndef MQTLS_TLS_IP6_NAMES
#if defined(MQTLS_CONFIG_SMALL)
#define MQTLS_TLS_IP6_NAMES (!MQTLS_CONFIG_SMALL)
#elif defined(__SSE2__) || UINTPTR_MAX > 0xFFFFFFFFu
#define MQTLS_TLS_IP6_NAMES 1
#else
#define MQTLS_TLS_IP6_NAMES 0
#endif
#endif

/* An IPv4 (dotted quad) or IPv6 (RFC 4291 text, "::" allowed, no zone or
 * embedded IPv4) literal into its 4 or 16 bytes; 0 when it is not one. */
static size_t parse_ip(const char *h, uint8_t out[16])
{
    unsigned v = 0, digits = 0;
#if MQTLS_TLS_IP6_NAMES
    unsigned groups = 0, i;
    int gap = -1;
    uint16_t g[8];
#endif

    if (strchr(h, ':') == NULL) { /* IPv4 */
        unsigned octets = 0;
        for (;; h++) {
            if (*h >= '0' && *h <= '9' && digits < 3) {
                v = v * 10 + (unsigned)(*h - '0');
                digits++;
                continue;
            }
            if (digits == 0 || v > 255 || octets == 4 || (*h != '.' && *h != '\0'))
                return 0;
            out[octets++] = (uint8_t)v;
            v = digits = 0;
            if (*h == '\0')
                return octets == 4 ? 4 : 0;
        }
    }
#if !MQTLS_TLS_IP6_NAMES
    (void)out;
    return 0;
#else
    if (h[0] == ':' && h[1] == ':') {
        gap = 0;
        h += 2;
    }
    while (*h != '\0') {
        for (v = digits = 0; digits < 4; h++, digits++) {
            const char c = *h;
            const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0)
                break;
            v = v * 16 + (unsigned)d;
        }
        if (digits == 0 || groups == 8)
            return 0;
        g[groups++] = (uint16_t)v;
        if (*h == '\0')
            break;
        if (*h != ':')
            return 0;
        h++;
        if (*h == ':') {
            if (gap >= 0)
                return 0;
            gap = (int)groups;
            h++;
        } else if (*h == '\0') {
            return 0;
        }
    }
    if (gap < 0 ? groups != 8 : groups > 7)
        return 0;
    memset(out, 0, 16);
    for (i = 0; i < groups; i++) {
        const unsigned at = gap >= 0 && i >= (unsigned)gap ? i + 8 - groups : i;
        out[2 * at] = (uint8_t)(g[i] >> 8);
        out[2 * at + 1] = (uint8_t)g[i];
    }
    return 16;
#endif
}

/* Whether the certificate's iPAddress names hold the address hostname is. */
static bool ip_name_matches(const mbedtls_x509_crt *crt, const char *hostname)
{
    const mbedtls_x509_sequence *san = &crt->subject_alt_names;
    uint8_t want[16];
    const size_t n = hostname != NULL ? parse_ip(hostname, want) : 0;

    for (; n != 0 && san != NULL && san->buf.len != 0; san = san->next)
        if (((unsigned)san->buf.tag & MBEDTLS_ASN1_TAG_VALUE_MASK) == 7 && san->buf.len == n &&
            memcmp(san->buf.p, want, n) == 0)
            return true;
    return false;
}
#endif

int mqtls_tls_verify_callback(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    mqtls_tls_impl *tls = ctx;
    const uint32_t dates = MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE;

    if (depth == 0) {
        subject_of(tls->leaf_subject, sizeof tls->leaf_subject, &crt->subject);
        subject_of(tls->leaf_issuer, sizeof tls->leaf_issuer, &crt->issuer);
        names_of(tls->leaf_names, sizeof tls->leaf_names, crt);
        format_date(tls->leaf_not_before, sizeof tls->leaf_not_before, &crt->valid_from);
        format_date(tls->leaf_not_after, sizeof tls->leaf_not_after, &crt->valid_to);
#if !MQTLS_COMPAT_IP_NAMES
        /* mbedTLS 2.28 compares a host name with DNS names only: an
         * address is matched here against the iPAddress names instead
         * (RFC 6125 6.2), as 3.6 does itself. */
        if ((*flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) != 0 &&
            ip_name_matches(crt, mqtls_ssl_hostname(&tls->ssl)))
            *flags &= ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH;
#endif
    }
    if (tls->cfg->time_policy == MQTLS_TLS_TIME_DEFER_UNTIL_CLOCK_SET && mqtls_tls_clock_not_set(tls->cfg))
        *flags &= ~dates; /* chain and signatures still count */
    if (tls->cfg->pin_count > 0) {
        uint8_t spki[32];
        unsigned i;
        /* A hash that failed matches nothing: the pin check fails closed. */
        if (mqtls_sha256(crt->pk_raw.p, crt->pk_raw.len, spki) == 0)
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
        subject_of(tls->rep.ca_subject, sizeof tls->rep.ca_subject, &crt->subject);
        (void)mqtls_sha256(crt->raw.p, crt->raw.len, tls->rep.ca_sha256); /* zeros on
                                                    failure: counts no CA's use */
    }
    return 0;
}

/* ---- failures in words ---------------------------------------------------- */

static bool issuer_name_is_trusted(const mqtls_tls_impl *tls)
{
    const mbedtls_x509_crt *c;
    char name[MQTLS_TLS_SUBJECT_LEN];

    for (c = tls->trusted; c != NULL && c->raw.len != 0; c = c->next) {
        subject_of(name, sizeof name, &c->subject);
        if (strcmp(name, tls->leaf_issuer) == 0)
            return true;
    }
    return false;
}

/* Gathers what mbedTLS left of a failed handshake into version-neutral
 * facts (the only mbedTLS-specific part of explaining: private fields of
 * 2.28's ssl context among them), then mqtls_tls_explain() words them. */
int mqtls_tls_explain_failure(mqtls_tls_impl *tls, int mret)
{
    const uint32_t key = MBEDTLS_X509_BADCERT_BAD_MD | MBEDTLS_X509_BADCERT_BAD_PK |
                         MBEDTLS_X509_BADCERT_BAD_KEY | MBEDTLS_X509_BADCERT_KEY_USAGE |
                         MBEDTLS_X509_BADCERT_EXT_KEY_USAGE;
    mqtls_tls_facts f;
    char text[128], now[32], own[MQTLS_TLS_SUBJECT_LEN];

    memset(&f, 0, sizeof f);
    own[0] = '\0';
    tls->rep.mbedtls_error = mret;
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
    if (mret == MQTLS_COMPAT_SIGNER_FAILED && tls->cfg->key_failure != NULL) {
        /* Our key's signer (tls/signer.h) failed to sign the handshake. */
        const int err = tls->cfg->key_failure(tls);
        if (err != 0)
            return err;
    }
    if (mret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        const uint32_t v = tls->rep.verify_flags = mbedtls_ssl_get_verify_result(&tls->ssl);
        time_t t = tls->cfg->wall_clock();
        struct tm tm;
        gmtime_r(&t, &tm);
        snprintf(now, sizeof now, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
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
        f.hostname = mqtls_ssl_hostname(&tls->ssl);
    } else if (mret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
        f.kind = MQTLS_FAIL_ALERT;
        tls->rep.alert = (uint8_t)mqtls_ssl_alert(&tls->ssl);
        f.alert = tls->rep.alert;
        f.before_server_hello = mqtls_ssl_before_server_hello(&tls->ssl);
        f.record_minor = mqtls_ssl_record_minor(&tls->ssl);
    } else {
        const int kind = mqtls_ssl_fail_kind(mret);
        f.after_our_certificate = tls->sent_certificate || tls->sent_encrypted >= 2;
        f.kind = kind != 0 ? (mqtls_tls_fail_kind)kind : MQTLS_FAIL_OTHER;
    }
    return mqtls_tls_explain(&f, tls->rep.why, sizeof tls->rep.why);
}
