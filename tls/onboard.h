/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — proof of which device asks, for onboarding (docs/trust.md).
 *
 * Every device carries a factory key pair (ECDSA P-256) from manufacturing,
 * in a secure element where the board has one. The provisioner's
 * allow-list holds, per serial, the pin of its factory public key (SHA-256
 * of the SubjectPublicKeyInfo): nothing secret on the service side.
 *
 * A request is the CSR (PEM, for the device's new key, CN = serial)
 * followed by three lines:
 *
 *   mqtls-factory-key: HEX(factory public key, SubjectPublicKeyInfo DER)
 *   mqtls-nonce: HEX(16 random bytes)
 *   mqtls-proof: HEX(ECDSA signature, DER, by the factory key over
 *                SHA-256("mqtls onboarding 1" 0 serial 0 csr_spki nonce))
 *
 * The proof binds the serial, the key the certificate will be for, and a
 * value the provisioner remembers (a replay of the same request is
 * refused). A holder of the shared claim certificate without the factory
 * key of a serial cannot obtain a certificate for it.
 */
#ifndef MQTLS_TLS_ONBOARD_H
#define MQTLS_TLS_ONBOARD_H

#include <stddef.h>
#include <stdint.h>
#include "../net/api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

#define MQTLS_ONBOARD_NONCE_LEN 16
#define MQTLS_ONBOARD_MAX_SPKI 128 /* a P-256 SubjectPublicKeyInfo is 91 bytes */
#define MQTLS_ONBOARD_MAX_SIG 80   /* an ECDSA P-256 signature is at most 72 */

/* Writes into pin the pin of the public half of key[0..len) (a private or
 * public key, PEM or DER): 64 hex digits and a NUL, as the provisioner's
 * allow-list holds it. Returns MQTLS_OK, MQTLS_ERR_TLS_BAD_KEY,
 * MQTLS_ERR_TLS_CRYPTO or MQTLS_ERR_INVALID_ARG. */
int mqtls_onboard_key_pin(const uint8_t *key, size_t len, char pin[65]);

/* Writes into out (cap bytes) the request for serial: csr[0..csr_len)
 * (PEM, from mqtls_identity_csr()) and the proof made with
 * factory_key[0..factory_key_len) (PEM or DER private key, P-256); *len
 * without the NUL written after it. Returns MQTLS_OK,
 * MQTLS_ERR_TLS_BAD_KEY, MQTLS_ERR_BUFFER_TOO_SMALL, MQTLS_ERR_TLS_CONFIG
 * (no entropy), MQTLS_ERR_TLS_CRYPTO or MQTLS_ERR_INVALID_ARG. */
int mqtls_onboard_request(const uint8_t *factory_key, size_t factory_key_len, const char *serial,
                          const uint8_t *csr, size_t csr_len, uint8_t *out, size_t cap,
                          size_t *len);

/* The proof read from a request (the provisioner's side). */
typedef struct mqtls_onboard_proof {
    uint8_t factory_spki[MQTLS_ONBOARD_MAX_SPKI]; /* the factory key (SubjectPublicKeyInfo, DER) */
    size_t factory_spki_len;                      /* its length */
    uint8_t nonce[MQTLS_ONBOARD_NONCE_LEN];       /* the device's fresh nonce */
    uint8_t sig[MQTLS_ONBOARD_MAX_SIG];           /* the factory key's signature (DER ECDSA) */
    size_t sig_len;                               /* its length */
} mqtls_onboard_proof;

/* Finds and decodes the three lines of the request req[0..len) into *out;
 * no cryptography (cheap, first).
 * MQTLS_OK or MQTLS_ERR_INVALID_ARG (missing, malformed, too long). */
int mqtls_onboard_parse(const uint8_t *req, size_t len, mqtls_onboard_proof *out);
/* Returns 1 when the factory key of proof p has this pin (64 hex
 * digits), else 0. */
int mqtls_onboard_pin_matches(const mqtls_onboard_proof *p, const char *pin);
/* Verifies proof p for serial and the CSR's public key,
 * csr_spki[0..csr_spki_len) (its SubjectPublicKeyInfo, DER): the factory
 * key must be P-256 and its signature good. Returns MQTLS_OK,
 * MQTLS_ERR_UPDATE_BAD_SIGNATURE or MQTLS_ERR_INVALID_ARG. */
int mqtls_onboard_verify(const mqtls_onboard_proof *p, const char *serial, const uint8_t *csr_spki,
                         size_t csr_spki_len);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
