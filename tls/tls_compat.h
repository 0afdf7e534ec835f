/* SPDX-License-Identifier: Apache-2.0 */
/* Every difference between the mbedTLS versions mqtls builds on, in one
 * place (not installed). The rest of tls/ calls these, or mbedTLS calls
 * that are the same in 2.28 and 3.6, and has no version #if of its own.
 *
 *   mbedTLS 2.28 (Debian 12's libmbedtls-dev): the legacy crypto API.
 *   mbedTLS 3.6 LTS: PSA wherever it offers the operation (hashes,
 *     randomness, ECDSA verification, key generation), so that a port to
 *     4.x, whose crypto is PSA only, is a port of tls_compat.c.
 *
 * This is also the only file allowed to reach into mbedTLS internals
 * where no public API exists; each use says why (tls_compat.c). */
#ifndef MQTLS_TLS_COMPAT_H
#define MQTLS_TLS_COMPAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/version.h>

#if MBEDTLS_VERSION_NUMBER >= 0x04000000
#error "mqtls: mbedTLS 4.x is not supported yet (docs/porting.md says what a port changes)"
#elif MBEDTLS_VERSION_NUMBER >= 0x03060000
#define MQTLS_MBEDTLS_3 1
#elif MBEDTLS_VERSION_NUMBER >= 0x021C0000 && MBEDTLS_VERSION_NUMBER < 0x03000000
#define MQTLS_MBEDTLS_3 0
#else
#error "mqtls: needs mbedTLS 2.28 or 3.6"
#endif

#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

/* The crypto calls go through PSA on 3.6 built with MBEDTLS_PSA_CRYPTO_C
 * (always with TLS 1.3); a 3.6 built without it (a TLS 1.2-only device
 * that saves PSA's flash) and 2.28 use the legacy API. */
#if MQTLS_MBEDTLS_3 && defined(MBEDTLS_PSA_CRYPTO_C)
#define MQTLS_COMPAT_PSA 1
#include <psa/crypto.h>
#else
#define MQTLS_COMPAT_PSA 0
#include <mbedtls/sha256.h>
#endif

/* A field 3.6 marks private (the reasons are given where it is read). */
#if MQTLS_MBEDTLS_3
#define MQTLS_PRIV(field) MBEDTLS_PRIVATE(field)
#else
#define MQTLS_PRIV(field) field
#endif

/* 1 when certificate verification matches an IP address host name
 * against iPAddress names (3.6); 2.28 compares it with DNS names only. */
#if MQTLS_MBEDTLS_3
#define MQTLS_COMPAT_IP_NAMES 1
#else
#define MQTLS_COMPAT_IP_NAMES 0
#endif

/* 1 when the TLS 1.2 client can pause elliptic-curve work and go on
 * (mbedtls_ecp_set_max_ops): MBEDTLS_ECP_RESTARTABLE, without
 * MBEDTLS_USE_PSA_CRYPTO, both versions. TLS 1.3 never pauses it. */
#if defined(MBEDTLS_ECP_RESTARTABLE) && !defined(MBEDTLS_USE_PSA_CRYPTO) && \
    defined(MBEDTLS_SSL_CLI_C) && defined(MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED)
#define MQTLS_COMPAT_ECC_RESTART 1
#include <mbedtls/ecp.h>
#else
#define MQTLS_COMPAT_ECC_RESTART 0
#endif

/* Starts the crypto library (psa_crypto_init() with PSA; nothing without).
 * Safe to call again. 0 or -1. */
int mqtls_crypto_start(void);

/* ---- randomness ------------------------------------------------------------- */

/* A random generator mbedTLS calls as f_rng(p_rng, ...): 2.28 seeds a
 * CTR-DRBG from the platform's entropy; 3.6 uses PSA's generator. init
 * cannot fail; free is safe after init. */
typedef struct mqtls_rng {
#if MQTLS_COMPAT_PSA
    int started;
#else
    /* On the heap: Debian's 2.28 entropy context alone is 38 KB. */
    struct mqtls_rng_state *state;
#endif
} mqtls_rng;

void mqtls_rng_init(mqtls_rng *r);
/* 0, or -1 when the generator cannot be seeded. */
int mqtls_rng_seed(mqtls_rng *r, const char *personalisation);
/* mbedTLS's f_rng; p_rng is the mqtls_rng. */
int mqtls_rng_random(void *p_rng, unsigned char *out, size_t len);
void mqtls_rng_free(mqtls_rng *r);

/* ---- SHA-256 ------------------------------------------------------------------- */

typedef struct mqtls_sha256_ctx {
#if MQTLS_COMPAT_PSA
    psa_hash_operation_t op;
#else
    mbedtls_sha256_context ctx;
#endif
    int failed;
} mqtls_sha256_ctx;

void mqtls_sha256_start(mqtls_sha256_ctx *h);
void mqtls_sha256_update(mqtls_sha256_ctx *h, const void *data, size_t len);
/* 0, -2 when memory ran out (PSA copies caller buffers), or -1 (out
 * zeroed) when any step failed. Frees h. */
int mqtls_sha256_finish(mqtls_sha256_ctx *h, uint8_t out[32]);
/* One call: 0, -2 (out of memory) or -1, with out zeroed on failure. */
int mqtls_sha256(const void *data, size_t len, uint8_t out[32]);

/* ---- keys -------------------------------------------------------------------------- */

/* mbedtls_pk_parse_key(); 3.6 wants a generator for blinding. */
int mqtls_pk_parse_key(mbedtls_pk_context *pk, const unsigned char *key, size_t len,
                       const unsigned char *pass, size_t pass_len);
/* 0 when prv is the private half of pub. */
int mqtls_pk_check_pair(const mbedtls_pk_context *pub, const mbedtls_pk_context *prv);
/* ECDSA or RSA signature of a SHA-256 hash (DER for ECDSA). */
int mqtls_pk_sign_sha256(mbedtls_pk_context *pk, const uint8_t hash[32], uint8_t *sig,
                         size_t cap, size_t *sig_len, mqtls_rng *rng);
/* A pk context whose private half is signer (tls/signer.h), its public
 * half pub (0x04 X Y): tls_compat_signer.c. 0, an mbedTLS error, or
 * MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE where this build has no such backend
 * (3.6: PSA key ids instead). */
struct mqtls_signer;
int mqtls_pk_setup_signer(mbedtls_pk_context *pk, const struct mqtls_signer *signer,
                          const uint8_t pub[65]);
/* The MQTLS_ERR_KEY_* error the signer behind pk last returned (a failed
 * handshake signature), or 0 (none, or not a signer's pk). */
int mqtls_pk_signer_error(const mbedtls_pk_context *pk);
/* What mbedTLS returns from a handshake whose signer failed. */
#if MQTLS_MBEDTLS_3
#define MQTLS_COMPAT_SIGNER_FAILED MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE /* no signers on 3.6 */
#else
#define MQTLS_COMPAT_SIGNER_FAILED MBEDTLS_ERR_PK_HW_ACCEL_FAILED
#endif
/* The same for a SHA-256, SHA-384 or SHA-512 digest (by its length);
 * -1 for another length. */
int mqtls_pk_sign_hash(mbedtls_pk_context *pk, const uint8_t *hash, size_t hash_len,
                       uint8_t *sig, size_t cap, size_t *sig_len, mqtls_rng *rng);
/* An EC key on P-256. */
bool mqtls_pk_is_p256(const mbedtls_pk_context *pk);
/* The public point of a P-256 key, uncompressed (0x04 X Y). 0 or -1. */
int mqtls_pk_p256_point(const mbedtls_pk_context *pk, uint8_t point[65]);
/* A fresh P-256 key pair into pk (set up by this call). 0 or -1. */
int mqtls_pk_generate_p256(mbedtls_pk_context *pk, mqtls_rng *rng);
/* ECDSA P-256 verification of a DER signature over a SHA-256 hash with
 * the public point: 0 when it verifies. */
int mqtls_p256_verify(const uint8_t point[65], const uint8_t hash[32], const uint8_t *sig,
                      size_t sig_len);

/* Our private key, moved into PSA's key store (3.6 with
 * MBEDTLS_USE_PSA_CRYPTO, EC keys): pk then wraps the PSA key (opaque),
 * TLS signs through PSA, and the key is the same kind of handle a secure
 * element's would be. Elsewhere (2.28, RSA keys, 3.6 without
 * MBEDTLS_USE_PSA_CRYPTO) the key stays as it is and *handle is 0. 0, or
 * -1 with pk unchanged. */
#if MQTLS_COMPAT_PSA && defined(MBEDTLS_USE_PSA_CRYPTO)
typedef mbedtls_svc_key_id_t mqtls_key_handle;
#else
typedef unsigned mqtls_key_handle;
#endif
int mqtls_pk_seal(mbedtls_pk_context *pk, mqtls_key_handle *handle);
/* Destroys a sealed key (after mbedtls_pk_free() of its wrapper); 0 is
 * none. */
void mqtls_pk_unseal(mqtls_key_handle handle);
/* pk wraps the application's PSA key key_id (opaque: its material stays in
 * PSA, or in the secure element behind PSA's driver), and pub gets its
 * public point (0x04 X Y). The key is the caller's: never exported, never
 * destroyed here. 0, MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE where this build
 * has no PSA opaque keys (2.28, 3.6 without MBEDTLS_USE_PSA_CRYPTO), or
 * another mbedTLS/PSA error (no such key, not a P-256 key pair). */
int mqtls_pk_setup_psa(mbedtls_pk_context *pk, uint32_t key_id, uint8_t pub[65]);

/* ---- certificates ----------------------------------------------------------------- */

/* basicConstraints cA is true. */
bool mqtls_crt_is_ca(const mbedtls_x509_crt *crt);

/* CSRs and certificates we issue (the provisioner's). */
#if defined(MBEDTLS_X509_CSR_PARSE_C)
#include <mbedtls/x509_csr.h>
/* The CSR's signature over its CertificationRequestInfo verifies with its
 * own key: 0. */
int mqtls_csr_self_signed(const mbedtls_x509_csr *csr);
#endif
#if defined(MBEDTLS_X509_CRT_WRITE_C)
/* Where a certificate being written keeps its subject and issuer names, to
 * copy one attribute by attribute. */
mbedtls_asn1_named_data **mqtls_x509write_crt_issuer(mbedtls_x509write_cert *w);
mbedtls_asn1_named_data **mqtls_x509write_crt_subject(mbedtls_x509write_cert *w);
#endif

/* ---- TLS ---------------------------------------------------------------------------- */

/* TLS 1.3's suites, first in the default list where 3.6 speaks 1.3:
 * ChaCha20-Poly1305 first for the reason tls_config.c gives for 1.2. */
#if MQTLS_MBEDTLS_3 && defined(MBEDTLS_SSL_PROTO_TLS1_3)
#define MQTLS_TLS13_SUITES MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256, MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
#endif

/* Which versions a configuration offers: MQTLS_TLS_1_2, _1_3 or both
 * (tls_mbedtls.h). 0, or -1 when this mbedTLS speaks none of them. */
int mqtls_ssl_conf_versions(mbedtls_ssl_config *conf, unsigned versions);
/* The TLS 1.3 tickets a server sends after the handshake are handed to
 * us (mbedtls_ssl_read() returns MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
 * so that a session can be saved; no-op on 2.28 and before 3.6.1. */
void mqtls_ssl_conf_ticket_signal(mbedtls_ssl_config *conf);
/* mbedtls_ssl_setup(); on failure ssl is freed and initialised again. */
int mqtls_ssl_setup(mbedtls_ssl_context *ssl, const mbedtls_ssl_config *conf);
/* The CA chain for this handshake only: the configuration stays untouched. */
void mqtls_ssl_set_ca_chain(mbedtls_ssl_context *ssl, mbedtls_x509_crt *chain);
bool mqtls_ssl_handshake_over(const mbedtls_ssl_context *ssl);
/* 12, 13, or 0 before a version was agreed. */
unsigned mqtls_ssl_version(const mbedtls_ssl_context *ssl);
/* The largest record payload we may send: the negotiated maximum
 * fragment length, 16384 without one. */
int mqtls_ssl_max_fragment(const mbedtls_ssl_context *ssl);
/* The name given with mbedtls_ssl_set_hostname(), or NULL. */
const char *mqtls_ssl_hostname(const mbedtls_ssl_context *ssl);
/* After MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE: the alert's number. */
unsigned mqtls_ssl_alert(const mbedtls_ssl_context *ssl);
/* The minor version (3.x) of the last record read, or -1. */
int mqtls_ssl_record_minor(const mbedtls_ssl_context *ssl);
/* The handshake had not yet read the ServerHello. */
bool mqtls_ssl_before_server_hello(const mbedtls_ssl_context *ssl);
/* A handshake error as the kind mqtls_tls_explain() knows (an
 * mqtls_tls_fail_kind value; 0 when it is none of the version-specific
 * ones). */
int mqtls_ssl_fail_kind(int mret);
/* Any mbedTLS module's out-of-memory code, alone or within a sum. */
bool mqtls_is_out_of_memory(int mret);
/* mbedtls_ssl_read() says a TLS 1.3 ticket came (mbedtls_ssl_get_session()
 * now holds it). */
bool mqtls_ssl_is_new_ticket(int mret);
/* A record too big for our buffer, or malformed, after the handshake. */
bool mqtls_ssl_is_bad_record(int mret);


#endif
