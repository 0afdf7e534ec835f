/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — keys that never leave their hardware: the signer seam.
 *
 * The client's private key is used for one thing in TLS: signing the
 * handshake (CertificateVerify). A signer does that signing for a key K it
 * holds, wherever K lives: a secure element, a TPM, an HSM behind PKCS#11
 * (tls/pkcs11.h), or RAM (mqtls_soft_signer below, today's software key).
 * mqtls never sees K, only its public half and its signatures.
 *
 *   mqtls_pkcs11_key key;               or any mqtls_signer you write
 *   mqtls_signer s;
 *   mqtls_pkcs11_open(&key, "pkcs11:token=dev;object=mqtt", module, pin);
 *   mqtls_pkcs11_signer(&key, &s);
 *   mqtls_tls_config_set_identity_signer(&cfg, cert, cert_len, &s);
 *
 * The contract (docs/keys.md): ECDSA over P-256. public_key gives K's
 * public point; sign signs a digest (SHA-256 or SHA-384 from TLS, SHA-256
 * for a CSR) and returns the signature as DER; both may block (a secure
 * element over I2C takes tens of milliseconds) and are called from the
 * handshake, in the caller's task. An error from sign fails the handshake
 * with that error, said in words (an MQTLS_ERR_KEY_ code).
 *
 * Which builds: mbedTLS 2.28 takes signers (a pk backend of mqtls's own,
 * tls/tls_compat_signer.c). mbedTLS 3.6 keeps that seam private; there a
 * secure element plugs into PSA as a driver and the key is a PSA key id
 * (docs/keys.md), and mqtls_tls_config_set_identity_signer() returns
 * MQTLS_ERR_KEY_UNSUPPORTED.
 */
#ifndef MQTLS_TLS_SIGNER_H
#define MQTLS_TLS_SIGNER_H

#include <stddef.h>
#include <stdint.h>

#include "tls_mbedtls.h"
#include "../net/api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

/* A DER ECDSA P-256 signature is at most this long. */
#define MQTLS_SIGNER_MAX_SIG 72u

typedef struct mqtls_signer {
    void *ctx; /* the implementation's state, passed to each call */
    /* K's public key: the uncompressed P-256 point 0x04 || X || Y into
     * pub. MQTLS_OK, or an MQTLS_ERR_KEY_* error. */
    int (*public_key)(void *ctx, uint8_t pub[65]);
    /* Signs the digest hash[0..hash_len) with K (ECDSA), the signature as
     * DER into sig (cap bytes; MQTLS_SIGNER_MAX_SIG are enough), its
     * length into sig_len. MQTLS_OK, or an MQTLS_ERR_KEY_ error. */
    int (*sign)(void *ctx, const uint8_t *hash, size_t hash_len, uint8_t *sig, size_t cap,
                size_t *sig_len);
} mqtls_signer;

/* Our certificate, cert[0..cert_len) (PEM, possibly followed by its
 * chain, or DER), and the signer that holds its key (the struct is copied;
 * signer->ctx must outlive cfg). The certificate's public key must be the
 * signer's (MQTLS_ERR_TLS_KEY_MISMATCH). All or nothing, as
 * mqtls_tls_config_set_identity(). Returns MQTLS_OK,
 * MQTLS_ERR_TLS_BAD_CERT, MQTLS_ERR_TLS_KEY_MISMATCH, the signer's
 * public_key error, MQTLS_ERR_KEY_UNSUPPORTED (mbedTLS 3.6: use a PSA key
 * id), MQTLS_ERR_TLS_OUT_OF_MEMORY or MQTLS_ERR_INVALID_ARG. */
int mqtls_tls_config_set_identity_signer(mqtls_tls_config *cfg, const uint8_t *cert,
                                         size_t cert_len, const mqtls_signer *signer);

/* Our certificate, cert[0..cert_len), and a PSA key (mbedTLS 3.6 built
 * with PSA crypto and MBEDTLS_USE_PSA_CRYPTO): key_id is a psa_key_id_t
 * the application created, or a secure element's driver holds, an ECC key
 * pair on secp256r1 permitted PSA_KEY_USAGE_SIGN_HASH with
 * PSA_ALG_ECDSA(PSA_ALG_ANY_HASH) (or the handshake's hash). It may be
 * non-exportable: mqtls reads its public half only, and never destroys
 * it (the key must outlive cfg). Returns MQTLS_OK, MQTLS_ERR_TLS_BAD_CERT,
 * MQTLS_ERR_TLS_KEY_MISMATCH, MQTLS_ERR_KEY_NOT_FOUND (no such key id),
 * MQTLS_ERR_KEY_UNSUPPORTED (not a P-256 key pair, or a build without
 * PSA opaque keys: 2.28, 3.6 without PSA) or MQTLS_ERR_INVALID_ARG. */
int mqtls_tls_config_set_identity_psa(mqtls_tls_config *cfg, const uint8_t *cert,
                                      size_t cert_len, uint32_t key_id);

/* ---- the software key, as a signer ---------------------------------------
 * Lifecycle: mqtls_soft_signer_init() (cannot fail), load a key, hand
 * mqtls_soft_signer_interface()'s signer out, mqtls_soft_signer_free()
 * (idempotent; wipes the key) when nothing uses it any more. The key lives
 * in RAM (mbedTLS's heap): what a device without a secure element has. */
typedef struct mqtls_soft_signer {
    void *impl_; /* private: the parsed key, or NULL */
} mqtls_soft_signer;

void mqtls_soft_signer_init(mqtls_soft_signer *s);
/* Loads the private key key[0..key_len) (PEM or DER; passphrase for an
 * encrypted one, else NULL), replacing any before. Returns MQTLS_OK,
 * MQTLS_ERR_TLS_BAD_KEY, MQTLS_ERR_KEY_UNSUPPORTED (not P-256),
 * MQTLS_ERR_TLS_OUT_OF_MEMORY or MQTLS_ERR_INVALID_ARG. */
int mqtls_soft_signer_load(mqtls_soft_signer *s, const uint8_t *key, size_t key_len,
                           const char *passphrase);
/* Fills *out with the signer over s (ctx = s). Returns MQTLS_OK, or
 * MQTLS_ERR_INVALID_ARG for NULL. */
int mqtls_soft_signer_interface(mqtls_soft_signer *s, mqtls_signer *out);
void mqtls_soft_signer_free(mqtls_soft_signer *s);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
