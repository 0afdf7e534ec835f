/* SPDX-License-Identifier: Apache-2.0 */
#include "tls/castore.h"

#include "tls/tls_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform.h>
#include <mbedtls/platform_util.h>

#include "net/error.h"
#include "tls/bundle.h"

/* The committed bundle as stored: "MQCA", format 1, version (u32 LE),
 * count (u8), then per certificate its DER length (u32 LE) and DER. The
 * blob layer adds the integrity check. */
static const uint8_t MAGIC[4] = {'M', 'Q', 'C', 'A'};
#define FORMAT 1u
#define MAX_BLOB (MQTLS_CASTORE_MAX_CAS * 4096u + 16u)

/* What mqtls_castore's storage holds. */
typedef struct castore_impl {
    mbedtls_x509_crt slot[2];
    uint8_t count[2];
    uint32_t version[2];  /* the bundle's update version; 0 for factory */
    uint32_t uses[2][MQTLS_CASTORE_MAX_CAS];
    uint8_t sha256[2][MQTLS_CASTORE_MAX_CAS][32];
    mbedtls_x509_crt trusted; /* what handshakes see; rebuilt when stale */
    uint8_t trust_id[32];     /* SHA-256 over the trusted set */
    mqtls_ca_trust trust;
    bool stale;               /* trusted must be rebuilt */
    bool has_blobs;
    mqtls_blobs blobs;
} castore_impl;

typedef char mqtls_castore_storage_too_small[sizeof(castore_impl) <= MQTLS_CASTORE_STORAGE ? 1 : -1];

/* The state behind pub, or NULL (NULL pub, or storage of another size:
 * every call then answers MQTLS_ERR_INVALID_ARG or nothing). */
static castore_impl *castore_of(const mqtls_castore *pub)
{
    return MQTLS_OPAQUE_STATE(castore_impl, pub);
}

void mqtls_castore_init_sized(mqtls_castore *pub, size_t size)
{
    castore_impl *s;

    if (pub == NULL ||
        !mqtls_opaque_init(&pub->size_, pub->opaque_.bytes, sizeof pub->opaque_.bytes,
                           sizeof *pub, size))
        return; /* another layout: every call refuses it */
    s = (castore_impl *)(uintptr_t)pub->opaque_.bytes;
    mbedtls_x509_crt_init(&s->slot[0]);
    mbedtls_x509_crt_init(&s->slot[1]);
    mbedtls_x509_crt_init(&s->trusted);
    s->trust = MQTLS_TRUST_ACTIVE;
    s->stale = true;
}

static const mbedtls_x509_crt *nth(const mbedtls_x509_crt *c, size_t i)
{
    for (; c != NULL && c->raw.len != 0; c = c->next, i--)
        if (i == 0)
            return c;
    return NULL;
}

/* Use counts of the old content, matched by fingerprint into the new. */
static void carry_uses(castore_impl *s, mqtls_ca_slot to, const uint8_t (*old_fp)[32],
                       const uint32_t *old_uses, size_t old_n)
{
    size_t i, j;
    for (i = 0; i < s->count[to]; i++) {
        s->uses[to][i] = 0;
        for (j = 0; j < old_n; j++)
            if (memcmp(s->sha256[to][i], old_fp[j], 32) == 0)
                s->uses[to][i] = old_uses[j];
    }
}

int mqtls_castore_load(mqtls_castore *pub, mqtls_ca_slot slot, const uint8_t *bundle, size_t len,
                       uint32_t version, size_t *bad_index)
{
    castore_impl *const s = castore_of(pub);
    mbedtls_x509_crt fresh;
    uint8_t old_fp[MQTLS_CASTORE_MAX_CAS][32], new_fp[MQTLS_CASTORE_MAX_CAS][32];
    uint32_t old_uses[MQTLS_CASTORE_MAX_CAS];
    size_t n = 0, i, old_n;
    int ret;

    if (bad_index != NULL)
        *bad_index = 0;
    if (s == NULL || (slot != MQTLS_CA_ACTIVE && slot != MQTLS_CA_STAGED) ||
        (bundle == NULL && len != 0))
        return MQTLS_ERR_INVALID_ARG;
    mbedtls_x509_crt_init(&fresh);
    ret = mqtls_bundle_parse(&fresh, bundle, len, 1, &n, bad_index);
    if (ret == MQTLS_OK && n > MQTLS_CASTORE_MAX_CAS)
        ret = MQTLS_ERR_CA_SLOT_FULL;
    if (ret != MQTLS_OK) {
        mbedtls_x509_crt_free(&fresh);
        return ret;
    }
    {
        /* Fingerprints first: a bundle whose CAs cannot be hashed is not
         * loaded (uses are counted, and updates compared, by them). */
        const mbedtls_x509_crt *c = &fresh;
        for (i = 0; i < n && c != NULL; i++, c = c->next)
            if (mqtls_sha256(c->raw.p, c->raw.len, new_fp[i]) != 0) {
                mbedtls_x509_crt_free(&fresh);
                return MQTLS_ERR_TLS_CRYPTO;
            }
    }
    old_n = s->count[slot];
    memcpy(old_fp, s->sha256[slot], sizeof old_fp);
    memcpy(old_uses, s->uses[slot], sizeof old_uses);
    mbedtls_x509_crt_free(&s->slot[slot]);
    s->slot[slot] = fresh; /* the chain's head moves; its links are heap */
    s->count[slot] = (uint8_t)n;
    s->version[slot] = version;
    memcpy(s->sha256[slot], new_fp, sizeof new_fp);
    carry_uses(s, slot, (const uint8_t(*)[32])old_fp, old_uses, old_n);
    s->stale = true;
    return MQTLS_OK;
}

int mqtls_castore_load_file(mqtls_castore *pub, mqtls_ca_slot slot, const char *path,
                            uint32_t version, size_t *bad_index)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    int ret = mqtls_bundle_read_file(path, &buf, &len);
    if (ret != MQTLS_OK)
        return ret;
    ret = mqtls_castore_load(pub, slot, buf, len, version, bad_index);
    mbedtls_free(buf);
    return ret;
}

int mqtls_castore_stage(mqtls_castore *pub, const uint8_t *bundle, size_t len, uint32_t version,
                        size_t *bad_index)
{
    return mqtls_castore_load(pub, MQTLS_CA_STAGED, bundle, len, version, bad_index);
}

int mqtls_castore_trust(mqtls_castore *pub, mqtls_ca_trust trust)
{
    castore_impl *const s = castore_of(pub);
    if (s == NULL || trust < MQTLS_TRUST_ACTIVE || trust > MQTLS_TRUST_BOTH)
        return MQTLS_ERR_INVALID_ARG;
    if ((trust & MQTLS_TRUST_STAGED) && s->count[MQTLS_CA_STAGED] == 0)
        return MQTLS_ERR_CA_NONE_STAGED;
    if (trust != s->trust)
        s->stale = true;
    s->trust = trust;
    return MQTLS_OK;
}

/* Serialises slot into a fresh buffer (wiped and freed by the caller). */
static int serialise(const castore_impl *s, mqtls_ca_slot slot, uint8_t **out, size_t *len)
{
    const mbedtls_x509_crt *c;
    size_t need = 10, at;
    uint8_t *p;

    for (c = &s->slot[slot]; c != NULL && c->raw.len != 0; c = c->next)
        need += 4 + c->raw.len;
    p = mbedtls_calloc(1, need);
    if (p == NULL)
        return MQTLS_ERR_TLS_OUT_OF_MEMORY;
    memcpy(p, MAGIC, 4);
    p[4] = FORMAT;
    p[5] = (uint8_t)s->version[slot];
    p[6] = (uint8_t)(s->version[slot] >> 8);
    p[7] = (uint8_t)(s->version[slot] >> 16);
    p[8] = (uint8_t)(s->version[slot] >> 24);
    p[9] = s->count[slot];
    at = 10;
    for (c = &s->slot[slot]; c != NULL && c->raw.len != 0; c = c->next) {
        p[at] = (uint8_t)c->raw.len;
        p[at + 1] = (uint8_t)(c->raw.len >> 8);
        p[at + 2] = (uint8_t)(c->raw.len >> 16);
        p[at + 3] = (uint8_t)(c->raw.len >> 24);
        memcpy(p + at + 4, c->raw.p, c->raw.len);
        at += 4 + c->raw.len;
    }
    *out = p;
    *len = at;
    return MQTLS_OK;
}

/* STAGED emptied (its chain already freed or moved), trust back on ACTIVE. */
static void forget_staged(castore_impl *s)
{
    mbedtls_x509_crt_init(&s->slot[MQTLS_CA_STAGED]);
    s->count[MQTLS_CA_STAGED] = 0;
    s->version[MQTLS_CA_STAGED] = 0;
    memset(s->uses[MQTLS_CA_STAGED], 0, sizeof s->uses[0]);
    s->trust = MQTLS_TRUST_ACTIVE;
    s->stale = true;
}

int mqtls_castore_commit(mqtls_castore *pub)
{
    castore_impl *const s = castore_of(pub);
    uint8_t old_fp[MQTLS_CASTORE_MAX_CAS][32];
    uint32_t old_uses[MQTLS_CASTORE_MAX_CAS];
    size_t old_n;

    if (s == NULL)
        return MQTLS_ERR_INVALID_ARG;
    if (s->count[MQTLS_CA_STAGED] == 0)
        return MQTLS_ERR_CA_NONE_STAGED;
    if (s->has_blobs) {
        uint8_t *blob = NULL;
        size_t len = 0;
        int ret = serialise(s, MQTLS_CA_STAGED, &blob, &len);
        if (ret != MQTLS_OK)
            return ret;
        ret = s->blobs.write(s->blobs.ctx, MQTLS_CASTORE_BLOB, blob, len);
        mbedtls_free(blob);
        if (ret != MQTLS_OK)
            return ret; /* nothing changed: ACTIVE still what storage holds */
    }
    old_n = s->count[MQTLS_CA_ACTIVE];
    memcpy(old_fp, s->sha256[MQTLS_CA_ACTIVE], sizeof old_fp);
    memcpy(old_uses, s->uses[MQTLS_CA_ACTIVE], sizeof old_uses);
    mbedtls_x509_crt_free(&s->slot[MQTLS_CA_ACTIVE]);
    s->slot[MQTLS_CA_ACTIVE] = s->slot[MQTLS_CA_STAGED];
    s->count[MQTLS_CA_ACTIVE] = s->count[MQTLS_CA_STAGED];
    s->version[MQTLS_CA_ACTIVE] = s->version[MQTLS_CA_STAGED];
    memcpy(s->sha256[MQTLS_CA_ACTIVE], s->sha256[MQTLS_CA_STAGED], sizeof s->sha256[0]);
    memcpy(s->uses[MQTLS_CA_ACTIVE], s->uses[MQTLS_CA_STAGED], sizeof s->uses[0]);
    for (size_t i = 0; i < s->count[MQTLS_CA_ACTIVE]; i++)
        for (size_t j = 0; j < old_n; j++)
            if (memcmp(s->sha256[MQTLS_CA_ACTIVE][i], old_fp[j], 32) == 0)
                s->uses[MQTLS_CA_ACTIVE][i] += old_uses[j];
    forget_staged(s); /* its certificates now belong to ACTIVE */
    return MQTLS_OK;
}

int mqtls_castore_rollback(mqtls_castore *pub)
{
    castore_impl *const s = castore_of(pub);
    if (s == NULL)
        return MQTLS_ERR_INVALID_ARG;
    mbedtls_x509_crt_free(&s->slot[MQTLS_CA_STAGED]);
    forget_staged(s);
    return MQTLS_OK;
}

size_t mqtls_castore_count(const mqtls_castore *pub, mqtls_ca_slot slot)
{
    const castore_impl *const s = castore_of(pub);
    return s != NULL && (slot == MQTLS_CA_ACTIVE || slot == MQTLS_CA_STAGED) ? s->count[slot] : 0;
}

uint32_t mqtls_castore_version(const mqtls_castore *pub, mqtls_ca_slot slot)
{
    const castore_impl *const s = castore_of(pub);
    return s != NULL && (slot == MQTLS_CA_ACTIVE || slot == MQTLS_CA_STAGED) ? s->version[slot]
                                                                             : 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static long days_from_civil(long y, unsigned m, unsigned d)
{
    long era;
    unsigned yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

static time_t to_time(const mbedtls_x509_time *t)
{
    long days = days_from_civil(t->year, (unsigned)t->mon, (unsigned)t->day);
    return (time_t)(days * 86400L + t->hour * 3600L + t->min * 60L + t->sec);
}

static void fill_info(const castore_impl *s, mqtls_ca_slot slot, size_t i,
                      const mbedtls_x509_crt *c, mqtls_ca_info *out)
{
    int n;
    memset(out, 0, sizeof *out);
    n = mbedtls_x509_dn_gets(out->subject, sizeof out->subject, &c->subject);
    if (n < 0)
        snprintf(out->subject, sizeof out->subject, "(unprintable)");
    snprintf(out->not_after, sizeof out->not_after, "%04d-%02d-%02d %02d:%02d:%02d",
             c->valid_to.year, c->valid_to.mon, c->valid_to.day, c->valid_to.hour,
             c->valid_to.min, c->valid_to.sec);
    out->not_after_time = to_time(&c->valid_to);
    memcpy(out->sha256, s->sha256[slot][i], 32);
    out->uses = s->uses[slot][i];
    out->slot = slot;
}

int mqtls_castore_info(const mqtls_castore *pub, mqtls_ca_slot slot, size_t index,
                       mqtls_ca_info *out)
{
    const castore_impl *const s = castore_of(pub);
    const mbedtls_x509_crt *c;
    if (s == NULL || out == NULL || (slot != MQTLS_CA_ACTIVE && slot != MQTLS_CA_STAGED))
        return MQTLS_ERR_INVALID_ARG;
    if (index >= s->count[slot] || (c = nth(&s->slot[slot], index)) == NULL)
        return MQTLS_ERR_INVALID_ARG;
    fill_info(s, slot, index, c, out);
    return MQTLS_OK;
}

int mqtls_castore_expiring(const mqtls_castore *pub, time_t now, unsigned days, mqtls_ca_info *out,
                           size_t cap, size_t *n)
{
    const castore_impl *const s = castore_of(pub);
    size_t found = 0, i;
    int slot;
    if (s == NULL || n == NULL || (out == NULL && cap != 0))
        return MQTLS_ERR_INVALID_ARG;
    for (slot = 0; slot < 2; slot++)
        for (i = 0; i < s->count[slot]; i++) {
            const mbedtls_x509_crt *c = nth(&s->slot[slot], i);
            if (c == NULL || (double)to_time(&c->valid_to) >= (double)now + days * 86400.0)
                continue;
            if (found < cap)
                fill_info(s, (mqtls_ca_slot)slot, i, c, &out[found]);
            found++;
        }
    *n = found;
    return MQTLS_OK;
}

int mqtls_castore_attach(mqtls_castore *pub, const mqtls_blobs *blobs)
{
    castore_impl *const s = castore_of(pub);
    if (s == NULL || blobs == NULL || blobs->read == NULL || blobs->write == NULL)
        return MQTLS_ERR_INVALID_ARG;
    s->blobs = *blobs;
    s->has_blobs = true;
    return MQTLS_OK;
}

/* Checks a stored bundle's framing and returns its certificates as
 * concatenated DER (in place: the framing is squeezed out). */
static int unframe(uint8_t *p, size_t len, uint32_t *version, size_t *der_len)
{
    size_t at = 10, out = 0, i, n;
    if (len < 10 || memcmp(p, MAGIC, 4) != 0 || p[4] != FORMAT)
        return MQTLS_ERR_BLOB_CORRUPT;
    *version = (uint32_t)p[5] | (uint32_t)p[6] << 8 | (uint32_t)p[7] << 16 | (uint32_t)p[8] << 24;
    n = p[9];
    if (n == 0 || n > MQTLS_CASTORE_MAX_CAS)
        return MQTLS_ERR_BLOB_CORRUPT;
    for (i = 0; i < n; i++) {
        size_t l;
        if (len - at < 4)
            return MQTLS_ERR_BLOB_CORRUPT;
        l = (size_t)p[at] | (size_t)p[at + 1] << 8 | (size_t)p[at + 2] << 16 |
            (size_t)p[at + 3] << 24;
        at += 4;
        if (l == 0 || l > len - at)
            return MQTLS_ERR_BLOB_CORRUPT;
        memmove(p + out, p + at, l);
        out += l;
        at += l;
    }
    if (at != len)
        return MQTLS_ERR_BLOB_CORRUPT;
    *der_len = out;
    return MQTLS_OK;
}

int mqtls_castore_restore(mqtls_castore *pub)
{
    castore_impl *const s = castore_of(pub);
    uint8_t *buf;
    size_t len = 0, der_len = 0;
    uint32_t version = 0;
    int ret;

    if (s == NULL)
        return MQTLS_ERR_INVALID_ARG;
    if (!s->has_blobs)
        return MQTLS_ERR_BLOB_NOT_FOUND;
    ret = mqtls_bundle_read_blob(&s->blobs, MQTLS_CASTORE_BLOB, MAX_BLOB, &buf, &len);
    if (ret == MQTLS_OK) {
        ret = unframe(buf, len, &version, &der_len);
        if (ret == MQTLS_OK)
            ret = mqtls_castore_load(pub, MQTLS_CA_ACTIVE, buf, der_len, version, NULL);
        mbedtls_free(buf);
    }
    return ret;
}

void mqtls_castore_count_use(mqtls_castore *pub, const uint8_t sha256[32])
{
    castore_impl *const s = castore_of(pub);
    size_t i;
    int slot;
    if (s == NULL || sha256 == NULL)
        return;
    for (slot = 0; slot < 2; slot++)
        for (i = 0; i < s->count[slot]; i++)
            if (memcmp(s->sha256[slot][i], sha256, 32) == 0 && s->uses[slot][i] < UINT32_MAX)
                s->uses[slot][i]++;
}

/* The trusted set for the next handshake, rebuilt if the slots or the
 * choice changed; NULL if it is empty. id (32 bytes, may be NULL)
 * identifies the set: it changes whenever the set does. */
mbedtls_x509_crt *mqtls_castore_trusted(mqtls_castore *pub, uint8_t id[32])
{
    castore_impl *const s = castore_of(pub);
    mqtls_sha256_ctx h;
    int slot;

    if (s == NULL)
        return NULL;
    if (s->stale) {
        int r;
        mbedtls_x509_crt_free(&s->trusted);
        mbedtls_x509_crt_init(&s->trusted);
        mqtls_sha256_start(&h);
        for (slot = 0; slot < 2; slot++) {
            const mbedtls_x509_crt *c;
            if (!(s->trust & (slot == 0 ? MQTLS_TRUST_ACTIVE : MQTLS_TRUST_STAGED)))
                continue;
            for (c = &s->slot[slot]; c != NULL && c->raw.len != 0; c = c->next) {
                /* Parsed before: only memory can fail, and then the set
                 * is smaller, never larger. */
                (void)mbedtls_x509_crt_parse_der(&s->trusted, c->raw.p, c->raw.len);
                mqtls_sha256_update(&h, c->raw.p, c->raw.len);
            }
        }
        r = mqtls_sha256_finish(&h, s->trust_id);
        if (r != 0) {
            /* No id for the set: trust nothing (a connect then fails with
             * MQTLS_ERR_TLS_NO_TRUST) and try again next time. */
            mbedtls_x509_crt_free(&s->trusted);
            mbedtls_x509_crt_init(&s->trusted);
            memset(s->trust_id, 0, sizeof s->trust_id);
            return NULL;
        }
        s->stale = false;
    }
    if (id != NULL)
        memcpy(id, s->trust_id, 32);
    return s->trusted.raw.len != 0 ? &s->trusted : NULL;
}

/* Appends text, or one number after prefix, to buf at *at. */
static int put_text(char *buf, size_t cap, size_t *at, const char *text)
{
    size_t n = strlen(text);
    if (n >= cap - *at)
        return MQTLS_ERR_BUFFER_TOO_SMALL;
    memcpy(buf + *at, text, n + 1);
    *at += n;
    return MQTLS_OK;
}

static int put_number(char *buf, size_t cap, size_t *at, const char *prefix, unsigned long v)
{
    char num[24];
    int ret = put_text(buf, cap, at, prefix);
    snprintf(num, sizeof num, "%lu", v);
    return ret == MQTLS_OK ? put_text(buf, cap, at, num) : ret;
}

int mqtls_castore_report_json(const mqtls_castore *pub, char *buf, size_t cap, size_t *len)
{
    const castore_impl *const s = castore_of(pub);
    size_t at = 0, i, k;
    int ret;

    if (s == NULL || buf == NULL || cap == 0)
        return MQTLS_ERR_INVALID_ARG;
    ret = put_number(buf, cap, &at, "{\"version\":", (unsigned long)s->version[MQTLS_CA_ACTIVE]);
    if (ret == MQTLS_OK)
        ret = put_text(buf, cap, &at, ",\"cas\":[");
    for (i = 0; ret == MQTLS_OK && i < s->count[MQTLS_CA_ACTIVE]; i++) {
        mqtls_ca_info info;
        char hex[65], subject[2 * MQTLS_CASTORE_SUBJECT_LEN];
        size_t o = 0;
        mqtls_castore_info(pub, MQTLS_CA_ACTIVE, i, &info);
        for (k = 0; k < 32; k++)
            snprintf(hex + 2 * k, 3, "%02x", info.sha256[k]);
        /* JSON-escape the subject (quotes, backslashes; control bytes dropped). */
        for (k = 0; info.subject[k] != '\0' && o + 2 < sizeof subject; k++) {
            char c = info.subject[k];
            if ((unsigned char)c < 0x20)
                continue;
            if (c == '"' || c == '\\')
                subject[o++] = '\\';
            subject[o++] = c;
        }
        subject[o] = '\0';
        const char *parts[] = {i ? ",{\"subject\":\"" : "{\"subject\":\"", subject,
                               "\",\"not_after\":\"", info.not_after, "\",\"sha256\":\"", hex, "\""};
        for (k = 0; ret == MQTLS_OK && k < sizeof parts / sizeof parts[0]; k++)
            ret = put_text(buf, cap, &at, parts[k]);
        if (ret == MQTLS_OK)
            ret = put_number(buf, cap, &at, ",\"uses\":", (unsigned long)info.uses);
        if (ret == MQTLS_OK)
            ret = put_text(buf, cap, &at, "}");
    }
    if (ret == MQTLS_OK)
        ret = put_text(buf, cap, &at, "]}");
    if (ret != MQTLS_OK) {
        buf[0] = '\0';
        return ret;
    }
    if (len != NULL)
        *len = at;
    return MQTLS_OK;
}

void mqtls_castore_free(mqtls_castore *pub)
{
    castore_impl *const s = castore_of(pub);
    if (s == NULL)
        return;
    mbedtls_x509_crt_free(&s->slot[0]);
    mbedtls_x509_crt_free(&s->slot[1]);
    mbedtls_x509_crt_free(&s->trusted);
    mbedtls_platform_zeroize(s, sizeof *s);
}
