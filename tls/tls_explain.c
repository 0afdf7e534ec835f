/* SPDX-License-Identifier: Apache-2.0 */
/* Failures in words: the facts a failed handshake left (tls_verify.c
 * gathers them from mbedTLS) turned into an mqtls_err and one sentence.
 * No mbedTLS here: the same table serves every mbedTLS version. */
#include <stdarg.h>
#include <stdio.h>

#include "tls/tls_internal.h"

static const char *alert_name(unsigned a)
{
    switch (a) {
    case 10: return "unexpected message";
    case 20: return "bad record MAC";
    case 40: return "handshake failure";
    case 42: return "bad certificate";
    case 43: return "unsupported certificate";
    case 44: return "certificate revoked";
    case 45: return "certificate expired";
    case 46: return "certificate unknown";
    case 47: return "illegal parameter";
    case 48: return "unknown CA";
    case 49: return "access denied";
    case 50: return "decode error";
    case 51: return "decrypt error";
    case 70: return "protocol version";
    case 71: return "insufficient security";
    case 80: return "internal error";
    case 112: return "unrecognized name";
    case 116: return "certificate required";
    case 120: return "no application protocol";
    default: return "unknown alert";
    }
}

/* Writes the sentence into why and returns code. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int say(char *why, size_t cap, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return code;
}

static int explain_verify(const mqtls_tls_facts *f, char *why, size_t cap)
{
    if ((f->expired || f->future) && f->clock_not_set)
        return say(why, cap, MQTLS_ERR_TLS_CLOCK_NOT_SET,
                   "device clock not set (it reads %s, before this library was built on %s); "
                   "set the time (SNTP) or use the deferred time policy",
                   f->now, f->built);
    if (f->pin_failed && f->only_pin)
        return say(why, cap, MQTLS_ERR_TLS_PIN_MISMATCH,
                   "server chain verifies but matches none of the %u pinned public keys "
                   "(subject %s, issuer %s)",
                   f->pin_count, f->subject, f->issuer);
    if (f->not_trusted) {
        if (f->issuer_name_trusted)
            return say(why, cap, MQTLS_ERR_TLS_CERT_UNTRUSTED,
                       "server certificate claims a trusted issuer but its signature does not "
                       "verify: an impostor CA with the same name? (subject %s, issuer %s)",
                       f->subject, f->issuer);
        return say(why, cap, MQTLS_ERR_TLS_CERT_UNTRUSTED,
                   "server certificate is not signed by a trusted CA (subject %s, issuer %s)",
                   f->subject, f->issuer);
    }
    if (f->expired)
        return say(why, cap, MQTLS_ERR_TLS_CERT_EXPIRED,
                   "server certificate expired on %s (subject %s, issuer %s)", f->not_after,
                   f->subject, f->issuer);
    if (f->future)
        return say(why, cap, MQTLS_ERR_TLS_CERT_NOT_YET_VALID,
                   "server certificate is not valid until %s (subject %s, issuer %s)",
                   f->not_before, f->subject, f->issuer);
    if (f->name_mismatch)
        return say(why, cap, MQTLS_ERR_TLS_HOSTNAME_MISMATCH,
                   "host name does not match the certificate (wanted %s, certificate names %s)",
                   f->hostname != NULL ? f->hostname : "?", f->names);
    if (f->weak)
        return say(why, cap, MQTLS_ERR_TLS_WEAK_KEY,
                   "server certificate uses a weak or unsupported key, hash or key usage "
                   "(subject %s)",
                   f->subject);
    return say(why, cap, MQTLS_ERR_TLS_CERT_UNTRUSTED,
               "server certificate rejected (mbedTLS verify flags 0x%05x, subject %s)",
               (unsigned)f->flags, f->subject);
}

static int explain_alert(const mqtls_tls_facts *f, char *why, size_t cap)
{
    switch (f->alert) {
    case 42: case 43: case 44: case 45: case 46: case 48: case 49: case 116:
        return say(why, cap, MQTLS_ERR_TLS_CLIENT_CERT_REFUSED,
                   "the broker refused our client certificate (%s): alert %u (%s)",
                   f->has_identity ? f->own_subject : "we have none configured", f->alert,
                   alert_name(f->alert));
    case 40:
    case 71:
        if (f->before_server_hello && f->record_minor >= 0 && f->record_minor < 3)
            /* The alert came in a record older than TLS 1.2: the broker
             * settled on an old version, then found none of our (TLS
             * 1.2-only, AEAD) suites usable in it. */
            return say(why, cap, MQTLS_ERR_TLS_PROTOCOL,
                       "the broker only speaks TLS 1.%d or older, which we refuse: its alert "
                       "%u (%s) came in a TLS 1.%d record; we require TLS 1.2",
                       f->record_minor - 1, f->alert, alert_name(f->alert), f->record_minor - 1);
        if (f->before_server_hello)
            /* Refused before it even answered our hello: nothing it could
             * accept in our cipher suites, versions or curves. */
            return say(why, cap, MQTLS_ERR_TLS_NO_COMMON_CIPHER,
                       "no cipher suite in common with the broker: it refused our hello "
                       "with alert %u (%s)",
                       f->alert, alert_name(f->alert));
        if (!f->has_identity)
            return say(why, cap, MQTLS_ERR_TLS_CLIENT_CERT_REFUSED,
                       "the broker ended the handshake (alert 40, handshake failure); it "
                       "probably requires a client certificate and we have none");
        return say(why, cap, MQTLS_ERR_TLS_ALERT,
                   "the broker ended the handshake (alert 40, handshake failure): no cipher "
                   "suite or curve in common, or it refused our certificate");
    case 70:
        return say(why, cap, MQTLS_ERR_TLS_PROTOCOL,
                   "the broker refused our TLS version (we offer only TLS 1.2 or later): "
                   "alert %u (%s)",
                   f->alert, alert_name(f->alert));
    default:
        return say(why, cap, MQTLS_ERR_TLS_ALERT,
                   "the broker ended the handshake with alert %u (%s)", f->alert,
                   alert_name(f->alert));
    }
}

int mqtls_tls_explain(const mqtls_tls_facts *f, char *why, size_t cap)
{
    if (f->kind == MQTLS_FAIL_VERIFY)
        return explain_verify(f, why, cap);
    if (f->kind == MQTLS_FAIL_ALERT)
        return explain_alert(f, why, cap);
    if ((f->lower_error == MQTLS_ERR_NET_RESET || f->lower_error == MQTLS_ERR_NET_CLOSED) &&
        f->after_our_certificate) {
        /* The broker asked for our certificate, got it, and hung up. Its
         * alert, if it sent one, was lost with the reset. */
        if (!f->has_identity)
            return say(why, cap, MQTLS_ERR_TLS_CLIENT_CERT_REFUSED,
                       "the broker requires a client certificate and we have none configured "
                       "(it closed the connection)");
        return say(why, cap, MQTLS_ERR_TLS_CLIENT_CERT_REFUSED,
                   "the broker refused our client certificate (%s): it closed the "
                   "connection on receiving it, as for an expired, revoked or untrusted one; "
                   "its log says which",
                   f->own_subject);
    }
    if (f->lower_error != 0)
        return say(why, cap, f->lower_error, "the connection failed during the TLS handshake: %s",
                   mqtls_strerror(f->lower_error));
    switch (f->kind) {
    case MQTLS_FAIL_NO_COMMON:
        return say(why, cap, MQTLS_ERR_TLS_NO_COMMON_CIPHER,
                   "no cipher suite in common with the broker (%s)", f->detail);
    case MQTLS_FAIL_OLD_VERSION:
        return say(why, cap, MQTLS_ERR_TLS_PROTOCOL,
                   "the broker only offers a version older than TLS 1.2, which we refuse (%s)",
                   f->detail);
    case MQTLS_FAIL_NO_MEMORY:
        return say(why, cap, MQTLS_ERR_TLS_OUT_OF_MEMORY, "out of memory during the TLS handshake");
    case MQTLS_FAIL_BAD_RECORD:
        return say(why, cap, MQTLS_ERR_TLS_RECORD_TOO_LARGE,
                   "the broker sent a TLS record larger than our buffer, or a malformed one (%s)",
                   f->detail);
    default:
        return say(why, cap, MQTLS_ERR_TLS_PROTOCOL, "TLS handshake failed: %s", f->detail);
    }
}
