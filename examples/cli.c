/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L

#include "examples/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/clock_posix.h"

enum { OPT_CAFILE = 1000, OPT_CERT, OPT_KEY, OPT_INSECURE, OPT_CA_BUNDLE, OPT_ALPN, OPT_MAX_FRAG };

static void usage_exit(const cli *c, const char *usage, const char *why)
{
    if (why != NULL)
        fprintf(stderr, "%s: %s\n", c->prog, why);
    fprintf(stderr,
            "usage: %s %s\n"
            "  -h HOST  -p PORT (8883)  -i CLIENT_ID  -k KEEPALIVE (60)  -q QOS  -u USER  -P PASS\n"
            "  --cafile FILE  --ca-bundle FILE (repeatable)  --cert FILE  --key FILE\n"
            "  --alpn PROTOCOL (repeatable)  --tls-max-frag 512|1024|2048|4096  --insecure\n",
            c->prog, usage);
    exit(2);
}

static long number(const cli *c, const char *usage, const char *arg, long lo, long hi)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || v < lo || v > hi)
        usage_exit(c, usage, "a number is out of range");
    return v;
}

void cli_parse(cli *c, int argc, char **argv, const char *extra,
               int (*on_extra)(cli *c, int opt, const char *arg), const char *usage)
{
    static const struct option longs[] = {
        {"cafile", required_argument, NULL, OPT_CAFILE},
        {"cert", required_argument, NULL, OPT_CERT},
        {"key", required_argument, NULL, OPT_KEY},
        {"insecure", no_argument, NULL, OPT_INSECURE},
        {"ca-bundle", required_argument, NULL, OPT_CA_BUNDLE},
        {"alpn", required_argument, NULL, OPT_ALPN},
        {"tls-max-frag", required_argument, NULL, OPT_MAX_FRAG},
        {NULL, 0, NULL, 0}};
    char shorts[64];
    int opt;

    memset(c, 0, sizeof *c);
    c->prog = strrchr(argv[0], '/') != NULL ? strrchr(argv[0], '/') + 1 : argv[0];
    c->host = "localhost";
    c->port = 8883;
    c->keepalive = 60;
    c->count = -1;
    c->wait_s = -1;
    snprintf(shorts, sizeof shorts, "h:p:i:k:q:u:P:t:C:v%s", extra);
    while ((opt = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        switch (opt) {
        case 'h': c->host = optarg; break;
        case 'p': c->port = (uint16_t)number(c, usage, optarg, 1, 65535); break;
        case 'i': c->id = optarg; break;
        case 'k': c->keepalive = (unsigned)number(c, usage, optarg, 0, 65535); break;
        case 'q': c->qos = (int)number(c, usage, optarg, 0, 2); break;
        case 'u': c->user = optarg; break;
        case 'P': c->password = optarg; break;
        case 'C': c->count = number(c, usage, optarg, 1, 1000000000L); break;
        case 'v': c->verbose = true; break;
        case 't':
            if (c->topic_count == CLI_MAX_TOPICS)
                usage_exit(c, usage, "too many topics");
            c->topics[c->topic_count++] = optarg;
            break;
        case OPT_CAFILE: c->cafile = optarg; break;
        case OPT_CERT: c->cert = optarg; break;
        case OPT_KEY: c->key = optarg; break;
        case OPT_INSECURE: c->insecure = true; break;
        case OPT_CA_BUNDLE:
            if (c->ca_bundles == CLI_MAX_FILES)
                usage_exit(c, usage, "too many --ca-bundle files");
            c->ca_bundle[c->ca_bundles++] = optarg;
            break;
        case OPT_ALPN:
            if (c->alpns == MQTLS_TLS_MAX_ALPN)
                usage_exit(c, usage, "too many --alpn protocols");
            c->alpn[c->alpns++] = optarg;
            break;
        case OPT_MAX_FRAG: c->max_frag = (unsigned)number(c, usage, optarg, 512, 4096); break;
        default:
            if (opt == '?' || on_extra == NULL || on_extra(c, opt, optarg) != 0)
                usage_exit(c, usage, NULL);
        }
    }
    if (optind != argc)
        usage_exit(c, usage, "unexpected argument");
    if (c->topic_count == 0)
        usage_exit(c, usage, "a topic (-t) is needed");
    if ((c->cert == NULL) != (c->key == NULL))
        usage_exit(c, usage, "--cert and --key go together");
    if (c->cafile == NULL && c->ca_bundles == 0 && !c->insecure)
        usage_exit(c, usage, "say whom to trust: --cafile or --ca-bundle (or --insecure)");
    if (c->password != NULL && c->user == NULL)
        usage_exit(c, usage, "-P needs -u (MQTT 3.1.1 has no password without a user name)");
    c->progress = isatty(2) != 0;
}

void cli_fail(const cli *c, const char *what, int err)
{
    const char *reason = mqtls_strerror(err);
    if (err <= -300 && err > -400 && mqtls_tls_why(&c->net.tls)[0] != '\0')
        reason = mqtls_tls_why(&c->net.tls); /* the TLS failure in words */
    fprintf(stderr, "%s: %s: %s (%s)\n", c->prog, what, reason, mqtls_errname(err));
}

static int setup_tls(cli *c)
{
    size_t i, bad = 0;
    int ret = mqtls_tls_config_setup(&c->tls_cfg);
    char what[320];

    if (ret != MQTLS_OK) {
        cli_fail(c, "TLS setup", ret);
        return 1;
    }
    for (i = 0; i <= c->ca_bundles; i++) {
        const char *f = i == 0 ? c->cafile : c->ca_bundle[i - 1];
        if (f == NULL)
            continue;
        ret = mqtls_tls_config_add_ca_file(&c->tls_cfg, f, &bad);
        if (ret != MQTLS_OK) {
            snprintf(what, sizeof what, "cannot use %s%s", f,
                     bad > 0 ? " (a certificate in it)" : "");
            cli_fail(c, what, ret);
            return 1;
        }
    }
    if (c->cert != NULL &&
        (ret = mqtls_tls_config_set_identity_files(&c->tls_cfg, c->cert, c->key, NULL)) !=
            MQTLS_OK) {
        snprintf(what, sizeof what, "cannot use %s with %s", c->cert, c->key);
        cli_fail(c, what, ret);
        return 1;
    }
    if (c->alpns > 0 && (ret = mqtls_tls_config_set_alpn(&c->tls_cfg, c->alpn)) != MQTLS_OK) {
        cli_fail(c, "--alpn", ret);
        return 1;
    }
    if (c->max_frag != 0 &&
        (ret = mqtls_tls_config_set_max_fragment(&c->tls_cfg, c->max_frag)) != MQTLS_OK) {
        cli_fail(c, "--tls-max-frag takes 512, 1024, 2048 or 4096", ret);
        return 1;
    }
    if (c->insecure) {
        fprintf(stderr, "%s: WARNING: --insecure: the broker's certificate and name are not "
                        "checked; anyone on the path can read and change this traffic\n",
                c->prog);
        mqtls_tls_config_disable_verification_INSECURE(&c->tls_cfg);
    }
    return 0;
}

int cli_connect(cli *c, size_t payload_max, mqtls_client_events events)
{
    static char default_id[32];
    size_t buf = payload_max + 512;
    uint8_t *tx, *rx, *ring;
    uint16_t *qos2;
    int ret;

    mqtls_tls_config_init(&c->tls_cfg);
    mqtls_tcp_tls_init(&c->net, &c->tls_cfg, c->host, c->port);
    if (setup_tls(c) != 0)
        return 1;
    /* The tool's buffers (the library's caller owns them). */
    tx = malloc(buf);
    rx = malloc(buf);
    ring = malloc(buf * 40);
    qos2 = malloc(64 * sizeof *qos2);
    if (tx == NULL || rx == NULL || ring == NULL || qos2 == NULL) {
        fprintf(stderr, "%s: out of memory\n", c->prog);
        return 1;
    }
    if (c->id == NULL) {
        snprintf(default_id, sizeof default_id, "%s-%ld", c->prog, (long)getpid());
        c->id = default_id;
    }
    mqtls_ram_store_init(&c->store);
    mqtls_ram_store_setup(&c->store, ring, buf * 40);
    memset(&c->cfg, 0, sizeof c->cfg);
    c->cfg.connect.client_id = (mqtls_str){c->id, strlen(c->id)};
    c->cfg.connect.clean_session = true;
    c->cfg.connect.keepalive_s = (uint16_t)c->keepalive;
    if (c->user != NULL)
        c->cfg.connect.username = (mqtls_str){c->user, strlen(c->user)};
    if (c->password != NULL)
        c->cfg.connect.password = (mqtls_bytes){(const uint8_t *)c->password, strlen(c->password)};
    c->cfg.tx_buf = tx;
    c->cfg.tx_cap = buf;
    c->cfg.rx_buf = rx;
    c->cfg.rx_cap = buf;
    c->cfg.qos2_ids = qos2;
    c->cfg.qos2_cap = 64;
    mqtls_ram_store_interface(&c->store, &c->cfg.store);
    mqtls_clock_posix(&c->cfg.clock);
    c->cfg.open = mqtls_tcp_tls_open;
    c->cfg.open_ctx = &c->net;
    c->cfg.events = events;
    c->cfg.window = 20;
    mqtls_client_init(&c->client);
    ret = mqtls_client_setup(&c->client, &c->cfg);
    if (ret == MQTLS_OK)
        ret = mqtls_client_connect(&c->client, 10000);
    if (ret != MQTLS_OK) {
        char what[300];
        if (c->net.last_error != MQTLS_OK)
            ret = c->net.last_error; /* the handshake's reason, not the socket's */
        if (ret <= -401 && ret >= -405)
            snprintf(what, sizeof what, "the broker at %s:%u refused the connection", c->host,
                     (unsigned)c->port);
        else
            snprintf(what, sizeof what, "cannot connect to %s:%u", c->host, (unsigned)c->port);
        cli_fail(c, what, ret);
        return 1;
    }
    return 0;
}

void cli_progress(cli *c, const char *label, long n, long total, bool final)
{
    static struct timespec last;
    struct timespec now;
    if (!c->progress)
        return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!final && (now.tv_sec - last.tv_sec) * 1000L + (now.tv_nsec - last.tv_nsec) / 1000000L < 100)
        return;
    last = now;
    if (total > 0)
        fprintf(stderr, "\r  %s %ld/%ld%s", label, n, total, final ? "\n" : "");
    else
        fprintf(stderr, "\r  %s %ld%s", label, n, final ? "\n" : "");
}

void cli_close(cli *c)
{
    mqtls_client_disconnect(&c->client);
    mqtls_tcp_tls_free(&c->net);
    mqtls_tls_config_free(&c->tls_cfg);
}
