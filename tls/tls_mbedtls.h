/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — TLS over any mqtls_transport, with mbedTLS 2.28.
 *
 * TLS never opens a socket: it is handed the transport it runs over (TCP, a
 * modem, a test pipe) and offers a transport itself, so layers stack:
 * client -> tls -> tcp.
 *
 *   mqtls_tls_config cfg;              shared by connections: trust, identity, options
 *   mqtls_tls tls;                     one connection
 *   mqtls_tls_config_init(&cfg);
 *   mqtls_tls_config_setup(&cfg);
 *   mqtls_tls_config_add_ca_file(&cfg, "ca.pem");
 *   mqtls_tls_config_set_identity_files(&cfg, "dev.crt", "dev.key", NULL);
 *   mqtls_tls_init(&tls);
 *   ret = mqtls_tls_connect(&tls, &cfg, &tcp_transport, "broker.example");
 *   if (ret != MQTLS_OK) puts(mqtls_tls_why(&tls));   the reason in words
 *
 * The server's identity (chain and host name) is always verified; the only
 * way around it is mqtls_tls_config_disable_verification_INSECURE(). A
 * handshake failure returns one of the MQTLS_ERR_TLS_* classes and leaves a
 * sentence, the mbedTLS verify flags and the raw mbedTLS code in the
 * connection. mbedTLS allocates; the heap one session needs is measured in
 * docs/memory.md.
 */
#ifndef MQTLS_TLS_TLS_MBEDTLS_H
#define MQTLS_TLS_TLS_MBEDTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "net/clock.h"
#include "net/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MQTLS_TLS_MAX_ALPN 4      /* protocols in an ALPN list */
#define MQTLS_TLS_WHY_LEN 256     /* bytes of the failure sentence */
#define MQTLS_TLS_SUBJECT_LEN 128 /* bytes of a reported subject name */
#define MQTLS_TLS_MAX_PINS 8      /* public-key pins, backups included */
/* 1: the configuration's clock defaults to the POSIX one (net/clock_posix);
 * a device build sets 0 and calls mqtls_tls_config_set_clock(). */
#ifndef MQTLS_TLS_POSIX_CLOCK
#define MQTLS_TLS_POSIX_CLOCK 1
#endif
/* Bytes read ahead from the lower transport per connection (see
 * mqtls_tls_config_set_read_ahead()); a device build sets 0. */
#ifndef MQTLS_TLS_READ_AHEAD
#define MQTLS_TLS_READ_AHEAD 4096
#endif

struct mqtls_castore; /* tls/castore.h */

/* How certificate dates are judged. */
typedef enum mqtls_tls_time_policy {
    /* Dates are checked on every handshake (the default). A device whose
     * clock is not set fails with MQTLS_ERR_TLS_CLOCK_NOT_SET. */
    MQTLS_TLS_TIME_STRICT = 0,
    /* While the clock reads earlier than the library's build date (it was
     * never set), chain and signatures are checked but dates are not; once
     * the clock is set, dates are checked as in STRICT. Risk: until then an
     * expired or revoked-by-expiry certificate whose key leaked is
     * accepted. Use only on devices without a real-time clock, and set the
     * clock (SNTP) as early as possible. */
    MQTLS_TLS_TIME_DEFER_UNTIL_CLOCK_SET = 1
} mqtls_tls_time_policy;

typedef struct mqtls_tls_config {
    /* private */
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca;        /* trusted CAs */
    mbedtls_x509_crt own_cert;  /* our certificate and its chain */
    mbedtls_pk_context own_key; /* our private key (wiped on free) */
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    const char *alpn[MQTLS_TLS_MAX_ALPN + 1]; /* NULL-terminated, caller's strings */
    mqtls_clock clock;          /* for the handshake timeout */
    time_t (*wall_clock)(void); /* calendar time in seconds; default time() */
    uint32_t handshake_timeout_ms; /* whole handshake; default 10,000 */
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
    bool has_identity;          /* own_cert and own_key set */
    bool own_registered;        /* own_cert/own_key handed to conf */
    bool insecure;              /* verification disabled: never by default */
    bool ready;                 /* setup succeeded */
} mqtls_tls_config;

typedef struct mqtls_tls {
    /* after a handshake, success or not */
    int mbedtls_error;          /* raw mbedTLS code of the failure, or 0 */
    uint32_t verify_flags;      /* mbedTLS MBEDTLS_X509_BADCERT_* flags, or 0 */
    uint8_t alert;              /* fatal alert the peer sent, or 0 */
    bool resumed;               /* the handshake resumed a saved session */
    bool ca_known;              /* ca_sha256 (and, unless resumed, ca_subject) set */
    bool session_dropped;       /* the saved session was not offered: trust or
                                   the server's name changed */
    char why[MQTLS_TLS_WHY_LEN];            /* the failure in words, or "" */
    char ca_subject[MQTLS_TLS_SUBJECT_LEN]; /* the trusted CA the chain ended at */
    uint8_t ca_sha256[32];      /* its certificate's SHA-256 fingerprint */
    /* private */
    mbedtls_ssl_context ssl;
    mbedtls_ssl_session saved;  /* session offered on the next connect */
    mqtls_transport lower;      /* what TLS runs over */
    mqtls_tls_config *cfg;
    uint32_t deadline_ms;       /* when the current call (handshake, send,
                                   recv, close) must return, on cfg's clock */
    bool no_deadline;           /* the call was given MQTLS_WAIT_FOREVER */
    bool free_try;              /* one lower call may still go, expired or not
                                   (timeout 0 means one try without waiting) */
    int lower_error;            /* last mqtls_err from the lower transport */
    bool have_saved;            /* saved holds a session to offer */
    bool connected;             /* handshake done, not closed */
    bool ssl_ready;             /* ssl is set up (needs free) */
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
} mqtls_tls;

/* ---- configuration ------------------------------------------------------ */

/* Cannot fail; makes cfg safe to free. */
void mqtls_tls_config_init(mqtls_tls_config *cfg);
/* Seeds the DRBG from the platform's entropy (with a personalisation
 * string) and sets the defaults: TLS 1.2 or later, verification required,
 * session tickets on, handshake timeout 10 s, strict dates. */
int mqtls_tls_config_setup(mqtls_tls_config *cfg);

/* Trust. Each adds to the trusted set. PEM input may hold many
 * certificates and need not be NUL-terminated; a certificate that fails to
 * parse fails the whole call with MQTLS_ERR_TLS_BAD_CA, adds nothing, and
 * *bad_index (if not NULL) gets its 1-based position. */
int mqtls_tls_config_add_ca_pem(mqtls_tls_config *cfg, const char *pem, size_t len,
                                size_t *bad_index);
int mqtls_tls_config_add_ca_der(mqtls_tls_config *cfg, const uint8_t *der, size_t len);
/* A PEM bundle or a single DER certificate, by content. */
int mqtls_tls_config_add_ca_file(mqtls_tls_config *cfg, const char *path, size_t *bad_index);

/* Trust from a CA store with rotation slots (tls/castore.h) instead of
 * the add_ca calls: every handshake asks the store what it trusts now,
 * and counts a successful connect against the CA the chain ended at. The
 * store must outlive cfg. NULL goes back to the add_ca set. */
int mqtls_tls_config_use_castore(mqtls_tls_config *cfg, struct mqtls_castore *store);

/* Public-key pinning, on top of (never instead of) chain verification:
 * the server's verified chain must contain a certificate whose
 * SubjectPublicKeyInfo hashes (SHA-256) to one of pins. At least two pins
 * are required, one a backup for a key not yet in use, so a key rotation
 * cannot strand the device (MQTLS_ERR_INVALID_ARG otherwise); n = 0 turns
 * pinning off. A chain that matches no pin fails the handshake with
 * MQTLS_ERR_TLS_PIN_MISMATCH. Pins are copied. */
int mqtls_tls_config_set_pins(mqtls_tls_config *cfg, const uint8_t (*pins)[32], size_t n);
/* The pin of a certificate (PEM or DER): SHA-256 of its
 * SubjectPublicKeyInfo, as `openssl x509 -pubkey | openssl pkey -pubin
 * -outform der | sha256sum` prints it. */
int mqtls_tls_pin_of_cert(const uint8_t *cert, size_t len, uint8_t pin[32]);

/* Our certificate (PEM, possibly followed by its chain, or DER) and key
 * (PEM or DER; encrypted keys need passphrase, else NULL). The key must
 * match the certificate (MQTLS_ERR_TLS_KEY_MISMATCH). All or nothing: on
 * any error the identity set before stays in use, untouched. */
int mqtls_tls_config_set_identity(mqtls_tls_config *cfg, const uint8_t *cert, size_t cert_len,
                                  const uint8_t *key, size_t key_len, const char *passphrase);
int mqtls_tls_config_set_identity_files(mqtls_tls_config *cfg, const char *cert_path,
                                        const char *key_path, const char *passphrase);

/* Options. */
int mqtls_tls_config_set_alpn(mqtls_tls_config *cfg, const char *const *protocols); /* NULL-terminated; kept by reference */
int mqtls_tls_config_set_max_fragment(mqtls_tls_config *cfg, unsigned bytes); /* 0, 512, 1024, 2048, 4096 */
int mqtls_tls_config_set_ciphersuites(mqtls_tls_config *cfg, const int *ids); /* 0-terminated mbedTLS ids; kept by reference */
int mqtls_tls_config_set_handshake_timeout(mqtls_tls_config *cfg, uint32_t timeout_ms);
/* mbedTLS reads a record's 5-byte header, then its body: two reads of the
 * lower transport per record. With read-ahead, one read takes up to bytes
 * (several records when a broker sends many small ones) and mbedTLS is
 * served from that buffer: about half the system calls on a busy link, for
 * bytes of heap per connection. Default MQTLS_TLS_READ_AHEAD (4096);
 * 0 turns it off (a device short of RAM). */
int mqtls_tls_config_set_read_ahead(mqtls_tls_config *cfg, size_t bytes);
int mqtls_tls_config_set_time_policy(mqtls_tls_config *cfg, mqtls_tls_time_policy policy);
int mqtls_tls_config_set_clock(mqtls_tls_config *cfg, const mqtls_clock *clock);
/* Where the device reads calendar time (an RTC, SNTP-set time); default
 * time(). Read to tell "clock not set" (earlier than the library's build
 * date) from a certificate that is really out of date. */
int mqtls_tls_config_set_wall_clock(mqtls_tls_config *cfg, time_t (*now)(void));
/* Turns off all checking of the server's identity. Anyone on the path can
 * then read and change the traffic. For lab tests only; tools print a
 * warning whenever it is used. */
int mqtls_tls_config_disable_verification_INSECURE(mqtls_tls_config *cfg);

/* Safe after init; wipes our key. */
void mqtls_tls_config_free(mqtls_tls_config *cfg);

/* ---- connection --------------------------------------------------------- */

/* Cannot fail; makes tls safe to free. */
void mqtls_tls_init(mqtls_tls *tls);

/* Runs the handshake over lower (which must stay valid while tls is used)
 * with hostname for SNI and verification (a name or an IP address). Offers
 * the session from mqtls_tls_session_load(), if any. Returns MQTLS_OK, an
 * MQTLS_ERR_TLS_* class (why, verify_flags, alert, mbedtls_error say more),
 * or the lower transport's MQTLS_ERR_NET_* error. Blocks up to the
 * configured handshake timeout, a deadline for the whole handshake: every
 * lower read and write gets only what is left of it, so a peer that
 * dribbles bytes cannot stretch it. On failure lower is left open: close
 * it. */
int mqtls_tls_connect(mqtls_tls *tls, mqtls_tls_config *cfg, const mqtls_transport *lower,
                      const char *hostname);

/* The failure in words; "" after success. Never NULL. */
const char *mqtls_tls_why(const mqtls_tls *tls);

/* The negotiated ALPN protocol, or NULL. */
const char *mqtls_tls_alpn(const mqtls_tls *tls);
/* The negotiated maximum fragment length in bytes (16384 when none). */
int mqtls_tls_max_fragment(const mqtls_tls *tls);

/* Saves the current session into buf (*len set), to offer on a later
 * connect, even after a restart. Returns MQTLS_ERR_BUFFER_TOO_SMALL with
 * *len the size needed. The saved bytes remember the trusted set (CAs,
 * pins) and the server name they were made under: if either differs at
 * the next connect,
 * the session is not offered (session_dropped) and a full, verified
 * handshake runs instead. */
int mqtls_tls_session_save(mqtls_tls *tls, uint8_t *buf, size_t cap, size_t *len);
/* Offers a saved session on the next mqtls_tls_connect(). */
int mqtls_tls_session_load(mqtls_tls *tls, const uint8_t *buf, size_t len);

/* Fills *out with tls's send, recv and close (ctx = tls). */
int mqtls_tls_transport(mqtls_tls *tls, mqtls_transport *out);
/* Transport calls. timeout_ms is a deadline for the whole call, across
 * every lower read and write it makes: recv returns 0 when a record has
 * not come whole by then (what came is kept for the next call). After
 * send returns 0, call it again with the same bytes. */
int mqtls_tls_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms);
int mqtls_tls_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms);
/* Sends close_notify (best effort), closes the lower transport. */
void mqtls_tls_close(void *ctx);

/* Safe after init; wipes session secrets. Does not close lower. */
void mqtls_tls_free(mqtls_tls *tls);

#ifdef __cplusplus
}
#endif

#endif
