/* SPDX-License-Identifier: Apache-2.0 */
/* Onboarding with a claim certificate, against Mosquitto (acl_file with
 * use_identity_as_username) and examples/provisioner:
 *  - a device with only the shared claim identity makes its own key, sends
 *    a CSR, gets its certificate, stores key and certificate, reconnects as
 *    itself; the claim identity could not touch device topics, its own can;
 *  - the provisioner refuses serials not on its allow-list, a request
 *    without the serial's factory key (a claim holder asking for another
 *    device), a replayed request, a second key for an issued serial, a CSR
 *    whose self-signature fails, a CN that is not the serial, an RSA key
 *    (before any signature is checked), too many requests a minute; the
 *    same key asked again is answered again;
 *  - a new certificate the broker refuses is reported and the device falls
 *    back to the one it had; a good one is committed only after a clean
 *    connect (renewal takes the same path). */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <mbedtls/pem.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#include "mqtt/client.h"
#include "net/blobs_posix.h"
#include "net/clock_posix.h"
#include "net/tcp_posix.h"
#include "test/integration/broker.h"
#include "test/unit/testutil.h"
#include "tls/identity.h"
#include "tls/onboard.h"
#include "tls/pkcs11.h"
#include "tls/tls_compat.h" /* a bad CSR made by hand, on either mbedTLS */
#include "tls/tls_mbedtls.h"

Suite *onboarding_suite(void);

#define PROVISIONER MQTLS_BUILD_DIR "/examples/provisioner"

typedef struct node {
    mqtls_client c;
    mqtls_client_config cfg;
    uint8_t tx[8192], rx[8192], ring[16384];
    uint16_t qos2[32];
    mqtls_ram_store store;
    mqtls_tls_config tls_cfg;
    mqtls_tls tls;
    mqtls_tcp tcp;
    char id[32];
    mqtls_identity ident; /* the device's slots (unused by the observer) */
    mqtls_id_slot slot_used;
    int open_error;
    char why[MQTLS_TLS_WHY_LEN];
    /* what arrived */
    char reply[4096];
    int replies, seen;
} node;

static broker brk;
static node dev, obs;
static char dir[160], acl[200], allow[200], issued[200], prov_out[200];
static pid_t prov_pid;
/* The factory keys of SN-1001, SN-1002, SN-1003 (made at setup; their pins
 * are the provisioner's allow-list), and one that is nobody's. */
static uint8_t factory[4][512];
static size_t factory_len[4];
static uint8_t last_request[8192];
static size_t last_request_len;
static mqtls_blob_dir blob_dir;
static mqtls_blobs blobs;

static int open_stack(void *ctx, mqtls_transport *out)
{
    node *n = ctx;
    mqtls_transport lower;
    int ret;

    mqtls_tls_free(&n->tls);
    mqtls_tls_init(&n->tls);
    mqtls_tcp_init(&n->tcp);
    n->why[0] = '\0';
    if (n == &dev) { /* the device picks its identity for every connect */
        n->slot_used = mqtls_identity_next(&n->ident);
        ret = mqtls_identity_apply(&n->ident, n->slot_used, &n->tls_cfg);
        if (ret != MQTLS_OK)
            return n->open_error = ret;
    }
    ret = mqtls_tcp_connect(&n->tcp, "127.0.0.1", brk.port, 3000);
    if (ret == MQTLS_OK) {
        mqtls_tcp_transport(&n->tcp, &lower);
        ret = mqtls_tls_connect(&n->tls, &n->tls_cfg, &lower, "localhost");
        if (ret != MQTLS_OK) {
            snprintf(n->why, sizeof n->why, "%s", mqtls_tls_why(&n->tls));
            mqtls_tcp_close(&n->tcp);
        }
    }
    n->open_error = ret;
    return ret == MQTLS_OK ? mqtls_tls_transport(&n->tls, out) : ret;
}

static void on_message(void *ctx, const mqtls_publish *m)
{
    node *n = ctx;
    size_t len = m->payload.len < sizeof n->reply - 1 ? m->payload.len : sizeof n->reply - 1;
    memcpy(n->reply, m->payload.ptr, len);
    n->reply[len] = '\0';
    if (m->topic.len > 8 && memcmp(m->topic.ptr, "devices/", 8) == 0)
        n->seen++;
    else
        n->replies++;
}

static void node_setup(node *n, const char *id)
{
    memset(n, 0, sizeof *n);
    snprintf(n->id, sizeof n->id, "%s", id);
    mqtls_tls_config_init(&n->tls_cfg);
    ck_assert_int_eq(mqtls_tls_config_setup(&n->tls_cfg), MQTLS_OK);
    ck_assert_int_eq(mqtls_tls_config_add_ca_file(&n->tls_cfg, CERTS "bundle-current.pem", NULL),
                     MQTLS_OK);
    mqtls_tls_init(&n->tls);
    mqtls_identity_init(&n->ident);
    mqtls_ram_store_init(&n->store);
    ck_assert_int_eq(mqtls_ram_store_setup(&n->store, n->ring, sizeof n->ring), MQTLS_OK);
    n->cfg.connect.client_id = (mqtls_str){n->id, strlen(n->id)};
    n->cfg.connect.clean_session = true;
    n->cfg.connect.keepalive_s = 30;
    n->cfg.tx_buf = n->tx;
    n->cfg.tx_cap = sizeof n->tx;
    n->cfg.rx_buf = n->rx;
    n->cfg.rx_cap = sizeof n->rx;
    n->cfg.qos2_ids = n->qos2;
    n->cfg.qos2_cap = 32;
    mqtls_ram_store_interface(&n->store, &n->cfg.store);
    mqtls_clock_posix(&n->cfg.clock);
    n->cfg.open = open_stack;
    n->cfg.open_ctx = n;
    n->cfg.events.ctx = n;
    n->cfg.events.received = on_message;
    n->cfg.window = 20;
    mqtls_client_init(&n->c);
    ck_assert_int_eq(mqtls_client_setup(&n->c, &n->cfg), MQTLS_OK);
}

static void node_free(node *n)
{
    mqtls_client_disconnect(&n->c);
    mqtls_tls_free(&n->tls);
    mqtls_tls_config_free(&n->tls_cfg);
    mqtls_identity_free(&n->ident);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* The device's boot: identity from storage, or the factory claim one. */
static void device_boot(const char *serial)
{
    static uint8_t crt[4096], key[4096];
    int ret;
    node_setup(&dev, serial);
    ck_assert_int_eq(mqtls_identity_attach(&dev.ident, &blobs), MQTLS_OK);
    ret = mqtls_identity_restore(&dev.ident);
    if (ret == MQTLS_ERR_BLOB_NOT_FOUND) {
        size_t cl = test_slurp(CERTS "claim.crt", crt, sizeof crt);
        size_t kl = test_slurp(CERTS "claim.key", key, sizeof key);
        ret = mqtls_identity_set(&dev.ident, MQTLS_ID_CURRENT, crt, cl, key, kl, false);
    }
    ck_assert_int_eq(ret, MQTLS_OK);
}

/* Connects, NEW first: a refusal of NEW is reported and CURRENT tried.
 * Returns what the identity layer reported about NEW (0 if not tried). */
static int device_connect(void)
{
    int ret, refused = 0, attempt;
    for (attempt = 0; attempt < 2; attempt++) {
        ret = mqtls_client_connect(&dev.c, 5000);
        if (ret != MQTLS_OK && dev.open_error != MQTLS_OK)
            ret = dev.open_error; /* the handshake's reason, not the socket's */
        {
            int r = mqtls_identity_report(&dev.ident, dev.slot_used, ret);
            if (dev.slot_used == MQTLS_ID_NEW && r != MQTLS_OK) {
                refused = r;
                continue; /* fall back to CURRENT */
            }
        }
        break;
    }
    ck_assert_msg(ret == MQTLS_OK, "connect: %s (%s)", mqtls_errname(ret), dev.why);
    return refused;
}

static void pump(node *a, node *b, int (*done)(void), int rounds)
{
    int i;
    for (i = 0; i < rounds && !done(); i++) {
        mqtls_client_poll(&a->c, 5);
        if (b != NULL)
            mqtls_client_poll(&b->c, 5);
    }
}

static void subscribe(node *n, const char *filter)
{
    mqtls_subscription s = {{filter, strlen(filter)}, 1};
    int i;
    ck_assert_int_eq(mqtls_client_subscribe(&n->c, &s, 1, NULL), MQTLS_OK);
    for (i = 0; i < 40; i++)
        mqtls_client_poll(&n->c, 5);
}

static void publish(node *n, const char *topic, const uint8_t *data, size_t len)
{
    mqtls_publish p = {0};
    p.topic = (mqtls_str){topic, strlen(topic)};
    p.payload = (mqtls_bytes){data, len};
    p.qos = 1;
    ck_assert_int_eq(mqtls_client_publish(&n->c, &p, NULL), MQTLS_OK);
}

static int dev_replied(void)
{
    return dev.replies > 0;
}

static int obs_seen(void)
{
    return obs.seen > 0;
}

/* ---- fixture: broker with ACL, blob dir, provisioner ------------------------- */

static void stop_all(void)
{
    if (prov_pid > 0) {
        kill(prov_pid, SIGKILL);
        waitpid(prov_pid, NULL, 0);
        prov_pid = 0;
    }
    broker_stop(&brk);
}

static void start_provisioner_with(const char *ca_cert, const char *ca_key)
{
    char port[16], line[256];
    int i, ready = 0;
    snprintf(port, sizeof port, "%u", (unsigned)brk.port);
    prov_pid = fork();
    ck_assert_int_ge(prov_pid, 0);
    if (prov_pid == 0) {
        int fd = open(prov_out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
        if (fd < 0)
            _exit(127);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(PROVISIONER, PROVISIONER, "-p", port, "--tls-name", "localhost", "--cafile",
              CERTS "root-a.crt", "--cert", CERTS "provisioner.crt", "--key",
              CERTS "provisioner.key", "--ca-cert", ca_cert, "--ca-key", ca_key, "--allow", allow,
              "--issued", issued, "-W", "60", (char *)NULL);
        _exit(127);
    }
    for (i = 0; i < 250 && !ready; i++) { /* at most 5 s */
        FILE *f = fopen(prov_out, "r");
        struct timespec ts = {0, 20000000L};
        if (f != NULL) {
            while (fgets(line, sizeof line, f) != NULL)
                ready |= strstr(line, "provisioner: ready") != NULL;
            fclose(f);
        }
        if (!ready)
            nanosleep(&ts, NULL);
    }
    ck_assert_msg(ready, "the provisioner did not start");
}

/* The observer (device-002) connects and reads every device's topics. */
static void observe_devices(void)
{
    node_setup(&obs, "observer");
    ck_assert_int_eq(mqtls_tls_config_set_identity_files(&obs.tls_cfg, CERTS "device-002.crt",
                                                         CERTS "device-002.key", NULL),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_client_connect(&obs.c, 5000), MQTLS_OK);
    subscribe(&obs, "devices/#");
}

static void start_provisioner(void)
{
    start_provisioner_with(CERTS "root-a.crt", CERTS "root-a.key");
}

static void setup(void)
{
    static int registered;
    char lines[2048], tls[1024];
    const char *tmp = getenv("MQTLS_TEST_TMP");
    if (!registered++)
        atexit(stop_all);
    snprintf(dir, sizeof dir, "%s/mqtls-onboard-XXXXXX", tmp != NULL ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(acl, sizeof acl, "%s/acl", dir);
    snprintf(allow, sizeof allow, "%s/allow.txt", dir);
    snprintf(issued, sizeof issued, "%s/issued.txt", dir);
    snprintf(prov_out, sizeof prov_out, "%s/provisioner.out", dir);
    /* The claim identity may only ask for a certificate and read its own
     * answer; devices read and write their own subtree and ask for their
     * own renewal; the observer (device-002) reads every device's. */
    write_file(acl, "user claim\ntopic write provision/csr/+\n\n"
                    "user provisioner\ntopic read provision/csr/+\ntopic write provision/reply/+\n\n"
                    "user device-002\ntopic read devices/#\n\n"
                    "pattern read provision/reply/%c\npattern readwrite devices/%u/#\n"
                    /* a device renews as itself, for its own serial only */
                    "pattern write provision/csr/%u\n");
    {
        char list[512], pins[4][65];
        int k;
        for (k = 0; k < 4; k++) {
            ck_assert_int_eq(mqtls_identity_generate_key(factory[k], sizeof factory[k],
                                                         &factory_len[k]),
                             MQTLS_OK);
            ck_assert_int_eq(mqtls_onboard_key_pin(factory[k], factory_len[k], pins[k]), MQTLS_OK);
        }
        snprintf(list, sizeof list, "SN-1001 %s\nSN-1002 %s\nSN-1003 %s\n", pins[0], pins[1],
                 pins[2]);
        write_file(allow, list);
    }
    write_file(issued, "");
    ck_assert_int_eq(mqtls_blob_dir_setup(&blob_dir, dir, &blobs), MQTLS_OK);
    broker_tls_lines(tls, sizeof tls, "server-a-chain.pem", "server-a.key", 1);
    snprintf(lines, sizeof lines, "%sacl_file %s\n", tls, acl);
    ck_assert_int_eq(broker_start(&brk, "127.0.0.1", lines), 0);
    prov_pid = 0;
}

static void teardown(void)
{
    static const char *const files[] = {"acl", "allow.txt", "issued.txt", "provisioner.out",
                                        "id.current", "id.new", "id.current.tmp", "id.new.tmp"};
    char p[256];
    size_t i;
    stop_all();
    for (i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* ---- the tests ------------------------------------------------------------------ */

/* The factory key the device of serial carries (index 3: nobody's). */
static int factory_of(const char *serial)
{
    return strcmp(serial, "SN-1001") == 0 ? 0 : strcmp(serial, "SN-1002") == 0 ? 1
           : strcmp(serial, "SN-1003") == 0 ? 2 : 3;
}

/* Publishes payload under serial's topic as the claim identity and waits
 * for the provisioner's answer (into dev.reply). */
static void send_request(const char *serial, const uint8_t *payload, size_t len)
{
    char topic[64], reply_topic[64];
    snprintf(reply_topic, sizeof reply_topic, "provision/reply/%s", serial);
    subscribe(&dev, reply_topic);
    snprintf(topic, sizeof topic, "provision/csr/%s", serial);
    dev.replies = 0;
    publish(&dev, topic, payload, len);
    pump(&dev, NULL, dev_replied, 1000);
    ck_assert_msg(dev.replies == 1, "no answer from the provisioner for %s", serial);
}

/* As the claim identity: a CSR for cn with key (made here unless *key_len
 * is set), proven with factory key `with`, signed for `proven_serial`,
 * published under serial's topic. The request is kept in last_request. */
static void ask_with(const char *serial, const char *cn, int with, const char *proven_serial,
                     uint8_t *key, size_t *key_len)
{
    static uint8_t csr[2048];
    size_t csr_len = 0;
    if (*key_len == 0)
        ck_assert_int_eq(mqtls_identity_generate_key(key, 512, key_len), MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_csr(key, *key_len, cn, csr, sizeof csr, &csr_len), MQTLS_OK);
    ck_assert_int_eq(mqtls_onboard_request(factory[with], factory_len[with], proven_serial, csr,
                                           csr_len, last_request, sizeof last_request,
                                           &last_request_len),
                     MQTLS_OK);
    send_request(serial, last_request, last_request_len);
}

/* The honest device of serial: a fresh key, proven with its factory key. */
static void ask_for_certificate(const char *serial, const char *cn, uint8_t *key, size_t *key_len)
{
    *key_len = 0;
    ask_with(serial, cn, factory_of(serial), serial, key, key_len);
}

START_TEST(a_device_onboards_itself_with_the_claim_certificate)
{
    uint8_t key[512];
    size_t key_len = 0;
    const uint8_t *cert;
    size_t cert_len;
    mqtls_identity again;
    mbedtls_x509_crt crt;
    char dn[64];

    start_provisioner();
    observe_devices();

    device_boot("SN-1001");
    ck_assert_int_eq(device_connect(), 0);
    ck_assert_int_eq(dev.slot_used, MQTLS_ID_CURRENT);
    /* As claim, the device's own topics are out of reach. */
    publish(&dev, "devices/SN-1001/hello", (const uint8_t *)"claim", 5);
    pump(&dev, &obs, obs_seen, 100);
    ck_assert_int_eq(obs.seen, 0);

    ask_for_certificate("SN-1001", "SN-1001", key, &key_len);
    ck_assert_msg(strncmp(dev.reply, "-----BEGIN CERTIFICATE-----", 27) == 0, "%s", dev.reply);
    ck_assert_int_eq(mqtls_identity_set(&dev.ident, MQTLS_ID_NEW, (const uint8_t *)dev.reply,
                                        strlen(dev.reply), key, key_len, true),
                     MQTLS_OK);
    mqtls_client_disconnect(&dev.c);

    /* Reconnect: NEW first, committed on a clean connect. */
    ck_assert_int_eq(device_connect(), 0);
    ck_assert_int_eq(dev.slot_used, MQTLS_ID_NEW);
    ck_assert(!mqtls_identity_has(&dev.ident, MQTLS_ID_NEW));
    ck_assert_int_eq(mqtls_identity_cert(&dev.ident, MQTLS_ID_CURRENT, &cert, &cert_len), MQTLS_OK);
    mbedtls_x509_crt_init(&crt);
    {
        char *pem = malloc(cert_len + 1);
        memcpy(pem, cert, cert_len);
        pem[cert_len] = '\0';
        ck_assert_int_eq(mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem, cert_len + 1), 0);
        free(pem);
    }
    mbedtls_x509_dn_gets(dn, sizeof dn, &crt.subject);
    ck_assert_str_eq(dn, "CN=SN-1001");
    mbedtls_x509_dn_gets(dn, sizeof dn, &crt.issuer);
    ck_assert_str_eq(dn, "CN=mqtls Test Root A");
    mbedtls_x509_crt_free(&crt);

    /* As itself, it reaches its own topics. */
    publish(&dev, "devices/SN-1001/hello", (const uint8_t *)"mine", 4);
    pump(&dev, &obs, obs_seen, 400);
    ck_assert_int_eq(obs.seen, 1);
    ck_assert_str_eq(obs.reply, "mine");

    /* After a reboot: its own identity from storage, nothing pending. */
    mqtls_identity_init(&again);
    ck_assert_int_eq(mqtls_identity_attach(&again, &blobs), MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_restore(&again), MQTLS_OK);
    ck_assert(!mqtls_identity_has(&again, MQTLS_ID_NEW));
    ck_assert_int_eq(mqtls_identity_cert(&again, MQTLS_ID_CURRENT, &cert, &cert_len), MQTLS_OK);
    ck_assert_uint_eq(cert_len, strlen(dev.reply));
    mqtls_identity_free(&again);
    node_free(&dev);
    node_free(&obs);
}
END_TEST

START_TEST(the_provisioner_refuses_what_it_must)
{
    uint8_t key[512], csr_der[1024], pem[2048];
    size_t key_len = 0, der_len, pem_len = 0;

    start_provisioner();
    device_boot("SN-9999");
    device_connect();
    ask_for_certificate("SN-9999", "SN-9999", key, &key_len);
    ck_assert_str_eq(dev.reply, "{\"error\":\"SN-9999 is not on the allow-list\"}");
    node_free(&dev);

    /* The CN must be the serial the device asks under. */
    device_boot("SN-1002");
    device_connect();
    ask_for_certificate("SN-1002", "SN-1001", key, &key_len);
    ck_assert_str_eq(dev.reply,
                     "{\"error\":\"the CSR's CN is not the serial number in the topic\"}");

    /* A CSR whose signature does not match its key. */
    {
        mbedtls_x509write_csr w;
        mbedtls_pk_context pk;
        mqtls_rng rng;
        int n;
        mbedtls_x509write_csr_init(&w);
        mbedtls_pk_init(&pk);
        mqtls_rng_init(&rng);
        ck_assert_int_eq(mqtls_rng_seed(&rng, "test"), 0);
        ck_assert_int_eq(mqtls_pk_parse_key(&pk, key, key_len + 1, NULL, 0), 0);
        mbedtls_x509write_csr_set_key(&w, &pk);
        mbedtls_x509write_csr_set_md_alg(&w, MBEDTLS_MD_SHA256);
        ck_assert_int_eq(mbedtls_x509write_csr_set_subject_name(&w, "CN=SN-1002"), 0);
        n = mbedtls_x509write_csr_der(&w, csr_der, sizeof csr_der, mqtls_rng_random, &rng);
        ck_assert_int_gt(n, 0);
        der_len = (size_t)n;
        /* DER is written at the end of the buffer; its last byte ends s. */
        csr_der[sizeof csr_der - 1] ^= 0x01;
        ck_assert_int_eq(mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE REQUEST-----\n",
                                                  "-----END CERTIFICATE REQUEST-----\n",
                                                  csr_der + sizeof csr_der - der_len, der_len, pem,
                                                  sizeof pem, &pem_len),
                         0);
        mbedtls_x509write_csr_free(&w);
        mbedtls_pk_free(&pk);
        mqtls_rng_free(&rng);
    }
    ck_assert_int_eq(mqtls_onboard_request(factory[1], factory_len[1], "SN-1002", pem,
                                           pem_len - 1, last_request, sizeof last_request,
                                           &last_request_len),
                     MQTLS_OK);
    send_request("SN-1002", last_request, last_request_len);
    ck_assert_str_eq(dev.reply, "{\"error\":\"the CSR's self-signature does not verify\"}");

    /* Issued; asked again with the same key (the reply was lost on the
     * way): issued again; with another key: refused. */
    ask_for_certificate("SN-1002", "SN-1002", key, &key_len);
    ck_assert_msg(strncmp(dev.reply, "-----BEGIN CERTIFICATE-----", 27) == 0, "%s", dev.reply);
    ask_with("SN-1002", "SN-1002", factory_of("SN-1002"), "SN-1002", key, &key_len);
    ck_assert_msg(strncmp(dev.reply, "-----BEGIN CERTIFICATE-----", 27) == 0, "%s", dev.reply);
    ask_for_certificate("SN-1002", "SN-1002", key, &key_len);
    ck_assert_str_eq(dev.reply,
                     "{\"error\":\"SN-1002 already received a certificate for another key\"}");
    node_free(&dev);
}
END_TEST

/* The claim certificate is shared: its holder must not get another
 * device's certificate. Without SN-1002's factory key a request for
 * SN-1002 is refused, however it is dressed, and the real SN-1002 still
 * onboards afterwards. A request seen on the way (SN-1001's) cannot be
 * replayed, for its serial or another. */
START_TEST(a_claim_holder_cannot_take_another_devices_certificate)
{
    static uint8_t saved[8192];
    uint8_t key[512], csr[2048];
    size_t key_len = 0, csr_len = 0, saved_len;

    start_provisioner();
    /* The attacker: the claim identity, client id SN-1002 (so it may read
     * SN-1002's replies), without SN-1002's factory key. */
    device_boot("SN-1002");
    device_connect();
    ck_assert_int_eq(mqtls_identity_generate_key(key, sizeof key, &key_len), MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_csr(key, key_len, "SN-1002", csr, sizeof csr, &csr_len),
                     MQTLS_OK);
    send_request("SN-1002", csr, csr_len); /* no proof at all */
    ck_assert_str_eq(dev.reply,
                     "{\"error\":\"the request carries no proof of the device's factory key\"}");
    ask_with("SN-1002", "SN-1002", factory_of("SN-1001"), "SN-1002", key, &key_len);
    ck_assert_str_eq(dev.reply, "{\"error\":\"the factory key is not SN-1002's\"}");
    ask_with("SN-1002", "SN-1002", 3, "SN-1002", key, &key_len); /* nobody's */
    ck_assert_str_eq(dev.reply, "{\"error\":\"the factory key is not SN-1002's\"}");
    node_free(&dev);

    /* SN-1001 onboards; its request, replayed, is refused. */
    device_boot("SN-1001");
    device_connect();
    ask_for_certificate("SN-1001", "SN-1001", key, &key_len);
    ck_assert_msg(strncmp(dev.reply, "-----BEGIN CERTIFICATE-----", 27) == 0, "%s", dev.reply);
    memcpy(saved, last_request, last_request_len);
    saved_len = last_request_len;
    send_request("SN-1001", saved, saved_len);
    ck_assert_str_eq(dev.reply, "{\"error\":\"a replayed request (this nonce was used before)\"}");
    node_free(&dev);

    /* Replayed under another serial by the attacker: refused; and the real
     * SN-1002 still onboards with its own factory key. */
    device_boot("SN-1002");
    device_connect();
    send_request("SN-1002", saved, saved_len);
    ck_assert_str_eq(dev.reply, "{\"error\":\"the factory key is not SN-1002's\"}");
    ask_for_certificate("SN-1002", "SN-1002", key, &key_len);
    ck_assert_msg(strncmp(dev.reply, "-----BEGIN CERTIFICATE-----", 27) == 0, "%s", dev.reply);
    node_free(&dev);
}
END_TEST

/* Cheap checks before costly ones: an RSA CSR with a proof that would not
 * verify is refused for its key type (no RSA or ECDSA verification was
 * needed to say no); and at most --rate requests a minute per serial. */
START_TEST(the_provisioner_checks_cheap_things_first)
{
    static uint8_t rsa_key[4096];
    uint8_t csr[4096], key[512];
    size_t rsa_len, csr_len = 0, key_len = 0;
    int i;

    start_provisioner();
    device_boot("SN-1003");
    device_connect();
    rsa_len = test_slurp(CERTS "device-rsa.key", rsa_key, sizeof rsa_key);
    ck_assert_int_eq(mqtls_identity_csr(rsa_key, rsa_len, "SN-1003", csr, sizeof csr, &csr_len),
                     MQTLS_OK);
    ck_assert_int_eq(mqtls_onboard_request(factory[2], factory_len[2], "SN-OTHER", csr, csr_len,
                                           last_request, sizeof last_request, &last_request_len),
                     MQTLS_OK);
    send_request("SN-1003", last_request, last_request_len);
    ck_assert_str_eq(dev.reply, "{\"error\":\"the key is not ECDSA P-256\"}");
    /* 10 a minute (the default): the eleventh and later are refused. */
    for (i = 2; i <= 10; i++) {
        key_len = 0;
        ask_with("SN-1003", "SN-1003", 3, "SN-1003", key, &key_len);
        ck_assert_str_eq(dev.reply, "{\"error\":\"the factory key is not SN-1003's\"}");
    }
    ask_for_certificate("SN-1003", "SN-1003", key, &key_len);
    ck_assert_str_eq(dev.reply, "{\"error\":\"too many requests for SN-1003: at most 10 a minute\"}");
    node_free(&dev);
}
END_TEST

/* A device CA whose subject has commas in values and PrintableStrings:
 * the issued certificate's issuer is that subject byte for byte (it was
 * rebuilt through a string before, which such a subject does not survive),
 * and the certificate verifies against that CA. */
START_TEST(the_issuer_is_the_device_cas_subject_byte_for_byte)
{
    static uint8_t ca_key[512], ca_pem[4096], key[512];
    char ca_crt_path[256], ca_key_path[256];
    size_t ca_key_len = 0, key_len = 0;
    mbedtls_x509write_cert w;
    mbedtls_pk_context pk;
    mbedtls_mpi sn;
    mqtls_rng rng;
    mbedtls_x509_crt ca, crt;
    uint32_t flags = 0;

    ck_assert_int_eq(mqtls_identity_generate_key(ca_key, sizeof ca_key, &ca_key_len), MQTLS_OK);
    mbedtls_x509write_crt_init(&w);
    mbedtls_pk_init(&pk);
    mbedtls_mpi_init(&sn);
    mqtls_rng_init(&rng);
    ck_assert_int_eq(mqtls_rng_seed(&rng, "test"), 0);
    ck_assert_int_eq(mqtls_pk_parse_key(&pk, ca_key, ca_key_len + 1, NULL, 0), 0);
    ck_assert_int_eq(mbedtls_mpi_lset(&sn, 7), 0);
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&w, &pk);
    mbedtls_x509write_crt_set_issuer_key(&w, &pk);
    ck_assert_int_eq(mbedtls_x509write_crt_set_serial(&w, &sn), 0);
    ck_assert_int_eq(mbedtls_x509write_crt_set_subject_name(
                         &w, "CN=mqtls Devices\\, Second Line,O=Example\\, Inc,C=NL"),
                     0);
    ck_assert_int_eq(mbedtls_x509write_crt_set_issuer_name(
                         &w, "CN=mqtls Devices\\, Second Line,O=Example\\, Inc,C=NL"),
                     0);
    { /* CN as a PrintableString, as older CAs have it (the default is UTF8String) */
        mbedtls_asn1_named_data *d;
        for (d = *mqtls_x509write_crt_subject(&w); d != NULL; d = d->next)
            d->val.tag = MBEDTLS_ASN1_PRINTABLE_STRING;
        for (d = *mqtls_x509write_crt_issuer(&w); d != NULL; d = d->next)
            d->val.tag = MBEDTLS_ASN1_PRINTABLE_STRING;
    }
    ck_assert_int_eq(mbedtls_x509write_crt_set_validity(&w, "20200101000000", "20400101000000"), 0);
    ck_assert_int_eq(mbedtls_x509write_crt_set_basic_constraints(&w, 1, 0), 0);
    ck_assert_int_eq(mbedtls_x509write_crt_set_subject_key_identifier(&w), 0);
    ck_assert_int_eq(mbedtls_x509write_crt_pem(&w, ca_pem, sizeof ca_pem, mqtls_rng_random, &rng),
                     0);
    mbedtls_x509write_crt_free(&w);
    mbedtls_pk_free(&pk);
    mbedtls_mpi_free(&sn);
    mqtls_rng_free(&rng);
    snprintf(ca_crt_path, sizeof ca_crt_path, "%s/devca.crt", dir);
    snprintf(ca_key_path, sizeof ca_key_path, "%s/devca.key", dir);
    write_file(ca_crt_path, (const char *)ca_pem);
    write_file(ca_key_path, (const char *)ca_key);

    start_provisioner_with(ca_crt_path, ca_key_path);
    device_boot("SN-1001");
    device_connect();
    ask_for_certificate("SN-1001", "SN-1001", key, &key_len);
    ck_assert_msg(strncmp(dev.reply, "-----BEGIN CERTIFICATE-----", 27) == 0, "%s", dev.reply);
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&crt);
    ck_assert_int_eq(mbedtls_x509_crt_parse(&ca, ca_pem, strlen((const char *)ca_pem) + 1), 0);
    ck_assert_int_eq(mbedtls_x509_crt_parse(&crt, (const unsigned char *)dev.reply,
                                            strlen(dev.reply) + 1),
                     0);
    ck_assert_uint_eq(crt.issuer_raw.len, ca.subject_raw.len);
    ck_assert_mem_eq(crt.issuer_raw.p, ca.subject_raw.p, ca.subject_raw.len);
    ck_assert_int_eq(mbedtls_x509_crt_verify(&crt, &ca, NULL, NULL, &flags, NULL, NULL), 0);
    mbedtls_x509_crt_free(&ca);
    mbedtls_x509_crt_free(&crt);
    unlink(ca_crt_path);
    unlink(ca_key_path);
    node_free(&dev);
}
END_TEST

START_TEST(a_refused_new_certificate_falls_back_and_a_good_one_is_committed)
{
    static uint8_t crt[4096], key[4096];
    size_t cl, kl;
    const uint8_t *cert;
    size_t len;
    mqtls_identity again;
    uint8_t buf[64];
    size_t blen;

    device_boot("device-001");
    cl = test_slurp(CERTS "device-001.crt", crt, sizeof crt);
    kl = test_slurp(CERTS "device-001.key", key, sizeof key);
    ck_assert_int_eq(mqtls_identity_set(&dev.ident, MQTLS_ID_CURRENT, crt, cl, key, kl, true),
                     MQTLS_OK);
    /* A certificate from a CA the broker does not trust, as NEW. */
    cl = test_slurp(CERTS "device-untrusted.crt", crt, sizeof crt);
    kl = test_slurp(CERTS "device-untrusted.key", key, sizeof key);
    ck_assert_int_eq(mqtls_identity_set(&dev.ident, MQTLS_ID_NEW, crt, cl, key, kl, true),
                     MQTLS_OK);
    /* A key that is not the certificate's is refused before anything. */
    ck_assert_int_eq(mqtls_identity_set(&dev.ident, MQTLS_ID_NEW, crt, cl, (const uint8_t *)"x", 1,
                                        true),
                     MQTLS_ERR_TLS_BAD_KEY);
    /* Refused with an alert in the TLS 1.2 handshake, which anyone on the
     * path could send: CURRENT for this connect, NEW kept. */
    ck_assert_int_eq(device_connect(), MQTLS_ERR_TLS_CLIENT_CERT_REFUSED);
    ck_assert_int_eq(dev.slot_used, MQTLS_ID_CURRENT);
    ck_assert_int_eq(dev.ident.new_refused, 0);
    ck_assert_uint_eq(dev.ident.new_unproven, 1);
    ck_assert_int_eq(blobs.read(blobs.ctx, "id.new", buf, sizeof buf, &blen),
                     MQTLS_ERR_BUFFER_TOO_SMALL); /* still stored (and large) */
    ck_assert_int_eq(mqtls_identity_cert(&dev.ident, MQTLS_ID_CURRENT, &cert, &len), MQTLS_OK);
    mqtls_client_disconnect(&dev.c);

    /* Renewal: a good NEW (device-002) is tried, connects, is committed. */
    cl = test_slurp(CERTS "device-002.crt", crt, sizeof crt);
    kl = test_slurp(CERTS "device-002.key", key, sizeof key);
    ck_assert_int_eq(mqtls_identity_set(&dev.ident, MQTLS_ID_NEW, crt, cl, key, kl, true),
                     MQTLS_OK);
    ck_assert_int_eq(dev.ident.new_refused, 0);
    ck_assert_int_eq(device_connect(), 0);
    ck_assert_int_eq(dev.slot_used, MQTLS_ID_NEW);
    ck_assert_str_eq(mqtls_tls_get_report(&dev.tls)->ca_subject, "CN=mqtls Test Root A");
    node_free(&dev);

    mqtls_identity_init(&again);
    ck_assert_int_eq(mqtls_identity_attach(&again, &blobs), MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_restore(&again), MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_cert(&again, MQTLS_ID_CURRENT, &cert, &len), MQTLS_OK);
    ck_assert_uint_eq(len, cl);
    ck_assert_mem_eq(cert, crt, cl);
    ck_assert(!mqtls_identity_has(&again, MQTLS_ID_NEW));
    mqtls_identity_free(&again);
}
END_TEST

/* With its key held elsewhere and named by ref (resolved by keys, set on
 * the device's identity): onboarding with csr (proven with SN-1001's factory
 * key), then a renewal (a fresh certificate for the same key), each
 * committed on a clean connect; then a reboot that finds the key by its
 * stored reference, and the device publishing to its own topics. */
static void onboard_by_reference(const char *ref, const mqtls_identity_keys *keys,
                                 const uint8_t *csr, size_t csr_len)
{
    mqtls_identity again;
    const uint8_t *cert;
    size_t cert_len;
    int round;

    for (round = 0; round < 2; round++) { /* onboarding, then a renewal */
        ck_assert_int_eq(mqtls_onboard_request(factory[0], factory_len[0], "SN-1001", csr, csr_len,
                                               last_request, sizeof last_request,
                                               &last_request_len),
                         MQTLS_OK);
        send_request("SN-1001", last_request, last_request_len);
        ck_assert_msg(strncmp(dev.reply, "-----BEGIN CERTIFICATE-----", 27) == 0, "%s", dev.reply);
        ck_assert_int_eq(mqtls_identity_set_ref(&dev.ident, MQTLS_ID_NEW,
                                                (const uint8_t *)dev.reply, strlen(dev.reply), ref,
                                                true),
                         MQTLS_OK);
        mqtls_client_disconnect(&dev.c);
        /* NEW first, through the key's holder; committed on the clean connect. */
        ck_assert_int_eq(device_connect(), 0);
        ck_assert_int_eq(dev.slot_used, MQTLS_ID_NEW);
        ck_assert(!mqtls_identity_has(&dev.ident, MQTLS_ID_NEW));
        ck_assert_int_eq(mqtls_identity_cert(&dev.ident, MQTLS_ID_CURRENT, &cert, &cert_len),
                         MQTLS_OK);
        ck_assert_uint_eq(cert_len, strlen(dev.reply));
    }

    /* After a reboot: CURRENT from storage names the same key by ref. */
    mqtls_client_disconnect(&dev.c);
    mqtls_identity_init(&again);
    ck_assert_int_eq(mqtls_identity_attach(&again, &blobs), MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_set_keys(&again, keys), MQTLS_OK);
    ck_assert_int_eq(mqtls_identity_restore(&again), MQTLS_OK);
    ck_assert(!mqtls_identity_has(&again, MQTLS_ID_NEW));
    mqtls_identity_free(&dev.ident);
    dev.ident = again;
    ck_assert_int_eq(device_connect(), 0);
    ck_assert_int_eq(dev.slot_used, MQTLS_ID_CURRENT);
    /* As itself it reaches its own topics (the broker names it SN-1001). */
    observe_devices();
    publish(&dev, "devices/SN-1001/hello", (const uint8_t *)"mine", 4);
    pump(&dev, &obs, obs_seen, 400);
    ck_assert_int_eq(obs.seen, 1);
}

/* Onboarding with the key born in a token (SoftHSM; the signer seam is on
 * mbedTLS 2.28): the claim identity connects; the device makes its key
 * inside the token and signs its CSR there; the provisioner's certificate
 * goes into NEW with the key's URI, and the reconnect commits it; after a
 * reboot the stored URI opens the key again; a renewal (a fresh
 * certificate for the same token key, as the provisioner allows) takes the
 * same path. The device's own key never exists as bytes. */
START_TEST(a_device_onboards_with_a_key_born_in_its_token)
{
    static const char uri[] = "pkcs11:token=mqtls;object=SN-1001-key;id=%10";
    static const char module[] = "/usr/lib/softhsm/libsofthsm2.so";
    static uint8_t csr[2048];
    char p11dir[200], cmd[600], conf[256];
    const char *tmp = getenv("MQTLS_TEST_TMP");
    mqtls_pkcs11_keyring ring;
    mqtls_identity_keys keys;
    mqtls_pkcs11_key born;
    mqtls_signer signer;
    size_t csr_len = 0;
    int ret;

    snprintf(p11dir, sizeof p11dir, "%s/p11-onboard-XXXXXX", tmp != NULL ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(p11dir));
    snprintf(cmd, sizeof cmd, "sh %s/test/integration/pkcs11_token.sh %s %s", MQTLS_SOURCE_DIR,
             p11dir, CERTS);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(conf, sizeof conf, "%s/softhsm2.conf", p11dir);
    ck_assert_int_eq(setenv("SOFTHSM2_CONF", conf, 1), 0);
    mqtls_pkcs11_keyring_init(&ring, module, "1234");
    ck_assert_int_eq(mqtls_pkcs11_keyring_keys(&ring, &keys), MQTLS_OK);

    start_provisioner();
    device_boot("SN-1001");
    ck_assert_int_eq(mqtls_identity_set_keys(&dev.ident, &keys), MQTLS_OK);
    ck_assert_int_eq(device_connect(), 0);
    ck_assert_int_eq(dev.slot_used, MQTLS_ID_CURRENT); /* the claim identity */

    /* The key, born in the token; its CSR, signed there. */
    mqtls_pkcs11_init(&born);
    ck_assert_int_eq(mqtls_pkcs11_generate(&born, uri, module, "1234"), MQTLS_OK);
    ck_assert_int_eq(mqtls_pkcs11_signer(&born, &signer), MQTLS_OK);
    ret = mqtls_identity_csr_signer(&signer, "SN-1001", csr, sizeof csr, &csr_len);
    if (strstr(mqtls_tls_backend(), "3.6") != NULL) {
        ck_assert_int_eq(ret, MQTLS_ERR_KEY_UNSUPPORTED); /* 3.6: PSA key ids */
        mqtls_pkcs11_free(&born);
        mqtls_pkcs11_keyring_free(&ring);
        node_free(&dev);
        return;
    }
    ck_assert_int_eq(ret, MQTLS_OK);
    mqtls_pkcs11_free(&born); /* the identity opens it by its URI from now on */

    onboard_by_reference(uri, &keys, csr, csr_len);
    node_free(&dev);
    node_free(&obs);
    mqtls_pkcs11_keyring_free(&ring);
}
END_TEST

/* The same with a PSA key (mbedTLS 3.6 with PSA): made non-exportable,
 * its CSR signed inside PSA, its slots naming it "psa:<id>". */
START_TEST(a_device_onboards_with_a_psa_key)
{
    static uint8_t csr[2048];
    mqtls_identity_keys keys;
    size_t csr_len = 0;
#if MQTLS_COMPAT_PSA && defined(MBEDTLS_USE_PSA_CRYPTO)
    const mbedtls_svc_key_id_t id = test_psa_signing_key();
    char ref[32];

    snprintf(ref, sizeof ref, "psa:%u", (unsigned)MBEDTLS_SVC_KEY_ID_GET_KEY_ID(id));
    ck_assert_int_eq(mqtls_identity_psa_keys(&keys), MQTLS_OK);
    start_provisioner();
    device_boot("SN-1001");
    ck_assert_int_eq(mqtls_identity_set_keys(&dev.ident, &keys), MQTLS_OK);
    ck_assert_int_eq(device_connect(), 0);
    ck_assert_int_eq(mqtls_identity_csr_psa(MBEDTLS_SVC_KEY_ID_GET_KEY_ID(id), "SN-1001", csr,
                                            sizeof csr, &csr_len),
                     MQTLS_OK);
    onboard_by_reference(ref, &keys, csr, csr_len);
    node_free(&dev);
    node_free(&obs);
    ck_assert_int_eq(psa_destroy_key(id), PSA_SUCCESS);
#else
    ck_assert_int_eq(mqtls_identity_csr_psa(1, "SN-1001", csr, sizeof csr, &csr_len),
                     MQTLS_ERR_KEY_UNSUPPORTED);
    ck_assert_int_eq(mqtls_identity_psa_keys(&keys), MQTLS_OK);
    ck_assert_int_eq(keys.apply(keys.ctx, "psa:1", (const uint8_t *)"x", 1, NULL) != MQTLS_OK, 1);
#endif
}
END_TEST

Suite *onboarding_suite(void)
{
    Suite *s = suite_create("onboarding");
    TCase *tc = tcase_create("mosquitto");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, a_device_onboards_itself_with_the_claim_certificate);
    tcase_add_test(tc, the_provisioner_refuses_what_it_must);
    tcase_add_test(tc, a_refused_new_certificate_falls_back_and_a_good_one_is_committed);
    tcase_add_test(tc, a_claim_holder_cannot_take_another_devices_certificate);
    tcase_add_test(tc, the_provisioner_checks_cheap_things_first);
    tcase_add_test(tc, the_issuer_is_the_device_cas_subject_byte_for_byte);
    tcase_add_test(tc, a_device_onboards_with_a_key_born_in_its_token);
    tcase_add_test(tc, a_device_onboards_with_a_psa_key);
    suite_add_tcase(s, tc);
    return s;
}
