/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — a key held in a PKCS#11 token (an HSM, a TPM's PKCS#11 module,
 * SoftHSM), as a signer (tls/signer.h). Hosts and gateways.
 *
 *   mqtls_pkcs11_key key;
 *   mqtls_signer s;
 *   mqtls_pkcs11_init(&key);
 *   ret = mqtls_pkcs11_open(&key, "pkcs11:token=gw;object=mqtt-key",
 *                           "/usr/lib/softhsm/libsofthsm2.so", pin);
 *   mqtls_pkcs11_signer(&key, &s);
 *   mqtls_tls_config_set_identity_signer(&cfg, cert, cert_len, &s);
 *   ...
 *   mqtls_pkcs11_free(&key);            after the configuration is freed
 *
 * The key is addressed by an RFC 7512 URI: path attributes token, object
 * (the label), id (percent-encoded bytes), serial, manufacturer, model,
 * type (private, the default; nothing else is a signing key); query
 * attributes module-path and pin-value (the API's arguments win). Values
 * are percent-decoded. The key must be ECDSA P-256; it is used through
 * C_Sign(CKM_ECDSA) only, so a key created sensitive and not extractable
 * never leaves the token. The PIN is used for C_Login and not kept or
 * logged. The module is loaded with dlopen() (POSIX) and started once per
 * process; several keys may share it.
 *
 * A session that breaks (the token removed, its slot empty) is opened
 * again at the next signature; if the token is still not there the
 * signature fails with MQTLS_ERR_KEY_TOKEN_GONE, which the client treats
 * as a refusal retrying cannot fix (mqtls_err_is_refusal()). Which builds
 * can use a signer in TLS: tls/signer.h.
 */
#ifndef MQTLS_TLS_PKCS11_H
#define MQTLS_TLS_PKCS11_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "identity.h"
#include "signer.h"
#include "../net/api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

typedef struct mqtls_pkcs11_key {
    void *impl_; /* private: the module, session and object, or NULL */
} mqtls_pkcs11_key;

/* Lifecycle of a key k: mqtls_pkcs11_init() (cannot fail),
 * mqtls_pkcs11_open(), hand out mqtls_pkcs11_signer()'s signer,
 * mqtls_pkcs11_free() when nothing uses it any more (idempotent; logs out,
 * closes the session, wipes the PIN it kept). */
void mqtls_pkcs11_init(mqtls_pkcs11_key *k);

/* Opens k on the private key uri names, in the module at module_path (NULL: the
 * URI's module-path), logging in with pin (NULL: the URI's pin-value; no
 * pin at all: no login). Returns MQTLS_OK, MQTLS_ERR_KEY_MODULE (the module
 * does not load or start), MQTLS_ERR_KEY_PIN (the token refused the PIN),
 * MQTLS_ERR_KEY_NOT_FOUND (no such token or object), MQTLS_ERR_KEY_UNSUPPORTED
 * (not an EC P-256 key), MQTLS_ERR_KEY_TOKEN_GONE, MQTLS_ERR_INVALID_ARG (uri
 * is not a pkcs11: URI, or names an attribute this does not know), or
 * MQTLS_ERR_TLS_OUT_OF_MEMORY. */
int mqtls_pkcs11_open(mqtls_pkcs11_key *k, const char *uri, const char *module_path,
                      const char *pin);

/* Makes a new ECDSA P-256 key pair inside the token uri names, with the
 * URI's object label and id (at least one), the private key sensitive,
 * never extractable, for signing only; then opens k on it as
 * mqtls_pkcs11_open() does (same module_path and pin rules). A key already
 * there under that label or id is refused (MQTLS_ERR_INVALID_ARG): a
 * renewal makes its key under a new name, so the current one stays
 * usable until the new certificate is proven. Returns as
 * mqtls_pkcs11_open() does, or MQTLS_ERR_KEY_SIGN when the token cannot
 * make the key. */
int mqtls_pkcs11_generate(mqtls_pkcs11_key *k, const char *uri, const char *module_path,
                          const char *pin);

/* Fills *out with the signer over k (ctx = k; k must outlive it). Returns
 * MQTLS_OK, or MQTLS_ERR_INVALID_ARG when k is not open. */
int mqtls_pkcs11_signer(mqtls_pkcs11_key *k, mqtls_signer *out);

/* What the token says of the key object: its CKA_SENSITIVE into
 * *sensitive and CKA_EXTRACTABLE into *extractable (for audits, and the
 * tests that show a key cannot leave). Returns MQTLS_OK,
 * MQTLS_ERR_KEY_TOKEN_GONE or MQTLS_ERR_INVALID_ARG. */
int mqtls_pkcs11_key_flags(mqtls_pkcs11_key *k, bool *sensitive, bool *extractable);
/* Closes k (see the lifecycle above). */
void mqtls_pkcs11_free(mqtls_pkcs11_key *k);

/* ---- tokens' keys for the identity slots -----------------------------------
 * A resolver (tls/identity.h) for slots whose key is a pkcs11: URI: the
 * identity's CURRENT and NEW may each name a token key, opened on first
 * use (two at a time) in module_path with pin.
 * Lifecycle: mqtls_pkcs11_keyring_init(), mqtls_pkcs11_keyring_keys() into
 * mqtls_identity_set_keys(), and mqtls_pkcs11_keyring_free() after the
 * identity and the TLS configurations that used its keys. */
typedef struct mqtls_pkcs11_keyring {
    const char *module_path; /* kept by reference */
    const char *pin;         /* kept by reference (the caller's; not copied) */
    /* private: */
    mqtls_pkcs11_key key[2];
    char uri[2][256];
    unsigned next;
} mqtls_pkcs11_keyring;

/* Prepares r for keys in the module at module_path (NULL: each URI's
 * module-path), logging in with pin (NULL: each URI's pin-value). Cannot
 * fail. */
void mqtls_pkcs11_keyring_init(mqtls_pkcs11_keyring *r, const char *module_path, const char *pin);
/* Fills *out with the resolver over r (ctx = r). Returns MQTLS_OK, or
 * MQTLS_ERR_INVALID_ARG for NULL. */
int mqtls_pkcs11_keyring_keys(mqtls_pkcs11_keyring *r, mqtls_identity_keys *out);
/* Closes r's keys (see the lifecycle above); idempotent. */
void mqtls_pkcs11_keyring_free(mqtls_pkcs11_keyring *r);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
