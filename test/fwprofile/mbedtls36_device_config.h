/* SPDX-License-Identifier: Apache-2.0 */
/* mbedTLS 3.6 LTS configured as a device would be: what `make bench`'s
 * firmware TLS profile builds from Debian 13's mbedTLS source package
 * (scripts/fwprofile.sh), beside the 2.28 one (mbedtls_device_config.h).
 * Two profiles from this one file:
 *
 *   TLS 1.2 only (the default): as the 2.28 profile — ECDHE-ECDSA with
 *     AES-128-GCM over P-256, 2 KB record buffers with a 2048-byte maximum
 *     fragment length requested, the peer's certificate freed after the
 *     handshake — and restartable elliptic curves (the handshake in
 *     slices).
 *   TLS 1.2 + 1.3 (-DMQTLS_FW_TLS13): TLS 1.3 with TLS_AES_128_GCM_SHA256
 *     and ECDHE on P-256 added. Facts 3.6 imposes: TLS 1.3 needs
 *     MBEDTLS_SSL_KEEP_PEER_CERTIFICATE (which then costs TLS 1.2
 *     connections too); mbedTLS sends max_fragment_length only in a TLS 1.2
 *     ClientHello, and OpenSSL (Mosquitto) does not implement
 *     record_size_limit, so on 1.3 the broker sends records of up to 16 KB:
 *     the input buffer must hold one. The output buffer stays small: we
 *     choose what we send.
 *   TLS 1.2 + 1.3 with small records (-DMQTLS_FW_TLS13
 *     -DMQTLS_FW_SMALL_RECORDS): a 2 KB input buffer, for a broker that
 *     sends small records (how: small_records.c).
 *
 * Both: RAM-saving elliptic curves (a small window, no fixed-point
 * tables), every allocation from one caller-owned arena
 * (MBEDTLS_MEMORY_BUFFER_ALLOC_C), session tickets, SNI, ALPN. PSA crypto
 * only with TLS 1.3, which needs it (then with few key slots, and mqtls's
 * compat unit uses it too): the TLS 1.2-only profile leaves PSA's core
 * out, about 7 KB of flash, and mqtls uses the legacy calls.
 * MBEDTLS_USE_PSA_CRYPTO stays off: it would route the TLS 1.2 layer
 * through PSA too (needed for PSA opaque keys, issue 18) and turns off
 * restartable ECC there.
 * Used with -DMBEDTLS_CONFIG_FILE='"mbedtls36_device_config.h"'. */
#ifndef MQTLS_MBEDTLS36_DEVICE_CONFIG_H
#define MQTLS_MBEDTLS36_DEVICE_CONFIG_H

/* System */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C

/* Crypto */
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES /* tables in flash, not RAM */
#define MBEDTLS_AES_FEWER_TABLES
#define MBEDTLS_GCM_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_MD_C
#define MBEDTLS_SHA224_C /* 3.6 builds SHA-256 with its SHA-224 half */
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_WINDOW_SIZE 2
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C

/* X.509 */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C

/* TLS */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH
#define MBEDTLS_SSL_OUT_CONTENT_LEN 2048
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_ALPN
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_ENCRYPT_THEN_MAC

#if defined(MQTLS_FW_TLS13)
#define MBEDTLS_PSA_CRYPTO_C /* TLS 1.3 in 3.6 is PSA only; mqtls then uses PSA too */
#define MBEDTLS_PSA_KEY_SLOT_COUNT 8
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED /* resumption */
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE /* required by TLS 1.3 in 3.6 */
#define MBEDTLS_HKDF_C
#define MBEDTLS_SSL_CIPHERSUITES \
    MBEDTLS_TLS1_3_AES_128_GCM_SHA256, MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
#if defined(MQTLS_FW_SMALL_RECORDS)
/* A broker made to send records of at most 2 KB (test/fwprofile/
 * small_records.c); we also ask for it the TLS 1.3 way (RFC 8449), which
 * OpenSSL ignores and other brokers may honour. */
#define MBEDTLS_SSL_IN_CONTENT_LEN 2048
#define MBEDTLS_SSL_RECORD_SIZE_LIMIT
/* Our records: a publish of up to 1 KB per record (mbedTLS splits larger
 * writes), and our Certificate message (about 600 bytes) fits. */
#undef MBEDTLS_SSL_OUT_CONTENT_LEN
#define MBEDTLS_SSL_OUT_CONTENT_LEN 1024
#else
#define MBEDTLS_SSL_IN_CONTENT_LEN 16384 /* OpenSSL sends 16 KB records on 1.3 */
#endif
#else
#define MBEDTLS_SSL_CIPHERSUITES MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
#define MBEDTLS_SSL_IN_CONTENT_LEN 2048
/* Elliptic-curve work that pauses and goes on (mbedtls_ecp_set_max_ops):
 * the handshake in slices, so a superloop keeps feeding its watchdog
 * (mqtls_tls_config_set_slices()). TLS 1.2 ECDHE-ECDSA only, and not with
 * MBEDTLS_USE_PSA_CRYPTO. */
#define MBEDTLS_ECP_RESTARTABLE
/* MBEDTLS_SSL_KEEP_PEER_CERTIFICATE not defined: the peer's certificate
 * is freed after the handshake. */
#endif

#endif
