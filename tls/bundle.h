/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — internal: parsing a CA bundle, shared by the TLS configuration
 * and the CA store. Not installed. */
#ifndef MQTLS_TLS_BUNDLE_H
#define MQTLS_TLS_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

/* Parses data, a PEM bundle (any number of CERTIFICATE blocks, other text
 * between them ignored, no NUL needed) or one or more concatenated DER
 * certificates, appending each certificate to out. All or nothing: on
 * failure out is unchanged and *bad_index (if not NULL) is the 1-based
 * position of the certificate that failed (0 when the input held none).
 * Returns 0 and sets *count, or MQTLS_ERR_TLS_BAD_CA, MQTLS_ERR_CA_EMPTY,
 * MQTLS_ERR_TLS_OUT_OF_MEMORY. With require_ca, a certificate without the
 * CA flag fails the bundle with MQTLS_ERR_CA_NOT_CA. */
int mqtls_bundle_parse(mbedtls_x509_crt *out, const uint8_t *data, size_t len, int require_ca,
                       size_t *count, size_t *bad_index);

/* A private key as mbedTLS wants it: PEM with its NUL counted, DER as is
 * (the copy made for that is wiped). MQTLS_OK, MQTLS_ERR_TLS_BAD_KEY or
 * MQTLS_ERR_TLS_OUT_OF_MEMORY. */
int mqtls_bundle_parse_key(mbedtls_pk_context *pk, const uint8_t *key, size_t len);

/* Whether data holds a PEM block ("-----BEGIN "), anywhere in it. */
bool mqtls_bundle_looks_like_pem(const uint8_t *data, size_t len);

/* Reads a whole file into a fresh buffer with a NUL after it; the caller
 * frees it with mbedtls_free (everything in tls/ allocates through
 * mbedTLS's allocator, so a device's arena counts it all).
 * MQTLS_ERR_TLS_FILE, MQTLS_ERR_TLS_OUT_OF_MEMORY. */
int mqtls_bundle_read_file(const char *path, unsigned char **out, size_t *len);

struct mqtls_blobs;
/* Reads blob name into a fresh buffer of its exact size from mbedTLS's
 * allocator (mbedtls_calloc: a device's TLS arena, where it is counted);
 * the caller wipes what needs it and frees it with mbedtls_free. Blobs
 * larger than max, or empty, are MQTLS_ERR_BLOB_CORRUPT; otherwise the
 * blob interface's error, or MQTLS_ERR_TLS_OUT_OF_MEMORY. */
int mqtls_bundle_read_blob(const struct mqtls_blobs *b, const char *name, size_t max,
                           uint8_t **out, size_t *len);

/* Whether cert[0..cert_len) (PEM or DER) carries the P-256 public key
 * point (0x04 X Y): MQTLS_OK, MQTLS_ERR_TLS_KEY_MISMATCH,
 * MQTLS_ERR_TLS_BAD_CERT or MQTLS_ERR_TLS_OUT_OF_MEMORY. For keys held
 * elsewhere, whose public half is all mqtls sees. */
int mqtls_bundle_cert_has_point(const uint8_t *cert, size_t cert_len, const uint8_t point[65]);

#endif
