/* SPDX-License-Identifier: Apache-2.0 */
/* The crypto mqtls does itself (tls_compat.h), three ways:
 *   PSA      mbedTLS 3.6 with MBEDTLS_PSA_CRYPTO_C: psa_* calls, as 4.x
 *            will need (MQTLS_COMPAT_PSA);
 *   legacy   3.6 without PSA, and 2.28: the mbedtls_* module calls (their
 *            names differ: 2.28's SHA-256 calls end in _ret; 3.6's key
 *            calls take a random generator). */
#include "tls/tls_compat.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/platform_util.h>
#if MQTLS_COMPAT_PSA
#include <mbedtls/psa_util.h>
#else
#include <mbedtls/ctr_drbg.h>
#endif

#if !MQTLS_COMPAT_PSA && MQTLS_MBEDTLS_3
#define SHA256_STARTS mbedtls_sha256_starts
#define SHA256_UPDATE mbedtls_sha256_update
#define SHA256_FINISH mbedtls_sha256_finish
#define SHA256_ONE mbedtls_sha256
#elif !MQTLS_COMPAT_PSA
#define SHA256_STARTS mbedtls_sha256_starts_ret
#define SHA256_UPDATE mbedtls_sha256_update_ret
#define SHA256_FINISH mbedtls_sha256_finish_ret
#define SHA256_ONE mbedtls_sha256_ret
#endif

int mqtls_crypto_start(void)
{
#if MQTLS_COMPAT_PSA
    return psa_crypto_init() == PSA_SUCCESS ? 0 : -1;
#else
    return 0;
#endif
}

/* ---- randomness ------------------------------------------------------------- */

#if !MQTLS_COMPAT_PSA
struct mqtls_rng_state {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
};
#endif

void mqtls_rng_init(mqtls_rng *r)
{
    memset(r, 0, sizeof *r);
}

int mqtls_rng_seed(mqtls_rng *r, const char *personalisation)
{
#if MQTLS_COMPAT_PSA
    (void)personalisation; /* PSA's generator is seeded once, for everyone */
    r->started = mqtls_crypto_start() == 0;
    return r->started ? 0 : -1;
#else
    mqtls_rng_free(r);
    r->state = mbedtls_calloc(1, sizeof *r->state);
    if (r->state == NULL)
        return -1;
    mbedtls_entropy_init(&r->state->entropy);
    mbedtls_ctr_drbg_init(&r->state->drbg);
    return mbedtls_ctr_drbg_seed(&r->state->drbg, mbedtls_entropy_func, &r->state->entropy,
                                 (const unsigned char *)personalisation,
                                 strlen(personalisation)) == 0
               ? 0
               : -1;
#endif
}

int mqtls_rng_random(void *p_rng, unsigned char *out, size_t len)
{
#if MQTLS_COMPAT_PSA
    /* PSA copies caller buffers unless built with
     * MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS: that copy can run out of
     * memory, which must not read as a broken entropy source. */
    const psa_status_t st = psa_generate_random(out, len);
    (void)p_rng;
    if (st == PSA_SUCCESS)
        return 0;
    return st == PSA_ERROR_INSUFFICIENT_MEMORY ? MBEDTLS_ERR_SSL_ALLOC_FAILED
                                               : MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
#else
    mqtls_rng *r = p_rng;
    if (r == NULL || r->state == NULL)
        return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
    return mbedtls_ctr_drbg_random(&r->state->drbg, out, len);
#endif
}

void mqtls_rng_free(mqtls_rng *r)
{
#if !MQTLS_COMPAT_PSA
    if (r->state != NULL) {
        mbedtls_ctr_drbg_free(&r->state->drbg);
        mbedtls_entropy_free(&r->state->entropy);
        mbedtls_platform_zeroize(r->state, sizeof *r->state);
        mbedtls_free(r->state);
    }
#endif
    mbedtls_platform_zeroize(r, sizeof *r);
}

/* ---- SHA-256 ------------------------------------------------------------------- */

#if MQTLS_COMPAT_PSA
/* 0 for success, 2 for out of memory (PSA's copy of caller buffers), 1
 * for any other failure. */
static int failed_of(psa_status_t st)
{
    return st == PSA_SUCCESS ? 0 : st == PSA_ERROR_INSUFFICIENT_MEMORY ? 2 : 1;
}
#endif

void mqtls_sha256_start(mqtls_sha256_ctx *h)
{
    memset(h, 0, sizeof *h);
#if MQTLS_COMPAT_PSA
    h->op = psa_hash_operation_init();
    h->failed = mqtls_crypto_start() != 0 ? 1 : failed_of(psa_hash_setup(&h->op, PSA_ALG_SHA_256));
#else
    mbedtls_sha256_init(&h->ctx);
    h->failed = SHA256_STARTS(&h->ctx, 0) != 0;
#endif
}

void mqtls_sha256_update(mqtls_sha256_ctx *h, const void *data, size_t len)
{
    if (h->failed || len == 0)
        return;
#if MQTLS_COMPAT_PSA
    h->failed = failed_of(psa_hash_update(&h->op, data, len));
#else
    h->failed = SHA256_UPDATE(&h->ctx, data, len) != 0;
#endif
}

int mqtls_sha256_finish(mqtls_sha256_ctx *h, uint8_t out[32])
{
    int failed = h->failed;
#if MQTLS_COMPAT_PSA
    size_t n = 0;
    if (!failed)
        failed = failed_of(psa_hash_finish(&h->op, out, 32, &n));
    if (!failed && n != 32)
        failed = 1;
    (void)psa_hash_abort(&h->op);
#else
    if (!failed)
        failed = SHA256_FINISH(&h->ctx, out) != 0;
    mbedtls_sha256_free(&h->ctx);
#endif
    if (failed)
        memset(out, 0, 32);
    return failed == 0 ? 0 : failed == 2 ? -2 : -1;
}

int mqtls_sha256(const void *data, size_t len, uint8_t out[32])
{
#if MQTLS_COMPAT_PSA
    size_t n = 0;
    int failed = mqtls_crypto_start() != 0 ? 1
                                            : failed_of(psa_hash_compute(PSA_ALG_SHA_256, data, len,
                                                                         out, 32, &n));
    if (!failed && n != 32)
        failed = 1;
    if (failed) {
        memset(out, 0, 32);
        return failed == 2 ? -2 : -1;
    }
    return 0;
#else
    if (SHA256_ONE(data, len, out, 0) != 0) {
        memset(out, 0, 32);
        return -1;
    }
    return 0;
#endif
}

/* ---- keys -------------------------------------------------------------------------- */

#if MQTLS_MBEDTLS_3
/* 3.6's key calls want a generator (for blinding): PSA's, or a DRBG made
 * for the one call. */
static int with_rng(mqtls_rng *r)
{
    mqtls_rng_init(r);
    return mqtls_rng_seed(r, "mqtls key");
}
#endif

int mqtls_pk_parse_key(mbedtls_pk_context *pk, const unsigned char *key, size_t len,
                       const unsigned char *pass, size_t pass_len)
{
#if MQTLS_MBEDTLS_3
    mqtls_rng r;
    int ret = with_rng(&r) != 0 ? -1
                                : mbedtls_pk_parse_key(pk, key, len, pass, pass_len, mqtls_rng_random,
                                                       &r);
    mqtls_rng_free(&r);
    return ret;
#else
    return mbedtls_pk_parse_key(pk, key, len, pass, pass_len);
#endif
}

int mqtls_pk_check_pair(const mbedtls_pk_context *pub, const mbedtls_pk_context *prv)
{
#if MQTLS_MBEDTLS_3
    mqtls_rng r;
    int ret = with_rng(&r) != 0 ? -1 : mbedtls_pk_check_pair(pub, prv, mqtls_rng_random, &r);
    mqtls_rng_free(&r);
    return ret;
#else
    return mbedtls_pk_check_pair(pub, prv);
#endif
}

int mqtls_pk_sign_sha256(mbedtls_pk_context *pk, const uint8_t hash[32], uint8_t *sig,
                         size_t cap, size_t *sig_len, mqtls_rng *rng)
{
    return mqtls_pk_sign_hash(pk, hash, 32, sig, cap, sig_len, rng);
}

int mqtls_pk_sign_hash(mbedtls_pk_context *pk, const uint8_t *hash, size_t hash_len,
                       uint8_t *sig, size_t cap, size_t *sig_len, mqtls_rng *rng)
{
    const mbedtls_md_type_t md = hash_len == 32 ? MBEDTLS_MD_SHA256
                                 : hash_len == 48 ? MBEDTLS_MD_SHA384
                                 : hash_len == 64 ? MBEDTLS_MD_SHA512
                                                  : MBEDTLS_MD_NONE;
    if (md == MBEDTLS_MD_NONE)
        return -1;
#if MQTLS_MBEDTLS_3
    return mbedtls_pk_sign(pk, md, hash, hash_len, sig, cap, sig_len, mqtls_rng_random, rng);
#else
    /* 2.28 writes up to MBEDTLS_PK_SIGNATURE_MAX_SIZE without a capacity. */
    uint8_t tmp[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
    int ret = mbedtls_pk_sign(pk, md, hash, hash_len, tmp, sig_len, mqtls_rng_random, rng);
    if (ret == 0 && *sig_len > cap)
        ret = -1;
    if (ret == 0)
        memcpy(sig, tmp, *sig_len);
    mbedtls_platform_zeroize(tmp, sizeof tmp);
    return ret;
#endif
}

bool mqtls_pk_is_p256(const mbedtls_pk_context *pk)
{
    const mbedtls_ecp_keypair *ec;
    if (!mbedtls_pk_can_do(pk, MBEDTLS_PK_ECDSA))
        return false;
    ec = mbedtls_pk_ec(*pk);
    if (ec == NULL)
        return false;
#if MQTLS_MBEDTLS_3
    return mbedtls_ecp_keypair_get_group_id(ec) == MBEDTLS_ECP_DP_SECP256R1;
#else
    return ec->grp.id == MBEDTLS_ECP_DP_SECP256R1;
#endif
}

int mqtls_pk_p256_point(const mbedtls_pk_context *pk, uint8_t point[65])
{
    /* The SubjectPublicKeyInfo of a P-256 key ends with the point. */
#if defined(MBEDTLS_PK_WRITE_C)
    uint8_t der[128];
    int n;
    if (!mqtls_pk_is_p256(pk))
        return -1;
    n = mbedtls_pk_write_pubkey_der((mbedtls_pk_context *)(uintptr_t)pk, der, sizeof der);
    if (n < 65 || der[sizeof der - 65] != 0x04)
        return -1;
    memcpy(point, der + sizeof der - 65, 65);
    return 0;
#else /* a device build that verifies no CA update or onboarding proof */
    (void)pk;
    (void)point;
    return -1;
#endif
}

int mqtls_pk_generate_p256(mbedtls_pk_context *pk, mqtls_rng *rng)
{
#if MQTLS_COMPAT_PSA
    /* PSA makes the key; pk gets a copy to write the PEM and sign the CSR. */
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    mbedtls_svc_key_id_t id = MBEDTLS_SVC_KEY_ID_INIT;
    int ret = -1;
    (void)rng;
    if (mqtls_crypto_start() != 0)
        return -1;
    psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&attr, 256);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_EXPORT | PSA_KEY_USAGE_SIGN_HASH);
    psa_set_key_algorithm(&attr, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    if (psa_generate_key(&attr, &id) == PSA_SUCCESS && mbedtls_pk_copy_from_psa(id, pk) == 0)
        ret = 0;
    (void)psa_destroy_key(id);
    psa_reset_key_attributes(&attr);
    return ret;
#else
    if (mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0)
        return -1;
    return mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk), mqtls_rng_random,
                               rng) == 0
               ? 0
               : -1;
#endif
}

int mqtls_p256_verify(const uint8_t point[65], const uint8_t hash[32], const uint8_t *sig,
                      size_t sig_len)
{
#if MQTLS_COMPAT_PSA
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    mbedtls_svc_key_id_t id = MBEDTLS_SVC_KEY_ID_INIT;
    uint8_t raw[64];
    size_t raw_len = 0;
    int ret = -1;
    if (mqtls_crypto_start() != 0 ||
        mbedtls_ecdsa_der_to_raw(256, sig, sig_len, raw, sizeof raw, &raw_len) != 0)
        return -1;
    psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&attr, 256);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_VERIFY_HASH);
    psa_set_key_algorithm(&attr, PSA_ALG_ECDSA_ANY);
    if (psa_import_key(&attr, point, 65, &id) == PSA_SUCCESS &&
        psa_verify_hash(id, PSA_ALG_ECDSA_ANY, hash, 32, raw, raw_len) == PSA_SUCCESS)
        ret = 0;
    (void)psa_destroy_key(id);
    psa_reset_key_attributes(&attr);
    return ret;
#else
    mbedtls_pk_context pk;
    int ret = -1;
    mbedtls_pk_init(&pk);
#if MQTLS_MBEDTLS_3 /* the key pair's fields are private: set through the API */
    {
        mbedtls_ecp_group grp;
        mbedtls_ecp_point q;
        mbedtls_ecp_group_init(&grp);
        mbedtls_ecp_point_init(&q);
        if (mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1) == 0 &&
            mbedtls_ecp_point_read_binary(&grp, &q, point, 65) == 0 &&
            mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) == 0 &&
            mbedtls_ecp_set_public_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk), &q) == 0 &&
            mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, hash, 32, sig, sig_len) == 0)
            ret = 0;
        mbedtls_ecp_point_free(&q);
        mbedtls_ecp_group_free(&grp);
    }
#else
    if (mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) == 0 &&
        mbedtls_ecp_group_load(&mbedtls_pk_ec(pk)->grp, MBEDTLS_ECP_DP_SECP256R1) == 0 &&
        mbedtls_ecp_point_read_binary(&mbedtls_pk_ec(pk)->grp, &mbedtls_pk_ec(pk)->Q, point, 65) == 0 &&
        mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, hash, 32, sig, sig_len) == 0)
        ret = 0;
#endif
    mbedtls_pk_free(&pk);
    return ret;
#endif
}

/* ---- our key in PSA -------------------------------------------------------------- */

int mqtls_pk_setup_psa(mbedtls_pk_context *pk, uint32_t key_id, uint8_t pub[65])
{
#if MQTLS_COMPAT_PSA && defined(MBEDTLS_USE_PSA_CRYPTO)
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    const mbedtls_svc_key_id_t id = mbedtls_svc_key_id_make(0, key_id);
    size_t len = 0;
    int ret;

    if (mqtls_crypto_start() != 0)
        return MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE;
    if (psa_get_key_attributes(id, &attr) != PSA_SUCCESS)
        return MBEDTLS_ERR_PK_BAD_INPUT_DATA;
    ret = psa_get_key_type(&attr) == PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1) &&
                  psa_get_key_bits(&attr) == 256
              ? 0
              : MBEDTLS_ERR_PK_TYPE_MISMATCH;
    psa_reset_key_attributes(&attr);
    /* The public half is always exportable, whatever the key's policy. */
    if (ret == 0 && (psa_export_public_key(id, pub, 65, &len) != PSA_SUCCESS || len != 65))
        ret = MBEDTLS_ERR_PK_BAD_INPUT_DATA;
    if (ret == 0)
        ret = mbedtls_pk_setup_opaque(pk, id);
    return ret;
#else
    (void)pk;
    (void)key_id;
    (void)pub;
    return MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE;
#endif
}

int mqtls_pk_seal(mbedtls_pk_context *pk, mqtls_key_handle *handle)
{
#if MQTLS_COMPAT_PSA && defined(MBEDTLS_USE_PSA_CRYPTO)
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    mbedtls_svc_key_id_t id = MBEDTLS_SVC_KEY_ID_INIT;
    mbedtls_pk_context opaque;

    *handle = MBEDTLS_SVC_KEY_ID_INIT;
    if (mbedtls_pk_get_type(pk) != MBEDTLS_PK_ECKEY && mbedtls_pk_get_type(pk) != MBEDTLS_PK_ECDSA)
        return 0; /* RSA keys stay as they are (TLS 1.3 wants PSS from them) */
    if (mqtls_crypto_start() != 0 ||
        mbedtls_pk_get_psa_attributes(pk, PSA_KEY_USAGE_SIGN_HASH, &attr) != 0 ||
        mbedtls_pk_import_into_psa(pk, &attr, &id) != 0) {
        psa_reset_key_attributes(&attr);
        return -1;
    }
    psa_reset_key_attributes(&attr);
    mbedtls_pk_init(&opaque);
    if (mbedtls_pk_setup_opaque(&opaque, id) != 0) {
        (void)psa_destroy_key(id);
        return -1;
    }
    mbedtls_pk_free(pk); /* wipes the key's copy outside PSA */
    *pk = opaque;        /* moved: opaque is not freed */
    *handle = id;
    return 0;
#else
    (void)pk;
    *handle = 0;
    return 0;
#endif
}

void mqtls_pk_unseal(mqtls_key_handle handle)
{
#if MQTLS_COMPAT_PSA && defined(MBEDTLS_USE_PSA_CRYPTO)
    if (!mbedtls_svc_key_id_is_null(handle))
        (void)psa_destroy_key(handle); /* PSA wipes the key material */
#else
    (void)handle;
#endif
}
