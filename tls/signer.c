/* SPDX-License-Identifier: Apache-2.0 */
/* The software key as a signer (tls/signer.h): the key parsed into
 * mbedTLS's heap, wiped on free. */
#include "tls/signer.h"

#include <string.h>

#include <mbedtls/platform.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include "tls/bundle.h"
#include "tls/identity.h"
#include "tls/tls_compat.h"

typedef struct soft_impl {
    mbedtls_pk_context pk;
    mqtls_rng rng;
} soft_impl;

void mqtls_soft_signer_init(mqtls_soft_signer *s)
{
    if (s != NULL)
        s->impl_ = NULL;
}

void mqtls_soft_signer_free(mqtls_soft_signer *s)
{
    soft_impl *k;
    if (s == NULL || s->impl_ == NULL)
        return;
    k = s->impl_;
    mbedtls_pk_free(&k->pk); /* wipes the key */
    mqtls_rng_free(&k->rng);
    mbedtls_platform_zeroize(k, sizeof *k);
    mbedtls_free(k);
    s->impl_ = NULL;
}

int mqtls_soft_signer_load(mqtls_soft_signer *s, const uint8_t *key, size_t key_len,
                           const char *passphrase)
{
    soft_impl *k;
    int ret;

    if (s == NULL || key == NULL || key_len == 0)
        return MQTLS_ERR_INVALID_ARG;
    k = mbedtls_calloc(1, sizeof *k);
    if (k == NULL)
        return MQTLS_ERR_TLS_OUT_OF_MEMORY;
    mbedtls_pk_init(&k->pk);
    mqtls_rng_init(&k->rng);
    ret = mqtls_bundle_parse_key(&k->pk, key, key_len);
    if (ret == MQTLS_ERR_TLS_BAD_KEY && passphrase != NULL) {
        /* An encrypted key: parse it with its passphrase (PEM with its NUL). */
        uint8_t *c = mbedtls_calloc(1, key_len + 1);
        if (c == NULL) {
            ret = MQTLS_ERR_TLS_OUT_OF_MEMORY;
        } else {
            memcpy(c, key, key_len);
            mbedtls_pk_free(&k->pk);
            mbedtls_pk_init(&k->pk);
            ret = mqtls_pk_parse_key(&k->pk, c, mqtls_bundle_looks_like_pem(key, key_len) ? key_len + 1 : key_len,
                                     (const unsigned char *)passphrase, strlen(passphrase)) == 0
                      ? MQTLS_OK
                      : MQTLS_ERR_TLS_BAD_KEY;
            mbedtls_platform_zeroize(c, key_len + 1);
            mbedtls_free(c);
        }
    }
    if (ret == MQTLS_OK && !mqtls_pk_is_p256(&k->pk))
        ret = MQTLS_ERR_KEY_UNSUPPORTED;
    if (ret == MQTLS_OK && mqtls_rng_seed(&k->rng, "mqtls soft signer") != 0)
        ret = MQTLS_ERR_TLS_CONFIG;
    if (ret != MQTLS_OK) {
        mbedtls_pk_free(&k->pk);
        mqtls_rng_free(&k->rng);
        mbedtls_free(k);
        return ret;
    }
    mqtls_soft_signer_free(s);
    s->impl_ = k;
    return MQTLS_OK;
}

static int soft_public_key(void *ctx, uint8_t pub[65])
{
    mqtls_soft_signer *s = ctx;
    if (s == NULL || s->impl_ == NULL)
        return MQTLS_ERR_KEY_NOT_FOUND;
    return mqtls_pk_p256_point(&((soft_impl *)s->impl_)->pk, pub) == 0 ? MQTLS_OK
                                                                        : MQTLS_ERR_KEY_UNSUPPORTED;
}

static int soft_sign(void *ctx, const uint8_t *hash, size_t hash_len, uint8_t *sig, size_t cap,
                     size_t *sig_len)
{
    mqtls_soft_signer *s = ctx;
    soft_impl *k;
    if (s == NULL || s->impl_ == NULL)
        return MQTLS_ERR_KEY_NOT_FOUND;
    k = s->impl_;
    return mqtls_pk_sign_hash(&k->pk, hash, hash_len, sig, cap, sig_len, &k->rng) == 0
               ? MQTLS_OK
               : MQTLS_ERR_KEY_SIGN;
}

int mqtls_soft_signer_interface(mqtls_soft_signer *s, mqtls_signer *out)
{
    if (s == NULL || out == NULL)
        return MQTLS_ERR_INVALID_ARG;
    out->ctx = s;
    out->public_key = soft_public_key;
    out->sign = soft_sign;
    return MQTLS_OK;
}

/* ---- PSA keys for the identity slots ---------------------------------------- */

/* "psa:<decimal key id>" into *id (not 0). */
static int psa_ref(const char *ref, uint32_t *id)
{
    uint32_t v = 0;
    size_t i;
    if (strncmp(ref, "psa:", 4) != 0 || ref[4] == '\0')
        return MQTLS_ERR_INVALID_ARG;
    for (i = 4; ref[i] != '\0'; i++) {
        if (ref[i] < '0' || ref[i] > '9' || v > (UINT32_MAX - 9u) / 10u)
            return MQTLS_ERR_INVALID_ARG;
        v = v * 10u + (uint32_t)(ref[i] - '0');
    }
    if (v == 0)
        return MQTLS_ERR_INVALID_ARG;
    *id = v;
    return MQTLS_OK;
}

static int psa_check(void *ctx, const char *ref, const uint8_t *cert, size_t cert_len)
{
    mbedtls_pk_context pk;
    uint8_t want[65];
    uint32_t id = 0;
    int ret = psa_ref(ref, &id), mret;
    (void)ctx;
    if (ret != MQTLS_OK)
        return ret;
    mbedtls_pk_init(&pk);
    mret = mqtls_pk_setup_psa(&pk, id, want);
    mbedtls_pk_free(&pk); /* the wrapper only */
    if (mret != 0)
        return mret == MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE || mret == MBEDTLS_ERR_PK_TYPE_MISMATCH
                   ? MQTLS_ERR_KEY_UNSUPPORTED
                   : MQTLS_ERR_KEY_NOT_FOUND;
    return mqtls_bundle_cert_has_point(cert, cert_len, want);
}

static int psa_apply(void *ctx, const char *ref, const uint8_t *cert, size_t cert_len,
                     mqtls_tls_config *cfg)
{
    uint32_t id = 0;
    int ret = psa_ref(ref, &id);
    (void)ctx;
    return ret == MQTLS_OK ? mqtls_tls_config_set_identity_psa(cfg, cert, cert_len, id) : ret;
}

int mqtls_identity_psa_keys(mqtls_identity_keys *out)
{
    if (out == NULL)
        return MQTLS_ERR_INVALID_ARG;
    out->ctx = NULL;
    out->check = psa_check;
    out->apply = psa_apply;
    return MQTLS_OK;
}
