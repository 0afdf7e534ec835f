/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L

#include "tls/tls_internal.h"
#include "tls/signer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/platform.h>
#include <mbedtls/platform_util.h>

#include "net/clock_posix.h"
#include "tls/bundle.h"
#include "tls/castore.h"

#define PERSONALISATION "mqtls tls client"
#define DEFAULT_HANDSHAKE_TIMEOUT_MS 10000u

time_t mqtls_tls_system_time(void)
{
    return time(NULL);
}

/* Copies len bytes and a terminating NUL into a fresh buffer (PEM parsing
 * in mbedTLS needs the NUL inside the length). */
static unsigned char *nul_terminated(const void *data, size_t len)
{
    unsigned char *p = mbedtls_calloc(1, len + 1);
    if (p != NULL) {
        memcpy(p, data, len);
        p[len] = 0;
    }
    return p;
}

static void wipe_free(unsigned char *p, size_t len)
{
    if (p != NULL) {
        mbedtls_platform_zeroize(p, len);
        mbedtls_free(p);
    }
}

/* The library's state must fit the storage the public header reserves:
 * a build whose mbedTLS configuration needs more stops here (raise
 * MQTLS_TLS_CONFIG_STORAGE, for the library and the application alike). */
typedef char mqtls_tls_config_storage_too_small[sizeof(mqtls_tls_cfg_impl) <= MQTLS_TLS_CONFIG_STORAGE ? 1 : -1];

mqtls_tls_cfg_impl *mqtls_tls_cfg_of(const mqtls_tls_config *pub)
{
    return MQTLS_OPAQUE_STATE(mqtls_tls_cfg_impl, pub);
}

static int check(const mqtls_tls_config *pub)
{
    return MQTLS_OPAQUE_ERROR(pub);
}

#define CFG(pub)                                  \
    mqtls_tls_cfg_impl *const cfg = mqtls_tls_cfg_of(pub); \
    if (cfg == NULL)                              \
    return check(pub)

/* What we offer unless told otherwise: forward secrecy (ECDHE) and AEAD
 * only, 128-bit strength: ChaCha20-Poly1305 first, because mbedTLS 2.28's
 * AES-GCM runs one block at a time even with AES-NI (4 KB QoS 1 publishes
 * went 1.36x faster with ChaCha20 against the same broker), then
 * AES-128-GCM (the one to put first, with mqtls_tls_config_set_ciphersuites(),
 * on a chip with an AES accelerator). AES-256-GCM is not offered: brokers
 * that choose by their own preference (Mosquitto, OpenSSL's order) would
 * pick it over both, for no gain a device needs. */
static const int default_suites[] = {
#if defined(MQTLS_TLS13_SUITES)
    MQTLS_TLS13_SUITES
#endif
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    0};

/* The versions to offer: those asked for, less what the suites or the
 * options rule out. TLS 1.3 has no max_fragment_length (its successor,
 * record_size_limit, is not implemented by OpenSSL, so not by Mosquitto):
 * a configuration with one offers TLS 1.2 only. A suite list without a
 * TLS 1.3 suite (0x13xx) offers 1.2 only, one with only 1.3 suites 1.3
 * only. 0, or -1 when nothing is left (the configuration unchanged). */
static int apply_versions(mqtls_tls_cfg_impl *cfg, unsigned versions, const int *suites,
                          unsigned char mfl_code)
{
    unsigned has12 = 0, has13 = 0, offer = versions;
    size_t i;
    for (i = 0; suites[i] != 0; i++) {
        if ((suites[i] & 0xff00) == 0x1300)
            has13 = MQTLS_TLS_1_3;
        else
            has12 = MQTLS_TLS_1_2;
    }
    offer &= has12 | has13;
    if (mfl_code != MBEDTLS_SSL_MAX_FRAG_LEN_NONE)
        offer &= MQTLS_TLS_1_2;
    if (offer == 0 || mqtls_ssl_conf_versions(&cfg->conf, offer) != 0)
        return -1;
    mbedtls_ssl_conf_ciphersuites(&cfg->conf, suites);
    if (mbedtls_ssl_conf_max_frag_len(&cfg->conf, mfl_code) != 0) {
        (void)apply_versions(cfg, cfg->versions, cfg->suites, cfg->mfl_code);
        return -1;
    }
    cfg->versions = versions;
    cfg->suites = suites;
    cfg->mfl_code = mfl_code;
    cfg->offered = offer;
    return 0;
}

bool mqtls_opaque_init(size_t *size_field, unsigned char *bytes, size_t nbytes, size_t whole,
                       size_t given)
{
    if (given < sizeof *size_field)
        return false; /* not even the size field is ours to write */
    *size_field = given;
    if (given != whole)
        return false;
    memset(bytes, 0, nbytes);
    return true;
}

/* ---- configuration: options, trust, identity ------------------------------- */

void mqtls_tls_config_init_sized(mqtls_tls_config *pub, size_t size)
{
    mqtls_tls_cfg_impl *cfg;

    if (pub == NULL ||
        !mqtls_opaque_init(&pub->size_, pub->opaque_.bytes, sizeof pub->opaque_.bytes,
                           sizeof *pub, size))
        return; /* another layout: every call says MQTLS_ERR_TLS_STORAGE */
    cfg = (mqtls_tls_cfg_impl *)(uintptr_t)pub->opaque_.bytes;
    mbedtls_ssl_config_init(&cfg->conf);
    mbedtls_x509_crt_init(&cfg->ca);
    mbedtls_x509_crt_init(&cfg->own_cert);
    mbedtls_pk_init(&cfg->own_key);
    mqtls_rng_init(&cfg->rng);
    cfg->versions = MQTLS_TLS_1_2 | MQTLS_TLS_1_3;
    cfg->suites = default_suites;
    cfg->handshake_timeout_ms = DEFAULT_HANDSHAKE_TIMEOUT_MS;
    cfg->read_ahead = MQTLS_TLS_READ_AHEAD;
#if MQTLS_TLS_POSIX_CLOCK
    mqtls_clock_posix(&cfg->clock);
#endif
    cfg->wall_clock = mqtls_tls_system_time;
}

int mqtls_tls_config_setup(mqtls_tls_config *pub)
{
    int ret;
    CFG(pub);

    if (mqtls_rng_seed(&cfg->rng, PERSONALISATION) != 0)
        return MQTLS_ERR_TLS_CONFIG;
    ret = mbedtls_ssl_config_defaults(&cfg->conf, MBEDTLS_SSL_IS_CLIENT,
                                      MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0)
        return ret == MBEDTLS_ERR_SSL_ALLOC_FAILED ? MQTLS_ERR_TLS_OUT_OF_MEMORY
                                                   : MQTLS_ERR_TLS_CONFIG;
    mbedtls_ssl_conf_rng(&cfg->conf, mqtls_rng_random, &cfg->rng);
    if (apply_versions(cfg, cfg->versions, cfg->suites, cfg->mfl_code) != 0)
        return MQTLS_ERR_TLS_CONFIG;
    mbedtls_ssl_conf_authmode(&cfg->conf, cfg->insecure ? MBEDTLS_SSL_VERIFY_NONE
                                                        : MBEDTLS_SSL_VERIFY_REQUIRED);
    /* Trust is set on each handshake (mqtls_ssl_set_ca_chain()); the
     * configuration is not written by a connect. */
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    mbedtls_ssl_conf_session_tickets(&cfg->conf, MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
    mqtls_ssl_conf_ticket_signal(&cfg->conf);
#endif
#if defined(MBEDTLS_SSL_RENEGOTIATION) /* a device build leaves it out entirely */
    mbedtls_ssl_conf_renegotiation(&cfg->conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
#endif
    /* Non-zero, so mbedTLS hands our receive callback a timeout; the value
     * itself is replaced by the per-call limit. */
    mbedtls_ssl_conf_read_timeout(&cfg->conf, 1);
    cfg->ready = true;
    return MQTLS_OK;
}

int mqtls_tls_config_add_ca_pem(mqtls_tls_config *pub, const char *pem, size_t len,
                                size_t *bad_index)
{
    size_t n = 0;
    int ret;
    CFG(pub);

    if (pem == NULL)
        return MQTLS_ERR_INVALID_ARG;
    ret = mqtls_bundle_parse(&cfg->ca, (const uint8_t *)pem, len, 0, &n, bad_index);
    if (ret == MQTLS_ERR_CA_EMPTY)
        return MQTLS_ERR_TLS_BAD_CA; /* no certificate at all */
    if (ret == MQTLS_OK)
        cfg->ca_count += (int)n;
    return ret;
}

int mqtls_tls_config_add_ca_der(mqtls_tls_config *pub, const uint8_t *der, size_t len)
{
    CFG(pub);
    if (der == NULL || len == 0)
        return MQTLS_ERR_INVALID_ARG;
    if (mbedtls_x509_crt_parse_der(&cfg->ca, der, len) != 0)
        return MQTLS_ERR_TLS_BAD_CA;
    cfg->ca_count++;
    return MQTLS_OK;
}

int mqtls_tls_config_add_ca_file(mqtls_tls_config *cfg, const char *path, size_t *bad_index)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    int ret;

    if (check(cfg) != MQTLS_OK)
        return check(cfg);
    ret = mqtls_bundle_read_file(path, &buf, &len);
    if (ret != MQTLS_OK)
        return ret;
    /* PEM bundle, or one or more DER certificates: told apart by content. */
    ret = mqtls_tls_config_add_ca_pem(cfg, (const char *)buf, len, bad_index);
    mbedtls_free(buf);
    return ret;
}

/* Moves a checked certificate and key into the configuration: the old
 * pair is freed (the key zeroized), the new one moves into the objects the
 * configuration points at, and *cert, *key, *handle are left empty. */
static int install_identity(mqtls_tls_cfg_impl *cfg, mbedtls_x509_crt *cert,
                            mbedtls_pk_context *key, mqtls_key_handle *handle)
{
    /* mbedTLS appends to a list on every call; own_cert and own_key are
     * the same objects each time, so register them once. */
    if (!cfg->own_registered &&
        mbedtls_ssl_conf_own_cert(&cfg->conf, &cfg->own_cert, &cfg->own_key) != 0)
        return MQTLS_ERR_TLS_OUT_OF_MEMORY;
    cfg->own_registered = true;
    mbedtls_x509_crt_free(&cfg->own_cert);
    mbedtls_pk_free(&cfg->own_key);
    mqtls_pk_unseal(cfg->own_key_psa);
    cfg->own_cert = *cert;
    cfg->own_key = *key;
    cfg->own_key_psa = *handle;
    memset(handle, 0, sizeof *handle);
    cfg->has_identity = true;
    cfg->key_failure = NULL; /* set again by set_identity_signer */
    mbedtls_x509_crt_init(cert);
    mbedtls_pk_init(key);
    return MQTLS_OK;
}

/* Parses cert[0..cert_len) (PEM with its NUL, or DER) into crt. */
static int parse_own_cert(mbedtls_x509_crt *crt, const uint8_t *cert, size_t cert_len)
{
    unsigned char *c = nul_terminated(cert, cert_len);
    int mret;
    if (c == NULL)
        return MQTLS_ERR_TLS_OUT_OF_MEMORY;
    mret = mbedtls_x509_crt_parse(crt, c,
                                  mqtls_bundle_looks_like_pem(cert, cert_len) ? cert_len + 1 : cert_len);
    mbedtls_free(c);
    return mret == 0 ? MQTLS_OK : MQTLS_ERR_TLS_BAD_CERT; /* > 0: part of the chain failed */
}

static int signer_failure(mqtls_tls_impl *tls)
{
    const int err = mqtls_pk_signer_error(&tls->cfg->own_key);
    if (err != 0)
        mqtls_tls_say(tls, "our key could not sign the handshake: %s (%s)", mqtls_strerror(err),
                      mqtls_errname(err));
    return err;
}

int mqtls_tls_config_set_identity_signer(mqtls_tls_config *pub, const uint8_t *cert,
                                         size_t cert_len, const mqtls_signer *signer)
{
    mbedtls_x509_crt new_cert;
    mbedtls_pk_context new_key;
    mqtls_key_handle no_handle;
    uint8_t point[65], cert_point[65];
    int ret;
    CFG(pub);

    memset(&no_handle, 0, sizeof no_handle);
    if (cert == NULL || cert_len == 0 || signer == NULL || signer->public_key == NULL ||
        signer->sign == NULL)
        return MQTLS_ERR_INVALID_ARG;
    mbedtls_x509_crt_init(&new_cert);
    mbedtls_pk_init(&new_key);
    ret = parse_own_cert(&new_cert, cert, cert_len);
    if (ret == MQTLS_OK)
        ret = signer->public_key(signer->ctx, point);
    /* The certificate must carry the signer's key: P-256, the same point. */
    if (ret == MQTLS_OK && (!mqtls_pk_is_p256(&new_cert.pk) ||
                            mqtls_pk_p256_point(&new_cert.pk, cert_point) != 0 ||
                            memcmp(point, cert_point, sizeof point) != 0))
        ret = MQTLS_ERR_TLS_KEY_MISMATCH;
    if (ret == MQTLS_OK) {
        const int mret = mqtls_pk_setup_signer(&new_key, signer, point);
        ret = mret == 0 ? MQTLS_OK
              : mret == MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE ? MQTLS_ERR_KEY_UNSUPPORTED
              : mret == MBEDTLS_ERR_PK_ALLOC_FAILED ? MQTLS_ERR_TLS_OUT_OF_MEMORY
                                                    : MQTLS_ERR_TLS_KEY_MISMATCH;
    }
    if (ret == MQTLS_OK)
        ret = install_identity(cfg, &new_cert, &new_key, &no_handle);
    if (ret == MQTLS_OK)
        cfg->key_failure = signer_failure;
    mbedtls_x509_crt_free(&new_cert);
    mbedtls_pk_free(&new_key);
    return ret;
}

int mqtls_tls_config_set_identity_psa(mqtls_tls_config *pub, const uint8_t *cert,
                                      size_t cert_len, uint32_t key_id)
{
    mbedtls_x509_crt new_cert;
    mbedtls_pk_context new_key;
    mqtls_key_handle no_handle; /* the key is the caller's: never destroyed here */
    uint8_t point[65], cert_point[65];
    int ret, mret = 0;
    CFG(pub);

    memset(&no_handle, 0, sizeof no_handle);
    if (cert == NULL || cert_len == 0 || key_id == 0)
        return MQTLS_ERR_INVALID_ARG;
    mbedtls_x509_crt_init(&new_cert);
    mbedtls_pk_init(&new_key);
    ret = parse_own_cert(&new_cert, cert, cert_len);
    if (ret == MQTLS_OK) {
        mret = mqtls_pk_setup_psa(&new_key, key_id, point);
        ret = mret == 0 ? MQTLS_OK
              : mret == MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE ? MQTLS_ERR_KEY_UNSUPPORTED
              : mret == MBEDTLS_ERR_PK_TYPE_MISMATCH ? MQTLS_ERR_KEY_UNSUPPORTED
                                                     : MQTLS_ERR_KEY_NOT_FOUND;
    }
    if (ret == MQTLS_OK && (!mqtls_pk_is_p256(&new_cert.pk) ||
                            mqtls_pk_p256_point(&new_cert.pk, cert_point) != 0 ||
                            memcmp(point, cert_point, sizeof point) != 0))
        ret = MQTLS_ERR_TLS_KEY_MISMATCH;
    if (ret == MQTLS_OK)
        ret = install_identity(cfg, &new_cert, &new_key, &no_handle);
    mbedtls_x509_crt_free(&new_cert);
    mbedtls_pk_free(&new_key); /* an opaque wrapper: the PSA key stays */
    return ret;
}

int mqtls_tls_config_set_identity(mqtls_tls_config *pub, const uint8_t *cert, size_t cert_len,
                                  const uint8_t *key, size_t key_len, const char *passphrase)
{
    unsigned char *c = NULL, *k = NULL;
    const size_t pass_len = passphrase != NULL ? strlen(passphrase) : 0;
    mbedtls_x509_crt new_cert;
    mbedtls_pk_context new_key;
    mqtls_key_handle new_handle;
    int ret = MQTLS_OK, mret;
    CFG(pub);

    memset(&new_handle, 0, sizeof new_handle);

    if (cert == NULL || key == NULL || cert_len == 0 || key_len == 0)
        return MQTLS_ERR_INVALID_ARG;
    /* All or nothing: the new pair is parsed and checked on the side, and
     * only a good one replaces the identity in use. */
    mbedtls_x509_crt_init(&new_cert);
    mbedtls_pk_init(&new_key);
    /* PEM must carry its NUL inside the length; DER must not. */
    c = nul_terminated(cert, cert_len);
    k = nul_terminated(key, key_len);
    if (c == NULL || k == NULL) {
        ret = MQTLS_ERR_TLS_OUT_OF_MEMORY;
        goto out;
    }
    mret = mbedtls_x509_crt_parse(&new_cert, c,
                                  mqtls_bundle_looks_like_pem(cert, cert_len) ? cert_len + 1 : cert_len);
    if (mret != 0) { /* > 0: part of the chain failed, which is failure too */
        ret = MQTLS_ERR_TLS_BAD_CERT;
        goto out;
    }
    mret = mqtls_pk_parse_key(&new_key, k,
                                mqtls_bundle_looks_like_pem(key, key_len) ? key_len + 1 : key_len,
                                (const unsigned char *)passphrase, pass_len);
    if (mret != 0) {
        ret = MQTLS_ERR_TLS_BAD_KEY;
        goto out;
    }
    if (mqtls_pk_check_pair(&new_cert.pk, &new_key) != 0) {
        ret = MQTLS_ERR_TLS_KEY_MISMATCH;
        goto out;
    }
    /* On 3.6 with MBEDTLS_USE_PSA_CRYPTO the key moves into PSA's store. */
    if (mqtls_pk_seal(&new_key, &new_handle) != 0) {
        ret = MQTLS_ERR_TLS_BAD_KEY;
        goto out;
    }
    ret = install_identity(cfg, &new_cert, &new_key, &new_handle);
out:
    mbedtls_x509_crt_free(&new_cert);
    mbedtls_pk_free(&new_key); /* zeroizes a key that was not taken */
    mqtls_pk_unseal(new_handle);
    mbedtls_free(c);
    wipe_free(k, key_len + 1);
    return ret;
}

int mqtls_tls_config_set_identity_files(mqtls_tls_config *cfg, const char *cert_path,
                                        const char *key_path, const char *passphrase)
{
    unsigned char *c = NULL, *k = NULL;
    size_t clen = 0, klen = 0;
    int ret = mqtls_bundle_read_file(cert_path, &c, &clen);

    if (ret == MQTLS_OK)
        ret = mqtls_bundle_read_file(key_path, &k, &klen);
    if (ret == MQTLS_OK)
        ret = mqtls_tls_config_set_identity(cfg, c, clen, k, klen, passphrase);
    mbedtls_free(c);
    wipe_free(k, klen + 1);
    return ret;
}

int mqtls_tls_config_set_alpn(mqtls_tls_config *pub, const char *const *protocols)
{
    size_t n = 0;

    CFG(pub);
    if (protocols == NULL)
        return MQTLS_ERR_INVALID_ARG;
    while (protocols[n] != NULL) {
        if (n == MQTLS_TLS_MAX_ALPN)
            return MQTLS_ERR_TLS_CONFIG;
        cfg->alpn[n] = protocols[n];
        n++;
    }
    cfg->alpn[n] = NULL;
    if (n == 0)
        return MQTLS_ERR_TLS_CONFIG;
    return mbedtls_ssl_conf_alpn_protocols(&cfg->conf, cfg->alpn) == 0 ? MQTLS_OK
                                                                         : MQTLS_ERR_TLS_CONFIG;
}

int mqtls_tls_config_set_versions(mqtls_tls_config *pub, unsigned versions)
{
    CFG(pub);
    if (versions == 0 || (versions & ~(MQTLS_TLS_1_2 | MQTLS_TLS_1_3)) != 0)
        return MQTLS_ERR_INVALID_ARG;
    return apply_versions(cfg, versions, cfg->suites, cfg->mfl_code) == 0 ? MQTLS_OK
                                                                          : MQTLS_ERR_TLS_CONFIG;
}

int mqtls_tls_config_set_max_fragment(mqtls_tls_config *pub, unsigned bytes)
{
    unsigned char code;

    CFG(pub);
    switch (bytes) {
    case 0: code = MBEDTLS_SSL_MAX_FRAG_LEN_NONE; break;
    case 512: code = MBEDTLS_SSL_MAX_FRAG_LEN_512; break;
    case 1024: code = MBEDTLS_SSL_MAX_FRAG_LEN_1024; break;
    case 2048: code = MBEDTLS_SSL_MAX_FRAG_LEN_2048; break;
    case 4096: code = MBEDTLS_SSL_MAX_FRAG_LEN_4096; break;
    default: return MQTLS_ERR_TLS_CONFIG;
    }
    return apply_versions(cfg, cfg->versions, cfg->suites, code) == 0 ? MQTLS_OK
                                                                       : MQTLS_ERR_TLS_CONFIG;
}

int mqtls_tls_config_set_ciphersuites(mqtls_tls_config *pub, const int *ids)
{
    CFG(pub);
    if (ids == NULL || ids[0] == 0)
        return MQTLS_ERR_INVALID_ARG;
    return apply_versions(cfg, cfg->versions, ids, cfg->mfl_code) == 0 ? MQTLS_OK
                                                                        : MQTLS_ERR_TLS_CONFIG;
}

int mqtls_tls_config_set_handshake_timeout(mqtls_tls_config *pub, uint32_t timeout_ms)
{
    CFG(pub);
    if (timeout_ms == 0)
        return MQTLS_ERR_INVALID_ARG;
    cfg->handshake_timeout_ms = timeout_ms;
    return MQTLS_OK;
}

int mqtls_tls_config_set_slices(mqtls_tls_config *pub, uint32_t wait_ms, unsigned ecc_ops)
{
    CFG(pub);
    if (ecc_ops != 0 && (!MQTLS_COMPAT_ECC_RESTART || wait_ms == 0))
        return wait_ms == 0 ? MQTLS_ERR_INVALID_ARG : MQTLS_ERR_TLS_NO_RESTART;
    cfg->slice_wait_ms = wait_ms;
    cfg->slice_ecc_ops = ecc_ops;
    return MQTLS_OK;
}

int mqtls_tls_config_set_time_policy(mqtls_tls_config *pub, mqtls_tls_time_policy policy)
{
    CFG(pub);
    if (policy != MQTLS_TLS_TIME_STRICT && policy != MQTLS_TLS_TIME_DEFER_UNTIL_CLOCK_SET)
        return MQTLS_ERR_INVALID_ARG;
    cfg->time_policy = policy;
    return MQTLS_OK;
}

int mqtls_tls_config_set_clock(mqtls_tls_config *pub, const mqtls_clock *clock)
{
    CFG(pub);
    if (clock == NULL || clock->now_ms == NULL)
        return MQTLS_ERR_INVALID_ARG;
    cfg->clock = *clock;
    return MQTLS_OK;
}

int mqtls_tls_config_set_wall_clock(mqtls_tls_config *pub, time_t (*now)(void))
{
    CFG(pub);
    if (now == NULL)
        return MQTLS_ERR_INVALID_ARG;
    cfg->wall_clock = now;
    return MQTLS_OK;
}

int mqtls_tls_config_set_read_ahead(mqtls_tls_config *pub, size_t bytes)
{
    CFG(pub);
    if (bytes > 65536)
        return MQTLS_ERR_INVALID_ARG;
    cfg->read_ahead = bytes;
    return MQTLS_OK;
}

int mqtls_tls_config_use_castore(mqtls_tls_config *pub, struct mqtls_castore *store)
{
    CFG(pub);
    cfg->castore = store;
    cfg->castore_trusted = mqtls_castore_trusted;
    cfg->castore_count_use = mqtls_castore_count_use;
    return MQTLS_OK;
}

int mqtls_tls_config_set_pins(mqtls_tls_config *pub, const uint8_t (*pins)[32], size_t n)
{
    CFG(pub);
    if ((pins == NULL && n != 0) || n == 1 || n > MQTLS_TLS_MAX_PINS)
        return MQTLS_ERR_INVALID_ARG;
    if (n != 0) /* pins may be NULL with n 0 (pins off): no memcpy from NULL */
        memcpy(cfg->pins, pins, n * sizeof pins[0]);
    cfg->pin_count = (uint8_t)n;
    return MQTLS_OK;
}

int mqtls_tls_pin_of_cert(const uint8_t *cert, size_t len, uint8_t pin[32])
{
    mbedtls_x509_crt crt;
    size_t n = 0;
    int ret;

    if (cert == NULL || len == 0 || pin == NULL)
        return MQTLS_ERR_INVALID_ARG;
    mbedtls_x509_crt_init(&crt);
    ret = mqtls_bundle_parse(&crt, cert, len, 0, &n, NULL);
    if (ret == MQTLS_OK && n != 1)
        ret = MQTLS_ERR_INVALID_ARG; /* one certificate, please */
    if (ret == MQTLS_OK && mqtls_sha256(crt.pk_raw.p, crt.pk_raw.len, pin) != 0)
        ret = MQTLS_ERR_TLS_CRYPTO;
    mbedtls_x509_crt_free(&crt);
    return ret == MQTLS_ERR_CA_EMPTY ? MQTLS_ERR_TLS_BAD_CERT : ret;
}

int mqtls_tls_config_disable_verification_INSECURE(mqtls_tls_config *pub)
{
    CFG(pub);
    cfg->insecure = true;
    mbedtls_ssl_conf_authmode(&cfg->conf, MBEDTLS_SSL_VERIFY_NONE);
    return MQTLS_OK;
}

void mqtls_tls_config_free(mqtls_tls_config *pub)
{
    mqtls_tls_cfg_impl *cfg = mqtls_tls_cfg_of(pub);

    if (cfg == NULL)
        return;
    mbedtls_ssl_config_free(&cfg->conf);
    mbedtls_x509_crt_free(&cfg->ca);
    mbedtls_x509_crt_free(&cfg->own_cert);
    mbedtls_pk_free(&cfg->own_key); /* zeroizes the key, or its PSA wrapper */
    mqtls_pk_unseal(cfg->own_key_psa); /* PSA wipes it */
    mqtls_rng_free(&cfg->rng);
    mbedtls_platform_zeroize(pub, sizeof *pub); /* init again to reuse */
}
