/* SPDX-License-Identifier: Apache-2.0 */
/* mbedTLS 2.28 configured as a device would be: what `make bench`'s
 * firmware TLS profile builds from Debian's own mbedTLS source package
 * (scripts/fwprofile.sh), to show what mqtls costs a microcontroller.
 *
 *  - TLS 1.2 client only; ECDHE-ECDSA with AES-128-GCM over P-256 only; no
 *    RSA, nothing older than TLS 1.2;
 *  - 2 KB record buffers, with a 2048-byte maximum fragment length
 *    requested (the broker must honour it, and send a certificate chain
 *    that fits one record);
 *  - the peer's certificate not kept after the handshake;
 *  - RAM-saving elliptic curves: a small window, no fixed-point tables;
 *  - every allocation from one caller-owned arena
 *    (MBEDTLS_MEMORY_BUFFER_ALLOC_C), so every byte is counted;
 *  - session tickets, SNI, ALPN for resumption and brokers that want them.
 * Used with -DMBEDTLS_CONFIG_FILE='"mbedtls_device_config.h"'. */
#ifndef MQTLS_MBEDTLS_DEVICE_CONFIG_H
#define MQTLS_MBEDTLS_DEVICE_CONFIG_H

/* System */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C

/* Crypto */
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES     /* tables in flash, not RAM */
#define MBEDTLS_AES_FEWER_TABLES
#define MBEDTLS_GCM_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_MD_C
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
#define MBEDTLS_SSL_CIPHERSUITES MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH
#define MBEDTLS_SSL_IN_CONTENT_LEN 2048
#define MBEDTLS_SSL_OUT_CONTENT_LEN 2048
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_ALPN
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_ENCRYPT_THEN_MAC
/* MBEDTLS_SSL_KEEP_PEER_CERTIFICATE not defined: the peer's certificate
 * is freed after the handshake. */

#include "mbedtls/check_config.h"

#endif
