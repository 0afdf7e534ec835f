/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — the device's own certificate and key, in two slots, and the
 * pieces of onboarding: a key made on the device, a CSR for it.
 *
 * CURRENT is what the device connects with today: the shared claim
 * certificate it shipped with, later its own. NEW is a certificate (and
 * key) just obtained, from onboarding or a renewal before expiry. NEW is
 * tried first; only a clean connect with NEW (CONNACK accepted) commits it
 * (NEW becomes CURRENT). So a bad certificate cannot strand a device.
 *
 * A refusal of NEW removes it only when an attacker on the path could not
 * have forged it: a CONNACK "not authorised" / "bad credentials", which
 * arrives inside the TLS session the broker authenticated. With TLS 1.2
 * (mbedTLS 2.28) the broker's refusal of our certificate is a plaintext
 * alert, or a reset, during the handshake: anyone on the path can send
 * one. Such a refusal (MQTLS_ERR_TLS_CLIENT_CERT_REFUSED) makes the next
 * connect use CURRENT, once, and keeps NEW, in RAM and in storage, to be
 * tried again after it; it never erases a freshly issued key. In an open
 * function, fall back to CURRENT within the same open, so the client's
 * backoff sees CURRENT's result and not the slow schedule of a refusal.
 *
 *   mqtls_identity_next()    which slot to connect with
 *   mqtls_identity_apply()   put it into the TLS configuration
 *   ... connect (TLS handshake, MQTT CONNECT) ...
 *   mqtls_identity_report()  the outcome: commits, or marks NEW refused
 *
 * With storage attached, CURRENT and NEW live in one blob each
 * ("id.current", "id.new": certificate and key together, so an atomic
 * blob write never pairs a certificate with the wrong key). NEW is stored
 * when set, so a reboot before the first connect still tries it.
 *
 * Keys are wiped from memory when replaced or freed.
 */
#ifndef MQTLS_TLS_IDENTITY_H
#define MQTLS_TLS_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../net/blobs.h"
#include "signer.h"
#include "tls_mbedtls.h"
#include "../net/api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

#define MQTLS_IDENTITY_BLOB_CURRENT "id.current"
#define MQTLS_IDENTITY_BLOB_NEW "id.new"

typedef enum mqtls_id_slot { MQTLS_ID_CURRENT = 0, MQTLS_ID_NEW = 1 } mqtls_id_slot;

/* Keys held elsewhere (a PKCS#11 token, a PSA key, a secure element): a
 * slot may hold, instead of key bytes, a reference to its key (a pkcs11:
 * URI, or any text its resolver knows), set with mqtls_identity_set_ref()
 * and stored as such. The resolver turns references into keys; it is the
 * application's (tls/pkcs11.h has one for tokens), so a device that never
 * uses one links none of it. */
typedef struct mqtls_identity_keys {
    void *ctx; /* the resolver's state, passed to each call */
    /* Whether cert[0..cert_len) is a certificate for the key ref names
     * (NUL-terminated): MQTLS_OK, MQTLS_ERR_TLS_KEY_MISMATCH,
     * MQTLS_ERR_TLS_BAD_CERT, or an MQTLS_ERR_KEY_ error. */
    int (*check)(void *ctx, const char *ref, const uint8_t *cert, size_t cert_len);
    /* Sets cfg's identity: the certificate cert[0..cert_len) with the key
     * ref names (through mqtls_tls_config_set_identity_signer() or _psa()).
     * MQTLS_OK, or that call's error. */
    int (*apply)(void *ctx, const char *ref, const uint8_t *cert, size_t cert_len,
                 mqtls_tls_config *cfg);
} mqtls_identity_keys;

typedef struct mqtls_identity {
    int new_refused;   /* why the broker refused NEW, proven (an mqtls_err), or 0 */
    unsigned new_unproven; /* refusals of NEW that proved nothing, so far */
    bool new_skip;     /* the last try of NEW was refused unproven: CURRENT next */
    /* private */
    uint8_t *cert[2], *key[2]; /* heap copies, PEM or DER */
    size_t cert_len[2], key_len[2];
    bool has_blobs;
    mqtls_blobs blobs;
    mqtls_identity_keys keys; /* resolver for referenced keys, or zeros */
} mqtls_identity;

/* Lifecycle: mqtls_identity_init() (cannot fail), attach storage, restore
 * (or set the factory identity), then for each connect next, apply and
 * report; mqtls_identity_free() at the end (idempotent, safe after init
 * alone; wipes the keys). */
void mqtls_identity_init(mqtls_identity *id);

/* blobs is where identities are kept (copied; its ctx must outlive id).
 * Returns MQTLS_OK, or MQTLS_ERR_INVALID_ARG for NULL. */
int mqtls_identity_attach(mqtls_identity *id, const mqtls_blobs *blobs);
/* keys resolves the slots' key references (copied; its ctx must outlive
 * id). Set it before restoring slots that hold references. Returns
 * MQTLS_OK, or MQTLS_ERR_INVALID_ARG for NULL or a missing call. */
int mqtls_identity_set_keys(mqtls_identity *id, const mqtls_identity_keys *keys);
/* Fills *out with the resolver for PSA keys (mbedTLS 3.6 with PSA): a
 * reference "psa:<key id>" (decimal) names a key as
 * mqtls_tls_config_set_identity_psa() takes it. Elsewhere its calls
 * return MQTLS_ERR_KEY_UNSUPPORTED. Returns MQTLS_OK, or
 * MQTLS_ERR_INVALID_ARG for NULL. (tls/pkcs11.h has the one for tokens.) */
int mqtls_identity_psa_keys(mqtls_identity_keys *out);
/* Loads both slots from storage. MQTLS_ERR_BLOB_NOT_FOUND when there is
 * no CURRENT (first boot: set the factory claim identity); a stored NEW
 * is loaded too, to be tried. */
int mqtls_identity_restore(mqtls_identity *id);

/* Fills a slot with a certificate, cert[0..cert_len) (PEM, possibly with
 * its chain, or DER), and its private key, key[0..key_len) (unencrypted PEM
 * or DER), copied, after checking they belong together. Returns MQTLS_OK,
 * MQTLS_ERR_TLS_KEY_MISMATCH, MQTLS_ERR_TLS_BAD_CERT, MQTLS_ERR_TLS_BAD_KEY,
 * MQTLS_ERR_TLS_OUT_OF_MEMORY, MQTLS_ERR_INVALID_ARG or a storage error. Setting NEW stores it and
 * clears new_refused; setting CURRENT stores it only with persist. */
int mqtls_identity_set(mqtls_identity *id, mqtls_id_slot slot, const uint8_t *cert,
                       size_t cert_len, const uint8_t *key, size_t key_len, bool persist);
/* Returns true when slot holds an identity. */
/* The same with the key held elsewhere: ref (NUL-terminated, at most 255
 * bytes) names it for the resolver (mqtls_identity_set_keys()), which
 * checks cert against it. Returns as
 * mqtls_identity_set() does, the resolver's MQTLS_ERR_KEY_ error, or
 * MQTLS_ERR_INVALID_ARG when no resolver is set. */
int mqtls_identity_set_ref(mqtls_identity *id, mqtls_id_slot slot, const uint8_t *cert,
                           size_t cert_len, const char *ref, bool persist);
bool mqtls_identity_has(const mqtls_identity *id, mqtls_id_slot slot);

/* Returns the slot to connect with: NEW if there is one the broker has
 * not refused, else CURRENT. */
mqtls_id_slot mqtls_identity_next(const mqtls_identity *id);
/* Sets cfg's certificate and key from the slot. Returns MQTLS_OK,
 * MQTLS_ERR_INVALID_ARG (an empty slot), or what
 * mqtls_tls_config_set_identity() returns. */
int mqtls_identity_apply(const mqtls_identity *id, mqtls_id_slot slot, mqtls_tls_config *cfg);

/* The outcome of every connect made with slot (the TLS handshake's or the
 * CONNACK's result: MQTLS_OK only after CONNACK accepted).
 *  - NEW and MQTLS_OK: NEW becomes CURRENT (stored first); returns
 *    MQTLS_OK.
 *  - NEW refused, authenticated (MQTLS_ERR_CONNACK_NOT_AUTHORIZED,
 *    _CONNACK_BAD_CREDENTIALS): new_refused is set, NEW is removed from
 *    storage, every later connect uses CURRENT; returns that refusal.
 *  - NEW refused, unproven (MQTLS_ERR_TLS_CLIENT_CERT_REFUSED): the next
 *    connect uses CURRENT, NEW stays stored; returns that refusal.
 *  - CURRENT, any outcome: NEW (kept after an unproven refusal) is tried
 *    again next time; MQTLS_OK.
 *  - anything else (network, broker down): nothing changes; MQTLS_OK. */
int mqtls_identity_report(mqtls_identity *id, mqtls_id_slot slot, int result);

/* The certificate of a slot, as stored (for its dates, its CN): *cert
 * points into id (valid until the slot changes), *len its length. Returns
 * MQTLS_OK, or MQTLS_ERR_INVALID_ARG for an empty slot. */
int mqtls_identity_cert(const mqtls_identity *id, mqtls_id_slot slot, const uint8_t **cert,
                        size_t *len);

/* A fresh ECDSA P-256 private key, made here from the platform's entropy,
 * as PEM into out (cap bytes; NUL-terminated, *len without the NUL).
 * Returns MQTLS_OK, MQTLS_ERR_BUFFER_TOO_SMALL (240 bytes are enough),
 * MQTLS_ERR_TLS_CONFIG (no entropy) or MQTLS_ERR_INVALID_ARG. The caller
 * wipes out when done with it. */
int mqtls_identity_generate_key(uint8_t *out, size_t cap, size_t *len);
/* A PEM certificate signing request for key[0..key_len) with subject
 * CN=cn, signed by that key (SHA-256), into out (cap bytes, NUL-terminated;
 * *len without the NUL). cn: 1..64 bytes of [A-Za-z0-9._-]. Returns
 * MQTLS_OK, MQTLS_ERR_BUFFER_TOO_SMALL, MQTLS_ERR_TLS_BAD_KEY,
 * MQTLS_ERR_TLS_CONFIG or MQTLS_ERR_INVALID_ARG (a bad cn). */
int mqtls_identity_csr(const uint8_t *key, size_t key_len, const char *cn, uint8_t *out,
                       size_t cap, size_t *len);
/* The same CSR for a key that stays where it is: the signer's (its public
 * half, and the CSR's signature by it; mbedTLS 2.28, as
 * mqtls_tls_config_set_identity_signer()), or the PSA key key_id's
 * (mbedTLS 3.6, as mqtls_tls_config_set_identity_psa()). Return as
 * mqtls_identity_csr() does, or the signer's MQTLS_ERR_KEY_ error,
 * MQTLS_ERR_KEY_NOT_FOUND (no such PSA key), MQTLS_ERR_KEY_UNSUPPORTED
 * (not P-256, or a build without that seam). */
int mqtls_identity_csr_signer(const mqtls_signer *signer, const char *cn, uint8_t *out,
                              size_t cap, size_t *len);
int mqtls_identity_csr_psa(uint32_t key_id, const char *cn, uint8_t *out, size_t cap,
                           size_t *len);

/* Safe after init; wipes the keys; idempotent. */
void mqtls_identity_free(mqtls_identity *id);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
