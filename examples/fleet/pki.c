/* SPDX-License-Identifier: Apache-2.0 */
/* The fleet's keys, certificates and trust.
 *
 * Every device gets a fresh P-256 key and a certificate (CN = its client
 * id) signed at start by the device CA given (--ca-cert, --ca-key): the
 * key exists only in this process's memory and is wiped with the device.
 * Trust comes in groups: --trust 90:A,B --trust 10:A gives the first 90%
 * of the devices a CA store holding A and B, the rest A alone, each CA
 * named by --ca A=FILE. --cafile FILE is the one-group case. */
#define _POSIX_C_SOURCE 200809L
#include "examples/fleet/fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/pk.h>
#include <mbedtls/platform.h>
#include <mbedtls/platform_util.h>

#include "examples/issuer.h"
#include "net/error.h"
#include "tls/bundle.h"

static int read_file(const char *path, uint8_t **out, size_t *len)
{
    unsigned char *buf = NULL;
    int ret = mqtls_bundle_read_file(path, &buf, len);
    if (ret != MQTLS_OK)
        return -1;
    *out = malloc(*len + 1);
    if (*out != NULL) {
        memcpy(*out, buf, *len);
        (*out)[*len] = '\0';
    }
    mbedtls_free(buf);
    return *out != NULL ? 0 : -1;
}

/* The first certificate's fingerprint, through a CA store of its own. */
static int fingerprint(const uint8_t *pem, size_t len, uint8_t sha256[32])
{
    mqtls_castore s;
    mqtls_ca_info info;
    int ret;
    mqtls_castore_init(&s);
    ret = mqtls_castore_load(&s, MQTLS_CA_ACTIVE, pem, len + 1, 1, NULL);
    if (ret == MQTLS_OK)
        ret = mqtls_castore_info(&s, MQTLS_CA_ACTIVE, 0, &info);
    if (ret == MQTLS_OK)
        memcpy(sha256, info.sha256, 32);
    mqtls_castore_free(&s);
    return ret;
}

/* NAME=FILE */
int fleet_add_ca(fleet *f, const char *spec)
{
    const char *eq = strchr(spec, '=');
    fleet_ca *ca;
    if (eq == NULL || eq == spec || (size_t)(eq - spec) >= sizeof ca->name ||
        f->ca_count == FLEET_MAX_CAS)
        return -1;
    ca = &f->cas[f->ca_count];
    memcpy(ca->name, spec, (size_t)(eq - spec));
    ca->name[eq - spec] = '\0';
    if (read_file(eq + 1, &ca->pem, &ca->pem_len) != 0 ||
        fingerprint(ca->pem, ca->pem_len, ca->sha256) != MQTLS_OK)
        return -2;
    f->ca_count++;
    return 0;
}

static fleet_ca *ca_named(fleet *f, const char *name, size_t len)
{
    size_t i;
    for (i = 0; i < f->ca_count; i++)
        if (strlen(f->cas[i].name) == len && memcmp(f->cas[i].name, name, len) == 0)
            return &f->cas[i];
    return NULL;
}

/* PCT:NAME[,NAME...] */
int fleet_add_group(fleet *f, const char *spec)
{
    char *end;
    const char *p;
    unsigned long pct = strtoul(spec, &end, 10);
    fleet_group *g;

    if (end == spec || *end != ':' || pct > 100 || f->group_count == FLEET_MAX_GROUPS)
        return -1;
    g = &f->groups[f->group_count];
    g->percent = (unsigned)pct;
    snprintf(g->names, sizeof g->names, "%s", end + 1);
    for (p = end + 1; *p != '\0';) {
        size_t len = strcspn(p, ",");
        fleet_ca *ca = ca_named(f, p, len);
        uint8_t *b;
        if (ca == NULL)
            return -2;
        b = realloc(g->bundle, g->bundle_len + ca->pem_len + 2);
        if (b == NULL)
            return -1;
        g->bundle = b;
        memcpy(b + g->bundle_len, ca->pem, ca->pem_len);
        g->bundle_len += ca->pem_len;
        b[g->bundle_len++] = '\n';
        b[g->bundle_len] = '\0';
        p += len;
        if (*p == ',')
            p++;
    }
    if (g->bundle_len == 0)
        return -1;
    f->group_count++;
    return 0;
}

/* --cafile: one group, 100%, its CAs counted under their subjects. */
int fleet_default_group(fleet *f, const char *cafile)
{
    fleet_group *g = &f->groups[0];
    if (read_file(cafile, &g->bundle, &g->bundle_len) != 0)
        return -1;
    g->percent = 100;
    snprintf(g->names, sizeof g->names, "%s", "cafile");
    f->group_count = 1;
    return 0;
}

int fleet_load_updates(fleet *f)
{
    size_t k;
    if (f->o.signer_pub == NULL)
        return f->o.update_file[0] == NULL ? 0 : -1;
    mqtls_ca_signer_init(&f->signer);
    if (mqtls_ca_signer_load_file(&f->signer, f->o.signer_pub) != MQTLS_OK)
        return -1;
    for (k = 0; k < 2 && f->o.update_file[k] != NULL; k++) {
        mqtls_ca_update u;
        if (read_file(f->o.update_file[k], &f->updates[k], &f->update_len[k]) != 0 ||
            mqtls_ca_update_verify(f->updates[k], f->update_len[k], &f->signer, 0, time(NULL),
                                   &u) != MQTLS_OK)
            return -(int)k - 2;
        f->update_version[k] = u.version;
    }
    return 0;
}

/* The group of device i: the first percent of the fleet, then the next. */
static int group_of(const fleet *f, uint32_t i)
{
    unsigned cum = 0;
    size_t g;
    for (g = 0; g < f->group_count; g++) {
        cum += f->groups[g].percent;
        if ((uint64_t)i * 100u < (uint64_t)cum * f->n)
            return (int)g;
    }
    return (int)f->group_count - 1;
}

static int identity(fleet_dev *d, issuer *iss)
{
    mbedtls_pk_context pk;
    unsigned char key[512], cert[2048];
    int ret = -1;

    mbedtls_pk_init(&pk);
    if (mqtls_pk_generate_p256(&pk, &iss->rng) == 0 &&
        mbedtls_pk_write_key_pem(&pk, key, sizeof key) == 0 &&
        issuer_sign(iss, &pk, d->id, 30, cert, sizeof cert) == 0)
        ret = mqtls_tls_config_set_identity(&d->tls_cfg, cert, strlen((char *)cert) + 1, key,
                                            strlen((char *)key) + 1, NULL);
    mbedtls_platform_zeroize(key, sizeof key);
    mbedtls_pk_free(&pk);
    return ret;
}

/* The operator trusts every CA named (it must follow the broker through a
 * rollover), else the first group's. */
static int operator_trust(fleet *f, fleet_dev *d)
{
    uint8_t *all;
    size_t len = 0, k;
    int ret;
    if (f->ca_count == 0)
        return mqtls_castore_load(&d->cas, MQTLS_CA_ACTIVE, f->groups[0].bundle,
                                  f->groups[0].bundle_len + 1, 1, NULL);
    for (k = 0; k < f->ca_count; k++)
        len += f->cas[k].pem_len + 1;
    all = malloc(len + 1);
    if (all == NULL)
        return MQTLS_ERR_TLS_OUT_OF_MEMORY;
    for (len = 0, k = 0; k < f->ca_count; k++) {
        memcpy(all + len, f->cas[k].pem, f->cas[k].pem_len);
        len += f->cas[k].pem_len;
        all[len++] = '\n';
    }
    all[len] = '\0';
    ret = mqtls_castore_load(&d->cas, MQTLS_CA_ACTIVE, all, len + 1, 1, NULL);
    free(all);
    return ret;
}

/* Every device (and the operator) gets its identity and its trust. */
int fleet_pki(fleet *f)
{
    issuer iss;
    uint32_t i;
    int ret = 0;

    if (issuer_load(&iss, f->o.ca_cert, f->o.ca_key, "mqtls-fleet") != 0) {
        fprintf(stderr, "mqtls-fleet: cannot load the device CA (%s, %s)\n", f->o.ca_cert,
                f->o.ca_key);
        issuer_free(&iss);
        return -1;
    }
    for (i = 0; i < f->count && ret == 0; i++) {
        fleet_dev *d = f->dev[i];
        fleet_group *g;
        d->group = d->operator_ ? 0 : group_of(f, i);
        g = &f->groups[d->group];
        if (identity(d, &iss) != 0) {
            fprintf(stderr, "mqtls-fleet: cannot make the identity of %s\n", d->id);
            ret = -1;
        } else if (d->operator_ ? operator_trust(f, d) != MQTLS_OK
                                : mqtls_castore_load(&d->cas, MQTLS_CA_ACTIVE, g->bundle,
                                                     g->bundle_len + 1, 1, NULL) != MQTLS_OK) {
            fprintf(stderr, "mqtls-fleet: the trust of group %s does not load\n", g->names);
            ret = -1;
        }
        if (!d->operator_)
            g->devices++;
        if (!f->o.quiet && f->progress_tty && (i % 256 == 0 || i + 1 == f->count))
            fprintf(stderr, "\rmqtls-fleet: identities %u/%u", i + 1, f->count);
    }
    if (!f->o.quiet && f->progress_tty)
        fputc('\n', stderr);
    issuer_free(&iss);
    return ret;
}
