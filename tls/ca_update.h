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
    uint32_t version;      /* the bundle's version (above the installed one) */
    int64_t expires;       /* Unix time after which the update is refused */
    const uint8_t *bundle; /* the CA bundle (PEM or DER), inside the message */
    size_t bundle_len;     /* its length in bytes */
} mqtls_ca_update;

/* The key updates must be signed with: a public key (or a certificate
 * holding it), PEM or DER, ECDSA P-256 only. */
typedef struct mqtls_ca_signer {
    uint8_t point[65]; /* private: the key, uncompressed (0x04 X Y) */
    int ready;         /* private: a key is loaded */
} mqtls_ca_signer;

/* Lifecycle: mqtls_ca_signer_init() (cannot fail), one load, use it with
 * mqtls_ca_update_verify() or _apply(), then mqtls_ca_signer_free()
 * (idempotent; safe after init alone). */
void mqtls_ca_signer_init(mqtls_ca_signer *s);
/* Loads the key from key[0..len) (PEM or DER), or from the file at path.
 * Returns MQTLS_OK, MQTLS_ERR_TLS_BAD_KEY when it is not a P-256 public
 * key (or a certificate holding one), MQTLS_ERR_TLS_FILE for a file that
 * cannot be read, or MQTLS_ERR_TLS_OUT_OF_MEMORY. */
int mqtls_ca_signer_load(mqtls_ca_signer *s, const uint8_t *key, size_t len);
int mqtls_ca_signer_load_file(mqtls_ca_signer *s, const char *path);
void mqtls_ca_signer_free(mqtls_ca_signer *s);

/* Checks msg[0..len): framing (MQTLS_ERR_UPDATE_MALFORMED), signature present
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

/* Verifies msg[0..len) against signer, the version of cas's active
 * bundle and now; stages its bundle in cas; runs probe(probe_ctx, ...) with
 * the staged bundle trusted alone;
 * commits (persisting, if the store has storage) or rolls back. Returns
 * MQTLS_OK when committed, else the first failure (MQTLS_ERR_UPDATE_*,
 * a bundle error, MQTLS_ERR_UPDATE_PROBE_FAILED, a storage error) with
 * the store back on its active bundle. *res (may be NULL) gets the
 * details. */
int mqtls_ca_update_apply(mqtls_castore *cas, mqtls_ca_signer *signer, const uint8_t *msg,
                          size_t len, time_t now, mqtls_ca_probe probe, void *probe_ctx,
                          mqtls_ca_update_result *res);

/* Writes res as JSON into buf (cap bytes, NUL-terminated) for a status
 * topic, its length (without the NUL) in *len:
 * {"result":"committed"|"rejected","error":"NAME","version":V,
 * "active_version":A,"why":"..."}. Returns MQTLS_OK,
 * MQTLS_ERR_BUFFER_TOO_SMALL or MQTLS_ERR_INVALID_ARG. */
int mqtls_ca_update_status_json(const mqtls_ca_update_result *res, char *buf, size_t cap,
                                size_t *len);

/* The operator's side: builds a signed update of bundle[0..bundle_len),
 * numbered version and refused after expires (Unix time), into out (cap
 * at least bundle_len + MQTLS_CA_UPDATE_OVERHEAD + MQTLS_CA_UPDATE_MAX_SIG),
 * its length in *len, signed with key[0..key_len) (an ECDSA P-256 private
 * key, PEM or DER, passphrase or NULL). Returns MQTLS_OK,
 * MQTLS_ERR_TLS_BAD_KEY, MQTLS_ERR_BUFFER_TOO_SMALL or
 * MQTLS_ERR_INVALID_ARG. */
int mqtls_ca_update_sign(const uint8_t *bundle, size_t bundle_len, uint32_t version,
                         int64_t expires, const uint8_t *key, size_t key_len,
                         const char *passphrase, uint8_t *out, size_t cap, size_t *len);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
