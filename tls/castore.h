/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — CA rotation slots: what a device trusts, and how that changes
 * without bricking it.
 *
 * Two slots. ACTIVE is what the device trusts today (one or more CAs:
 * during a rollover, the old root and the new one). STAGED is a candidate
 * not yet trusted for good. The TLS layer asks the store for the trusted
 * set at every handshake (mqtls_tls_config_use_castore()), so a change
 * takes effect on the next connect:
 *
 *   mqtls_castore_stage(&cas, bundle, len, version);    candidate
 *   mqtls_castore_trust(&cas, MQTLS_TRUST_STAGED);      test it alone ...
 *   ... connect; on success:
 *   mqtls_castore_commit(&cas);                         STAGED -> ACTIVE, saved
 *   ... on failure:
 *   mqtls_castore_rollback(&cas);                       back to ACTIVE
 *
 * With storage attached (mqtls_castore_attach()), commit writes the ACTIVE
 * bundle as one blob ("ca.active") through the blob interface, whose write
 * is atomic: after a power cut the device boots on the old bundle or the
 * new one. STAGED is never written: a power cut before commit forgets it,
 * which is what rollback would do.
 *
 * Each CA counts the successful connects whose chain ended at it
 * (mqtls_castore_info().uses; resumed sessions count for the CA of the
 * session). Publish these (mqtls_castore_report_json()) and the operator
 * knows when no device still depends on the old root.
 *
 * mbedTLS allocates the parsed certificates (about 1 KB each). Not thread
 * safe: change trust between connects, not during one.
 */
#ifndef MQTLS_TLS_CASTORE_H
#define MQTLS_TLS_CASTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../net/blobs.h"
#include "../net/api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

#define MQTLS_CASTORE_MAX_CAS 8        /* certificates per slot */
#define MQTLS_CASTORE_SUBJECT_LEN 128  /* bytes of a reported subject */
#define MQTLS_CASTORE_BLOB "ca.active" /* blob name of the committed bundle */

typedef enum mqtls_ca_slot { MQTLS_CA_ACTIVE = 0, MQTLS_CA_STAGED = 1 } mqtls_ca_slot;

/* What the next handshakes trust. */
typedef enum mqtls_ca_trust {
    MQTLS_TRUST_ACTIVE = 1,  /* the default */
    MQTLS_TRUST_STAGED = 2,  /* the candidate alone: proves it suffices */
    MQTLS_TRUST_BOTH = 3     /* either: a soft transition */
} mqtls_ca_trust;

typedef struct mqtls_ca_info {
    char subject[MQTLS_CASTORE_SUBJECT_LEN]; /* "CN=..., O=...", cut to fit */
    char not_after[24];     /* "YYYY-MM-DD hh:mm:ss" UTC */
    time_t not_after_time;  /* the same, as calendar time */
    uint8_t sha256[32];     /* SHA-256 of the certificate (DER) */
    uint32_t uses;          /* successful connects ending at this CA */
    mqtls_ca_slot slot;     /* the slot it is in */
} mqtls_ca_info;

/* Bytes reserved for the store's state (parsed certificates, counters):
 * the layout is the library's own, as for mqtls_tls (tls/tls_mbedtls.h). */
#ifndef MQTLS_CASTORE_STORAGE
#if UINTPTR_MAX > 0xFFFFFFFFu
#define MQTLS_CASTORE_STORAGE 3328
#else
#define MQTLS_CASTORE_STORAGE 2304
#endif
#endif

typedef struct mqtls_castore {
    size_t size_; /* private: what init was given */
    union {
        unsigned char bytes[MQTLS_CASTORE_STORAGE]; /* the library's state */
        /* alignment only: */
        long long ll;
        long double ld;
        void *p;
    } opaque_;    /* private */
} mqtls_castore;

/* Cannot fail; an empty store. A macro: it passes the size the
 * application reserved, which the library checks (a store of another
 * size refuses every call with MQTLS_ERR_INVALID_ARG). */
#define mqtls_castore_init(s) mqtls_castore_init_sized((s), sizeof *(s))
void mqtls_castore_init_sized(mqtls_castore *s, size_t size);

/* Replaces a slot with a bundle, bundle[0..len) or the file at path:
 * PEM (many certificates) or concatenated DER, numbered version (what
 * mqtls_castore_version() reports and signed updates must exceed).
 * Returns MQTLS_OK, MQTLS_ERR_TLS_BAD_CA, MQTLS_ERR_CA_EMPTY,
 * MQTLS_ERR_CA_NOT_CA, MQTLS_ERR_CA_SLOT_FULL, MQTLS_ERR_TLS_FILE or
 * MQTLS_ERR_TLS_OUT_OF_MEMORY. Every certificate must parse and be a CA;
 * all or nothing: on
 * failure the slot is unchanged and *bad_index (if not NULL) names the
 * 1-based certificate that failed. Loading ACTIVE does not write storage
 * (that is commit's job); loading STAGED is what mqtls_castore_stage()
 * does. */
int mqtls_castore_load(mqtls_castore *s, mqtls_ca_slot slot, const uint8_t *bundle, size_t len,
                       uint32_t version, size_t *bad_index);
int mqtls_castore_load_file(mqtls_castore *s, mqtls_ca_slot slot, const char *path,
                            uint32_t version, size_t *bad_index);
int mqtls_castore_stage(mqtls_castore *s, const uint8_t *bundle, size_t len, uint32_t version,
                        size_t *bad_index);

/* Chooses what the next handshakes trust. MQTLS_ERR_CA_NONE_STAGED when
 * STAGED or BOTH is asked for with nothing staged. */
int mqtls_castore_trust(mqtls_castore *s, mqtls_ca_trust trust);

/* STAGED becomes ACTIVE (written to storage first, if attached: if the
 * write fails, nothing changes); trust returns to ACTIVE. A CA in both
 * bundles keeps its use counter. */
int mqtls_castore_commit(mqtls_castore *s);
/* STAGED is discarded; trust returns to ACTIVE. MQTLS_OK if none. */
int mqtls_castore_rollback(mqtls_castore *s);

/* Return the number of certificates in a slot (0 if empty), and the
 * version it was loaded with (0 if empty). */
size_t mqtls_castore_count(const mqtls_castore *s, mqtls_ca_slot slot);
uint32_t mqtls_castore_version(const mqtls_castore *s, mqtls_ca_slot slot);
/* What a slot holds, certificate by certificate: the one at index (from
 * 0) into *out. Returns MQTLS_OK, or MQTLS_ERR_INVALID_ARG past the end. */
int mqtls_castore_info(const mqtls_castore *s, mqtls_ca_slot slot, size_t index,
                       mqtls_ca_info *out);

/* CAs in either slot whose not-after is earlier than now + days: up to cap
 * of them into out (NULL with cap 0 just counts); *n is how many there
 * are. Expired ones are included. */
int mqtls_castore_expiring(const mqtls_castore *s, time_t now, unsigned days, mqtls_ca_info *out,
                           size_t cap, size_t *n);

/* blobs is where commit saves and restore reads (copied; its ctx must
 * outlive s). Returns MQTLS_OK, or MQTLS_ERR_INVALID_ARG for NULL. */
int mqtls_castore_attach(mqtls_castore *s, const mqtls_blobs *blobs);
/* Loads ACTIVE from storage. MQTLS_ERR_BLOB_NOT_FOUND when nothing was
 * ever committed (load the factory bundle then); MQTLS_ERR_BLOB_CORRUPT
 * or MQTLS_ERR_TLS_BAD_CA when what is stored cannot be trusted (ACTIVE
 * is unchanged). */
int mqtls_castore_restore(mqtls_castore *s);

/* Counts a successful connect whose chain ended at the CA whose
 * certificate has the SHA-256 fingerprint sha256 (called by the TLS
 * layer). */
void mqtls_castore_count_use(mqtls_castore *s, const uint8_t sha256[32]);

/* {"version":V,"cas":[{"subject":"...","not_after":"...","sha256":"hex",
 * "uses":N},...]} for the ACTIVE slot, NUL-terminated into buf (cap
 * bytes); *len (may be NULL) its length. Returns MQTLS_OK; MQTLS_ERR_BUFFER_TOO_SMALL if it does not fit. */
int mqtls_castore_report_json(const mqtls_castore *s, char *buf, size_t cap, size_t *len);

/* Lifecycle: mqtls_castore_init(), load or restore, attach to a TLS
 * configuration, mqtls_castore_free() when no connection uses it any
 * more (idempotent; safe after init alone). */
void mqtls_castore_free(mqtls_castore *s);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
