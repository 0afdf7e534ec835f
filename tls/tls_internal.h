/* SPDX-License-Identifier: Apache-2.0 */
/* What the pieces of tls/ share, not installed: tls_config.c (options,
 * trust, identity), tls_verify.c (the verify callback and failures in
 * words), tls_mbedtls.c (connection, records, sessions). */
#ifndef MQTLS_TLS_INTERNAL_H
#define MQTLS_TLS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "tls/tls_mbedtls.h"

/* Sets tls->why, printf style. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void mqtls_tls_say(mqtls_tls *tls, const char *fmt, ...);
/* The config's millisecond clock; 0 without one (time stands still). */
uint32_t mqtls_tls_now_ms(const mqtls_tls_config *cfg);
/* The wall clock reads earlier than this library was built. */
bool mqtls_tls_clock_not_set(const mqtls_tls_config *cfg);
/* time(NULL), the default wall clock. */
time_t mqtls_tls_system_time(void);
/* mbedTLS's verify callback: collects what the chain showed (ctx: tls). */
int mqtls_tls_verify_callback(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags);
/* A handshake failure (mbedTLS's mret) as an mqtls_err, with tls->why:
 * gathers the facts from mbedTLS (tls_verify.c), then mqtls_tls_explain(). */
int mqtls_tls_explain_failure(mqtls_tls *tls, int mret);

/* What a failed handshake showed, in terms no mbedTLS version owns. */
typedef enum mqtls_tls_fail_kind {
    MQTLS_FAIL_VERIFY = 1,   /* the server's chain did not verify */
    MQTLS_FAIL_ALERT,        /* the server sent a fatal alert */
    MQTLS_FAIL_LOWER,        /* the transport failed (lower_error) */
    MQTLS_FAIL_NO_COMMON,    /* no suite, curve or version in common */
    MQTLS_FAIL_OLD_VERSION,  /* the server offered only < TLS 1.2 */
    MQTLS_FAIL_NO_MEMORY,
    MQTLS_FAIL_BAD_RECORD,   /* a record too large for our buffer, or malformed */
    MQTLS_FAIL_OTHER         /* anything else: detail says what */
} mqtls_tls_fail_kind;

typedef struct mqtls_tls_facts {
    mqtls_tls_fail_kind kind;
    /* VERIFY */
    uint32_t flags;          /* the verifier's flags, for the last resort */
    bool not_trusted, expired, future, name_mismatch, weak, only_pin;
    bool pin_failed, issuer_name_trusted, clock_not_set;
    unsigned pin_count;
    const char *now, *built; /* the wall clock's date, the library's build date */
    const char *subject, *issuer, *names, *not_before, *not_after, *hostname;
    /* ALERT */
    unsigned alert;          /* its number */
    bool before_server_hello;
    int record_minor;        /* the alert record's version 3.x, or -1 */
    bool has_identity;
    const char *own_subject;
    /* LOWER */
    int lower_error;
    bool after_our_certificate; /* the server asked for ours and got it */
    const char *detail;      /* mbedTLS's words for OTHER and the rest */
} mqtls_tls_facts;

/* The facts as an mqtls_err and a sentence in why (cap bytes): a pure
 * function, tested as a table (test/unit/tls/test_tls_explain.c). */
int mqtls_tls_explain(const mqtls_tls_facts *f, char *why, size_t cap);

#endif
