/* SPDX-License-Identifier: Apache-2.0 */
/* Onboarding's key and CSR (tls/identity.h): a P-256 key made on the
 * device and a certificate request for it. Apart from the identity slots
 * (identity.c), so a device that never onboards links neither mbedTLS's
 * key writer nor its CSR writer. */
#include "tls/identity.h"
#include "tls/tls_compat.h"

#include <stdio.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/base64.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_csr.h>

#include "net/error.h"
#include "tls/bundle.h"

/* A random generator for one operation. */
static int rng_setup(mqtls_rng *r)
{
    mqtls_rng_init(r);
    return mqtls_rng_seed(r, "mqtls identity") == 0 ? MQTLS_OK : MQTLS_ERR_TLS_CONFIG;
}

int mqtls_identity_generate_key(uint8_t *out, size_t cap, size_t *len)
{
    mbedtls_pk_context pk;
    mqtls_rng r;
    int ret;

    if (out == NULL || len == NULL || cap == 0)
        return MQTLS_ERR_INVALID_ARG;
    mbedtls_pk_init(&pk);
    ret = rng_setup(&r);
    if (ret == MQTLS_OK && mqtls_pk_generate_p256(&pk, &r) != 0)
        ret = MQTLS_ERR_TLS_CONFIG;
    if (ret == MQTLS_OK) {
        int w = mbedtls_pk_write_key_pem(&pk, out, cap);
        if (w == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL || w == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL)
            ret = MQTLS_ERR_BUFFER_TOO_SMALL;
        else if (w != 0)
            ret = MQTLS_ERR_TLS_CONFIG;
        else
            *len = strlen((const char *)out);
    }
    mbedtls_pk_free(&pk); /* wipes */
    mqtls_rng_free(&r);
    return ret;
}

static int cn_ok(const char *cn)
{
    size_t i;
    if (cn == NULL || cn[0] == '\0')
        return 0;
    for (i = 0; cn[i] != '\0'; i++) {
        char c = cn[i];
        if (i >= 64 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* The CSR for the key in pk (set up), CN=cn, signed by that key. */
static int csr_of(mbedtls_pk_context *pk, const char *cn, uint8_t *out, size_t cap, size_t *len)
{
    mbedtls_x509write_csr csr;
    char subject[80];
    mqtls_rng r;
    int ret, w;

    mbedtls_x509write_csr_init(&csr);
    ret = rng_setup(&r);
    snprintf(subject, sizeof subject, "CN=%s", cn);
    if (ret == MQTLS_OK) {
        mbedtls_x509write_csr_set_md_alg(&csr, MBEDTLS_MD_SHA256);
        mbedtls_x509write_csr_set_key(&csr, pk);
        if (mbedtls_x509write_csr_set_subject_name(&csr, subject) != 0)
            ret = MQTLS_ERR_INVALID_ARG;
    }
    if (ret == MQTLS_OK) {
        w = mbedtls_x509write_csr_pem(&csr, out, cap, mqtls_rng_random, &r);
        if (w == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL || w == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL)
            ret = MQTLS_ERR_BUFFER_TOO_SMALL;
        else if (w != 0)
            ret = mqtls_pk_signer_error(pk) != 0 ? mqtls_pk_signer_error(pk) : MQTLS_ERR_TLS_CONFIG;
        else
            *len = strlen((const char *)out);
    }
    mbedtls_x509write_csr_free(&csr);
    mqtls_rng_free(&r);
    return ret;
}

int mqtls_identity_csr(const uint8_t *key, size_t key_len, const char *cn, uint8_t *out,
                       size_t cap, size_t *len)
{
    mbedtls_pk_context pk;
    int ret;

    if (key == NULL || key_len == 0 || out == NULL || len == NULL || !cn_ok(cn))
        return MQTLS_ERR_INVALID_ARG;
    mbedtls_pk_init(&pk);
    ret = mqtls_bundle_parse_key(&pk, key, key_len);
    if (ret == MQTLS_OK)
        ret = csr_of(&pk, cn, out, cap, len);
    mbedtls_pk_free(&pk);
    return ret;
}

int mqtls_identity_csr_signer(const mqtls_signer *signer, const char *cn, uint8_t *out,
                              size_t cap, size_t *len)
{
    mbedtls_pk_context pk;
    uint8_t point[65];
    int ret, mret;

    if (signer == NULL || signer->public_key == NULL || signer->sign == NULL || out == NULL ||
        len == NULL || !cn_ok(cn))
        return MQTLS_ERR_INVALID_ARG;
    mbedtls_pk_init(&pk);
    ret = signer->public_key(signer->ctx, point);
    if (ret == MQTLS_OK) {
        mret = mqtls_pk_setup_signer(&pk, signer, point);
        ret = mret == 0 ? MQTLS_OK
              : mret == MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE ? MQTLS_ERR_KEY_UNSUPPORTED
                                                          : MQTLS_ERR_KEY_UNSUPPORTED;
    }
    if (ret == MQTLS_OK)
        ret = csr_of(&pk, cn, out, cap, len);
    mbedtls_pk_free(&pk);
    return ret;
}

int mqtls_identity_csr_psa(uint32_t key_id, const char *cn, uint8_t *out, size_t cap,
                           size_t *len)
{
    mbedtls_pk_context pk;
    uint8_t point[65];
    int ret, mret;

    if (key_id == 0 || out == NULL || len == NULL || !cn_ok(cn))
        return MQTLS_ERR_INVALID_ARG;
    mbedtls_pk_init(&pk);
    mret = mqtls_pk_setup_psa(&pk, key_id, point);
    ret = mret == 0 ? MQTLS_OK
          : mret == MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE || mret == MBEDTLS_ERR_PK_TYPE_MISMATCH
              ? MQTLS_ERR_KEY_UNSUPPORTED
              : MQTLS_ERR_KEY_NOT_FOUND;
    if (ret == MQTLS_OK)
        ret = csr_of(&pk, cn, out, cap, len);
    mbedtls_pk_free(&pk); /* the wrapper: the PSA key stays */
    return ret;
}
