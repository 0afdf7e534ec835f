/* SPDX-License-Identifier: Apache-2.0 */
/* A CA rollover end to end, against Mosquitto with the test PKI:
 *   1. the broker serves a Root A certificate; the device trusts {A};
 *   2. the operator publishes a signed update {A, B}; the device stages,
 *      proves, commits it, and keeps publishing;
 *   3. the broker restarts serving a Root B certificate; the device
 *      reconnects by itself and no QoS 1 message is lost;
 *   4. the operator publishes {B}; a broker still serving Root A is now
 *      refused, and the error says why.
 * Then the ways an update must fail, each on its own: unsigned, wrong
 * signer, replayed, CAs that cannot verify the broker (rolled back while
 * the device stays connected), a truncated bundle, and a power cut
 * between stage and commit.
 *
 * The device here is what firmware would run: an mqtls_client whose TCP +
 * TLS stack trusts a CA store kept in blob storage, a message handler that
 * takes updates from a topic, and mqtls_ca_update_apply() with a probe
 * that makes one handshake with the staged CAs alone. */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mqtt/client.h"
#include "net/blobs_posix.h"
#include "net/clock_posix.h"
#include "net/tcp_posix.h"
#include "test/integration/broker.h"
#include "tls/ca_update.h"
#include "tls/castore.h"
#include "tls/tls_mbedtls.h"

Suite *rollover_suite(void);

#define MAX_SEQ 4000
#define UPDATE_TOPIC "mqtls/ca/update"
#define STATUS_TOPIC "mqtls/ca/status"
#define REPORT_TOPIC "mqtls/ca/report"
#define TELEMETRY_TOPIC "mqtls/telemetry"

/* A client with its TLS stack. */
typedef struct node {
    mqtls_client c;
    mqtls_client_config cfg;
    uint8_t tx[8192], rx[8192], ring[65536];
    uint16_t qos2[32];
    mqtls_ram_store store;
    mqtls_tls_config tls_cfg;
    mqtls_tls tls;
    mqtls_tcp tcp;
    int lost, restored, subacks;
    int last_open_error;
    char last_why[MQTLS_TLS_WHY_LEN];
} node;

static broker brk;
static node dev, op;

/* The device's trust and its update handling. */
static mqtls_castore cas;
static mqtls_blob_dir blob_dir;
static mqtls_blobs blobs;
static mqtls_ca_signer signer;
static char blob_path[160];
static uint8_t pending[16384];
static size_t pending_len;
static int seq;        /* next telemetry number the device publishes */
static int publish_upto; /* ... while below this */
static int die_in_probe; /* the power-cut test: the probe kills the process */
static int retain_next;  /* the next update is published retained */

/* What the operator saw. */
static int seen[MAX_SEQ];
static char last_status[2048], last_report[2048];
static int statuses, reports;

static int open_stack(void *ctx, mqtls_transport *out)
{
    node *n = ctx;
    mqtls_transport lower;
    int ret;

    mqtls_tls_free(&n->tls);
    mqtls_tls_init(&n->tls);
    mqtls_tcp_init(&n->tcp);
    ret = mqtls_tcp_connect(&n->tcp, "127.0.0.1", brk.port, 3000);
    if (ret == MQTLS_OK) {
        mqtls_tcp_transport(&n->tcp, &lower);
        ret = mqtls_tls_connect(&n->tls, &n->tls_cfg, &lower, "localhost");
        if (ret != MQTLS_OK) {
            snprintf(n->last_why, sizeof n->last_why, "%s", mqtls_tls_why(&n->tls));
            mqtls_tcp_close(&n->tcp);
        }
    }
    n->last_open_error = ret;
    return ret == MQTLS_OK ? mqtls_tls_transport(&n->tls, out) : ret;
}

/* The probe: one handshake, trusting what the store says now (the staged
 * bundle alone), on its own connection; the live one is left alone. */
static int probe(void *ctx, char *why, size_t cap)
{
    mqtls_tls t;
    mqtls_tcp tcp;
    mqtls_transport lower;
    int ret;

    (void)ctx;
    if (die_in_probe)
        raise(SIGKILL); /* power cut: staged, not committed */
    mqtls_tls_init(&t);
    mqtls_tcp_init(&tcp);
    ret = mqtls_tcp_connect(&tcp, "127.0.0.1", brk.port, 3000);
    if (ret == MQTLS_OK) {
        mqtls_tcp_transport(&tcp, &lower);
        ret = mqtls_tls_connect(&t, &dev.tls_cfg, &lower, "localhost");
        snprintf(why, cap, "%s", mqtls_tls_why(&t));
        if (ret == MQTLS_OK)
            mqtls_tls_close(&t);
        else
            mqtls_tcp_close(&tcp);
    }
    mqtls_tls_free(&t);
    return ret;
}

static void publish_text(node *n, const char *topic, const char *text, uint8_t qos)
{
    mqtls_publish p = {0};
    p.topic = (mqtls_str){topic, strlen(topic)};
    p.payload = (mqtls_bytes){(const uint8_t *)text, strlen(text)};
    p.qos = qos;
    mqtls_client_publish(&n->c, &p, NULL);
}

static void device_report(void)
{
    char json[2048];
    if (mqtls_castore_report_json(&cas, json, sizeof json, NULL) == MQTLS_OK)
        publish_text(&dev, REPORT_TOPIC, json, 1);
}

static int topic_is(const mqtls_publish *m, const char *topic)
{
    return m->topic.len == strlen(topic) && memcmp(m->topic.ptr, topic, m->topic.len) == 0;
}

static void on_device_message(void *ctx, const mqtls_publish *m)
{
    (void)ctx;
    /* Applying connects (the probe): not from inside poll(). Keep a copy. */
    if (topic_is(m, UPDATE_TOPIC) && m->payload.len <= sizeof pending) {
        memcpy(pending, m->payload.ptr, m->payload.len);
        pending_len = m->payload.len;
    }
}

static void on_lost(void *ctx, int reason)
{
    (void)reason;
    ((node *)ctx)->lost++;
}

static void on_restored(void *ctx, bool session_present)
{
    node *n = ctx;
    (void)session_present;
    n->restored++;
    if (n == &dev)
        device_report(); /* which CA this connect ended at, for the operator */
}

static void on_suback(void *ctx, uint16_t id, const uint8_t *codes, size_t count)
{
    (void)id;
    (void)codes;
    (void)count;
    ((node *)ctx)->subacks++;
}

static void on_operator_message(void *ctx, const mqtls_publish *m)
{
    char text[2048];
    size_t len = m->payload.len < sizeof text - 1 ? m->payload.len : sizeof text - 1;
    (void)ctx;
    memcpy(text, m->payload.ptr, len);
    text[len] = '\0';
    if (topic_is(m, TELEMETRY_TOPIC)) {
        int k = atoi(text);
        if (k >= 0 && k < MAX_SEQ)
            seen[k]++;
    } else if (topic_is(m, STATUS_TOPIC)) {
        snprintf(last_status, sizeof last_status, "%s", text);
        statuses++;
    } else if (topic_is(m, REPORT_TOPIC)) {
        snprintf(last_report, sizeof last_report, "%s", text);
        reports++;
    }
}

/* A client node; no Check assertions (the power-cut child uses it). */
static int node_prepare(node *n, const char *id, const char *crt, const char *key, bool clean)
{
    memset(n, 0, sizeof *n);
    mqtls_tls_config_init(&n->tls_cfg);
    if (mqtls_tls_config_setup(&n->tls_cfg) != MQTLS_OK ||
        mqtls_tls_config_set_handshake_timeout(&n->tls_cfg, 5000) != MQTLS_OK ||
        mqtls_tls_config_set_identity_files(&n->tls_cfg, crt, key, NULL) != MQTLS_OK)
        return -1;
    mqtls_tls_init(&n->tls);
    mqtls_ram_store_init(&n->store);
    if (mqtls_ram_store_setup(&n->store, n->ring, sizeof n->ring) != MQTLS_OK)
        return -1;
    n->cfg.connect.client_id = (mqtls_str){id, strlen(id)};
    n->cfg.connect.clean_session = clean;
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
    n->cfg.events.closed = on_lost;
    n->cfg.events.connected = on_restored;
    n->cfg.events.subscribe_acked = on_suback;
    n->cfg.window = 20;
    n->cfg.reconnect = true;
    n->cfg.backoff_min_ms = 50;
    n->cfg.backoff_max_ms = 400;
    n->cfg.backoff_seed = (uint32_t)id[0] * 7919u + (uint32_t)strlen(id);
    return 0;
}

static const mqtls_subscription device_subs[] = {{{UPDATE_TOPIC, sizeof UPDATE_TOPIC - 1}, 1}};

/* The device: CA store from storage (or the factory bundle {A}), update
 * topic subscribed (again after every reconnect). 0 or -1. */
static int device_start(void)
{
    int ret, i;
    if (node_prepare(&dev, "rollover-device", CERTS "device-001.crt", CERTS "device-001.key",
                     true) != 0)
        return -1;
    mqtls_castore_init(&cas);
    if (mqtls_blob_dir_setup(&blob_dir, blob_path, &blobs) != MQTLS_OK ||
        mqtls_castore_attach(&cas, &blobs) != MQTLS_OK)
        return -1;
    ret = mqtls_castore_restore(&cas);
    if (ret == MQTLS_ERR_BLOB_NOT_FOUND) /* first boot: the factory bundle */
        ret = mqtls_castore_load_file(&cas, MQTLS_CA_ACTIVE, CERTS "bundle-current.pem", 1, NULL);
    if (ret != MQTLS_OK || mqtls_tls_config_use_castore(&dev.tls_cfg, &cas) != MQTLS_OK)
        return -1;
    mqtls_ca_signer_init(&signer);
    if (mqtls_ca_signer_load_file(&signer, CERTS "update-signer.pub") != MQTLS_OK)
        return -1;
    dev.cfg.events.received = on_device_message;
    dev.cfg.resubscribe = device_subs;
    dev.cfg.resubscribe_count = 1;
    mqtls_client_init(&dev.c);
    if (mqtls_client_setup(&dev.c, &dev.cfg) != MQTLS_OK ||
        mqtls_client_connect(&dev.c, 5000) != MQTLS_OK)
        return -1;
    if (mqtls_client_subscribe(&dev.c, device_subs, 1, NULL) != MQTLS_OK)
        return -1;
    /* Subscribed before anyone publishes an update: both SUBACKs back
     * (the one sent at CONNACK and this one), bounded. */
    for (i = 0; i < 2500 && dev.subacks < 2; i++)
        mqtls_client_poll(&dev.c, 2);
    if (dev.subacks < 2)
        return -1;
    device_report();
    return 0;
}

static void device_stop(void)
{
    mqtls_client_disconnect(&dev.c);
    mqtls_tls_free(&dev.tls);
    mqtls_tls_config_free(&dev.tls_cfg);
    mqtls_castore_free(&cas);
    mqtls_ca_signer_free(&signer);
}

/* One round of the device's main loop: poll, apply an update that came
 * in, publish the next reading while the store has room. */
static void device_round(int publish)
{
    mqtls_client_poll(&dev.c, 2);
    if (pending_len > 0) {
        mqtls_ca_update_result res;
        char json[1024];
        size_t len = pending_len;
        pending_len = 0;
        mqtls_ca_update_apply(&cas, &signer, pending, len, time(NULL), probe, NULL, &res);
        if (mqtls_ca_update_status_json(&res, json, sizeof json, NULL) == MQTLS_OK)
            publish_text(&dev, STATUS_TOPIC, json, 1);
        device_report();
    }
    if (publish && seq < publish_upto && seq < MAX_SEQ &&
        mqtls_ram_store_count(&dev.store) < 100) {
        char text[16];
        snprintf(text, sizeof text, "%d", seq++);
        publish_text(&dev, TELEMETRY_TOPIC, text, 1);
    }
}

/* Operator: a persistent session on telemetry, status and report, trusting
 * both roots so that it follows the broker through the switch. */
static void operator_start(void)
{
    static const mqtls_subscription subs[] = {
        {{TELEMETRY_TOPIC, sizeof TELEMETRY_TOPIC - 1}, 1},
        {{STATUS_TOPIC, sizeof STATUS_TOPIC - 1}, 1},
        {{REPORT_TOPIC, sizeof REPORT_TOPIC - 1}, 1},
    };
    int i;
    ck_assert_int_eq(node_prepare(&op, "rollover-operator", CERTS "device-002.crt",
                                  CERTS "device-002.key", false),
                     0);
    ck_assert_int_eq(mqtls_tls_config_add_ca_file(&op.tls_cfg, CERTS "bundle-both.pem", NULL),
                     MQTLS_OK);
    op.cfg.events.received = on_operator_message;
    op.cfg.resubscribe = subs;
    op.cfg.resubscribe_count = 3;
    mqtls_client_init(&op.c);
    ck_assert_int_eq(mqtls_client_setup(&op.c, &op.cfg), MQTLS_OK);
    ck_assert_int_eq(mqtls_client_connect(&op.c, 5000), MQTLS_OK);
    ck_assert_int_eq(mqtls_client_subscribe(&op.c, subs, 3, NULL), MQTLS_OK);
    for (i = 0; i < 50; i++)
        mqtls_client_poll(&op.c, 2);
}

static void operator_stop(void)
{
    mqtls_client_disconnect(&op.c);
    mqtls_tls_free(&op.tls);
    mqtls_tls_config_free(&op.tls_cfg);
}

/* Signs bundle files into an update and publishes it (QoS 1). */
static void operator_publishes_update(const char *const *files, uint32_t version, int64_t expires,
                                      const char *key_file, size_t cut_bundle, size_t cut_message)
{
    static uint8_t bundle[16384], key[4096], msg[16384 + 128];
    size_t blen = 0, klen, mlen = 0;
    mqtls_publish p = {0};
    FILE *f;
    for (; *files != NULL; files++) {
        f = fopen(*files, "rb");
        ck_assert_ptr_nonnull(f);
        blen += fread(bundle + blen, 1, sizeof bundle - blen, f);
        fclose(f);
    }
    f = fopen(key_file, "rb");
    ck_assert_ptr_nonnull(f);
    klen = fread(key, 1, sizeof key, f);
    fclose(f);
    ck_assert_int_eq(mqtls_ca_update_sign(bundle, blen - cut_bundle, version, expires, key, klen,
                                          NULL, msg, sizeof msg, &mlen),
                     MQTLS_OK);
    p.topic = (mqtls_str){UPDATE_TOPIC, sizeof UPDATE_TOPIC - 1};
    p.payload = (mqtls_bytes){msg, mlen - cut_message};
    p.qos = 1;
    p.retain = retain_next != 0;
    retain_next = 0;
    ck_assert_int_eq(mqtls_client_publish(&op.c, &p, NULL), MQTLS_OK);
}

/* Runs device and operator until done() or the time is up (bounded in
 * rounds too). Returns done(). */
static int run_until(int (*done)(void), int publish, double seconds)
{
    struct timespec t0, t;
    long i;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < 200000 && !done(); i++) {
        device_round(publish);
        mqtls_client_poll(&op.c, 1);
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 > seconds)
            break;
    }
    return done();
}

static int want_statuses, want_seq;
static int status_arrived(void)
{
    return statuses >= want_statuses;
}

static int all_seen(void)
{
    int i;
    if (seq < want_seq || want_seq > MAX_SEQ)
        return 0;
    for (i = 0; i < want_seq; i++)
        if (seen[i] == 0)
            return 0;
    return mqtls_ram_store_count(&dev.store) == 0;
}

static void lines_serving(char *out, size_t cap, const char *chain, const char *key)
{
    char tls[1024];
    broker_tls_lines(tls, sizeof tls, chain, key, 1);
    /* Persistence, so the operator's session and its queue survive the
     * restarts; no limit on what is queued for it meanwhile. */
    snprintf(out, cap, "%spersistence true\npersistence_location {dir}/\nmax_queued_messages 0\n",
             tls);
}

static void stop_all(void)
{
    broker_stop(&brk);
}

static void setup(void)
{
    static int registered;
    char lines[2048];
    const char *tmp = getenv("MQTLS_TEST_TMP");
    if (!registered++)
        atexit(stop_all);
    memset(seen, 0, sizeof seen);
    seq = statuses = reports = 0;
    publish_upto = 1000;
    pending_len = 0;
    die_in_probe = retain_next = 0;
    last_status[0] = last_report[0] = '\0';
    snprintf(blob_path, sizeof blob_path, "%s/mqtls-rollover-XXXXXX", tmp != NULL ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(blob_path));
    lines_serving(lines, sizeof lines, "server-a-chain.pem", "server-a.key");
    ck_assert_int_eq(broker_start(&brk, "127.0.0.1", lines), 0);
}

static void teardown(void)
{
    char p[256];
    broker_stop(&brk);
    snprintf(p, sizeof p, "%s/%s", blob_path, MQTLS_CASTORE_BLOB);
    unlink(p);
    snprintf(p, sizeof p, "%s/%s.tmp", blob_path, MQTLS_CASTORE_BLOB);
    unlink(p);
    rmdir(blob_path);
}

static void assert_status(const char *words)
{
    ck_assert_msg(strstr(last_status, words) != NULL, "status %s lacks %s", last_status, words);
}

START_TEST(a_rollover_from_root_a_to_root_b_end_to_end)
{
    static const char *const both[] = {CERTS "root-a.crt", CERTS "root-b.crt", NULL};
    static const char *const next[] = {CERTS "root-b.crt", NULL};
    char lines[2048];
    int i;

    operator_start();
    ck_assert_int_eq(device_start(), 0);
    ck_assert_str_eq(mqtls_tls_why(&dev.tls), "");

    /* 1. Trusting {A}, publishing. */
    want_seq = publish_upto = 200;
    ck_assert_msg(run_until(all_seen, 1, 20), "step 1: %d published, store %u", seq,
                  (unsigned)mqtls_ram_store_count(&dev.store));

    /* 2. Update {A, B}: staged, proven, committed, while publishing. */
    want_statuses = 1;
    publish_upto = 400;
    operator_publishes_update(both, 2, (int64_t)time(NULL) + 86400, CERTS "update-signer.key", 0, 0);
    ck_assert_msg(run_until(status_arrived, 1, 20), "no status after update {A, B}");
    assert_status("\"result\":\"committed\"");
    assert_status("\"active_version\":2");
    ck_assert_uint_eq(mqtls_castore_count(&cas, MQTLS_CA_ACTIVE), 2);
    ck_assert_int_eq(dev.lost, 0); /* the live connection was never touched */

    /* 3. The broker now serves a Root B certificate: restarted while
     * messages are in flight, and the device keeps publishing. */
    publish_upto = seq + 600;
    for (i = 0; i < 30; i++)
        device_round(1);
    lines_serving(lines, sizeof lines, "server-b.crt", "server-b.key");
    ck_assert_int_eq(broker_reconfigure(&brk, "127.0.0.1", lines), 0);
    want_seq = publish_upto;
    if (!run_until(all_seen, 1, 30)) {
        int missing = 0, first = -1;
        for (i = 0; i < want_seq; i++)
            if (seen[i] == 0 && missing++ == 0)
                first = i;
        ck_abort_msg("step 3: %d published, store %u, %d of %d missing from %d, device %s (%s), "
                     "operator lost %d restored %d",
                     seq, (unsigned)mqtls_ram_store_count(&dev.store), missing, want_seq, first,
                     mqtls_errname(dev.last_open_error), dev.last_why, op.lost, op.restored);
    }
    ck_assert_int_ge(dev.lost, 1);
    ck_assert_int_ge(dev.restored, 1);
    ck_assert_str_eq(mqtls_tls_get_report(&dev.tls)->ca_subject, "CN=mqtls Test Root B");
    for (i = 0; i < want_seq; i++)
        ck_assert_msg(seen[i] >= 1, "message %d lost in the switch", i);
    /* The device told the operator its connects now end at Root B. */
    ck_assert_msg(strstr(last_report, "\"subject\":\"CN=mqtls Test Root B\"") != NULL, "%s",
                  last_report);
    ck_assert_msg(strstr(last_report, "\"uses\":0}") == NULL, "a CA still unused: %s", last_report);

    /* 4. Update {B}: Root A is no longer trusted. */
    want_statuses = 2;
    operator_publishes_update(next, 3, (int64_t)time(NULL) + 86400, CERTS "update-signer.key", 0, 0);
    ck_assert_msg(run_until(status_arrived, 1, 20), "no status after update {B}");
    assert_status("\"result\":\"committed\"");
    assert_status("\"active_version\":3");
    want_seq = seq;
    ck_assert(run_until(all_seen, 0, 20));
    lines_serving(lines, sizeof lines, "server-a-chain.pem", "server-a.key");
    ck_assert_int_eq(broker_reconfigure(&brk, "127.0.0.1", lines), 0);
    {
        int lost_before = dev.lost;
        for (i = 0; i < 3000 && !(dev.lost > lost_before && dev.last_open_error != MQTLS_OK); i++)
            device_round(0);
    }
    ck_assert_msg(dev.last_open_error == MQTLS_ERR_TLS_CERT_UNTRUSTED, "got %s",
                  mqtls_errname(dev.last_open_error));
    ck_assert_msg(strstr(dev.last_why, "not signed by a trusted CA") != NULL &&
                      strstr(dev.last_why, "issuer CN=mqtls Test Intermediate A") != NULL,
                  "%s", dev.last_why);
    device_stop();
    operator_stop();
}
END_TEST

/* The negative paths: an update published; the device reports it refused,
 * stays on {A} version 1, stays connected. */
static void refused(const char *const *files, uint32_t version, int64_t expires, const char *key,
                    size_t cut_bundle, size_t cut_message, const char *error)
{
    char name[64];
    want_statuses = statuses + 1;
    operator_publishes_update(files, version, expires, key, cut_bundle, cut_message);
    ck_assert_msg(run_until(status_arrived, 1, 20), "no status for the update");
    assert_status("\"result\":\"rejected\"");
    snprintf(name, sizeof name, "\"error\":\"%s\"", error);
    assert_status(name);
}

static void still_on_a_and_connected(uint32_t version)
{
    mqtls_ca_info info;
    ck_assert_uint_eq(mqtls_castore_version(&cas, MQTLS_CA_ACTIVE), version);
    ck_assert_int_eq(mqtls_castore_info(&cas, MQTLS_CA_ACTIVE, 0, &info), MQTLS_OK);
    ck_assert_str_eq(info.subject, "CN=mqtls Test Root A");
    ck_assert_uint_eq(mqtls_castore_count(&cas, MQTLS_CA_STAGED), 0);
    ck_assert_int_eq(dev.lost, 0);
    publish_upto = want_seq = seq + 20;
    ck_assert(run_until(all_seen, 1, 20));
}

static const char *const update_both[] = {CERTS "root-a.crt", CERTS "root-b.crt", NULL};

START_TEST(an_unsigned_update_is_refused)
{
    operator_start();
    ck_assert_int_eq(device_start(), 0);
    /* The signed update with its signature cut off: length 0. */
    {
        static const uint8_t zero[2] = {0, 0};
        static uint8_t bundle[8192], msg[9000];
        size_t n = 0;
        mqtls_publish p = {0};
        FILE *f = fopen(CERTS "bundle-both.pem", "rb");
        ck_assert_ptr_nonnull(f);
        n = fread(bundle, 1, sizeof bundle, f);
        fclose(f);
        memcpy(msg, "MQCAUPD1\0\0\0\x09\0\0\0\0\x7f\0\0\0", 20);
        msg[20] = (uint8_t)(n >> 24);
        msg[21] = (uint8_t)(n >> 16);
        msg[22] = (uint8_t)(n >> 8);
        msg[23] = (uint8_t)n;
        memcpy(msg + 24, bundle, n);
        memcpy(msg + 24 + n, zero, 2);
        want_statuses = 1;
        p.topic = (mqtls_str){UPDATE_TOPIC, sizeof UPDATE_TOPIC - 1};
        p.payload = (mqtls_bytes){msg, 26 + n};
        p.qos = 1;
        ck_assert_int_eq(mqtls_client_publish(&op.c, &p, NULL), MQTLS_OK);
        ck_assert(run_until(status_arrived, 1, 20));
        assert_status("\"error\":\"MQTLS_ERR_UPDATE_UNSIGNED\"");
    }
    still_on_a_and_connected(1);
    device_stop();
    operator_stop();
}
END_TEST

START_TEST(an_update_from_the_wrong_signer_is_refused)
{
    operator_start();
    ck_assert_int_eq(device_start(), 0);
    refused(update_both, 2, (int64_t)time(NULL) + 86400, CERTS "other-signer.key", 0, 0,
            "MQTLS_ERR_UPDATE_BAD_SIGNATURE");
    still_on_a_and_connected(1);
    device_stop();
    operator_stop();
}
END_TEST

START_TEST(a_replayed_or_older_update_is_refused)
{
    static const char *const current[] = {CERTS "root-a.crt", NULL};
    operator_start();
    ck_assert_int_eq(device_start(), 0);
    want_statuses = 1;
    operator_publishes_update(current, 5, (int64_t)time(NULL) + 86400, CERTS "update-signer.key", 0, 0);
    ck_assert(run_until(status_arrived, 1, 20));
    assert_status("\"result\":\"committed\"");
    refused(update_both, 5, (int64_t)time(NULL) + 86400, CERTS "update-signer.key", 0, 0,
            "MQTLS_ERR_UPDATE_OLD_VERSION");
    refused(update_both, 4, (int64_t)time(NULL) + 86400, CERTS "update-signer.key", 0, 0,
            "MQTLS_ERR_UPDATE_OLD_VERSION");
    refused(update_both, 6, (int64_t)time(NULL) - 60, CERTS "update-signer.key", 0, 0,
            "MQTLS_ERR_UPDATE_EXPIRED");
    still_on_a_and_connected(5);
    device_stop();
    operator_stop();
}
END_TEST

START_TEST(an_update_that_cannot_verify_the_broker_is_rolled_back)
{
    static const char *const next[] = {CERTS "root-b.crt", NULL};
    operator_start();
    ck_assert_int_eq(device_start(), 0);
    refused(next, 2, (int64_t)time(NULL) + 86400, CERTS "update-signer.key", 0, 0,
            "MQTLS_ERR_UPDATE_PROBE_FAILED");
    assert_status("not signed by a trusted CA");
    still_on_a_and_connected(1);
    device_stop();
    operator_stop();
}
END_TEST

START_TEST(a_truncated_update_is_refused)
{
    operator_start();
    ck_assert_int_eq(device_start(), 0);
    /* Signed, but the bundle was cut before signing. */
    refused(update_both, 2, (int64_t)time(NULL) + 86400, CERTS "update-signer.key", 60, 0,
            "MQTLS_ERR_TLS_BAD_CA");
    assert_status("certificate 2");
    /* Cut in transit. */
    refused(update_both, 2, (int64_t)time(NULL) + 86400, CERTS "update-signer.key", 0, 700,
            "MQTLS_ERR_UPDATE_MALFORMED");
    still_on_a_and_connected(1);
    device_stop();
    operator_stop();
}
END_TEST

/* The device runs in a child that dies (SIGKILL) in the probe, after
 * staging and before commit; restarted, it is on its committed bundle. */
START_TEST(a_power_cut_between_stage_and_commit_leaves_the_active_bundle)
{
    static const char *const other[] = {CERTS "root-a.crt", CERTS "other-ca.crt", NULL};
    pid_t pid;
    int status, i;

    operator_start();
    /* First a committed {A, B}, version 2, in storage. */
    ck_assert_int_eq(device_start(), 0);
    want_statuses = 1;
    operator_publishes_update(update_both, 2, (int64_t)time(NULL) + 86400, CERTS "update-signer.key",
                              0, 0);
    ck_assert(run_until(status_arrived, 1, 20));
    assert_status("\"result\":\"committed\"");
    want_seq = seq; /* the RAM store does not outlive the process: drain it */
    ck_assert(run_until(all_seen, 0, 20));
    device_stop();

    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* The device, dying in the probe of the next update. */
        int k;
        die_in_probe = 1;
        if (device_start() != 0)
            _exit(3);
        for (k = 0; k < 20000; k++) {
            mqtls_client_poll(&dev.c, 5);
            if (pending_len > 0)
                mqtls_ca_update_apply(&cas, &signer, pending, pending_len, time(NULL), probe, NULL,
                                      NULL);
        }
        _exit(4); /* no update came */
    }
    /* The operator sends {A, other} v3, retained: the child gets it
     * whenever it subscribes. */
    retain_next = 1;
    operator_publishes_update(other, 3, (int64_t)time(NULL) + 86400, CERTS "update-signer.key", 0, 0);
    for (i = 0; i < 4000 && waitpid(pid, &status, WNOHANG) == 0; i++)
        mqtls_client_poll(&op.c, 5);
    if (i == 4000) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        ck_abort_msg("the device never reached the probe");
    }
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child status %d", status);

    /* Power back: the committed {A, B}, version 2, whole. */
    ck_assert_int_eq(device_start(), 0);
    ck_assert_uint_eq(mqtls_castore_version(&cas, MQTLS_CA_ACTIVE), 2);
    ck_assert_uint_eq(mqtls_castore_count(&cas, MQTLS_CA_ACTIVE), 2);
    ck_assert_uint_eq(mqtls_castore_count(&cas, MQTLS_CA_STAGED), 0);
    publish_upto = want_seq = seq + 20;
    if (!run_until(all_seen, 1, 20)) {
        char miss[256] = "";
        for (i = 0; i < want_seq; i++)
            if (seen[i] == 0)
                snprintf(miss + strlen(miss), sizeof miss - strlen(miss), " %d", i);
        ck_abort_msg("%d published, store %u, lost %d, op lost %d state %d, missing%s", seq,
                     (unsigned)mqtls_ram_store_count(&dev.store), dev.lost, op.lost, op.c.state, miss);
    }
    device_stop();
    operator_stop();
}
END_TEST

Suite *rollover_suite(void)
{
    Suite *s = suite_create("rollover");
    TCase *tc = tcase_create("mosquitto");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, a_rollover_from_root_a_to_root_b_end_to_end);
    tcase_add_test(tc, an_unsigned_update_is_refused);
    tcase_add_test(tc, an_update_from_the_wrong_signer_is_refused);
    tcase_add_test(tc, a_replayed_or_older_update_is_refused);
    tcase_add_test(tc, an_update_that_cannot_verify_the_broker_is_rolled_back);
    tcase_add_test(tc, a_truncated_update_is_refused);
    tcase_add_test(tc, a_power_cut_between_stage_and_commit_leaves_the_active_bundle);
    suite_add_tcase(s, tc);
    return s;
}
