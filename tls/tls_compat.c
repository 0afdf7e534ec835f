/* SPDX-License-Identifier: Apache-2.0 */
/* The mbedTLS versions, told apart here only (tls_compat.h). */
#include "tls/tls_compat.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/bignum.h>
#include <mbedtls/cipher.h>
#include <mbedtls/entropy.h>
#include <mbedtls/x509.h>
#include <mbedtls/platform_util.h>

#include "tls/tls_internal.h"

#if MQTLS_MBEDTLS_3
#include <mbedtls/psa_util.h>
#endif

int mqtls_crypto_start(void)
{
#if MQTLS_MBEDTLS_3
    return psa_crypto_init() == PSA_SUCCESS ? 0 : -1;
#else
    return 0;
#endif
}

/* ---- randomness ------------------------------------------------------------- */

#if !MQTLS_MBEDTLS_3
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
#if MQTLS_MBEDTLS_3
    (void)personalisation; /* PSA's generator is seeded once, for everyone */
    r->started = mqtls_crypto_start() == 0;
    return r->started ? 0 : -1;
#else
    mqtls_rng_free(r);
    r->state = calloc(1, sizeof *r->state);
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
#if MQTLS_MBEDTLS_3
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
#if !MQTLS_MBEDTLS_3
    if (r->state != NULL) {
        mbedtls_ctr_drbg_free(&r->state->drbg);
        mbedtls_entropy_free(&r->state->entropy);
        mbedtls_platform_zeroize(r->state, sizeof *r->state);
        free(r->state);
    }
#endif
    mbedtls_platform_zeroize(r, sizeof *r);
}

/* ---- SHA-256 ------------------------------------------------------------------- */

#if MQTLS_MBEDTLS_3
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
#if MQTLS_MBEDTLS_3
    h->op = psa_hash_operation_init();
    h->failed = mqtls_crypto_start() != 0 ? 1 : failed_of(psa_hash_setup(&h->op, PSA_ALG_SHA_256));
#else
    mbedtls_sha256_init(&h->ctx);
    h->failed = mbedtls_sha256_starts_ret(&h->ctx, 0) != 0;
#endif
}

void mqtls_sha256_update(mqtls_sha256_ctx *h, const void *data, size_t len)
{
    if (h->failed || len == 0)
        return;
#if MQTLS_MBEDTLS_3
    h->failed = failed_of(psa_hash_update(&h->op, data, len));
#else
    h->failed = mbedtls_sha256_update_ret(&h->ctx, data, len) != 0;
#endif
}

int mqtls_sha256_finish(mqtls_sha256_ctx *h, uint8_t out[32])
{
    int failed = h->failed;
#if MQTLS_MBEDTLS_3
    size_t n = 0;
    if (!failed)
        failed = failed_of(psa_hash_finish(&h->op, out, 32, &n));
    if (!failed && n != 32)
        failed = 1;
    (void)psa_hash_abort(&h->op);
#else
    if (!failed)
        failed = mbedtls_sha256_finish_ret(&h->ctx, out) != 0;
    mbedtls_sha256_free(&h->ctx);
#endif
    if (failed)
        memset(out, 0, 32);
    return failed == 0 ? 0 : failed == 2 ? -2 : -1;
}

int mqtls_sha256(const void *data, size_t len, uint8_t out[32])
{
#if MQTLS_MBEDTLS_3
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
    if (mbedtls_sha256_ret(data, len, out, 0) != 0) {
        memset(out, 0, 32);
        return -1;
    }
    return 0;
#endif
}

/* ---- keys -------------------------------------------------------------------------- */

int mqtls_pk_parse_key(mbedtls_pk_context *pk, const unsigned char *key, size_t len,
                       const unsigned char *pass, size_t pass_len)
{
#if MQTLS_MBEDTLS_3
    if (mqtls_crypto_start() != 0)
        return -1;
    return mbedtls_pk_parse_key(pk, key, len, pass, pass_len, mqtls_rng_random, NULL);
#else
    return mbedtls_pk_parse_key(pk, key, len, pass, pass_len);
#endif
}

int mqtls_pk_check_pair(const mbedtls_pk_context *pub, const mbedtls_pk_context *prv)
{
#if MQTLS_MBEDTLS_3
    if (mqtls_crypto_start() != 0)
        return -1;
    return mbedtls_pk_check_pair(pub, prv, mqtls_rng_random, NULL);
#else
    return mbedtls_pk_check_pair(pub, prv);
#endif
}

int mqtls_pk_sign_sha256(mbedtls_pk_context *pk, const uint8_t hash[32], uint8_t *sig,
                         size_t cap, size_t *sig_len, mqtls_rng *rng)
{
#if MQTLS_MBEDTLS_3
    return mbedtls_pk_sign(pk, MBEDTLS_MD_SHA256, hash, 32, sig, cap, sig_len, mqtls_rng_random,
                           rng);
#else
    /* 2.28 writes up to MBEDTLS_PK_SIGNATURE_MAX_SIZE without a capacity. */
    uint8_t tmp[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
    int ret = mbedtls_pk_sign(pk, MBEDTLS_MD_SHA256, hash, 32, tmp, sig_len, mqtls_rng_random, rng);
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
    uint8_t der[128];
    int n;
    if (!mqtls_pk_is_p256(pk))
        return -1;
    n = mbedtls_pk_write_pubkey_der((mbedtls_pk_context *)(uintptr_t)pk, der, sizeof der);
    if (n < 65 || der[sizeof der - 65] != 0x04)
        return -1;
    memcpy(point, der + sizeof der - 65, 65);
    return 0;
}

int mqtls_pk_generate_p256(mbedtls_pk_context *pk, mqtls_rng *rng)
{
#if MQTLS_MBEDTLS_3
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
#if MQTLS_MBEDTLS_3
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
    if (mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) == 0 &&
        mbedtls_ecp_group_load(&mbedtls_pk_ec(pk)->grp, MBEDTLS_ECP_DP_SECP256R1) == 0 &&
        mbedtls_ecp_point_read_binary(&mbedtls_pk_ec(pk)->grp, &mbedtls_pk_ec(pk)->Q, point, 65) == 0 &&
        mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, hash, 32, sig, sig_len) == 0)
        ret = 0;
    mbedtls_pk_free(&pk);
    return ret;
#endif
}

/* ---- certificates ----------------------------------------------------------------- */

bool mqtls_crt_is_ca(const mbedtls_x509_crt *crt)
{
#if MQTLS_MBEDTLS_3
    /* Private in 3.6 with no accessor; read where the parser put it. */
    return crt->MBEDTLS_PRIVATE(ca_istrue) != 0;
#else
    return crt->ca_istrue != 0;
#endif
}

#if defined(MBEDTLS_X509_CSR_PARSE_C)
int mqtls_csr_self_signed(const mbedtls_x509_csr *csr)
{
    /* 3.6 keeps the signature's algorithm and value private and offers no
     * call that checks a CSR's self-signature. */
#if MQTLS_MBEDTLS_3
    const mbedtls_md_type_t md_type = csr->MBEDTLS_PRIVATE(sig_md);
    const mbedtls_pk_type_t pk_type = csr->MBEDTLS_PRIVATE(sig_pk);
    const void *opts = csr->MBEDTLS_PRIVATE(sig_opts);
    const mbedtls_x509_buf *sig = &csr->MBEDTLS_PRIVATE(sig);
#else
    const mbedtls_md_type_t md_type = csr->sig_md;
    const mbedtls_pk_type_t pk_type = csr->sig_pk;
    const void *opts = csr->sig_opts;
    const mbedtls_x509_buf *sig = &csr->sig;
#endif
    unsigned char hash[MBEDTLS_MD_MAX_SIZE];
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(md_type);
    if (md == NULL || mbedtls_md(md, csr->cri.p, csr->cri.len, hash) != 0)
        return -1;
    return mbedtls_pk_verify_ext(pk_type, opts, (mbedtls_pk_context *)(uintptr_t)&csr->pk,
                                 md_type, hash, mbedtls_md_get_size(md), sig->p, sig->len) == 0
               ? 0
               : -1;
}

#endif

#if defined(MBEDTLS_X509_CRT_WRITE_C)
mbedtls_asn1_named_data **mqtls_x509write_crt_issuer(mbedtls_x509write_cert *w)
{
#if MQTLS_MBEDTLS_3
    return &w->MBEDTLS_PRIVATE(issuer);
#else
    return &w->issuer;
#endif
}

mbedtls_asn1_named_data **mqtls_x509write_crt_subject(mbedtls_x509write_cert *w)
{
#if MQTLS_MBEDTLS_3
    return &w->MBEDTLS_PRIVATE(subject);
#else
    return &w->subject;
#endif
}
#endif

/* ---- TLS ---------------------------------------------------------------------------- */

int mqtls_ssl_conf_versions(mbedtls_ssl_config *conf, unsigned versions)
{
#if MQTLS_MBEDTLS_3
#if !defined(MBEDTLS_SSL_PROTO_TLS1_3)
    versions &= ~MQTLS_TLS_1_3;
#endif
#if !defined(MBEDTLS_SSL_PROTO_TLS1_2)
    versions &= ~MQTLS_TLS_1_2;
#endif
    if (versions == 0)
        return -1;
    mbedtls_ssl_conf_min_tls_version(conf, (versions & MQTLS_TLS_1_2) ? MBEDTLS_SSL_VERSION_TLS1_2
                                                                         : MBEDTLS_SSL_VERSION_TLS1_3);
    mbedtls_ssl_conf_max_tls_version(conf, (versions & MQTLS_TLS_1_3) ? MBEDTLS_SSL_VERSION_TLS1_3
                                                                         : MBEDTLS_SSL_VERSION_TLS1_2);
    return 0;
#else
    if ((versions & MQTLS_TLS_1_2) == 0)
        return -1; /* 2.28 has no TLS 1.3 client */
    mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    return 0;
#endif
}

void mqtls_ssl_conf_ticket_signal(mbedtls_ssl_config *conf)
{
#if MQTLS_MBEDTLS_3 && defined(MBEDTLS_SSL_PROTO_TLS1_3) && defined(MBEDTLS_SSL_SESSION_TICKETS) && \
    MBEDTLS_VERSION_NUMBER >= 0x03060100
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
        conf, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
#else
    (void)conf;
#endif
}

void mqtls_ssl_set_ca_chain(mbedtls_ssl_context *ssl, mbedtls_x509_crt *chain)
{
    /* Meant for a server's SNI callback, but the client's verification
     * reads the same per-handshake chain first (ssl_tls.c in both
     * versions), so a shared configuration is never written. */
    mbedtls_ssl_set_hs_ca_chain(ssl, chain, NULL);
}

/* The handshake state is private in 3.6; 3.6 offers is_handshake_over()
 * but not "before ServerHello", which the failure reasons need. */
static int state_of(const mbedtls_ssl_context *ssl)
{
#if MQTLS_MBEDTLS_3
    return ssl->MBEDTLS_PRIVATE(state);
#else
    return ssl->state;
#endif
}

bool mqtls_ssl_handshake_over(const mbedtls_ssl_context *ssl)
{
    return state_of(ssl) >= MBEDTLS_SSL_HANDSHAKE_OVER;
}

unsigned mqtls_ssl_version(const mbedtls_ssl_context *ssl)
{
#if MQTLS_MBEDTLS_3
    switch (mbedtls_ssl_get_version_number(ssl)) {
    case MBEDTLS_SSL_VERSION_TLS1_2: return 12;
    case MBEDTLS_SSL_VERSION_TLS1_3: return 13;
    default: return 0;
    }
#else
    return ssl->minor_ver == MBEDTLS_SSL_MINOR_VERSION_3 ? 12 : 0;
#endif
}

int mqtls_ssl_max_fragment(const mbedtls_ssl_context *ssl)
{
#if MQTLS_MBEDTLS_3
    /* 3.6 has no getter for the negotiated length alone; this is the
     * same figure, bounded by our own buffer too. */
    return mbedtls_ssl_get_max_out_record_payload(ssl);
#else
    return (int)mbedtls_ssl_get_output_max_frag_len(ssl);
#endif
}

const char *mqtls_ssl_hostname(const mbedtls_ssl_context *ssl)
{
#if MQTLS_MBEDTLS_3
    /* Private; mbedtls_ssl_get_hostname() wants a non-const context. */
    return ssl->MBEDTLS_PRIVATE(hostname);
#else
    return ssl->hostname;
#endif
}

unsigned mqtls_ssl_alert(const mbedtls_ssl_context *ssl)
{
    /* No API returns a received alert: it is the second byte of the
     * message mbedTLS just read. */
#if MQTLS_MBEDTLS_3
    const unsigned char *m = ssl->MBEDTLS_PRIVATE(in_msg);
#else
    const unsigned char *m = ssl->in_msg;
#endif
    return m != NULL ? m[1] : 0;
}

int mqtls_ssl_record_minor(const mbedtls_ssl_context *ssl)
{
    /* The record header's version: private, no accessor. */
#if MQTLS_MBEDTLS_3
    const unsigned char *h = ssl->MBEDTLS_PRIVATE(in_hdr);
#else
    const unsigned char *h = ssl->in_hdr;
#endif
    return h != NULL && h[1] == 3 ? h[2] : -1;
}

bool mqtls_ssl_before_server_hello(const mbedtls_ssl_context *ssl)
{
    return state_of(ssl) <= MBEDTLS_SSL_SERVER_HELLO;
}

int mqtls_ssl_fail_kind(int mret)
{
    switch (mret) {
#if MQTLS_MBEDTLS_3
    case MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE: return MQTLS_FAIL_NO_COMMON;
    case MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION: return MQTLS_FAIL_OLD_VERSION;
#else
    case MBEDTLS_ERR_SSL_NO_CIPHER_CHOSEN:
    case MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE:
    case MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO: return MQTLS_FAIL_NO_COMMON;
    case MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION: return MQTLS_FAIL_OLD_VERSION;
#endif
    default:
        if (mqtls_is_out_of_memory(mret))
            return MQTLS_FAIL_NO_MEMORY;
        return mqtls_ssl_is_bad_record(mret) ? MQTLS_FAIL_BAD_RECORD : 0;
    }
}

bool mqtls_is_out_of_memory(int mret)
{
    /* A code may be a high-level one plus a low-level one (mbedTLS adds
     * them): each part is checked. */
    const int high = -((-mret) & 0xFF80), low = -((-mret) & 0x007F);
    int i;
    for (i = 0; i < 3; i++) {
        const int e = i == 0 ? mret : i == 1 ? high : low;
        switch (e) {
        case MBEDTLS_ERR_SSL_ALLOC_FAILED:
        case MBEDTLS_ERR_MD_ALLOC_FAILED:
        case MBEDTLS_ERR_PK_ALLOC_FAILED:
        case MBEDTLS_ERR_X509_ALLOC_FAILED:
        case MBEDTLS_ERR_MPI_ALLOC_FAILED:
        case MBEDTLS_ERR_ECP_ALLOC_FAILED:
        case MBEDTLS_ERR_CIPHER_ALLOC_FAILED: return true;
        default: break;
        }
    }
    return false;
}

bool mqtls_ssl_is_new_ticket(int mret)
{
#if MQTLS_MBEDTLS_3
    return mret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET;
#else
    (void)mret;
    return false;
#endif
}

bool mqtls_ssl_is_bad_record(int mret)
{
    /* A record too big to fetch is BAD_INPUT_DATA in 2.28 ("more data
     * than fits") and INVALID_RECORD or BUFFER_TOO_SMALL in 3.6. */
    return mret == MBEDTLS_ERR_SSL_INVALID_RECORD || mret == MBEDTLS_ERR_SSL_BAD_INPUT_DATA
#if MQTLS_MBEDTLS_3
           || mret == MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL
#endif
        ;
}
