/* SPDX-License-Identifier: Apache-2.0 */
#include "tls/ca_update.h"
#include "tls/tls_compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include "net/error.h"
#include "tls/bundle.h"

#define TAG_LEN 8u
#define SIGNED_HEAD (TAG_LEN + 4u + 8u + 4u) /* tag, version, expires, bundle length */

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---- the signer's public key ---------------------------------------------- */

void mqtls_ca_signer_init(mqtls_ca_signer *s)
{
    if (s == NULL)
        return;
    memset(s, 0, sizeof *s);
}

int mqtls_ca_signer_load(mqtls_ca_signer *s, const uint8_t *key, size_t len)
{
    mbedtls_pk_context pk;
    unsigned char *copy;
    int ret;

    if (s == NULL || key == NULL || len == 0)
        return MQTLS_ERR_INVALID_ARG;
    s->ready = 0;
    mbedtls_pk_init(&pk);
    copy = mbedtls_calloc(1, len + 1); /* PEM parsing wants the NUL inside the length */
    if (copy == NULL)
        return MQTLS_ERR_TLS_OUT_OF_MEMORY;
    memcpy(copy, key, len);
    copy[len] = 0;
    ret = mbedtls_pk_parse_public_key(&pk, copy, len + 1);
    if (ret != 0)
        ret = mbedtls_pk_parse_public_key(&pk, copy, len);
    if (ret != 0) {
        /* A certificate carrying the key will do as well. */
        mbedtls_x509_crt crt;
        size_t n = 0;
        mbedtls_x509_crt_init(&crt);
        if (mqtls_bundle_parse(&crt, key, len, 0, &n, NULL) == MQTLS_OK && n == 1) {
            mbedtls_pk_free(&pk);
            mbedtls_pk_init(&pk);
            ret = mbedtls_pk_parse_public_key(&pk, crt.pk_raw.p, crt.pk_raw.len);
        }
        mbedtls_x509_crt_free(&crt);
    }
    mbedtls_free(copy);
    /* Kept as the bare point: what PSA imports, and no mbedTLS type in
     * the public struct. */
    if (ret != 0 || mqtls_pk_p256_point(&pk, s->point) != 0)
        ret = MQTLS_ERR_TLS_BAD_KEY;
    mbedtls_pk_free(&pk);
    if (ret != 0)
        return ret;
    s->ready = 1;
    return MQTLS_OK;
}

int mqtls_ca_signer_load_file(mqtls_ca_signer *s, const char *path)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    int ret = mqtls_bundle_read_file(path, &buf, &len);
    if (ret != MQTLS_OK)
        return ret;
    ret = mqtls_ca_signer_load(s, buf, len);
    mbedtls_free(buf);
    return ret;
}

void mqtls_ca_signer_free(mqtls_ca_signer *s)
{
    if (s == NULL)
        return;
    memset(s, 0, sizeof *s);
}

/* ---- verifying ----------------------------------------------------------------- */

int mqtls_ca_update_verify(const uint8_t *msg, size_t len, mqtls_ca_signer *signer,
                           uint32_t installed_version, time_t now, mqtls_ca_update *out)
{
    uint8_t hash[32];
    size_t bundle_len, sig_len, signed_len;
    uint64_t expires;
    int i;

    if (msg == NULL || signer == NULL || !signer->ready || out == NULL)
        return MQTLS_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    if (len < SIGNED_HEAD || memcmp(msg, MQTLS_CA_UPDATE_TAG, TAG_LEN) != 0)
        return MQTLS_ERR_UPDATE_MALFORMED;
    bundle_len = get32(msg + 20);
    if (bundle_len > len - SIGNED_HEAD)
        return MQTLS_ERR_UPDATE_MALFORMED;
    signed_len = SIGNED_HEAD + bundle_len;
    if (len - signed_len < 2) /* no room even for the signature length */
        return len == signed_len ? MQTLS_ERR_UPDATE_UNSIGNED : MQTLS_ERR_UPDATE_MALFORMED;
    sig_len = (size_t)msg[signed_len] << 8 | msg[signed_len + 1];
    if (sig_len == 0)
        return len == signed_len + 2 ? MQTLS_ERR_UPDATE_UNSIGNED : MQTLS_ERR_UPDATE_MALFORMED;
    if (sig_len != len - signed_len - 2)
        return MQTLS_ERR_UPDATE_MALFORMED;
    /* Nothing below is believed until the signature is. */
    if (mqtls_sha256(msg, signed_len, hash) != 0 ||
        mqtls_p256_verify(signer->point, hash, msg + signed_len + 2, sig_len) != 0)
        return MQTLS_ERR_UPDATE_BAD_SIGNATURE;
    out->version = get32(msg + 8);
    for (expires = 0, i = 0; i < 8; i++)
        expires = expires << 8 | msg[12 + i];
    out->expires = expires > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)expires;
    out->bundle = msg + SIGNED_HEAD;
    out->bundle_len = bundle_len;
    if ((int64_t)now > out->expires)
        return MQTLS_ERR_UPDATE_EXPIRED;
    if (out->version <= installed_version)
        return MQTLS_ERR_UPDATE_OLD_VERSION;
    return MQTLS_OK;
}

/* ---- applying --------------------------------------------------------------- */

static int finish(mqtls_ca_update_result *res, const mqtls_castore *cas, int status,
                  const char *why)
{
    if (res != NULL) {
        res->status = status;
        res->active_version = mqtls_castore_version(cas, MQTLS_CA_ACTIVE);
        if (status != MQTLS_OK && res->why[0] == '\0')
            snprintf(res->why, sizeof res->why, "%s", why != NULL ? why : mqtls_strerror(status));
    }
    return status;
}

int mqtls_ca_update_apply(mqtls_castore *cas, mqtls_ca_signer *signer, const uint8_t *msg,
                          size_t len, time_t now, mqtls_ca_probe probe, void *probe_ctx,
                          mqtls_ca_update_result *res)
{
    mqtls_ca_update up;
    size_t bad = 0;
    int ret;

    memset(&up, 0, sizeof up); /* verify may return before it fills it */
    if (res != NULL)
        memset(res, 0, sizeof *res);
    if (cas == NULL || probe == NULL)
        return MQTLS_ERR_INVALID_ARG;
    ret = mqtls_ca_update_verify(msg, len, signer, mqtls_castore_version(cas, MQTLS_CA_ACTIVE),
                                 now, &up);
    if (res != NULL)
        res->version = up.version;
    if (ret != MQTLS_OK)
        return finish(res, cas, ret, NULL);
    ret = mqtls_castore_stage(cas, up.bundle, up.bundle_len, up.version, &bad);
    if (ret != MQTLS_OK) {
        char why[96];
        snprintf(why, sizeof why, "bundle refused at certificate %u: %s", (unsigned)bad,
                 mqtls_strerror(ret));
        return finish(res, cas, ret, why);
    }
    ret = mqtls_castore_trust(cas, MQTLS_TRUST_STAGED);
    if (ret == MQTLS_OK) {
        char why[128] = "";
        ret = probe(probe_ctx, why, sizeof why);
        if (ret != MQTLS_OK) {
            mqtls_castore_rollback(cas);
            if (res != NULL)
                snprintf(res->why, sizeof res->why, "staged CAs did not verify the broker: %s",
                         why[0] ? why : mqtls_strerror(ret));
            return finish(res, cas, MQTLS_ERR_UPDATE_PROBE_FAILED, NULL);
        }
        ret = mqtls_castore_commit(cas);
    }
    if (ret != MQTLS_OK)
        mqtls_castore_rollback(cas);
    return finish(res, cas, ret, NULL);
}

int mqtls_ca_update_status_json(const mqtls_ca_update_result *res, char *buf, size_t cap,
                                size_t *len)
{
    char why[2 * sizeof res->why];
    size_t i, o = 0;
    int n;

    if (res == NULL || buf == NULL || cap == 0)
        return MQTLS_ERR_INVALID_ARG;
    for (i = 0; res->why[i] != '\0' && o + 2 < sizeof why; i++) {
        char c = res->why[i];
        if ((unsigned char)c < 0x20)
            continue;
        if (c == '"' || c == '\\')
            why[o++] = '\\';
        why[o++] = c;
    }
    why[o] = '\0';
    n = snprintf(buf, cap,
                 "{\"result\":\"%s\",\"error\":\"%s\",\"version\":%lu,\"active_version\":%lu,"
                 "\"why\":\"%s\"}",
                 res->status == MQTLS_OK ? "committed" : "rejected",
                 res->status == MQTLS_OK ? "" : mqtls_errname(res->status),
                 (unsigned long)res->version, (unsigned long)res->active_version, why);
    if (n < 0 || (size_t)n >= cap) {
        buf[0] = '\0';
        return MQTLS_ERR_BUFFER_TOO_SMALL;
    }
    if (len != NULL)
        *len = (size_t)n;
    return MQTLS_OK;
}

/* ---- signing (the operator's side) ----------------------------------------- */

int mqtls_ca_update_sign(const uint8_t *bundle, size_t bundle_len, uint32_t version,
                         int64_t expires, const uint8_t *key, size_t key_len,
                         const char *passphrase, uint8_t *out, size_t cap, size_t *len)
{
    mbedtls_pk_context pk;
    mqtls_rng rng;
    unsigned char *copy;
    uint8_t hash[32];
    size_t signed_len, sig_len = 0;
    uint64_t e;
    int ret, i;

    if (bundle == NULL || bundle_len == 0 || bundle_len > UINT32_MAX || key == NULL ||
        key_len == 0 || out == NULL || len == NULL || expires < 0)
        return MQTLS_ERR_INVALID_ARG;
    signed_len = SIGNED_HEAD + bundle_len;
    if (cap < signed_len + 2 + MQTLS_CA_UPDATE_MAX_SIG)
        return MQTLS_ERR_BUFFER_TOO_SMALL;
    memcpy(out, MQTLS_CA_UPDATE_TAG, TAG_LEN);
    put32(out + 8, version);
    for (e = (uint64_t)expires, i = 7; i >= 0; i--, e >>= 8)
        out[12 + i] = (uint8_t)e;
    put32(out + 20, (uint32_t)bundle_len);
    memcpy(out + SIGNED_HEAD, bundle, bundle_len);

    mbedtls_pk_init(&pk);
    mqtls_rng_init(&rng);
    copy = mbedtls_calloc(1, key_len + 1);
    if (copy == NULL)
        return MQTLS_ERR_TLS_OUT_OF_MEMORY;
    memcpy(copy, key, key_len);
    copy[key_len] = 0;
    ret = mqtls_pk_parse_key(&pk, copy, key_len + 1, (const unsigned char *)passphrase,
                             passphrase != NULL ? strlen(passphrase) : 0);
    if (ret != 0)
        ret = mqtls_pk_parse_key(&pk, copy, key_len, (const unsigned char *)passphrase,
                                 passphrase != NULL ? strlen(passphrase) : 0);
    mbedtls_platform_zeroize(copy, key_len + 1);
    mbedtls_free(copy);
    if (ret != 0 || !mqtls_pk_is_p256(&pk)) {
        ret = MQTLS_ERR_TLS_BAD_KEY;
    } else if (mqtls_rng_seed(&rng, "mqtls ca update signer") != 0 ||
               mqtls_sha256(out, signed_len, hash) != 0 ||
               mqtls_pk_sign_sha256(&pk, hash, out + signed_len + 2, MQTLS_CA_UPDATE_MAX_SIG,
                                    &sig_len, &rng) != 0 ||
               sig_len > MQTLS_CA_UPDATE_MAX_SIG) {
        ret = MQTLS_ERR_TLS_CONFIG;
    } else {
        out[signed_len] = (uint8_t)(sig_len >> 8);
        out[signed_len + 1] = (uint8_t)sig_len;
        *len = signed_len + 2 + sig_len;
        ret = MQTLS_OK;
    }
    mbedtls_pk_free(&pk); /* wipes the private key */
    mqtls_rng_free(&rng);
    return ret;
}
