/* SPDX-License-Identifier: Apache-2.0 */
/* The signer seam's pk backend (tls/signer.h): a pk context whose private
 * half is an mqtls_signer, so mbedTLS's TLS client (and its CSR writer)
 * sign through it. Part of the compat unit, the one place allowed into
 * mbedTLS internals.
 *
 * mbedTLS 2.28 (Debian 12) has no opaque keys without
 * MBEDTLS_USE_PSA_CRYPTO, and mbedtls_pk_setup_rsa_alt() serves RSA only;
 * it does install pk_internal.h, whose mbedtls_pk_info_t lets a key type
 * of our own sit behind mbedtls_pk_context. The context is an EC key pair
 * holding the public point only (private scalar 0), followed by the
 * signer: anything that reads it as an EC key (the CSR writer's public
 * key, check_pair) sees the public half; signing goes to the signer.
 *
 * mbedTLS 3.6 keeps mbedtls_pk_info_t private (library/pk_wrap.h, not
 * installed); there a PSA key id is the seam (tls_config.c), and this
 * unit says "unavailable". */
#include "tls/tls_compat.h"

#include <string.h>

#include "tls/signer.h"

#if !MQTLS_MBEDTLS_3
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk_internal.h>
#include <mbedtls/platform.h>

typedef struct signer_key {
    mbedtls_ecp_keypair kp; /* first: mbedtls_pk_ec() reads it (public only) */
    mqtls_signer signer;
    int last_error;         /* the signer's last MQTLS_ERR_KEY_*, or 0 */
} signer_key;

static size_t signer_bitlen(const void *ctx)
{
    (void)ctx;
    return 256;
}

static int signer_can_do(mbedtls_pk_type_t type)
{
    return type == MBEDTLS_PK_ECKEY || type == MBEDTLS_PK_ECDSA;
}

static int signer_verify(void *ctx, mbedtls_md_type_t md_alg, const unsigned char *hash,
                         size_t hash_len, const unsigned char *sig, size_t sig_len)
{
    signer_key *k = ctx;
    mbedtls_ecdsa_context ecdsa;
    int ret;
    (void)md_alg;
    mbedtls_ecdsa_init(&ecdsa);
    ret = mbedtls_ecdsa_from_keypair(&ecdsa, &k->kp);
    if (ret == 0)
        ret = mbedtls_ecdsa_read_signature(&ecdsa, hash, hash_len, sig, sig_len);
    mbedtls_ecdsa_free(&ecdsa);
    return ret;
}

static int signer_sign(void *ctx, mbedtls_md_type_t md_alg, const unsigned char *hash,
                       size_t hash_len, unsigned char *sig, size_t *sig_len,
                       int (*f_rng)(void *, unsigned char *, size_t), void *p_rng)
{
    signer_key *k = ctx;
    int ret;
    (void)f_rng;
    (void)p_rng;
    if (hash_len == 0) /* 2.28 passes 0 for "the length of md_alg" */
        hash_len = mbedtls_md_get_size(mbedtls_md_info_from_type(md_alg));
    /* 2.28 gives no capacity: MBEDTLS_PK_SIGNATURE_MAX_SIZE is the rule. */
    ret = k->signer.sign(k->signer.ctx, hash, hash_len, sig, MBEDTLS_PK_SIGNATURE_MAX_SIZE, sig_len);
    k->last_error = ret;
    return ret == MQTLS_OK ? 0 : MQTLS_COMPAT_SIGNER_FAILED;
}

static int signer_check_pair(const void *pub, const void *prv)
{
    const mbedtls_ecp_keypair *a = pub;
    const signer_key *b = prv;
    return a->grp.id == b->kp.grp.id && mbedtls_ecp_point_cmp(&a->Q, &b->kp.Q) == 0
               ? 0
               : MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
}

static void *signer_alloc(void)
{
    signer_key *k = mbedtls_calloc(1, sizeof *k);
    if (k != NULL)
        mbedtls_ecp_keypair_init(&k->kp);
    return k;
}

static void signer_free(void *ctx)
{
    signer_key *k = ctx;
    mbedtls_ecp_keypair_free(&k->kp);
    mbedtls_platform_zeroize(k, sizeof *k);
    mbedtls_free(k);
}

static const mbedtls_pk_info_t signer_info = {
    MBEDTLS_PK_ECKEY, "mqtls-signer", signer_bitlen, signer_can_do, signer_verify, signer_sign,
#if defined(MBEDTLS_ECDSA_C) && defined(MBEDTLS_ECP_RESTARTABLE)
    NULL, NULL,
#endif
    NULL, NULL, signer_check_pair, signer_alloc, signer_free,
#if defined(MBEDTLS_ECDSA_C) && defined(MBEDTLS_ECP_RESTARTABLE)
    NULL, NULL,
#endif
    NULL /* no debug output */};

int mqtls_pk_setup_signer(mbedtls_pk_context *pk, const mqtls_signer *signer,
                          const uint8_t pub[65])
{
    signer_key *k;
    int ret = mbedtls_pk_setup(pk, &signer_info);
    if (ret != 0)
        return ret;
    k = pk->pk_ctx;
    k->signer = *signer;
    ret = mbedtls_ecp_group_load(&k->kp.grp, MBEDTLS_ECP_DP_SECP256R1);
    if (ret == 0)
        ret = mbedtls_ecp_point_read_binary(&k->kp.grp, &k->kp.Q, pub, 65);
    if (ret == 0)
        ret = mbedtls_ecp_check_pubkey(&k->kp.grp, &k->kp.Q);
    if (ret != 0)
        mbedtls_pk_free(pk);
    return ret;
}

int mqtls_pk_signer_error(const mbedtls_pk_context *pk)
{
    return pk != NULL && pk->pk_info == &signer_info ? ((const signer_key *)pk->pk_ctx)->last_error
                                                     : 0;
}

#else

int mqtls_pk_setup_signer(mbedtls_pk_context *pk, const mqtls_signer *signer,
                          const uint8_t pub[65])
{
    (void)pk;
    (void)signer;
    (void)pub;
    return MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE;
}

int mqtls_pk_signer_error(const mbedtls_pk_context *pk)
{
    (void)pk;
    return 0;
}

#endif
