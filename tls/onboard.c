/* SPDX-License-Identifier: Apache-2.0 */
#include "tls/onboard.h"
#include "tls/tls_compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_csr.h>

#include "net/error.h"
#include "tls/bundle.h"

static const char TAG_KEY[] = "mqtls-factory-key: ";
static const char TAG_NONCE[] = "mqtls-nonce: ";
static const char TAG_PROOF[] = "mqtls-proof: ";

static void to_hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hex_digit(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The key's SubjectPublicKeyInfo DER at the end of buf; its length, or < 0. */
static int spki_of(mbedtls_pk_context *pk, uint8_t *buf, size_t cap)
{
    return mbedtls_pk_write_pubkey_der(pk, buf, cap);
}

/* SHA-256("mqtls onboarding 1" 0 serial 0 csr_spki nonce). */
static int digest(const char *serial, const uint8_t *csr_spki, size_t csr_spki_len,
                  const uint8_t nonce[MQTLS_ONBOARD_NONCE_LEN], uint8_t out[32])
{
    static const char label[] = "mqtls onboarding 1";
    mqtls_sha256_ctx h;
    mqtls_sha256_start(&h);
    mqtls_sha256_update(&h, label, sizeof label);
    mqtls_sha256_update(&h, serial, strlen(serial) + 1);
    mqtls_sha256_update(&h, csr_spki, csr_spki_len);
    mqtls_sha256_update(&h, nonce, MQTLS_ONBOARD_NONCE_LEN);
    return mqtls_sha256_finish(&h, out) == 0 ? MQTLS_OK : MQTLS_ERR_TLS_CRYPTO;
}

int mqtls_onboard_key_pin(const uint8_t *key, size_t len, char pin[65])
{
    mbedtls_pk_context pk;
    uint8_t der[MQTLS_ONBOARD_MAX_SPKI + 64], hash[32];
    uint8_t *copy;
    int n, ret;

    if (key == NULL || len == 0 || pin == NULL)
        return MQTLS_ERR_INVALID_ARG;
    mbedtls_pk_init(&pk);
    ret = mqtls_bundle_parse_key(&pk, key, len);
    if (ret != MQTLS_OK && (copy = mbedtls_calloc(1, len + 1)) != NULL) { /* a public key, then */
        memcpy(copy, key, len);
        copy[len] = 0;
        ret = mbedtls_pk_parse_public_key(&pk, copy, len + 1) == 0 ||
                      mbedtls_pk_parse_public_key(&pk, copy, len) == 0
                  ? MQTLS_OK
                  : MQTLS_ERR_TLS_BAD_KEY;
        mbedtls_free(copy);
    }
    if (ret == MQTLS_OK) {
        n = spki_of(&pk, der, sizeof der);
        if (n <= 0)
            ret = MQTLS_ERR_TLS_BAD_KEY;
        else if (mqtls_sha256(der + sizeof der - (size_t)n, (size_t)n, hash) != 0)
            ret = MQTLS_ERR_TLS_CRYPTO;
        else
            to_hex(hash, 32, pin);
    }
    mbedtls_pk_free(&pk);
    return ret;
}

int mqtls_onboard_request(const uint8_t *factory_key, size_t factory_key_len, const char *serial,
                          const uint8_t *csr, size_t csr_len, uint8_t *out, size_t cap,
                          size_t *len)
{
    mbedtls_pk_context fk;
    mbedtls_x509_csr req;
    mqtls_rng rng;
    uint8_t fspki[MQTLS_ONBOARD_MAX_SPKI + 64], cspki[1200]; /* the CSR's key may be RSA */
    uint8_t nonce[MQTLS_ONBOARD_NONCE_LEN], hash[32], sig[MBEDTLS_ECDSA_MAX_LEN];
    char hex[2 * (MQTLS_ONBOARD_MAX_SPKI + 64) + 1];
    size_t sig_len = 0, at;
    uint8_t *copy;
    int fn = 0, cn = 0, ret, w;

    if (factory_key == NULL || serial == NULL || csr == NULL || csr_len == 0 || out == NULL ||
        len == NULL)
        return MQTLS_ERR_INVALID_ARG;
    mbedtls_pk_init(&fk);
    mbedtls_x509_csr_init(&req);
    mqtls_rng_init(&rng);
    ret = mqtls_bundle_parse_key(&fk, factory_key, factory_key_len);
    if (ret == MQTLS_OK && !mqtls_pk_is_p256(&fk))
        ret = MQTLS_ERR_TLS_BAD_KEY;
    if (ret == MQTLS_OK && (copy = mbedtls_calloc(1, csr_len + 1)) != NULL) {
        memcpy(copy, csr, csr_len);
        copy[csr_len] = 0;
        if (mbedtls_x509_csr_parse(&req, copy, csr_len + 1) != 0)
            ret = MQTLS_ERR_INVALID_ARG;
        mbedtls_free(copy);
    }
    if (ret == MQTLS_OK && mqtls_rng_seed(&rng, "mqtls onboarding") != 0)
        ret = MQTLS_ERR_TLS_CONFIG;
    if (ret == MQTLS_OK) {
        fn = spki_of(&fk, fspki, sizeof fspki);
        cn = spki_of(&req.pk, cspki, sizeof cspki);
        if (fn <= 0 || cn <= 0 || fn > MQTLS_ONBOARD_MAX_SPKI)
            ret = MQTLS_ERR_TLS_BAD_KEY;
    }
    if (ret == MQTLS_OK && mqtls_rng_random(&rng, nonce, sizeof nonce) != 0)
        ret = MQTLS_ERR_TLS_CONFIG;
    if (ret == MQTLS_OK)
        ret = digest(serial, cspki + sizeof cspki - (size_t)cn, (size_t)cn, nonce, hash);
    if (ret == MQTLS_OK &&
        mqtls_pk_sign_sha256(&fk, hash, sig, sizeof sig, &sig_len, &rng) != 0)
        ret = MQTLS_ERR_TLS_CRYPTO;
    /* CSR text, then the three lines. */
    at = csr_len;
    while (ret == MQTLS_OK && at > 0 && (csr[at - 1] == '\0'))
        at--;
    if (ret == MQTLS_OK && at + 3 * 24 + 2 * ((size_t)fn + sizeof nonce + sig_len) + 8 > cap)
        ret = MQTLS_ERR_BUFFER_TOO_SMALL;
    if (ret == MQTLS_OK) {
        memcpy(out, csr, at);
        if (at > 0 && out[at - 1] != '\n')
            out[at++] = '\n';
        to_hex(fspki + sizeof fspki - (size_t)fn, (size_t)fn, hex);
        w = snprintf((char *)out + at, cap - at, "%s%s\n", TAG_KEY, hex);
        at += (size_t)w;
        to_hex(nonce, sizeof nonce, hex);
        w = snprintf((char *)out + at, cap - at, "%s%s\n", TAG_NONCE, hex);
        at += (size_t)w;
        to_hex(sig, sig_len, hex);
        w = snprintf((char *)out + at, cap - at, "%s%s\n", TAG_PROOF, hex);
        at += (size_t)w;
        *len = at;
    }
    mbedtls_pk_free(&fk); /* wipes the factory key */
    mbedtls_x509_csr_free(&req);
    mqtls_rng_free(&rng);
    return ret;
}

/* The hex after tag, decoded into out (at most cap bytes): its length, or
 * -1. Searches len bytes only. */
static long field(const uint8_t *req, size_t len, const char *tag, uint8_t *out, size_t cap)
{
    const size_t tl = strlen(tag);
    size_t i, n = 0;
    for (i = 0; i + tl <= len; i++)
        if ((i == 0 || req[i - 1] == '\n') && memcmp(req + i, tag, tl) == 0)
            break;
    if (i + tl > len)
        return -1;
    for (i += tl; i + 1 < len && req[i] != '\n' && req[i] != '\r'; i += 2) {
        int hi = hex_digit(req[i]), lo = hex_digit(req[i + 1]);
        if (hi < 0 || lo < 0 || n == cap)
            return -1;
        out[n++] = (uint8_t)(hi << 4 | lo);
    }
    return (long)n;
}

int mqtls_onboard_parse(const uint8_t *req, size_t len, mqtls_onboard_proof *out)
{
    long k, s;
    if (req == NULL || out == NULL)
        return MQTLS_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    k = field(req, len, TAG_KEY, out->factory_spki, sizeof out->factory_spki);
    s = field(req, len, TAG_PROOF, out->sig, sizeof out->sig);
    if (k <= 0 || s <= 0 ||
        field(req, len, TAG_NONCE, out->nonce, sizeof out->nonce) != MQTLS_ONBOARD_NONCE_LEN)
        return MQTLS_ERR_INVALID_ARG;
    out->factory_spki_len = (size_t)k;
    out->sig_len = (size_t)s;
    return MQTLS_OK;
}

int mqtls_onboard_pin_matches(const mqtls_onboard_proof *p, const char *pin)
{
    uint8_t hash[32];
    char hex[65];
    if (p == NULL || pin == NULL ||
        mqtls_sha256(p->factory_spki, p->factory_spki_len, hash) != 0)
        return 0;
    to_hex(hash, 32, hex);
    return strlen(pin) == 64 && strcmp(hex, pin) == 0;
}

int mqtls_onboard_verify(const mqtls_onboard_proof *p, const char *serial, const uint8_t *csr_spki,
                         size_t csr_spki_len)
{
    mbedtls_pk_context fk;
    uint8_t hash[32], point[65];
    int ret = MQTLS_ERR_UPDATE_BAD_SIGNATURE;

    if (p == NULL || serial == NULL || csr_spki == NULL)
        return MQTLS_ERR_INVALID_ARG;
    mbedtls_pk_init(&fk);
    if (mbedtls_pk_parse_public_key(&fk, p->factory_spki, p->factory_spki_len) == 0 &&
        mqtls_pk_p256_point(&fk, point) == 0 &&
        digest(serial, csr_spki, csr_spki_len, p->nonce, hash) == MQTLS_OK &&
        mqtls_p256_verify(point, hash, p->sig, p->sig_len) == 0)
        ret = MQTLS_OK;
    mbedtls_pk_free(&fk);
    return ret;
}
