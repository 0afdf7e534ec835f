/* SPDX-License-Identifier: Apache-2.0 */
/* What the pieces of tls/ share, not installed: tls_config.c (options,
 * trust, identity), tls_verify.c (the verify callback and failures in
 * words), tls_mbedtls.c (connection, records, sessions). */
#ifndef MQTLS_TLS_INTERNAL_H
#define MQTLS_TLS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "tls_compat.h"
#include "tls_mbedtls.h"

struct mqtls_castore;

/* What mqtls_tls_config's storage holds. */
struct mqtls_tls_impl;
typedef struct mqtls_tls_cfg_impl {
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca;        /* trusted CAs */
    mbedtls_x509_crt own_cert;  /* our certificate and its chain */
    mbedtls_pk_context own_key; /* our private key (wiped on free), or a
                                   wrapper of own_key_psa */
    mqtls_key_handle own_key_psa; /* the key in PSA's store, or 0 */
    mqtls_rng rng;
    const char *alpn[MQTLS_TLS_MAX_ALPN + 1]; /* NULL-terminated, caller's strings */
    mqtls_clock clock;          /* for the handshake timeout */
    time_t (*wall_clock)(void); /* calendar time in seconds; default time() */
    uint32_t handshake_timeout_ms; /* whole handshake; default 10,000 */
    uint32_t slice_wait_ms;     /* a handshake in slices: longest wait per
                                   call, or 0 (one blocking call) */
    uint32_t slice_ecc_ops;     /* and elliptic-curve operations per call
                                   (restartable ECC), or 0 */
    size_t read_ahead;          /* bytes; 0: read only what mbedTLS asks for */
    mqtls_tls_time_policy time_policy;
    int ca_count;               /* certificates in ca */
    struct mqtls_castore *castore; /* when set, trust comes from it, not ca */
    /* The store's two calls, set by mqtls_tls_config_use_castore(): a
     * device that never uses a CA store does not link it. */
    mbedtls_x509_crt *(*castore_trusted)(struct mqtls_castore *s, uint8_t id[32]);
    void (*castore_count_use)(struct mqtls_castore *s, const uint8_t sha256[32]);
    uint8_t pins[MQTLS_TLS_MAX_PINS][32]; /* SHA-256 of SubjectPublicKeyInfo */
    uint8_t pin_count;
    unsigned versions;          /* asked for: MQTLS_TLS_1_2 | MQTLS_TLS_1_3 */
    unsigned offered;           /* what the suites and options allow of them */
    const int *suites;          /* 0-terminated; ours or the caller's */
    unsigned char mfl_code;     /* MBEDTLS_SSL_MAX_FRAG_LEN_* */
    bool has_identity;          /* own_cert and own_key set */
    /* After a handshake failed in our key's signer: says why and returns
     * the signer's MQTLS_ERR_KEY_ error, or 0 when the signer did not fail.
     * Set by set_identity_signer only, so a device that never uses a
     * signer links none of it (nor mqtls_strerror's table). */
    int (*key_failure)(struct mqtls_tls_impl *tls);
    bool own_registered;        /* own_cert/own_key handed to conf */
    bool insecure;              /* verification disabled: never by default */
    bool ready;                 /* setup succeeded */
} mqtls_tls_cfg_impl;

/* What mqtls_tls's storage holds. */
typedef struct mqtls_tls_impl {
    mqtls_tls_report rep;       /* what users read */
    mbedtls_ssl_context ssl;
    mbedtls_ssl_session saved;  /* session offered on the next connect */
    mbedtls_ssl_session current; /* this connection's, once exported (3.6
                                    exports a session once): TLS 1.2 at the
                                    first save, TLS 1.3 at each ticket */
    void (*on_session)(void *ctx, mqtls_tls *tls); /* a TLS 1.3 ticket came */
    void *on_session_ctx;
    mqtls_tls *self;            /* the public object, for on_session */
    mqtls_transport lower;      /* what TLS runs over */
    const mqtls_tls_cfg_impl *cfg;
    const mbedtls_x509_crt *trusted; /* what this connect trusts: cfg's CAs
                                        or its CA store's set */
    uint32_t deadline_ms;       /* when the current call (handshake, send,
                                   recv, close) must return, on cfg's clock */
    uint32_t slice_end_ms;      /* when the current slice of a handshake
                                   in slices must return */
    uint32_t hs_start_ms;       /* when the handshake began */
    bool handshaking;           /* a handshake in slices is under way */
    bool no_deadline;           /* the call was given MQTLS_WAIT_FOREVER */
    bool free_try;              /* one lower call may still go, expired or not
                                   (timeout 0 means one try without waiting) */
    int lower_error;            /* last mqtls_err from the lower transport */
    bool have_saved;            /* saved holds a session to offer */
    bool connected;             /* handshake done, not closed */
    bool ssl_ready;             /* ssl is set up (needs free) */
    bool have_current;          /* current holds this connection's session */
    bool got_data;              /* application data came since the handshake */
    /* What our side of the handshake sent, read off the records (no
     * mbedTLS version tells whether the server asked for our certificate):
     * a TLS 1.2 Certificate message, or on 1.3 more than one encrypted
     * record (Certificate, [CertificateVerify], Finished). */
    bool sent_certificate;
    uint8_t sent_encrypted;     /* TLS 1.3 encrypted handshake records */
    size_t rec_left;            /* bytes of the record being sent, after
                                   those already seen */
    /* what the verify callback saw of the server's certificate */
    char leaf_subject[MQTLS_TLS_SUBJECT_LEN];
    char leaf_issuer[MQTLS_TLS_SUBJECT_LEN];
    char leaf_names[MQTLS_TLS_SUBJECT_LEN];
    char leaf_not_before[16], leaf_not_after[16];
    int top_depth;              /* deepest certificate seen, -1 none */
    bool pin_matched;           /* a certificate in the chain matched a pin */
    bool pin_failed;            /* the chain verified but matched no pin */
    uint8_t trust_id[16];       /* the trusted set of the last connect */
    uint8_t saved_trust[16];    /* trust id the saved session was made under */
    uint8_t saved_ca[32];       /* the CA that session's chain ended at */
    uint8_t *ra;                /* read-ahead buffer (heap), or NULL */
    size_t ra_cap, ra_pos, ra_len;
} mqtls_tls_impl;

/* For the opaque public objects (a size_ field, then opaque_ storage):
 * the state behind pub, or NULL when pub is NULL or was initialised with
 * another size; and what a call on such a pub returns instead. */
#define MQTLS_OPAQUE_STATE(type, pub)                                       \
    ((pub) == NULL || (pub)->size_ != sizeof *(pub) ? (type *)NULL          \
                                                    : (type *)(uintptr_t)(pub)->opaque_.bytes)
#define MQTLS_OPAQUE_ERROR(pub)                                              \
    ((pub) == NULL ? MQTLS_ERR_INVALID_ARG                                   \
                   : (pub)->size_ == sizeof *(pub) ? MQTLS_OK : MQTLS_ERR_TLS_STORAGE)

/* An opaque object's init: records the size the application reserved
 * (*size_field = given) and, when it is this library's own (whole bytes),
 * zeroes the storage and returns true; false leaves the storage alone, and
 * every call then refuses the object. */
bool mqtls_opaque_init(size_t *size_field, unsigned char *bytes, size_t nbytes, size_t whole,
                       size_t given);

/* The state behind a public object, or NULL when pub is NULL or its
 * storage is not what this library was built for. */
mqtls_tls_cfg_impl *mqtls_tls_cfg_of(const mqtls_tls_config *pub);
mqtls_tls_impl *mqtls_tls_of(const mqtls_tls *pub);

/* The CA store's trusted set (tls/castore.c). */
mbedtls_x509_crt *mqtls_castore_trusted(struct mqtls_castore *s, uint8_t id[32]);

/* Sets tls->why, printf style. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void mqtls_tls_say(mqtls_tls_impl *tls, const char *fmt, ...);
/* The config's millisecond clock; 0 without one (time stands still). */
uint32_t mqtls_tls_now_ms(const mqtls_tls_cfg_impl *cfg);
/* The wall clock reads earlier than this library was built. */
bool mqtls_tls_clock_not_set(const mqtls_tls_cfg_impl *cfg);
/* time(NULL), the default wall clock. */
time_t mqtls_tls_system_time(void);
/* mbedTLS's verify callback: collects what the chain showed (ctx: tls). */
int mqtls_tls_verify_callback(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags);
/* A handshake failure (mbedTLS's mret) as an mqtls_err, with tls->why:
 * gathers the facts from mbedTLS (tls_verify.c), then mqtls_tls_explain(). */
int mqtls_tls_explain_failure(mqtls_tls_impl *tls, int mret);

/* What a failed handshake showed, in terms no mbedTLS version owns. */
typedef enum mqtls_tls_fail_kind {
    MQTLS_FAIL_VERIFY = 1,   /* the server's chain did not verify */
    MQTLS_FAIL_ALERT,        /* the server sent a fatal alert */
    MQTLS_FAIL_LOWER,        /* the transport failed (lower_error) */
    MQTLS_FAIL_NO_COMMON,    /* no suite, curve or version in common */
    MQTLS_FAIL_OLD_VERSION,  /* the server offered only < TLS 1.2 */
    MQTLS_FAIL_NO_MEMORY,
    MQTLS_FAIL_BAD_RECORD,   /* a record too large for our buffer, or malformed */
    MQTLS_FAIL_OTHER         /* anything else: detail says what */
} mqtls_tls_fail_kind;

typedef struct mqtls_tls_facts {
    mqtls_tls_fail_kind kind;
    /* VERIFY */
    uint32_t flags;          /* the verifier's flags, for the last resort */
    bool not_trusted, expired, future, name_mismatch, weak, only_pin;
    bool pin_failed, issuer_name_trusted, clock_not_set;
    unsigned pin_count;
    const char *now, *built; /* the wall clock's date, the library's build date */
    const char *subject, *issuer, *names, *not_before, *not_after, *hostname;
    /* ALERT */
    unsigned alert;          /* its number */
    bool before_server_hello;
    int record_minor;        /* the alert record's version 3.x, or -1 */
    bool has_identity;
    const char *own_subject;
    /* LOWER */
    int lower_error;
    bool after_our_certificate; /* the server asked for ours and got it */
    const char *detail;      /* mbedTLS's words for OTHER and the rest */
} mqtls_tls_facts;

/* The facts as an mqtls_err and a sentence in why (cap bytes): a pure
 * function, tested as a table (test/unit/tls/test_tls_explain.c). */
int mqtls_tls_explain(const mqtls_tls_facts *f, char *why, size_t cap);

#endif
