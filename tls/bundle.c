/* SPDX-License-Identifier: Apache-2.0 */
#include "tls/bundle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform.h>
#include <mbedtls/platform_util.h>

#include "net/blobs.h"
#include "net/error.h"
#include "tls/tls_compat.h"

static const char BEGIN[] = "-----BEGIN CERTIFICATE-----";
static const char END[] = "-----END CERTIFICATE-----";

static const uint8_t *find(const uint8_t *p, size_t len, const char *tag)
{
    size_t n = strlen(tag), i;
    for (i = 0; i + n <= len; i++)
        if (p[i] == (uint8_t)tag[0] && memcmp(p + i, tag, n) == 0)
            return p + i;
    return NULL;
}

int mqtls_bundle_parse_key(mbedtls_pk_context *pk, const uint8_t *key, size_t len)
{
    uint8_t *copy = mbedtls_calloc(1, len + 1);
    int ret;
    if (copy == NULL)
        return MQTLS_ERR_TLS_OUT_OF_MEMORY;
    memcpy(copy, key, len);
    copy[len] = 0;
    ret = mqtls_pk_parse_key(pk, copy, len + 1, NULL, 0);
    if (ret != 0)
        ret = mqtls_pk_parse_key(pk, copy, len, NULL, 0); /* DER */
    mbedtls_platform_zeroize(copy, len + 1);
    mbedtls_free(copy);
    return ret == 0 ? MQTLS_OK : MQTLS_ERR_TLS_BAD_KEY;
}

/* Anywhere in the input: `openssl x509 -text` puts kilobytes of text
 * before the block. */
bool mqtls_bundle_looks_like_pem(const uint8_t *p, size_t len)
{
    return find(p, len, "-----BEGIN ") != NULL;
}

/* One PEM block [b, e) parsed into chain (mbedTLS wants a NUL inside the
 * length for PEM). */
static int parse_pem_block(mbedtls_x509_crt *chain, const uint8_t *b, size_t n)
{
    unsigned char *one = mbedtls_calloc(1, n + 1);
    int ret;
    if (one == NULL)
        return MQTLS_ERR_TLS_OUT_OF_MEMORY;
    memcpy(one, b, n);
    one[n] = 0;
    ret = mbedtls_x509_crt_parse(chain, one, n + 1) == 0 ? 0 : MQTLS_ERR_TLS_BAD_CA;
    mbedtls_free(one);
    return ret;
}

/* Length of the DER SEQUENCE at p (tag, length, content), or 0. */
static size_t der_length(const uint8_t *p, size_t len)
{
    size_t n, i, body;
    if (len < 2 || p[0] != 0x30)
        return 0;
    if (p[1] < 0x80)
        return 2u + p[1] <= len ? 2u + p[1] : 0;
    n = p[1] & 0x7fu;
    if (n == 0 || n > 4 || len < 2 + n)
        return 0;
    for (body = 0, i = 0; i < n; i++)
        body = body << 8 | p[2 + i];
    return body <= len - 2 - n ? 2 + n + body : 0;
}

int mqtls_bundle_parse(mbedtls_x509_crt *out, const uint8_t *data, size_t len, int require_ca,
                       size_t *count, size_t *bad_index)
{
    mbedtls_x509_crt parsed;
    const mbedtls_x509_crt *c;
    size_t index = 0, pos = 0;
    int ret = 0, pem;

    if (bad_index != NULL)
        *bad_index = 0;
    if (data == NULL || len == 0)
        return MQTLS_ERR_CA_EMPTY;
    pem = mqtls_bundle_looks_like_pem(data, len);
    /* Each certificate into a scratch chain first, so a bad one is named
     * and nothing is added unless all are good. */
    mbedtls_x509_crt_init(&parsed);
    while (ret == 0 && pos < len) {
        if (pem) {
            const uint8_t *b = find(data + pos, len - pos, BEGIN), *e;
            if (b == NULL)
                break;
            index++;
            e = find(b, len - (size_t)(b - data), END);
            if (e == NULL) { /* the last block is cut short */
                ret = MQTLS_ERR_TLS_BAD_CA;
                break;
            }
            e += sizeof END - 1;
            ret = parse_pem_block(&parsed, b, (size_t)(e - b));
            pos = (size_t)(e - data);
        } else {
            size_t n = der_length(data + pos, len - pos);
            index++;
            if (n == 0 || mbedtls_x509_crt_parse_der(&parsed, data + pos, n) != 0)
                ret = MQTLS_ERR_TLS_BAD_CA;
            pos += n;
        }
    }
    if (ret == 0 && index == 0)
        ret = MQTLS_ERR_CA_EMPTY;
    for (c = &parsed; ret == 0 && require_ca && c != NULL && c->raw.len != 0; c = c->next) {
        if (!mqtls_crt_is_ca(c)) {
            ret = MQTLS_ERR_CA_NOT_CA;
            break;
        }
    }
    if (ret == 0) {
        for (c = &parsed; c != NULL && c->raw.len != 0; c = c->next)
            if (mbedtls_x509_crt_parse_der(out, c->raw.p, c->raw.len) != 0) {
                ret = MQTLS_ERR_TLS_OUT_OF_MEMORY; /* it parsed once already */
                break;
            }
        if (count != NULL)
            *count = index;
    } else if (bad_index != NULL) {
        *bad_index = index;
        if (ret == MQTLS_ERR_CA_NOT_CA) {
            size_t i = 1;
            for (c = &parsed; c != NULL && mqtls_crt_is_ca(c); c = c->next)
                i++;
            *bad_index = i;
        }
    }
    mbedtls_x509_crt_free(&parsed);
    return ret;
}

int mqtls_bundle_read_file(const char *path, unsigned char **out, size_t *len)
{
    FILE *f;
    long size;
    unsigned char *buf;

    if (path == NULL || out == NULL || len == NULL)
        return MQTLS_ERR_INVALID_ARG;
    f = fopen(path, "rb");
    if (f == NULL)
        return MQTLS_ERR_TLS_FILE;
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return MQTLS_ERR_TLS_FILE;
    }
    buf = mbedtls_calloc(1, (size_t)size + 1);
    if (buf == NULL) {
        fclose(f);
        return MQTLS_ERR_TLS_OUT_OF_MEMORY;
    }
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
        mbedtls_free(buf);
        fclose(f);
        return MQTLS_ERR_TLS_FILE;
    }
    fclose(f);
    buf[size] = 0;
    *out = buf;
    *len = (size_t)size;
    return MQTLS_OK;
}

int mqtls_bundle_read_blob(const mqtls_blobs *b, const char *name, size_t max, uint8_t **out,
                           size_t *len)
{
    size_t n = 0;
    uint8_t *p;
    int ret = b->read(b->ctx, name, NULL, 0, &n);

    if (ret == MQTLS_OK || (ret == MQTLS_ERR_BUFFER_TOO_SMALL && n > max))
        return MQTLS_ERR_BLOB_CORRUPT; /* empty, or larger than we ever write */
    if (ret != MQTLS_ERR_BUFFER_TOO_SMALL)
        return ret;
    p = mbedtls_calloc(1, n);
    if (p == NULL)
        return MQTLS_ERR_TLS_OUT_OF_MEMORY;
    ret = b->read(b->ctx, name, p, n, len);
    if (ret != MQTLS_OK) {
        mbedtls_platform_zeroize(p, n);
        mbedtls_free(p);
        return ret == MQTLS_ERR_BUFFER_TOO_SMALL ? MQTLS_ERR_BLOB_CORRUPT : ret;
    }
    *out = p;
    return MQTLS_OK;
}

int mqtls_bundle_cert_has_point(const uint8_t *cert, size_t cert_len, const uint8_t point[65])
{
    mbedtls_x509_crt crt;
    uint8_t got[65];
    size_t n = 0;
    int ret;

    mbedtls_x509_crt_init(&crt);
    ret = mqtls_bundle_parse(&crt, cert, cert_len, 0, &n, NULL);
    if (ret != MQTLS_OK)
        ret = ret == MQTLS_ERR_TLS_OUT_OF_MEMORY ? ret : MQTLS_ERR_TLS_BAD_CERT;
    else if (mqtls_pk_p256_point(&crt.pk, got) != 0 || memcmp(point, got, sizeof got) != 0)
        ret = MQTLS_ERR_TLS_KEY_MISMATCH;
    mbedtls_x509_crt_free(&crt);
    return ret;
}
