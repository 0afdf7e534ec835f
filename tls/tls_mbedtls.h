/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — TLS over any mqtls_transport, with mbedTLS 3.6 LTS or 2.28.
 *
 * TLS never opens a socket: it is handed the transport it runs over (TCP, a
 * modem, a test pipe) and offers a transport itself, so layers stack:
 * client -> tls -> tcp.
 *
 *   mqtls_tls_config cfg;              shared by connections: trust, identity, options
 *   mqtls_tls tls;                     one connection
 *   mqtls_tls_config_init(&cfg);
 *   mqtls_tls_config_setup(&cfg);
 *   mqtls_tls_config_add_ca_file(&cfg, "ca.pem", NULL);
 *   mqtls_tls_config_set_identity_files(&cfg, "dev.crt", "dev.key", NULL);
 *   mqtls_tls_init(&tls);
 *   ret = mqtls_tls_connect(&tls, &cfg, &tcp_transport, "broker.example");
 *   if (ret != MQTLS_OK) puts(mqtls_tls_why(&tls));   the reason in words
 *
 * The server's identity (chain and host name) is always verified; the only
 * way around it is mqtls_tls_config_disable_verification_INSECURE(). A
 * handshake failure returns one of the MQTLS_ERR_TLS_* classes and leaves a
 * sentence, the mbedTLS verify flags and the raw mbedTLS code in the
 * connection's report (mqtls_tls_get_report()). No mbedTLS type appears
 * here: the objects hold opaque storage. mbedTLS allocates; the heap one session needs is measured in
 * docs/memory.md.
 */
#ifndef MQTLS_TLS_TLS_MBEDTLS_H
#define MQTLS_TLS_TLS_MBEDTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../net/clock.h"
#include "../net/transport.h"
#include "../net/api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

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

/* TLS versions (mqtls_tls_config_set_versions()). */
#define MQTLS_TLS_1_2 1u
#define MQTLS_TLS_1_3 2u

/* Bytes reserved for the library's state in each object. The layout is
 * the library's own (mbedTLS structures whose sizes follow its version and
 * configuration), so an application never depends on it; the objects can
 * still be placed statically. The defaults fit mbedTLS 2.28 and 3.6 with
 * their default configurations; a firmware build may set smaller values
 * (make size and test/fwprofile print what its configuration needs), the
 * same for the library and the application. The library refuses to build
 * when its state does not fit, and init records the size the application
 * reserved: a mismatch fails every call with MQTLS_ERR_TLS_STORAGE. */
#if UINTPTR_MAX > 0xFFFFFFFFu
#ifndef MQTLS_TLS_CONFIG_STORAGE
#define MQTLS_TLS_CONFIG_STORAGE 2560
#endif
#ifndef MQTLS_TLS_STORAGE
#define MQTLS_TLS_STORAGE 3072
#endif
#else
#ifndef MQTLS_TLS_CONFIG_STORAGE
#define MQTLS_TLS_CONFIG_STORAGE 1600
#endif
#ifndef MQTLS_TLS_STORAGE
#define MQTLS_TLS_STORAGE 2560
#endif
#endif

/* Aligned for anything the library keeps there. */
typedef union mqtls_tls_align_ {
    /* one of each kind of thing that needs aligning: */
    long long ll;
    long double ld;
    void *p;
    void (*fn)(void);
} mqtls_tls_align_;

/* Shared by connections: trust, identity, options. Set it up before the
 * first connect; connects only read it (several connections and threads
 * may use one; see docs/tls.md for threads). */
typedef struct mqtls_tls_config {
    size_t size_; /* private: what init was given */
    union {
        unsigned char bytes[MQTLS_TLS_CONFIG_STORAGE]; /* the library's state */
        mqtls_tls_align_ align;                        /* alignment only */
    } opaque_;    /* private */
} mqtls_tls_config;

/* What the last handshake showed, success or not. */
typedef struct mqtls_tls_report {
    char why[MQTLS_TLS_WHY_LEN]; /* the failure in words, or "" */
    int mbedtls_error;           /* raw mbedTLS code of the failure, or 0 */
    uint32_t verify_flags;       /* mbedTLS MBEDTLS_X509_BADCERT_* flags, or 0 */
    uint8_t alert;               /* fatal alert the peer sent, or 0 */
    bool resumed;                /* the handshake resumed a saved session */
    bool session_dropped;        /* the saved session was not offered: trust or
                                    the server's name changed */
    bool ca_known;               /* ca_sha256 (and, unless resumed, ca_subject) set */
    unsigned version;            /* 12 or 13 (TLS 1.2, 1.3) once agreed, else 0 */
    const char *ciphersuite;     /* the suite's name (mbedTLS's spelling), or "" */
    char ca_subject[MQTLS_TLS_SUBJECT_LEN]; /* the trusted CA the chain ended at */
    uint8_t ca_sha256[32];       /* its certificate's SHA-256 fingerprint */
} mqtls_tls_report;

/* One connection. */
typedef struct mqtls_tls {
    size_t size_; /* private: what init was given */
    union {
        unsigned char bytes[MQTLS_TLS_STORAGE]; /* the library's state */
        mqtls_tls_align_ align;                 /* alignment only */
    } opaque_;    /* private */
} mqtls_tls;

/* ---- configuration ------------------------------------------------------
 * Lifecycle: mqtls_tls_config_init(), mqtls_tls_config_setup(), then trust,
 * identity and options (before the first connect; a connect only reads
 * the configuration), any number of connections, and mqtls_tls_config_free()
 * after the last of them is freed. Each call below returns MQTLS_OK, or
 * MQTLS_ERR_INVALID_ARG for a NULL or out-of-range argument (a config not
 * set up, a value outside the range given), or the error named with it. */

/* Cannot fail; makes cfg safe to free. A macro: it passes the size the
 * application reserved, which the library checks. */
#define mqtls_tls_config_init(cfg) mqtls_tls_config_init_sized((cfg), sizeof *(cfg))
void mqtls_tls_config_init_sized(mqtls_tls_config *cfg, size_t size);
/* Seeds the random generator (a CTR-DRBG from the platform's entropy on
 * mbedTLS 2.28, PSA's on 3.6) and sets the defaults: TLS 1.3 and 1.2
 * offered (1.2 only with 2.28), verification required, session tickets on,
 * handshake timeout 10 s, strict dates. Returns MQTLS_OK,
 * MQTLS_ERR_TLS_CONFIG (no entropy) or MQTLS_ERR_TLS_OUT_OF_MEMORY. */
int mqtls_tls_config_setup(mqtls_tls_config *cfg);

/* Trust. Each adds to the trusted set: pem[0..len) (PEM text),
 * der[0..len) (one DER certificate), or the file at path (a PEM bundle or
 * a single DER certificate, by content). PEM input may hold many
 * certificates and need not be NUL-terminated; a certificate that fails to
 * parse fails the whole call with MQTLS_ERR_TLS_BAD_CA, adds nothing, and
 * *bad_index (if not NULL) gets its 1-based position. */
int mqtls_tls_config_add_ca_pem(mqtls_tls_config *cfg, const char *pem, size_t len,
                                size_t *bad_index);
int mqtls_tls_config_add_ca_der(mqtls_tls_config *cfg, const uint8_t *der, size_t len);
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
/* Writes into pin the pin of the certificate cert[0..len) (PEM or DER):
 * SHA-256 of its SubjectPublicKeyInfo, as `openssl x509 -pubkey | openssl
 * pkey -pubin -outform der | sha256sum` prints it. Returns MQTLS_OK,
 * MQTLS_ERR_TLS_BAD_CERT (none there), MQTLS_ERR_TLS_BAD_CA (it does not
 * parse) or MQTLS_ERR_INVALID_ARG (more than one certificate). */
int mqtls_tls_pin_of_cert(const uint8_t *cert, size_t len, uint8_t pin[32]);

/* Our certificate, cert[0..cert_len) or the file at cert_path (PEM,
 * possibly followed by its chain, or DER), and key, key[0..key_len) or the
 * file at key_path (PEM or DER; encrypted keys need passphrase, else
 * NULL). The key must match the certificate (MQTLS_ERR_TLS_KEY_MISMATCH;
 * also MQTLS_ERR_TLS_BAD_CERT, MQTLS_ERR_TLS_BAD_KEY, MQTLS_ERR_TLS_FILE). All or nothing: on
 * any error the identity set before stays in use, untouched. */
int mqtls_tls_config_set_identity(mqtls_tls_config *cfg, const uint8_t *cert, size_t cert_len,
                                  const uint8_t *key, size_t key_len, const char *passphrase);
int mqtls_tls_config_set_identity_files(mqtls_tls_config *cfg, const char *cert_path,
                                        const char *key_path, const char *passphrase);

/* Options. */
/* Which TLS versions to offer: MQTLS_TLS_1_2, MQTLS_TLS_1_3, or both
 * (the default). MQTLS_ERR_TLS_CONFIG when the mbedTLS mqtls was built
 * with cannot speak any of them (2.28 has no TLS 1.3). */
int mqtls_tls_config_set_versions(mqtls_tls_config *cfg, unsigned versions);
/* The ALPN protocols to offer (e.g. "mqtt"): protocols is NULL-terminated,
 * 1 to MQTLS_TLS_MAX_ALPN of them (else MQTLS_ERR_TLS_CONFIG), kept by
 * reference. */
int mqtls_tls_config_set_alpn(mqtls_tls_config *cfg, const char *const *protocols);
/* Maximum fragment length (RFC 6066) in bytes: 0 (none), 512, 1024,
 * 2048, 4096 (else MQTLS_ERR_INVALID_ARG).
 * TLS 1.3 has none (record_size_limit replaced it, and OpenSSL, so
 * Mosquitto, does not implement that): a configuration with one offers
 * TLS 1.2 only. */
int mqtls_tls_config_set_max_fragment(mqtls_tls_config *cfg, unsigned bytes);
/* The suites to offer: ids is 0-terminated mbedTLS ids (at least one),
 * TLS 1.3 ones (0x13xx) included on 3.6; kept by reference. A list this
 * mbedTLS cannot offer is MQTLS_ERR_TLS_CONFIG. A list without a TLS 1.3 suite offers TLS 1.2 only, one
 * with only 1.3 suites 1.3 only. */
int mqtls_tls_config_set_ciphersuites(mqtls_tls_config *cfg, const int *ids);
/* The deadline for a whole handshake, timeout_ms > 0 (default 10,000). */
int mqtls_tls_config_set_handshake_timeout(mqtls_tls_config *cfg, uint32_t timeout_ms);
/* A handshake in slices, for a superloop that must keep running (feed a
 * watchdog, sample a sensor) while it connects: mqtls_tls_connect() and
 * then each mqtls_tls_connect_continue() advance the handshake by one
 * step at most and return MQTLS_ERR_IN_PROGRESS while it is not over.
 * A slice waits at most wait_ms for the peer; and with ecc_ops != 0, the
 * elliptic-curve work of a TLS 1.2 ECDHE-ECDSA handshake (ECDH, the
 * server's signatures, ours) pauses after about ecc_ops basic operations
 * (mbedtls_ecp_set_max_ops(); mbedTLS's unit is roughly one point
 * addition: see docs/porting.md for what a slice costs on a Cortex-M4).
 * Pausing needs mbedTLS built with MBEDTLS_ECP_RESTARTABLE and without
 * MBEDTLS_USE_PSA_CRYPTO, else ecc_ops != 0 is MQTLS_ERR_TLS_NO_RESTART;
 * TLS 1.3 cannot pause it (its elliptic-curve work runs whole in one
 * slice). mbedTLS's budget is process-wide: mqtls sets it around its own
 * handshake steps only. wait_ms 0 (the default): the handshake is one
 * blocking call. The handshake timeout still bounds the whole of it. */
int mqtls_tls_config_set_slices(mqtls_tls_config *cfg, uint32_t wait_ms, unsigned ecc_ops);
/* mbedTLS reads a record's 5-byte header, then its body: two reads of the
 * lower transport per record. With read-ahead, one read takes up to bytes
 * (several records when a broker sends many small ones) and mbedTLS is
 * served from that buffer: about half the system calls on a busy link, for
 * bytes of heap per connection. Default MQTLS_TLS_READ_AHEAD (4096);
 * 0 turns it off (a device short of RAM). */
int mqtls_tls_config_set_read_ahead(mqtls_tls_config *cfg, size_t bytes);
/* What a certificate's dates mean before the device knows the time
 * (policy, an mqtls_tls_time_policy above; default strict). */
int mqtls_tls_config_set_time_policy(mqtls_tls_config *cfg, mqtls_tls_time_policy policy);
/* The monotonic clock the handshake's deadline is kept by (copied;
 * default: the POSIX one on hosts). */
int mqtls_tls_config_set_clock(mqtls_tls_config *cfg, const mqtls_clock *clock);
/* now() is where the device reads calendar time (an RTC, SNTP-set
 * time); NULL: time(). Read to tell "clock not set" (earlier than the library's build
 * date) from a certificate that is really out of date. */
int mqtls_tls_config_set_wall_clock(mqtls_tls_config *cfg, time_t (*now)(void));
/* Turns off all checking of the server's identity. Anyone on the path can
 * then read and change the traffic. For lab tests only; tools print a
 * warning whenever it is used. */
int mqtls_tls_config_disable_verification_INSECURE(mqtls_tls_config *cfg);

/* Safe after init; wipes our key; idempotent. */
void mqtls_tls_config_free(mqtls_tls_config *cfg);

/* ---- connection ---------------------------------------------------------
 * Lifecycle: mqtls_tls_init(), mqtls_tls_connect() (and
 * mqtls_tls_connect_continue() in slices), the transport calls,
 * mqtls_tls_close(), then connect again or mqtls_tls_free(). */

/* Cannot fail; makes tls safe to free. A macro, as for the config: size
 * is what the application reserved, which the library checks. */
#define mqtls_tls_init(tls) mqtls_tls_init_sized((tls), sizeof *(tls))
void mqtls_tls_init_sized(mqtls_tls *tls, size_t size);

/* Runs the handshake over lower (which must stay valid while tls is used)
 * under cfg (set up; it must outlive tls) with hostname for SNI and
 * verification (a name or an IP address). Offers
 * the session from mqtls_tls_session_load(), if any. Returns MQTLS_OK, an
 * MQTLS_ERR_TLS_* class (why, verify_flags, alert, mbedtls_error say more),
 * or the lower transport's MQTLS_ERR_NET_* error. Blocks up to the
 * configured handshake timeout, a deadline for the whole handshake: every
 * lower read and write gets only what is left of it, so a peer that
 * dribbles bytes cannot stretch it. On failure lower is left open: close
 * it. */
int mqtls_tls_connect(mqtls_tls *tls, const mqtls_tls_config *cfg, const mqtls_transport *lower,
                      const char *hostname);
/* A handshake in slices (mqtls_tls_config_set_slices()): the next slice.
 * Returns as mqtls_tls_connect() does, or MQTLS_ERR_IN_PROGRESS again;
 * MQTLS_OK once connected, MQTLS_ERR_NET_NOT_CONNECTED when no handshake
 * is under way. A handshake given up half-way is ended by
 * mqtls_tls_close() (or the next connect). */
int mqtls_tls_connect_continue(mqtls_tls *tls);

/* The failure in words; "" after success. Never NULL. On TLS 1.3 the
 * broker judges our certificate after our handshake has ended: its
 * refusal is the error of the first read (MQTLS_ERR_TLS_CLIENT_CERT_REFUSED,
 * with the same sentence as on 1.2). */
const char *mqtls_tls_why(const mqtls_tls *tls);
/* What the last handshake showed (failure details, version, suite, the
 * CA the chain ended at). Never NULL: for a NULL or unusable tls, an
 * empty report. Valid until the next connect or free. */
const mqtls_tls_report *mqtls_tls_get_report(const mqtls_tls *tls);
/* Returns "TLSv1.2" or "TLSv1.3" for the connected session, or "" (never
 * NULL). */
const char *mqtls_tls_version_name(const mqtls_tls *tls);

/* Returns the mbedTLS this library was built with ("mbed TLS 2.28.3",
 * "Mbed TLS 3.6.6 (PSA crypto)", "Mbed TLS 3.6.6" for a 3.6 without PSA). */
const char *mqtls_tls_backend(void);
/* Returns 1: a host name that is an IP address ("127.0.0.1", "::1") is
 * matched against the certificate's iPAddress names, with mbedTLS 3.6
 * (by mbedTLS) and with 2.28 (which compares it with DNS names only; mqtls
 * matches the iPAddress names itself). Kept for programs written when
 * 2.28 builds returned 0. */
int mqtls_tls_matches_ip_names(void);

/* The negotiated ALPN protocol, or NULL. */
const char *mqtls_tls_alpn(const mqtls_tls *tls);
/* Returns the negotiated maximum fragment length in bytes (16384 when
 * none). */
int mqtls_tls_max_fragment(const mqtls_tls *tls);

/* Saves the current session into buf (cap bytes; *len set), to offer on a later
 * connect, even after a restart. Returns MQTLS_ERR_BUFFER_TOO_SMALL with
 * *len the size needed. On TLS 1.2 the session exists when the handshake
 * ends. On TLS 1.3 the server sends it (a ticket) after the handshake,
 * and it arrives with a later read: until then MQTLS_ERR_TLS_NO_TICKET;
 * mqtls_tls_set_session_hook() says when one came (each new ticket
 * replaces the last). The saved bytes remember the trusted set (CAs,
 * pins) and the server name they were made under: if either differs at
 * the next connect,
 * the session is not offered (session_dropped) and a full, verified
 * handshake runs instead. */
int mqtls_tls_session_save(mqtls_tls *tls, uint8_t *buf, size_t cap, size_t *len);
/* fn(ctx, tls) runs inside a read, each time a TLS 1.3 ticket arrives:
 * mqtls_tls_session_save() then saves it (mqtls_tcp_tls does so into its
 * session buffer). NULL removes it. */
int mqtls_tls_set_session_hook(mqtls_tls *tls, void (*fn)(void *ctx, mqtls_tls *tls), void *ctx);
/* Offers a saved session, buf[0..len) from mqtls_tls_session_save(), on
 * the next mqtls_tls_connect() (copied). Returns MQTLS_OK,
 * MQTLS_ERR_TLS_BAD_SESSION (bytes that are not a session of this build) or
 * MQTLS_ERR_INVALID_ARG. */
int mqtls_tls_session_load(mqtls_tls *tls, const uint8_t *buf, size_t len);

/* Fills *out with tls's send, recv and close (ctx = tls). Returns
 * MQTLS_OK, or MQTLS_ERR_INVALID_ARG for NULL. */
int mqtls_tls_transport(mqtls_tls *tls, mqtls_transport *out);
/* Transport calls (net/transport.h), with ctx = an mqtls_tls: send writes
 * up to len bytes of buf, recv reads up to len bytes into buf; each
 * returns the bytes moved, 0, or an error, as net/transport.h says.
 * timeout_ms is a deadline for the whole call, across
 * every lower read and write it makes: recv returns 0 when a record has
 * not come whole by then (what came is kept for the next call). After
 * send returns 0, call it again with the same bytes. */
int mqtls_tls_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms);
int mqtls_tls_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms);
/* ctx is an mqtls_tls: sends close_notify (best effort), closes the lower
 * transport. */
void mqtls_tls_close(void *ctx);

/* Safe after init; wipes session secrets; idempotent. Does not close
 * lower. */
void mqtls_tls_free(mqtls_tls *tls);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
