/* SPDX-License-Identifier: Apache-2.0 */
#include "tls/identity.h"
#include "tls/tls_compat.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/pk.h>
#include <mbedtls/platform.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include "net/error.h"
#include "tls/bundle.h"

#define MAX_BLOB 16384u

static const char *const blob_name[2] = {MQTLS_IDENTITY_BLOB_CURRENT, MQTLS_IDENTITY_BLOB_NEW};

void mqtls_identity_init(mqtls_identity *id)
{
    if (id != NULL)
        memset(id, 0, sizeof *id);
}

static void wipe_free(uint8_t *p, size_t len)
{
    if (p != NULL) {
        mbedtls_platform_zeroize(p, len);
        mbedtls_free(p);
    }
}

static void clear_slot(mqtls_identity *id, mqtls_id_slot slot)
{
    mbedtls_free(id->cert[slot]);
    wipe_free(id->key[slot], id->key_len[slot]);
    id->cert[slot] = id->key[slot] = NULL;
    id->cert_len[slot] = id->key_len[slot] = 0;
}


/* A slot's key that is a reference: "ref:" and the reference's text. */
#define REF_TAG "ref:"
#define REF_MAX 255u

static bool is_ref(const uint8_t *key, size_t key_len)
{
    return key_len > 4 && key_len <= 4 + REF_MAX && memcmp(key, REF_TAG, 4) == 0;
}

/* The reference in key (tagged), NUL-terminated into ref. */
static void ref_text(const uint8_t *key, size_t key_len, char ref[REF_MAX + 1])
{
    memcpy(ref, key + 4, key_len - 4);
    ref[key_len - 4] = '\0';
}

static int check_pair(const mqtls_identity *id, const uint8_t *cert, size_t cert_len,
                      const uint8_t *key, size_t key_len)
{
    mbedtls_x509_crt crt;
    mbedtls_pk_context pk;
    size_t n = 0;
    int ret;

    mbedtls_x509_crt_init(&crt);
    mbedtls_pk_init(&pk);
    ret = mqtls_bundle_parse(&crt, cert, cert_len, 0, &n, NULL);
    if (ret != MQTLS_OK)
        ret = ret == MQTLS_ERR_TLS_OUT_OF_MEMORY ? ret : MQTLS_ERR_TLS_BAD_CERT;
    if (ret == MQTLS_OK && is_ref(key, key_len)) {
        char ref[REF_MAX + 1];
        ref_text(key, key_len, ref);
        ret = id->keys.check == NULL ? MQTLS_ERR_INVALID_ARG
                                     : id->keys.check(id->keys.ctx, ref, cert, cert_len);
    } else {
        if (ret == MQTLS_OK)
            ret = mqtls_bundle_parse_key(&pk, key, key_len);
        if (ret == MQTLS_OK && mqtls_pk_check_pair(&crt.pk, &pk) != 0)
            ret = MQTLS_ERR_TLS_KEY_MISMATCH;
    }
    mbedtls_x509_crt_free(&crt);
    mbedtls_pk_free(&pk);
    return ret;
}

/* [u32 cert_len][cert][u32 key_len][key], big-endian lengths. */
static int store_slot(mqtls_identity *id, mqtls_id_slot slot, mqtls_id_slot as)
{
    size_t n = 8 + id->cert_len[slot] + id->key_len[slot];
    uint8_t *p = mbedtls_calloc(1, n);
    size_t at = 0;
    int ret;
    if (p == NULL)
        return MQTLS_ERR_TLS_OUT_OF_MEMORY;
    p[at++] = (uint8_t)(id->cert_len[slot] >> 24);
    p[at++] = (uint8_t)(id->cert_len[slot] >> 16);
    p[at++] = (uint8_t)(id->cert_len[slot] >> 8);
    p[at++] = (uint8_t)id->cert_len[slot];
    memcpy(p + at, id->cert[slot], id->cert_len[slot]);
    at += id->cert_len[slot];
    p[at++] = (uint8_t)(id->key_len[slot] >> 24);
    p[at++] = (uint8_t)(id->key_len[slot] >> 16);
    p[at++] = (uint8_t)(id->key_len[slot] >> 8);
    p[at++] = (uint8_t)id->key_len[slot];
    memcpy(p + at, id->key[slot], id->key_len[slot]);
    ret = id->blobs.write(id->blobs.ctx, blob_name[as], p, n);
    wipe_free(p, n);
    return ret;
}

static int fill_slot(mqtls_identity *id, mqtls_id_slot slot, const uint8_t *cert, size_t cert_len,
                     const uint8_t *key, size_t key_len)
{
    uint8_t *c = mbedtls_calloc(1, cert_len), *k = mbedtls_calloc(1, key_len);
    if (c == NULL || k == NULL) {
        mbedtls_free(c);
        mbedtls_free(k);
        return MQTLS_ERR_TLS_OUT_OF_MEMORY;
    }
    memcpy(c, cert, cert_len);
    memcpy(k, key, key_len);
    clear_slot(id, slot);
    id->cert[slot] = c;
    id->key[slot] = k;
    id->cert_len[slot] = cert_len;
    id->key_len[slot] = key_len;
    return MQTLS_OK;
}

int mqtls_identity_attach(mqtls_identity *id, const mqtls_blobs *blobs)
{
    if (id == NULL || blobs == NULL || blobs->read == NULL || blobs->write == NULL ||
        blobs->remove == NULL)
        return MQTLS_ERR_INVALID_ARG;
    id->blobs = *blobs;
    id->has_blobs = true;
    return MQTLS_OK;
}

/* Reads a slot's blob: [u32 cert_len][cert][u32 key_len][key]. */
static int load_slot(mqtls_identity *id, mqtls_id_slot slot)
{
    size_t len = 0, cl, kl;
    uint8_t *buf;
    int ret = mqtls_bundle_read_blob(&id->blobs, blob_name[slot], MAX_BLOB, &buf, &len);
    if (ret != MQTLS_OK)
        return ret;
    ret = MQTLS_ERR_BLOB_CORRUPT;
    cl = len < 8 ? 0 : (size_t)buf[0] << 24 | (size_t)buf[1] << 16 | (size_t)buf[2] << 8 | buf[3];
    if (cl != 0 && cl <= len - 8) {
        kl = (size_t)buf[4 + cl] << 24 | (size_t)buf[5 + cl] << 16 | (size_t)buf[6 + cl] << 8 |
             buf[7 + cl];
        if (kl != 0 && kl == len - 8 - cl) {
            ret = check_pair(id, buf + 4, cl, buf + 8 + cl, kl);
            if (ret == MQTLS_OK)
                ret = fill_slot(id, slot, buf + 4, cl, buf + 8 + cl, kl);
        }
    }
    wipe_free(buf, len);
    return ret;
}

int mqtls_identity_restore(mqtls_identity *id)
{
    int ret;

    if (id == NULL)
        return MQTLS_ERR_INVALID_ARG;
    if (!id->has_blobs)
        return MQTLS_ERR_BLOB_NOT_FOUND;
    ret = load_slot(id, MQTLS_ID_CURRENT);
    /* A NEW that cannot be read is as good as none: CURRENT still works. */
    (void)load_slot(id, MQTLS_ID_NEW);
    return ret;
}

/* Checks and fills a slot, stores it (NEW always, CURRENT with persist). */
static int set_slot(mqtls_identity *id, mqtls_id_slot slot, const uint8_t *cert, size_t cert_len,
                    const uint8_t *key, size_t key_len, bool persist)
{
    int ret = check_pair(id, cert, cert_len, key, key_len);
    if (ret == MQTLS_OK)
        ret = fill_slot(id, slot, cert, cert_len, key, key_len);
    if (ret != MQTLS_OK)
        return ret;
    if (slot == MQTLS_ID_NEW) {
        id->new_refused = 0;
        id->new_unproven = 0;
        id->new_skip = false;
    }
    if (id->has_blobs && (slot == MQTLS_ID_NEW || persist)) {
        ret = store_slot(id, slot, slot);
        if (ret != MQTLS_OK && slot == MQTLS_ID_NEW)
            clear_slot(id, slot); /* not kept, not tried */
    }
    return ret;
}

int mqtls_identity_set(mqtls_identity *id, mqtls_id_slot slot, const uint8_t *cert,
                       size_t cert_len, const uint8_t *key, size_t key_len, bool persist)
{
    if (id == NULL || (slot != MQTLS_ID_CURRENT && slot != MQTLS_ID_NEW) || cert == NULL ||
        cert_len == 0 || key == NULL || key_len == 0)
        return MQTLS_ERR_INVALID_ARG;
    return set_slot(id, slot, cert, cert_len, key, key_len, persist);
}

int mqtls_identity_set_keys(mqtls_identity *id, const mqtls_identity_keys *keys)
{
    if (id == NULL || keys == NULL || keys->check == NULL || keys->apply == NULL)
        return MQTLS_ERR_INVALID_ARG;
    id->keys = *keys;
    return MQTLS_OK;
}

int mqtls_identity_set_ref(mqtls_identity *id, mqtls_id_slot slot, const uint8_t *cert,
                           size_t cert_len, const char *ref, bool persist)
{
    uint8_t tagged[4 + REF_MAX];
    size_t n;

    if (id == NULL || (slot != MQTLS_ID_CURRENT && slot != MQTLS_ID_NEW) || cert == NULL ||
        cert_len == 0 || ref == NULL || id->keys.apply == NULL || (n = strlen(ref)) == 0 ||
        n > REF_MAX)
        return MQTLS_ERR_INVALID_ARG;
    memcpy(tagged, REF_TAG, 4);
    memcpy(tagged + 4, ref, n);
    return set_slot(id, slot, cert, cert_len, tagged, 4 + n, persist);
}

bool mqtls_identity_has(const mqtls_identity *id, mqtls_id_slot slot)
{
    return id != NULL && (slot == MQTLS_ID_CURRENT || slot == MQTLS_ID_NEW) &&
           id->cert[slot] != NULL;
}

mqtls_id_slot mqtls_identity_next(const mqtls_identity *id)
{
    return mqtls_identity_has(id, MQTLS_ID_NEW) && id->new_refused == 0 && !id->new_skip
               ? MQTLS_ID_NEW
               : MQTLS_ID_CURRENT;
}

int mqtls_identity_apply(const mqtls_identity *id, mqtls_id_slot slot, mqtls_tls_config *cfg)
{
    if (!mqtls_identity_has(id, slot) || cfg == NULL)
        return MQTLS_ERR_INVALID_ARG;
    if (is_ref(id->key[slot], id->key_len[slot])) {
        char ref[REF_MAX + 1];
        if (id->keys.apply == NULL)
            return MQTLS_ERR_INVALID_ARG;
        ref_text(id->key[slot], id->key_len[slot], ref);
        return id->keys.apply(id->keys.ctx, ref, id->cert[slot], id->cert_len[slot], cfg);
    }
    return mqtls_tls_config_set_identity(cfg, id->cert[slot], id->cert_len[slot], id->key[slot],
                                         id->key_len[slot], NULL);
}

/* A refusal of our certificate that an attacker on the path cannot forge:
 * one inside the TLS session the broker authenticated (CONNACK). A TLS 1.2
 * handshake's alert, or a reset after our Certificate message, arrives in
 * plaintext before anything is authenticated, and proves nothing. */
static bool refusal_is_authenticated(int result)
{
    return result == MQTLS_ERR_CONNACK_NOT_AUTHORIZED || result == MQTLS_ERR_CONNACK_BAD_CREDENTIALS;
}

int mqtls_identity_report(mqtls_identity *id, mqtls_id_slot slot, int result)
{
    if (id == NULL)
        return MQTLS_OK;
    if (slot == MQTLS_ID_CURRENT) {
        id->new_skip = false; /* the fallback was made: NEW may be tried again */
        return MQTLS_OK;
    }
    if (slot != MQTLS_ID_NEW || !mqtls_identity_has(id, MQTLS_ID_NEW))
        return MQTLS_OK;
    if (result == MQTLS_OK) {
        if (id->has_blobs) {
            int ret = store_slot(id, MQTLS_ID_NEW, MQTLS_ID_CURRENT);
            if (ret != MQTLS_OK)
                return ret; /* CURRENT unchanged; NEW will be tried again */
            id->blobs.remove(id->blobs.ctx, MQTLS_IDENTITY_BLOB_NEW);
        }
        clear_slot(id, MQTLS_ID_CURRENT);
        id->cert[MQTLS_ID_CURRENT] = id->cert[MQTLS_ID_NEW];
        id->key[MQTLS_ID_CURRENT] = id->key[MQTLS_ID_NEW];
        id->cert_len[MQTLS_ID_CURRENT] = id->cert_len[MQTLS_ID_NEW];
        id->key_len[MQTLS_ID_CURRENT] = id->key_len[MQTLS_ID_NEW];
        id->cert[MQTLS_ID_NEW] = id->key[MQTLS_ID_NEW] = NULL;
        id->cert_len[MQTLS_ID_NEW] = id->key_len[MQTLS_ID_NEW] = 0;
        id->new_refused = 0;
        id->new_unproven = 0;
        id->new_skip = false;
        return MQTLS_OK;
    }
    if (refusal_is_authenticated(result)) {
        id->new_refused = result;
        if (id->has_blobs)
            id->blobs.remove(id->blobs.ctx, MQTLS_IDENTITY_BLOB_NEW);
        return result;
    }
    if (result == MQTLS_ERR_TLS_CLIENT_CERT_REFUSED) {
        /* Unproven: CURRENT for this connect, NEW kept (in RAM and in
         * storage) and tried again after it. */
        id->new_unproven++;
        id->new_skip = true;
        return result;
    }
    return MQTLS_OK;
}

int mqtls_identity_cert(const mqtls_identity *id, mqtls_id_slot slot, const uint8_t **cert,
                        size_t *len)
{
    if (!mqtls_identity_has(id, slot) || cert == NULL || len == NULL)
        return MQTLS_ERR_INVALID_ARG;
    *cert = id->cert[slot];
    *len = id->cert_len[slot];
    return MQTLS_OK;
}

void mqtls_identity_free(mqtls_identity *id)
{
    if (id == NULL)
        return;
    clear_slot(id, MQTLS_ID_CURRENT);
    clear_slot(id, MQTLS_ID_NEW);
    mbedtls_platform_zeroize(id, sizeof *id);
}
