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
/* A handshake failure (mbedTLS's mret) as an mqtls_err, with tls->why. */
int mqtls_tls_explain_failure(mqtls_tls *tls, int mret);

#endif
