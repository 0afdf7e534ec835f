/* SPDX-License-Identifier: Apache-2.0 */
/* A small device CA for the tools (mqtls-provisioner, mqtls-fleet): load
 * a CA certificate and its key, then sign client certificates (CN = the
 * device's name, clientAuth, digital signature) for keys made elsewhere.
 * Not part of the library. */
#ifndef MQTLS_EXAMPLES_ISSUER_H
#define MQTLS_EXAMPLES_ISSUER_H

#include <stddef.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "tls/tls_compat.h"

typedef struct issuer {
    mbedtls_x509_crt cert; /* the CA's certificate */
    mbedtls_pk_context key; /* its private key */
    mqtls_rng rng;
} issuer;

/* Loads the CA (certificate and matching key, PEM or DER files) and seeds
 * the generator with pers. 0, or -1 (and iss is safe to free). */
int issuer_load(issuer *iss, const char *cert_path, const char *key_path, const char *pers);

/* Signs a certificate for subject_key with subject CN=cn, valid from an
 * hour ago for days, as PEM into pem[0..cap). 0 or an mbedTLS error. */
int issuer_sign(issuer *iss, mbedtls_pk_context *subject_key, const char *cn, long days,
                unsigned char *pem, size_t cap);

void issuer_free(issuer *iss);

#endif
