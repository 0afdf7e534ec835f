/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls-fleet — N real mqtls devices in one process, to rehearse what a
 * fleet does: connect, survive a storm, roll a CA over. docs/fleet.md. */
#define _GNU_SOURCE
#include "examples/fleet/fleet.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "net/error.h"
#include "net/version.h"
#include "tls/tls_mbedtls.h"

static const char usage[] =
    "usage: mqtls-fleet connect|storm|rehearse|rollover -p PORT --ca-cert CRT --ca-key KEY\n"
    "       mqtls-fleet --help | --version\n"
    "                   (--cafile FILE | --ca NAME=FILE... --trust PCT:NAME[,NAME]...) [options]\n";

static const char help[] =
    "Scenarios:\n"
    "  connect    N devices connect, publish telemetry for --duration, drain\n"
    "  storm      as connect, then --cut CMD runs (drop every connection, restart\n"
    "             the broker): how long until 50/99/100% are back\n"
    "  rehearse   each device connects once with its trust: who would be lost, and why\n"
    "  rollover   signed update 1 ({A,B}), --switch CMD (the broker's new chain),\n"
    "             signed update 2 ({B}): every device stages, proves, commits\n"
    "Options:\n"
    "  -h, --host HOST        broker address (127.0.0.1); loopback only unless --allow-remote\n"
    "  -p, --port PORT        broker port (required)\n"
    "  -n, --devices N        devices (100)\n"
    "      --tls-name NAME    name to verify (the host)\n"
    "      --cafile FILE      every device trusts these CAs\n"
    "      --ca NAME=FILE     a named CA, for --trust (repeatable)\n"
    "      --trust PCT:NAMES  PCT% of the devices trust NAMES, e.g. 90:A,B (repeatable)\n"
    "      --ca-cert, --ca-key  the CA that signs the devices' certificates\n"
    "      --id-prefix P      client ids P00000... (fleet-)\n"
    "      --interval S       telemetry every S seconds per device (10; 0: none)\n"
    "  -q, --qos Q            telemetry QoS (1)\n"
    "      --size BYTES       telemetry payload size (16)\n"
    "      --duration S       publishing time (10)\n"
    "  -k, --keepalive S      keep-alive (60)\n"
    "  -c, --persistent       clean session 0: the broker keeps each session\n"
    "      --commands S       the operator sends each device a command every S seconds\n"
    "      --cmd-qos Q        commands' QoS (1)\n"
    "      --no-operator      no operator client (nothing counts telemetry received)\n"
    "      --resume on|off    TLS session resumption (on)\n"
    "      --jitter on|off    backoff jitter (on; off: every device the same delays)\n"
    "      --backoff-min MS, --backoff-max MS  reconnect backoff (500, 30000)\n"
    "      --connect-timeout MS  TCP connect, handshake and CONNACK each (10000)\n"
    "      --ramp N           devices started per second (0: all at once)\n"
    "      --max-handshakes K connection attempts in progress at once (32; 0: no limit):\n"
    "                         the devices share this machine's CPU, real ones do not\n"
    "      --tls-version V    1.2 or 1.3 (both offered)\n"
    "      --cut CMD          storm: the command that cuts (sh -c)\n"
    "      --cut-after S      storm: seconds of telemetry before the cut (2)\n"
    "      --switch CMD       rollover: the command that switches the broker's chain\n"
    "      --signer-pub FILE  rollover: the update-signing public key\n"
    "      --update FILE      rollover: a signed update (twice: {A,B}, then {B})\n"
    "      --timeout S        bound on each phase (120)\n"
    "      --drain S          bound on waiting for acknowledgements at the end (10)\n"
    "      --csv FILE, --json FILE  one row per device\n"
    "      --progress         a progress line every 2 s even when not on a terminal\n"
    "      --quiet            no progress\n"
    "      --allow-remote     allow a broker that is not on this machine (this is a load\n"
    "                         generator: use it only on your own)\n"
    "Exit status: 0 when every device came through (connected, nothing lost, every\n"
    "update committed; rehearse: no device would be lost), 1 when not, 2 on bad usage.\n";

enum {
    O_TLSNAME = 1000, O_CAFILE, O_CA, O_TRUST, O_CACERT, O_CAKEY, O_PREFIX, O_INTERVAL, O_SIZE,
    O_DURATION, O_COMMANDS, O_CMDQOS, O_NOOP, O_RESUME, O_JITTER, O_BMIN, O_BMAX, O_CTIMEOUT,
    O_RAMP, O_TLSV, O_CUT, O_CUTAFTER, O_SWITCH, O_SIGNER, O_UPDATE, O_TIMEOUT, O_DRAIN, O_CSV,
    O_JSON, O_PROGRESS, O_QUIET, O_REMOTE, O_HELP, O_MAXHS
};

static const struct option longopts[] = {
    {"host", 1, 0, 'h'}, {"port", 1, 0, 'p'}, {"devices", 1, 0, 'n'},
    {"tls-name", 1, 0, O_TLSNAME}, {"cafile", 1, 0, O_CAFILE}, {"ca", 1, 0, O_CA},
    {"trust", 1, 0, O_TRUST}, {"ca-cert", 1, 0, O_CACERT}, {"ca-key", 1, 0, O_CAKEY},
    {"id-prefix", 1, 0, O_PREFIX}, {"interval", 1, 0, O_INTERVAL}, {"qos", 1, 0, 'q'},
    {"size", 1, 0, O_SIZE}, {"duration", 1, 0, O_DURATION}, {"keepalive", 1, 0, 'k'},
    {"persistent", 0, 0, 'c'}, {"commands", 1, 0, O_COMMANDS}, {"cmd-qos", 1, 0, O_CMDQOS},
    {"no-operator", 0, 0, O_NOOP}, {"resume", 1, 0, O_RESUME}, {"jitter", 1, 0, O_JITTER},
    {"backoff-min", 1, 0, O_BMIN}, {"backoff-max", 1, 0, O_BMAX},
    {"connect-timeout", 1, 0, O_CTIMEOUT}, {"ramp", 1, 0, O_RAMP}, {"tls-version", 1, 0, O_TLSV},
    {"cut", 1, 0, O_CUT}, {"cut-after", 1, 0, O_CUTAFTER}, {"switch", 1, 0, O_SWITCH},
    {"signer-pub", 1, 0, O_SIGNER}, {"update", 1, 0, O_UPDATE}, {"timeout", 1, 0, O_TIMEOUT},
    {"drain", 1, 0, O_DRAIN}, {"csv", 1, 0, O_CSV}, {"json", 1, 0, O_JSON},
    {"progress", 0, 0, O_PROGRESS}, {"quiet", 0, 0, O_QUIET}, {"allow-remote", 0, 0, O_REMOTE},
    {"max-handshakes", 1, 0, O_MAXHS}, {"help", 0, 0, O_HELP}, {0, 0, 0, 0}};

static void bad(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "mqtls-fleet: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", usage);
    exit(2);
}

static double num(const char *flag, const char *arg, double lo, double hi)
{
    char *end;
    double v = strtod(arg, &end);
    if (end == arg || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "mqtls-fleet: %s %s: out of range (%g to %g)\n", flag, arg, lo, hi);
        exit(2);
    }
    return v;
}

static bool on_off(const char *flag, const char *arg)
{
    if (strcmp(arg, "on") == 0)
        return true;
    if (strcmp(arg, "off") != 0) {
        fprintf(stderr, "mqtls-fleet: %s %s: on or off\n", flag, arg);
        exit(2);
    }
    return false;
}

/* The broker's address; a load generator stays on this machine unless
 * told otherwise. 0, or exits 2. */
static void resolve(fleet *f)
{
    struct sockaddr_in *a4 = (struct sockaddr_in *)&f->addr;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&f->addr;
    const char *h = strcmp(f->o.host, "localhost") == 0 ? "127.0.0.1" : f->o.host;
    bool loopback = false;

    memset(&f->addr, 0, sizeof f->addr);
    if (inet_pton(AF_INET, h, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(f->o.port);
        f->addr_len = sizeof *a4;
        loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
    } else if (inet_pton(AF_INET6, h, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(f->o.port);
        f->addr_len = sizeof *a6;
        loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
    } else if (f->o.allow_remote) {
        struct addrinfo hints, *res = NULL;
        memset(&hints, 0, sizeof hints);
        hints.ai_socktype = SOCK_STREAM;
        if (getaddrinfo(h, NULL, &hints, &res) != 0 || res == NULL)
            bad("%s: host name not resolved", h);
        memcpy(&f->addr, res->ai_addr, res->ai_addrlen);
        f->addr_len = (socklen_t)res->ai_addrlen;
        if (res->ai_family == AF_INET)
            a4->sin_port = htons(f->o.port);
        else
            a6->sin6_port = htons(f->o.port);
        freeaddrinfo(res);
    } else {
        bad("%s: not a loopback address (a load generator stays on this machine; "
            "--allow-remote to point it elsewhere)", h);
    }
    if (!loopback && !f->o.allow_remote)
        bad("%s: not a loopback address (a load generator stays on this machine; "
            "--allow-remote to point it elsewhere)", h);
}

static void parse(fleet *f, int argc, char **argv)
{
    fleet_opts *o = &f->o;
    const char *cafile = NULL;
    size_t updates = 0;
    int opt;

    o->host = "127.0.0.1";
    o->id_prefix = "fleet-";
    o->n = 100;
    o->interval_s = 10;
    o->qos = 1;
    o->cmd_qos = 1;
    o->size = 16;
    o->duration_s = 10;
    o->keepalive_s = 60;
    o->clean = true;
    o->resume = true;
    o->jitter = true;
    o->operator_ = true;
    o->telemetry = true;
    o->backoff_min_ms = 500;
    o->backoff_max_ms = 30000;
    o->connect_timeout_ms = 10000;
    o->max_open = 32;
    o->cut_after_s = 2;
    o->timeout_s = 120;
    o->drain_s = 10;
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
            printf("%s%s", usage, help);
            exit(0);
        }
        if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
            printf("mqtls-fleet %s (mqtls %s, %s)\n", mqtls_version(), mqtls_version(),
                   mqtls_tls_backend());
            exit(0);
        }
        bad("%s", "a scenario comes first");
    }
    f->scenario = argv[1];
    if (strcmp(f->scenario, "connect") != 0 && strcmp(f->scenario, "storm") != 0 &&
        strcmp(f->scenario, "rehearse") != 0 && strcmp(f->scenario, "rollover") != 0)
        bad("%s: no such scenario", f->scenario);
    optind = 2;
    while ((opt = getopt_long(argc, argv, "h:p:n:q:k:c", longopts, NULL)) != -1) {
        switch (opt) {
        case 'h': o->host = optarg; break;
        case 'p': o->port = (uint16_t)num("--port", optarg, 1, 65535); break;
        case 'n': o->n = (uint32_t)num("--devices", optarg, 1, 1000000); break;
        case 'q': o->qos = (unsigned)num("--qos", optarg, 0, 2); break;
        case 'k': o->keepalive_s = (unsigned)num("--keepalive", optarg, 0, 65535); break;
        case 'c': o->clean = false; break;
        case O_TLSNAME: o->tls_name = optarg; break;
        case O_CAFILE: cafile = optarg; break;
        case O_CA:
            if (fleet_add_ca(f, optarg) != 0)
                bad("--ca %s: NAME=FILE with a readable CA certificate (at most 8)", optarg);
            break;
        case O_TRUST:
            if (fleet_add_group(f, optarg) != 0)
                bad("--trust %s: PCT:NAME[,NAME...] with names given by --ca first", optarg);
            break;
        case O_CACERT: o->ca_cert = optarg; break;
        case O_CAKEY: o->ca_key = optarg; break;
        case O_PREFIX: o->id_prefix = optarg; break;
        case O_INTERVAL: o->interval_s = num("--interval", optarg, 0, 86400); break;
        case O_SIZE: o->size = (unsigned)num("--size", optarg, 0, 1000); break;
        case O_DURATION: o->duration_s = num("--duration", optarg, 0, 86400); break;
        case O_COMMANDS: o->cmd_interval_s = num("--commands", optarg, 0.001, 86400); break;
        case O_CMDQOS: o->cmd_qos = (unsigned)num("--cmd-qos", optarg, 0, 2); break;
        case O_NOOP: o->operator_ = false; break;
        case O_RESUME: o->resume = on_off("--resume", optarg); break;
        case O_JITTER: o->jitter = on_off("--jitter", optarg); break;
        case O_BMIN: o->backoff_min_ms = (uint32_t)num("--backoff-min", optarg, 1, 3600000); break;
        case O_BMAX: o->backoff_max_ms = (uint32_t)num("--backoff-max", optarg, 1, 3600000); break;
        case O_CTIMEOUT:
            o->connect_timeout_ms = (uint32_t)num("--connect-timeout", optarg, 100, 600000);
            break;
        case O_MAXHS: o->max_open = (uint32_t)num("--max-handshakes", optarg, 0, 1000000); break;
        case O_RAMP: o->ramp_per_s = (uint32_t)num("--ramp", optarg, 0, 1000000); break;
        case O_TLSV:
            o->tls_versions = strcmp(optarg, "1.2") == 0   ? MQTLS_TLS_1_2
                              : strcmp(optarg, "1.3") == 0 ? MQTLS_TLS_1_3
                                                           : 0;
            if (o->tls_versions == 0)
                bad("--tls-version %s: 1.2 or 1.3", optarg);
            break;
        case O_CUT: o->cut_cmd = optarg; break;
        case O_CUTAFTER: o->cut_after_s = num("--cut-after", optarg, 0, 86400); break;
        case O_SWITCH: o->switch_cmd = optarg; break;
        case O_SIGNER: o->signer_pub = optarg; break;
        case O_UPDATE:
            if (updates == 2)
                bad("%s", "--update: at most two (the {A,B} bundle, then the {B} bundle)");
            o->update_file[updates++] = optarg;
            break;
        case O_TIMEOUT: o->timeout_s = num("--timeout", optarg, 1, 86400); break;
        case O_DRAIN: o->drain_s = num("--drain", optarg, 0, 86400); break;
        case O_CSV: o->csv = optarg; break;
        case O_JSON: o->json = optarg; break;
        case O_PROGRESS: o->progress = true; break;
        case O_QUIET: o->quiet = true; break;
        case O_REMOTE: o->allow_remote = true; break;
        case O_HELP: printf("%s%s", usage, help); exit(0);
        default: fprintf(stderr, "%s", usage); exit(2);
        }
    }
    if (optind != argc)
        bad("%s: unexpected argument", argv[optind]);
    if (o->port == 0 || o->ca_cert == NULL || o->ca_key == NULL)
        bad("%s", "-p, --ca-cert and --ca-key are needed");
    if ((cafile == NULL) == (f->group_count == 0))
        bad("%s", "the devices' trust: --cafile, or --trust (with --ca), one of them");
    if (cafile != NULL && fleet_default_group(f, cafile) != 0)
        bad("--cafile %s: cannot read it", cafile);
    if (o->backoff_min_ms > o->backoff_max_ms)
        bad("%s", "--backoff-min is above --backoff-max");
    if (o->tls_name == NULL)
        o->tls_name = o->host;
    if (strcmp(f->scenario, "storm") == 0 && o->cut_cmd == NULL)
        bad("%s", "storm needs --cut CMD");
    if (strcmp(f->scenario, "rollover") == 0) {
        if (o->switch_cmd == NULL || o->signer_pub == NULL || updates != 2)
            bad("%s", "rollover needs --switch CMD, --signer-pub and two --update files");
        o->operator_ = true;
    }
    if (strcmp(f->scenario, "rehearse") == 0) {
        o->once = true;
        o->operator_ = false;
        o->interval_s = 0;
    }
    if (!o->operator_)
        o->telemetry = false;
    resolve(f);
}

/* Enough descriptors for every device, the operator and some files. */
static void raise_fd_limit(uint32_t want)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0)
        return;
    if (r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &r);
    }
    if (r.rlim_cur < want) {
        fprintf(stderr, "mqtls-fleet: %u devices need %u file descriptors; the limit is %llu "
                        "(ulimit -n)\n", want - 64, want, (unsigned long long)r.rlim_cur);
        exit(2);
    }
}

int main(int argc, char **argv)
{
    static fleet f;
    uint32_t i, t0;
    int ret;

    parse(&f, argc, argv);
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit(f.o.n + 64);
    f.progress_tty = isatty(2) != 0;
    if (fleet_load_updates(&f) != 0) {
        fprintf(stderr, "mqtls-fleet: the updates do not verify with %s\n", f.o.signer_pub);
        return 2;
    }
    if (fleet_loop_init(&f) != 0)
        return 1;
    f.rss_base = fleet_rss();
    f.n = f.o.n;
    f.count = f.n + (f.o.operator_ ? 1u : 0u);
    f.dev = calloc(f.count, sizeof *f.dev);
    f.queue = calloc(f.count, sizeof *f.queue);
    if (f.dev == NULL || f.queue == NULL)
        return 1;
    for (i = 0; i < f.count; i++) {
        f.dev[i] = calloc(1, sizeof **f.dev);
        if (f.dev[i] == NULL || fleet_dev_setup(&f, f.dev[i], i, i == f.n) != MQTLS_OK) {
            fprintf(stderr, "mqtls-fleet: cannot set up device %u\n", i);
            return 1;
        }
    }
    f.op = f.o.operator_ ? f.dev[f.n] : NULL;
    printf("mqtls-fleet %s: %u devices against %s:%u (%s), %s\n", f.scenario, f.n, f.o.host,
           f.o.port, mqtls_tls_backend(), f.o.clean ? "clean sessions" : "persistent sessions");
    t0 = fleet_now(&f);
    if (fleet_pki(&f) != 0)
        return 1;
    printf("identities: %u keys and certificates made in %.2f s\n", f.count,
           (fleet_now(&f) - t0) / 1000.0);
    fflush(stdout);
    if (strcmp(f.scenario, "connect") == 0)
        ret = fleet_connect(&f);
    else if (strcmp(f.scenario, "storm") == 0)
        ret = fleet_storm(&f);
    else if (strcmp(f.scenario, "rehearse") == 0)
        ret = fleet_rehearse(&f);
    else
        ret = fleet_rollover(&f);
    for (i = 0; i < f.count; i++) {
        fleet_dev_free(f.dev[i]);
        free(f.dev[i]);
    }
    free(f.dev);
    free(f.queue);
    return ret;
}
