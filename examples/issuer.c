/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L
#include "examples/issuer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/oid.h>
#include <mbedtls/platform.h>

#include "net/error.h"
#include "tls/bundle.h"

static int load_key(mbedtls_pk_context *pk, const char *path)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    int ret = mqtls_bundle_read_file(path, &buf, &len);
    if (ret == MQTLS_OK)
        ret = mqtls_bundle_parse_key(pk, buf, len);
    if (buf != NULL) {
        memset(buf, 0, len);
        mbedtls_free(buf); /* tls/ allocates through mbedTLS */
    }
    return ret == MQTLS_OK ? 0 : -1;
}

static void stamp(char out[15], time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 15, "%Y%m%d%H%M%S", &tm);
}

/* The CA's subject, attribute by attribute with its string types, as the
 * issuer: never through a string (commas, PrintableString and the like
 * would not survive the round trip). The writer emits the list backwards,
 * so it is built in reverse. 0 or -1. */
static int copy_name(mbedtls_asn1_named_data **out, const mbedtls_x509_name *name)
{
    const mbedtls_x509_name *n;
    for (n = name; n != NULL; n = n->next) {
        mbedtls_asn1_named_data *d;
        if (n->oid.p == NULL)
            continue;
        d = calloc(1, sizeof *d);
        if (d == NULL)
            return -1;
        d->next = *out; /* owned by the writer from here: freed with it */
        *out = d;
        d->oid.tag = n->oid.tag;
        d->oid.len = n->oid.len;
        d->oid.p = malloc(n->oid.len);
        d->val.tag = n->val.tag;
        d->val.len = n->val.len;
        d->val.p = malloc(n->val.len + 1);
        if (d->oid.p == NULL || d->val.p == NULL)
            return -1;
        memcpy(d->oid.p, n->oid.p, n->oid.len);
        memcpy(d->val.p, n->val.p, n->val.len);
    }
    return 0;
}

int issuer_sign(issuer *iss, mbedtls_pk_context *subject_key, const char *cn, long days,
                unsigned char *pem, size_t cap)
{
    static const unsigned char client_auth[] = {0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01,
                                                0x05, 0x05, 0x07, 0x03, 0x02};
    mbedtls_x509write_cert w;
    mbedtls_mpi sn;
    unsigned char rnd[16];
    char subject[160], from[15], to[15];
    time_t now = time(NULL);
    int ret;

    mbedtls_x509write_crt_init(&w);
    mbedtls_mpi_init(&sn);
    snprintf(subject, sizeof subject, "CN=%s", cn);
    ret = copy_name(mqtls_x509write_crt_issuer(&w), &iss->cert.subject);
    stamp(from, now - 3600); /* an hour of slack for device clocks */
    stamp(to, now + days * 86400L);
    if (ret == 0)
        ret = mqtls_rng_random(&iss->rng, rnd, sizeof rnd);
    rnd[0] &= 0x7f; /* a positive serial number */
    if (ret == 0)
        ret = mbedtls_mpi_read_binary(&sn, rnd, sizeof rnd);
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&w, subject_key);
    mbedtls_x509write_crt_set_issuer_key(&w, &iss->key);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_serial(&w, &sn);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_subject_name(&w, subject);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_validity(&w, from, to);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_basic_constraints(&w, 0, -1);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_key_usage(&w, MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_extension(&w, MBEDTLS_OID_EXTENDED_KEY_USAGE,
                                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE),
                                                  0, client_auth, sizeof client_auth);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_subject_key_identifier(&w);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_authority_key_identifier(&w);
    if (ret == 0)
        ret = mbedtls_x509write_crt_pem(&w, pem, cap, mqtls_rng_random, &iss->rng);
    mbedtls_x509write_crt_free(&w);
    mbedtls_mpi_free(&sn);
    return ret;
}


int issuer_load(issuer *iss, const char *cert_path, const char *key_path, const char *pers)
{
    mbedtls_x509_crt_init(&iss->cert);
    mbedtls_pk_init(&iss->key);
    mqtls_rng_init(&iss->rng);
    if (mbedtls_x509_crt_parse_file(&iss->cert, cert_path) != 0 || load_key(&iss->key, key_path) != 0 ||
        mqtls_pk_check_pair(&iss->cert.pk, &iss->key) != 0 || mqtls_rng_seed(&iss->rng, pers) != 0)
        return -1;
    return 0;
}

void issuer_free(issuer *iss)
{
    mbedtls_pk_free(&iss->key);
    mbedtls_x509_crt_free(&iss->cert);
    mqtls_rng_free(&iss->rng);
}
