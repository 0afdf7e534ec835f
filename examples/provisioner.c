/* SPDX-License-Identifier: Apache-2.0 */
/* provisioner: the service side of onboarding.
 *
 * Devices ship with a shared claim certificate that the broker allows only
 * on provisioning topics, and a factory key of their own (tls/onboard.h).
 * A device makes a new key and publishes a CSR for it (subject CN = its
 * serial), with a proof made with its factory key, to
 * provision/csr/SERIAL. This service answers on provision/reply/SERIAL
 * with the signed certificate (PEM), or {"error":"..."}. Cheap checks
 * come first, so a flood of costly requests cannot starve it:
 *   1. the request's size, the serial on the allow-list (a line
 *      "SERIAL FACTORY_KEY_PIN"), at most --rate requests a minute for
 *      the serial;
 *   2. the proof's factory key has that serial's pin;
 *   3. the CSR parses, its key is ECDSA P-256, its CN is the serial;
 *   4. only then signatures: the factory key's proof over serial, CSR key
 *      and nonce; the CSR's self-signature (the sender holds the key);
 *   5. not a replay (a nonce seen before for the serial), and not a second
 *      key for a serial already issued (an operator re-enables one by
 *      deleting its lines from the issued file).
 * Issuance is idempotent for the same key: a device whose certificate was
 * lost on the way asks again with the same key and a fresh nonce. Each
 * issuance is recorded ("SERIAL KEY_PIN NONCE", synced) before the reply
 * is queued. The reply holds only a certificate (public) or a refusal.
 *
 *   provisioner -p PORT --cafile CA --cert CRT --key KEY
 *               --ca-cert DEVICE_CA.crt --ca-key DEVICE_CA.key
 *               --allow ALLOW.txt --issued ISSUED.txt
 *               [-h HOST] [--tls-name NAME] [--days N] [--rate N] [-C COUNT]
 *               [-W SECONDS]
 *
 * --tls-name is the name the broker's certificate must carry (default
 * HOST; mbedTLS 2.28 does not match IP addresses, so give a DNS name).
 *
 * Prints one line per request ("issued SERIAL" / "refused SERIAL: why").
 * -C stops after COUNT requests, -W after SECONDS (default: run forever).
 * Exit status 0 on a clean stop, 1 when it cannot start. */
#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/platform.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#include "mqtt/client.h"
#include "net/clock_posix.h"
#include "tls/onboard.h"
#include "tls/tcp_tls.h"
/* In-tree tool: the calls that differ between mbedTLS 2.28 and 3.6 come
 * from the library's compat unit, as in tls/. */
#include "tls/bundle.h"
#include "tls/tls_compat.h"
#include "examples/issuer.h"

#define CSR_PREFIX "provision/csr/"
#define REPLY_PREFIX "provision/reply/"
#define MAX_SERIAL 64
#define MAX_REQUEST 8192 /* a CSR and its proof take about 1 KB */
#define RATE_SLOTS 256

static struct {
    const char *host, *tls_name, *allow_path, *issued_path;
    uint16_t port;
    long days;
    mqtls_tls_config tls_cfg;
    mqtls_tcp_tls net;
    issuer ca;
    mqtls_client c;
    long handled;
    long rate; /* requests a minute per serial */
    struct {
        char serial[MAX_SERIAL + 1];
        time_t since; /* the window's start */
        long count;
    } recent[RATE_SLOTS];
} p;

/* The pin the allow-list holds for serial ("SERIAL PIN" lines): 1 and
 * pin, or 0 when the serial is not listed. */
static int allowed(const char *serial, char pin[65])
{
    char line[256], s[MAX_SERIAL + 1], k[65];
    int found = 0;
    FILE *f = fopen(p.allow_path, "r");
    if (f == NULL)
        return 0;
    while (!found && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "%64s %64s", s, k) == 2 && strcmp(s, serial) == 0 && strlen(k) == 64) {
            memcpy(pin, k, 65);
            found = 1;
        }
    fclose(f);
    return found;
}

/* The issued file's lines "SERIAL KEY_PIN NONCE": whether this nonce was
 * seen for serial (*replay), and whether serial was issued for another
 * key (*other). */
static void issued_before(const char *serial, const char *key_pin, const char *nonce, int *replay,
                          int *other)
{
    char line[256], s[MAX_SERIAL + 1], k[65], n[65];
    FILE *f = fopen(p.issued_path, "r");
    *replay = *other = 0;
    if (f == NULL)
        return;
    while (fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "%64s %64s %64s", s, k, n) != 3 || strcmp(s, serial) != 0)
            continue;
        *replay |= strcmp(n, nonce) == 0;
        *other |= strcmp(k, key_pin) != 0;
    }
    fclose(f);
}

/* Appends an issuance and makes it durable before the reply goes out. */
static int record(const char *serial, const char *key_pin, const char *nonce)
{
    FILE *f = fopen(p.issued_path, "a");
    int ok;
    if (f == NULL)
        return -1;
    ok = fprintf(f, "%s %s %s\n", serial, key_pin, nonce) > 0 && fflush(f) == 0 &&
         fsync(fileno(f)) == 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* At most p.rate requests per serial in the minute that started with its
 * first counted request (a window of its own, not the clock's minute, so
 * a burst across a minute boundary is still one burst): 1 when this one
 * is over. */
static int over_rate(const char *serial)
{
    const time_t now = time(NULL);
    size_t i, slot = 0;
    for (i = 0; i < RATE_SLOTS; i++) {
        if (strcmp(p.recent[i].serial, serial) == 0) {
            slot = i;
            break;
        }
        if (p.recent[i].since < p.recent[slot].since)
            slot = i; /* the stalest slot, if serial has none */
    }
    if (strcmp(p.recent[slot].serial, serial) != 0 || now - p.recent[slot].since >= 60) {
        snprintf(p.recent[slot].serial, sizeof p.recent[slot].serial, "%s", serial);
        p.recent[slot].since = now;
        p.recent[slot].count = 0;
    }
    return ++p.recent[slot].count > p.rate;
}

static void hex_of(const uint8_t *b, size_t n, char *out)
{
    size_t i;
    for (i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
    out[2 * n] = '\0';
}

static int csr_cn(const mbedtls_x509_csr *csr, char *out, size_t cap)
{
    const mbedtls_x509_name *n;
    for (n = &csr->subject; n != NULL; n = n->next)
        if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0 && n->val.len < cap) {
            memcpy(out, n->val.p, n->val.len);
            out[n->val.len] = '\0';
            return 0;
        }
    return -1;
}

/* The device CA's key, PEM or DER. */
static void reply(const char *serial, const char *text)
{
    char topic[sizeof REPLY_PREFIX + MAX_SERIAL];
    mqtls_publish m = {0};
    snprintf(topic, sizeof topic, "%s%s", REPLY_PREFIX, serial);
    m.topic = (mqtls_str){topic, strlen(topic)};
    m.payload = (mqtls_bytes){(const uint8_t *)text, strlen(text)};
    m.qos = 1;
    if (mqtls_client_publish(&p.c, &m, NULL) != MQTLS_OK)
        fprintf(stderr, "provisioner: reply to %s not queued\n", serial);
}

static void refuse(const char *serial, const char *why)
{
    char json[256];
    snprintf(json, sizeof json, "{\"error\":\"%s\"}", why);
    printf("refused %s: %s\n", serial, why);
    fflush(stdout);
    reply(serial, json);
}

static void on_message(void *ctx, const mqtls_publish *m)
{
    static unsigned char pem[4096];
    char serial[MAX_SERIAL + 1], cn[MAX_SERIAL + 1], why[200], pin[65], key_pin[65], nonce[65];
    uint8_t spki[256], hash[32];
    mbedtls_x509_csr csr;
    mqtls_onboard_proof proof;
    unsigned char *buf = NULL;
    size_t n = m->topic.len - (sizeof CSR_PREFIX - 1), i, spki_len = 0;
    int w, replay = 0, other = 0;
    (void)ctx;

    if (m->topic.len <= sizeof CSR_PREFIX - 1 || n > MAX_SERIAL ||
        memcmp(m->topic.ptr, CSR_PREFIX, sizeof CSR_PREFIX - 1) != 0)
        return;
    memcpy(serial, m->topic.ptr + sizeof CSR_PREFIX - 1, n);
    serial[n] = '\0';
    for (i = 0; i < n; i++) /* it becomes a topic level and a file field */
        if (!((serial[i] >= 'A' && serial[i] <= 'Z') || (serial[i] >= 'a' && serial[i] <= 'z') ||
              (serial[i] >= '0' && serial[i] <= '9') || serial[i] == '-' || serial[i] == '_'))
            return;
    p.handled++;
    mbedtls_x509_csr_init(&csr);
    /* 1. Cheap: size, allow-list, rate; 2. the factory key's pin. */
    if (m->payload.len > MAX_REQUEST) {
        refuse(serial, "the request is too large");
        goto out;
    }
    if (!allowed(serial, pin)) {
        snprintf(why, sizeof why, "%s is not on the allow-list", serial);
        refuse(serial, why);
        goto out;
    }
    if (over_rate(serial)) {
        snprintf(why, sizeof why, "too many requests for %s: at most %ld a minute", serial, p.rate);
        refuse(serial, why);
        goto out;
    }
    if (mqtls_onboard_parse(m->payload.ptr, m->payload.len, &proof) != MQTLS_OK) {
        refuse(serial, "the request carries no proof of the device's factory key");
        goto out;
    }
    if (!mqtls_onboard_pin_matches(&proof, pin)) {
        snprintf(why, sizeof why, "the factory key is not %s's", serial);
        refuse(serial, why);
        goto out;
    }
    /* 3. The CSR: parses, P-256, CN. */
    buf = malloc(m->payload.len + 1); /* PEM parsing wants a NUL */
    if (buf == NULL)
        goto out;
    memcpy(buf, m->payload.ptr, m->payload.len);
    buf[m->payload.len] = 0;
    if (mbedtls_x509_csr_parse(&csr, buf, m->payload.len + 1) != 0) {
        refuse(serial, "the CSR does not parse");
        goto out;
    }
    if (!mqtls_pk_is_p256(&csr.pk)) {
        refuse(serial, "the key is not ECDSA P-256");
        goto out;
    }
    if (csr_cn(&csr, cn, sizeof cn) != 0 || strcmp(cn, serial) != 0) {
        refuse(serial, "the CSR's CN is not the serial number in the topic");
        goto out;
    }
    w = mbedtls_pk_write_pubkey_der(&csr.pk, spki, sizeof spki);
    if (w <= 0 || mqtls_sha256(spki + sizeof spki - (size_t)w, (size_t)w, hash) != 0) {
        refuse(serial, "the CSR's key cannot be read");
        goto out;
    }
    spki_len = (size_t)w;
    /* 4. Signatures. */
    if (mqtls_onboard_verify(&proof, serial, spki + sizeof spki - spki_len, spki_len) != MQTLS_OK) {
        refuse(serial, "the proof of the factory key does not verify");
        goto out;
    }
    if (mqtls_csr_self_signed(&csr) != 0) {
        refuse(serial, "the CSR's self-signature does not verify");
        goto out;
    }
    /* 5. Replays, and one key per serial (the same key again is fine). */
    hex_of(hash, 32, key_pin);
    hex_of(proof.nonce, sizeof proof.nonce, nonce);
    issued_before(serial, key_pin, nonce, &replay, &other);
    if (replay) {
        refuse(serial, "a replayed request (this nonce was used before)");
    } else if (other) {
        snprintf(why, sizeof why, "%s already received a certificate for another key", serial);
        refuse(serial, why);
    } else if (issuer_sign(&p.ca, &csr.pk, serial, p.days, pem, sizeof pem) != 0) {
        refuse(serial, "signing failed");
    } else if (record(serial, key_pin, nonce) != 0) {
        refuse(serial, "cannot record the issuance");
    } else {
        printf("issued %s\n", serial);
        fflush(stdout);
        reply(serial, (const char *)pem);
    }
out:
    mbedtls_x509_csr_free(&csr);
    free(buf);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"cafile", required_argument, NULL, 'a'},  {"cert", required_argument, NULL, 'c'},
        {"key", required_argument, NULL, 'k'},     {"ca-cert", required_argument, NULL, 'x'},
        {"ca-key", required_argument, NULL, 'y'},  {"allow", required_argument, NULL, 'l'},
        {"issued", required_argument, NULL, 'i'},  {"days", required_argument, NULL, 'd'},
        {"tls-name", required_argument, NULL, 'n'}, {"rate", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0}};
    static uint8_t tx[8192], rx[8192], ring[65536];
    static uint16_t qos2[32];
    static const char pers[] = "mqtls provisioner";
    const mqtls_subscription sub = {{CSR_PREFIX "+", sizeof CSR_PREFIX}, 1};
    const char *cafile = NULL, *cert = NULL, *key = NULL, *ca_cert = NULL, *ca_key = NULL;
    long count = -1;
    double seconds = -1;
    mqtls_client_config cfg;
    mqtls_ram_store store;
    time_t start;
    int opt;

    p.host = "127.0.0.1";
    p.days = 365;
    p.rate = 10;
    while ((opt = getopt_long(argc, argv, "h:p:C:W:", opts, NULL)) != -1) {
        switch (opt) {
        case 'h': p.host = optarg; break;
        case 'p': p.port = (uint16_t)strtoul(optarg, NULL, 10); break;
        case 'C': count = strtol(optarg, NULL, 10); break;
        case 'W': seconds = strtod(optarg, NULL); break;
        case 'a': cafile = optarg; break;
        case 'c': cert = optarg; break;
        case 'k': key = optarg; break;
        case 'x': ca_cert = optarg; break;
        case 'y': ca_key = optarg; break;
        case 'l': p.allow_path = optarg; break;
        case 'i': p.issued_path = optarg; break;
        case 'd': p.days = strtol(optarg, NULL, 10); break;
        case 'n': p.tls_name = optarg; break;
        case 'r': p.rate = strtol(optarg, NULL, 10); break;
        default: return 2;
        }
    }
    if (p.port == 0 || cafile == NULL || cert == NULL || key == NULL || ca_cert == NULL ||
        ca_key == NULL || p.allow_path == NULL || p.issued_path == NULL || p.days < 1 ||
        p.rate < 1) {
        fprintf(stderr, "usage: provisioner -p PORT --cafile CA --cert CRT --key KEY --ca-cert "
                        "CRT --ca-key KEY --allow FILE --issued FILE [-h HOST] [--tls-name "
                        "NAME] [--days N] [--rate N] [-C COUNT] [-W SECONDS]\n");
        return 2;
    }
    if (p.tls_name == NULL)
        p.tls_name = p.host;
    if (issuer_load(&p.ca, ca_cert, ca_key, pers) != 0) {
        fprintf(stderr, "provisioner: cannot load the device CA (%s, %s)\n", ca_cert, ca_key);
        return 1;
    }
    mqtls_tls_config_init(&p.tls_cfg);
    mqtls_tcp_tls_init(&p.net, &p.tls_cfg, p.host, p.port);
    p.net.tls_name = p.tls_name;
    if (mqtls_tls_config_setup(&p.tls_cfg) != MQTLS_OK ||
        mqtls_tls_config_add_ca_file(&p.tls_cfg, cafile, NULL) != MQTLS_OK ||
        mqtls_tls_config_set_identity_files(&p.tls_cfg, cert, key, NULL) != MQTLS_OK) {
        fprintf(stderr, "provisioner: cannot load %s, %s, %s\n", cafile, cert, key);
        return 1;
    }
    mqtls_ram_store_init(&store);
    mqtls_ram_store_setup(&store, ring, sizeof ring);
    memset(&cfg, 0, sizeof cfg);
    cfg.connect.client_id = (mqtls_str){"provisioner", 11};
    cfg.connect.clean_session = false; /* CSRs sent while we were away still come */
    cfg.connect.keepalive_s = 30;
    cfg.tx_buf = tx;
    cfg.tx_cap = sizeof tx;
    cfg.rx_buf = rx;
    cfg.rx_cap = sizeof rx;
    cfg.qos2_ids = qos2;
    cfg.qos2_cap = 32;
    mqtls_ram_store_interface(&store, &cfg.store);
    mqtls_clock_posix(&cfg.clock);
    cfg.open = mqtls_tcp_tls_open;
    cfg.open_ctx = &p.net;
    cfg.events.received = on_message;
    cfg.window = 20;
    cfg.reconnect = true;
    cfg.resubscribe = &sub;
    cfg.resubscribe_count = 1;
    mqtls_client_init(&p.c);
    if (mqtls_client_setup(&p.c, &cfg) != MQTLS_OK || mqtls_client_connect(&p.c, 10000) != MQTLS_OK ||
        mqtls_client_subscribe(&p.c, &sub, 1, NULL) != MQTLS_OK) {
        fprintf(stderr, "provisioner: cannot connect to %s:%u: %s %s\n", p.host, (unsigned)p.port,
                mqtls_strerror(p.net.last_error), mqtls_tls_why(&p.net.tls));
        return 1;
    }
    printf("provisioner: ready\n");
    fflush(stdout);
    start = time(NULL);
    while ((count < 0 || p.handled < count || mqtls_ram_store_count(&store) > 0) &&
           (seconds < 0 || difftime(time(NULL), start) < seconds))
        mqtls_client_poll(&p.c, 50);
    mqtls_client_disconnect(&p.c);
    mqtls_tcp_tls_free(&p.net);
    mqtls_tls_config_free(&p.tls_cfg);
    issuer_free(&p.ca);
    return 0;
}
