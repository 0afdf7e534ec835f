/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — CA bundles delivered over MQTT, signed, versioned, proven
 * before they are trusted.
 *
 * An update is one MQTT payload (big-endian integers):
 *
 *   "MQCAUPD1"             8 bytes, format tag
 *   version                u32, strictly greater than the installed one
 *   expires                u64, seconds since 1970 (UTC): refused after
 *   bundle length          u32
 *   bundle                 PEM or DER CA certificates (tls/castore.h)
 *   signature length       u16
 *   signature              ECDSA P-256 over SHA-256 of every byte before
 *                          the signature length, DER (r, s)
 *
 * The device trusts one update-signing public key (not a CA: a key whose
 * only job is this), shipped in firmware. mqtls_ca_update_apply() then
 * does the whole dance: verify (no unsigned, badly signed, expired, older
 * or replayed update passes), stage, prove the staged CAs by a handshake
 * with them alone (the caller's probe), commit if it verified the broker
 * or roll back if not. The device stays on its active bundle unless every
 * step succeeded; a power cut before commit leaves it there too.
 *
 * Signing (mqtls_ca_update_sign()) is for the operator's tool,
 * examples/mqtls_ca_sign.c.
 */
#ifndef MQTLS_TLS_CA_UPDATE_H
#define MQTLS_TLS_CA_UPDATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>


#include "castore.h"
#include "../net/api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

#define MQTLS_CA_UPDATE_TAG "MQCAUPD1"
#define MQTLS_CA_UPDATE_OVERHEAD (8u + 4u + 8u + 4u + 2u) /* bytes besides bundle and signature */
#define MQTLS_CA_UPDATE_MAX_SIG 72u /* DER ECDSA P-256 signature, at most */

/* A verified update; bundle points into the caller's message. */
typedef struct mqtls_ca_update {
    uint32_t version;
    int64_t expires;
    const uint8_t *bundle;
    size_t bundle_len;
} mqtls_ca_update;

/* The key updates must be signed with: a public key (or a certificate
 * holding it), PEM or DER, ECDSA P-256 only. */
typedef struct mqtls_ca_signer {
    uint8_t point[65]; /* private: the key, uncompressed (0x04 X Y) */
    int ready;
} mqtls_ca_signer;

void mqtls_ca_signer_init(mqtls_ca_signer *s);
/* MQTLS_ERR_TLS_BAD_KEY when it is not a P-256 public key. */
int mqtls_ca_signer_load(mqtls_ca_signer *s, const uint8_t *key, size_t len);
int mqtls_ca_signer_load_file(mqtls_ca_signer *s, const char *path);
void mqtls_ca_signer_free(mqtls_ca_signer *s);

/* Checks msg: framing (MQTLS_ERR_UPDATE_MALFORMED), signature present
 * (MQTLS_ERR_UPDATE_UNSIGNED) and valid for signer
 * (MQTLS_ERR_UPDATE_BAD_SIGNATURE), not expired at now
 * (MQTLS_ERR_UPDATE_EXPIRED), version above installed_version
 * (MQTLS_ERR_UPDATE_OLD_VERSION). Signature first: nothing an unsigned
 * message says is believed. On success *out points into msg. */
int mqtls_ca_update_verify(const uint8_t *msg, size_t len, mqtls_ca_signer *signer,
                           uint32_t installed_version, time_t now, mqtls_ca_update *out);

/* The handshake that proves a staged bundle: connect to the broker with
 * the store's current trust (the staged bundle alone) and return MQTLS_OK
 * if the broker's chain verified, else the error (and why, for the
 * status report). The live MQTT connection is not touched. */
typedef int (*mqtls_ca_probe)(void *ctx, char *why, size_t why_cap);

typedef struct mqtls_ca_update_result {
    int status;             /* MQTLS_OK: committed; else why not */
    uint32_t version;       /* the update's version, when it could be read */
    uint32_t active_version;/* what the device trusts now */
    char why[256];          /* the failure in words, or "" */
} mqtls_ca_update_result;

/* Verifies msg against signer, the active bundle's version and now;
 * stages its bundle; runs probe with the staged bundle trusted alone;
 * commits (persisting, if the store has storage) or rolls back. Returns
 * MQTLS_OK when committed, else the first failure (MQTLS_ERR_UPDATE_*,
 * a bundle error, MQTLS_ERR_UPDATE_PROBE_FAILED, a storage error) with
 * the store back on its active bundle. *res (may be NULL) gets the
 * details. */
int mqtls_ca_update_apply(mqtls_castore *cas, mqtls_ca_signer *signer, const uint8_t *msg,
                          size_t len, time_t now, mqtls_ca_probe probe, void *probe_ctx,
                          mqtls_ca_update_result *res);

/* {"result":"committed"|"rejected","error":"NAME","version":V,
 * "active_version":A,"why":"..."} for a status topic. */
int mqtls_ca_update_status_json(const mqtls_ca_update_result *res, char *buf, size_t cap,
                                size_t *len);

/* The operator's side: builds a signed update of bundle into out (cap at
 * least bundle_len + MQTLS_CA_UPDATE_OVERHEAD + MQTLS_CA_UPDATE_MAX_SIG),
 * signed with key (an ECDSA P-256 private key, PEM or DER, passphrase or
 * NULL). */
int mqtls_ca_update_sign(const uint8_t *bundle, size_t bundle_len, uint32_t version,
                         int64_t expires, const uint8_t *key, size_t key_len,
                         const char *passphrase, uint8_t *out, size_t cap, size_t *len);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
