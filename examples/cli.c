/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L

#include "examples/cli.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ssl.h>

#include "mqtt/topic.h"
#include "net/clock_posix.h"
#include "net/version.h"

enum {
    OPT_CAFILE = 1000, OPT_CERT, OPT_KEY, OPT_INSECURE, OPT_CA_BUNDLE, OPT_ALPN, OPT_MAX_FRAG,
    OPT_HELP, OPT_VERSION, OPT_TLS_NAME, OPT_TLS_VERSION, OPT_WILL_TOPIC, OPT_WILL_PAYLOAD,
    OPT_WILL_QOS, OPT_WILL_RETAIN, OPT_REPEAT, OPT_REPEAT_DELAY, OPT_NODELAY, OPT_QUIET,
    OPT_V5_ONLY, OPT_MAX_PAYLOAD, OPT_CAPATH, OPT_KEYFORM, OPT_CIPHERS, OPT_UNIX, OPT_KEY_PIN,
    OPT_PKCS11_MODULE
};

static const char shared_help[] =
    "Connection:\n"
    "  -h HOST          the broker (default localhost)\n"
    "  -p PORT          default 1883, or 8883 with TLS\n"
    "  -A ADDRESS       connect from this local IPv4 or IPv6 address\n"
    "  --unix PATH      connect to a Unix-domain socket instead of HOST:PORT\n"
    "  -L URL           mqtt(s)://[USER[:PASS]@]HOST[:PORT]/TOPIC\n"
    "  -i ID            client id (default PROG-PID); -I, --id-prefix PREFIX: PREFIX-PID\n"
    "  -k SECONDS       keep-alive (default 60; 0 none)\n"
    "  -c               keep the session (CleanSession 0); needs -i or -I\n"
    "  -u USER -P PASS  credentials\n"
    "  -V mqttv311      the protocol (the only one: MQTT 3.1.1)\n"
    "  --will-topic T --will-payload P --will-qos Q --will-retain\n"
    "  -d               each packet sent and received, on stderr\n"
    "  --quiet          no error messages\n"
    "  --nodelay        accepted: mqtls always disables Nagle's algorithm\n"
    "TLS (any of these, or port 8883, turns it on):\n"
    "  --cafile FILE    trust these CAs (PEM or DER); --ca-bundle FILE (repeatable) adds more\n"
    "  --capath DIR     trust every certificate file in DIR (.pem, .crt, .der, and the\n"
    "                   hash links openssl rehash makes)\n"
    "  --cert FILE --key FILE   our certificate and key\n"
    "  --tls-name NAME  verify the broker as NAME and send it as SNI (connect by address)\n"
    "  --tls-version tlsv1.2|tlsv1.3   only this version (default: both where built)\n"
    "  --tls-alpn PROTOCOL (repeatable; --alpn too)   --tls-max-frag 512|1024|2048|4096\n"
    "  --insecure       do not check the broker's certificate or name (lab only; warns)\n"
    "  --ciphers LIST   TLS suites by IANA name, ':'-separated\n"
    "  --key pkcs11:token=T;object=O   a key in a PKCS#11 token (RFC 7512 URI; it never\n"
    "                   leaves the token), with --key-pin PIN and --pkcs11-module PATH\n"
    "                   (default p11-kit-proxy.so)   --keyform pem|der|pkcs11\n"
    "Other:\n"
    "  --help           this text        --version   the versions\n"
    "Options are read first from $XDG_CONFIG_HOME/PROG (or ~/.config/PROG), one per\n"
    "line as on the command line ('#' starts a comment); the command line wins.\n"
    "Exit status: 0 done, 1 failure (one sentence on stderr), 2 bad usage,\n"
    "27 (mqtls-sub -W) timed out before the count was reached.\n";

void cli_usage_error(const cli *c, const char *fmt, ...)
{
    va_list ap;
    if (!c->quiet) {
        fprintf(stderr, "%s: ", c->prog);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, " (%s --help says more)\n", c->prog);
    }
    exit(2);
}

/* A whole number for flag in [lo, hi], or a usage error naming both. */
static long number(const cli *c, const char *flag, const char *what, const char *arg, long lo,
                   long hi)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || v < lo || v > hi)
        cli_usage_error(c, "invalid %s given for %s: '%s' (%ld to %ld)", what, flag, arg, lo, hi);
    return v;
}

/* Why a topic (pub) or filter (sub) is not one, or NULL. */
static const char *topic_problem(const char *t, bool name)
{
    size_t n = strlen(t), i;
    int ret = name ? mqtls_topic_validate_name(t, n) : mqtls_topic_validate_filter(t, n);
    if (ret == MQTLS_OK)
        return NULL;
    if (n == 0)
        return "a topic cannot be empty";
    if (ret == MQTLS_ERR_BAD_UTF8)
        return "not valid UTF-8 (or it holds U+0000)";
    if (ret == MQTLS_ERR_FIELD_TOO_LONG)
        return "longer than 65,535 bytes";
    if (name)
        return "a topic to publish to cannot hold '+' or '#' (they are for filters)";
    for (i = 0; i < n; i++) {
        const bool starts = i == 0 || t[i - 1] == '/', ends = i + 1 == n || t[i + 1] == '/';
        if (t[i] == '#' && !(starts && ends))
            return "'#' must be a whole level";
        if (t[i] == '#' && i + 1 != n)
            return "'#' must be the last level";
        if (t[i] == '+' && !(starts && ends))
            return "'+' must be a whole level";
    }
    return "not a valid filter";
}

static void add_topic(cli *c, const char *t)
{
    if (c->topic_count == CLI_MAX_TOPICS)
        cli_usage_error(c, "too many topics (at most %d)", CLI_MAX_TOPICS);
    c->topics[c->topic_count++] = t;
}

/* -L mqtt(s)://[user[:pass]@]host[:port]/topic, as mosquitto reads it. */
static void parse_url(cli *c, const char *url)
{
    char *p = c->url_buf, *at, *slash, *colon, *host;
    if (strlen(url) >= sizeof c->url_buf)
        cli_usage_error(c, "-L: the URL is too long");
    if (strncmp(url, "mqtt://", 7) == 0) {
        strcpy(p, url + 7);
    } else if (strncmp(url, "mqtts://", 8) == 0) {
        strcpy(p, url + 8);
        c->tls = true;
    } else {
        cli_usage_error(c, "-L: '%s' does not start with mqtt:// or mqtts://", url);
    }
    slash = strchr(p, '/');
    if (slash == NULL || slash[1] == '\0')
        cli_usage_error(c, "-L: '%s' names no topic (mqtt://HOST/TOPIC)", url);
    *slash = '\0';
    add_topic(c, slash + 1);
    at = strrchr(p, '@');
    host = p;
    if (at != NULL) {
        *at = '\0';
        host = at + 1;
        colon = strchr(p, ':');
        if (colon != NULL) {
            *colon = '\0';
            c->password = colon + 1;
        }
        c->user = p;
    }
    colon = strrchr(host, ':');
    if (colon != NULL && strchr(host, ']') == NULL) {
        *colon = '\0';
        c->port = (uint16_t)number(c, "-L", "port", colon + 1, 1, 65535);
    }
    if (host[0] == '\0')
        cli_usage_error(c, "-L: '%s' names no host", url);
    c->host = host;
}

/* --ciphers: a ':'-separated list of IANA names (TLS_ECDHE_ECDSA_WITH_...,
 * '-' or '_') as mbedTLS knows them; OpenSSL's short names are refused
 * with the IANA spelling to use. */
static void parse_ciphers(cli *c, const char *list)
{
    char name[128], *p;
    const char *at = list;
    size_t n = 0, len;

    while (*at != '\0') {
        len = strcspn(at, ":,");
        if (len == 0 || len >= sizeof name)
            cli_usage_error(c, "--ciphers '%s': an empty or overlong name", list);
        memcpy(name, at, len);
        name[len] = '\0';
        for (p = name; *p != '\0'; p++)
            if (*p == '_')
                *p = '-';
        if (n + 1 >= sizeof c->suites / sizeof c->suites[0])
            cli_usage_error(c, "--ciphers: too many suites");
        c->suites[n] = mbedtls_ssl_get_ciphersuite_id(name);
        if (c->suites[n] == 0)
            cli_usage_error(c, "--ciphers: '%.*s' is not a suite this mbedTLS offers (IANA names, "
                               "e.g. TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)", (int)len, at);
        n++;
        at += len;
        at += *at != '\0';
    }
    if (n == 0)
        cli_usage_error(c, "--ciphers: no suite given");
    c->suites[n] = 0;
}

/* The options file, as mosquitto_pub's: $XDG_CONFIG_HOME/PROG (or
 * ~/.config/PROG), one option per line ("-h broker", "--cafile ca.pem"),
 * '#' lines and blank ones skipped; its options go before the command
 * line's, so the command line wins. Returns the merged argv in *out. */
static int with_options_file(cli *c, int argc, char **argv, char ***out)
{
    static char text[65536];
    static char *merged[512];
    char path[512], *line, *next;
    const char *base = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    FILE *f;
    size_t n;
    int m = 0, i;

    *out = argv;
    if (base != NULL && base[0] != '\0')
        snprintf(path, sizeof path, "%s/%s", base, c->prog);
    else if (home != NULL && home[0] != '\0')
        snprintf(path, sizeof path, "%s/.config/%s", home, c->prog);
    else
        return argc;
    f = fopen(path, "r");
    if (f == NULL)
        return argc;
    n = fread(text, 1, sizeof text - 1, f);
    if (!feof(f))
        cli_usage_error(c, "%s is larger than %zu bytes", path, sizeof text - 1);
    fclose(f);
    text[n] = '\0';
    merged[m++] = argv[0];
    for (line = text; line != NULL && *line != '\0'; line = next) {
        char *value;
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        line += strspn(line, " \t");
        n = strlen(line);
        while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        if (line[0] != '-')
            cli_usage_error(c, "%s: '%s' is not an option (one per line, as on the command line)",
                            path, line);
        value = line + strcspn(line, " \t");
        if (*value != '\0') {
            *value++ = '\0';
            value += strspn(value, " \t");
        }
        if (m + 2 >= (int)(sizeof merged / sizeof merged[0]) - argc)
            cli_usage_error(c, "%s has too many options", path);
        merged[m++] = line;
        if (*value != '\0')
            merged[m++] = value;
    }
    for (i = 1; i < argc && m < (int)(sizeof merged / sizeof merged[0]) - 1; i++)
        merged[m++] = argv[i];
    merged[m] = NULL;
    *out = merged;
    return m;
}

void cli_parse(cli *c, int argc, char **argv, const char *extra,
               int (*on_extra)(cli *c, int opt, const char *arg), const char *usage,
               const char *help, bool pub)
{
    static const struct option longs[] = {
        {"cafile", required_argument, NULL, OPT_CAFILE},
        {"capath", required_argument, NULL, OPT_CAPATH},
        {"keyform", required_argument, NULL, OPT_KEYFORM},
        {"key-pin", required_argument, NULL, OPT_KEY_PIN},
        {"pkcs11-module", required_argument, NULL, OPT_PKCS11_MODULE},
        {"ciphers", required_argument, NULL, OPT_CIPHERS},
        {"random-filter", required_argument, NULL, CLI_OPT_RANDOM_FILTER},
        {"cert", required_argument, NULL, OPT_CERT},
        {"key", required_argument, NULL, OPT_KEY},
        {"insecure", no_argument, NULL, OPT_INSECURE},
        {"ca-bundle", required_argument, NULL, OPT_CA_BUNDLE},
        {"alpn", required_argument, NULL, OPT_ALPN},
        {"tls-alpn", required_argument, NULL, OPT_ALPN},
        {"tls-max-frag", required_argument, NULL, OPT_MAX_FRAG},
        {"tls-name", required_argument, NULL, OPT_TLS_NAME},
        {"tls-version", required_argument, NULL, OPT_TLS_VERSION},
        {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, OPT_VERSION},
        {"id-prefix", required_argument, NULL, 'I'},
        {"will-topic", required_argument, NULL, OPT_WILL_TOPIC},
        {"will-payload", required_argument, NULL, OPT_WILL_PAYLOAD},
        {"will-qos", required_argument, NULL, OPT_WILL_QOS},
        {"will-retain", no_argument, NULL, OPT_WILL_RETAIN},
        {"repeat", required_argument, NULL, OPT_REPEAT},
        {"repeat-delay", required_argument, NULL, OPT_REPEAT_DELAY},
        {"nodelay", no_argument, NULL, OPT_NODELAY},
        {"unix", required_argument, NULL, OPT_UNIX},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"property", required_argument, NULL, OPT_V5_ONLY},
        {"max-payload", required_argument, NULL, OPT_MAX_PAYLOAD},
        {"retained-only", no_argument, NULL, CLI_OPT_RETAINED_ONLY},
        {"remove-retained", no_argument, NULL, CLI_OPT_REMOVE_RETAINED},
        {"pretty", no_argument, NULL, CLI_OPT_PRETTY},
        {NULL, 0, NULL, 0}};
    char shorts[96], *end;
    bool port_given = false, tls_flag = false;
    int opt;
    size_t i;

    memset(c, 0, sizeof *c);
    c->prog = strrchr(argv[0], '/') != NULL ? strrchr(argv[0], '/') + 1 : argv[0];
    c->host = "localhost";
    c->keepalive = 60;
    c->count = -1;
    c->wait_s = -1;
    c->repeat = 1;
    c->max_payload = 16u * 1024u * 1024u;
    c->tls_versions = MQTLS_TLS_1_2 | MQTLS_TLS_1_3;
    /* quiet first: it governs how every later error is said */
    for (i = 1; i < (size_t)argc; i++)
        c->quiet |= strcmp(argv[i], "--quiet") == 0;
    argc = with_options_file(c, argc, argv, &argv);
    for (i = 1; i < (size_t)argc; i++)
        c->quiet |= strcmp(argv[i], "--quiet") == 0;
    snprintf(shorts, sizeof shorts, "h:p:A:i:I:k:q:u:P:t:C:L:V:x:D:vdc%s", extra);
    opterr = 0; /* our sentence, not getopt's as well */
    while ((opt = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        switch (opt) {
        case 'h': c->host = optarg; break;
        case 'p':
            c->port = (uint16_t)number(c, "-p", "port", optarg, 1, 65535);
            port_given = true;
            break;
        case 'i': c->id = optarg; break;
        case 'I': c->id_prefix = optarg; break;
        case 'k': c->keepalive = (unsigned)number(c, "-k", "keep-alive", optarg, 0, 65535); break;
        case 'q': c->qos = (int)number(c, "-q", "QoS", optarg, 0, 2); break;
        case 'u': c->user = optarg; break;
        case 'P': c->password = optarg; break;
        case 'C': c->count = number(c, "-C", "count", optarg, 1, 1000000000L); break;
        case 'L': parse_url(c, optarg); port_given |= c->port != 0; break;
        case 'V':
            if (strcmp(optarg, "mqttv311") != 0 && strcmp(optarg, "311") != 0)
                cli_usage_error(c, "-V %s: mqtls speaks MQTT 3.1.1 only (-V mqttv311)", optarg);
            break;
        case 'x':
        case 'D':
        case OPT_V5_ONLY:
            cli_usage_error(c, "%s is an MQTT v5 option; mqtls speaks MQTT 3.1.1",
                            opt == 'x' ? "-x" : opt == 'D' ? "-D" : "--property");
        case 'v': c->verbose = true; break;
        case 'd': c->debug = true; break;
        case 'c': c->keep_session = true; break;
        case 't': add_topic(c, optarg); break;
        case OPT_CAFILE: c->cafile = optarg; tls_flag = true; break;
        case OPT_CAPATH: c->capath = optarg; tls_flag = true; break;
        case OPT_KEYFORM:
            if (strcmp(optarg, "pem") != 0 && strcmp(optarg, "der") != 0 &&
                strcmp(optarg, "pkcs11") != 0)
                cli_usage_error(c, "--keyform %s: pem, der or pkcs11 (a --key pkcs11: URI)",
                                optarg);
            tls_flag = true; /* the key's form is read from the key itself */
            break;
        case OPT_KEY_PIN: c->key_pin = optarg; tls_flag = true; break;
        case OPT_PKCS11_MODULE: c->pkcs11_module = optarg; tls_flag = true; break;
        case OPT_CIPHERS: parse_ciphers(c, optarg); tls_flag = true; break;
        case OPT_CERT: c->cert = optarg; tls_flag = true; break;
        case OPT_KEY: c->key = optarg; tls_flag = true; break;
        case OPT_INSECURE: c->insecure = true; tls_flag = true; break;
        case OPT_TLS_NAME: c->tls_name = optarg; tls_flag = true; break;
        case OPT_CA_BUNDLE:
            if (c->ca_bundles == CLI_MAX_FILES)
                cli_usage_error(c, "too many --ca-bundle files (at most %d)", CLI_MAX_FILES);
            c->ca_bundle[c->ca_bundles++] = optarg;
            tls_flag = true;
            break;
        case OPT_ALPN:
            if (c->alpns == MQTLS_TLS_MAX_ALPN)
                cli_usage_error(c, "too many --tls-alpn protocols (at most %d)", MQTLS_TLS_MAX_ALPN);
            c->alpn[c->alpns++] = optarg;
            tls_flag = true;
            break;
        case OPT_MAX_FRAG:
            c->max_frag = (unsigned)number(c, "--tls-max-frag", "length", optarg, 512, 4096);
            tls_flag = true;
            break;
        case OPT_TLS_VERSION:
            if (strcmp(optarg, "tlsv1.2") == 0)
                c->tls_versions = MQTLS_TLS_1_2;
            else if (strcmp(optarg, "tlsv1.3") == 0)
                c->tls_versions = MQTLS_TLS_1_3;
            else
                cli_usage_error(c, "--tls-version %s: tlsv1.2 or tlsv1.3 (nothing older)", optarg);
            tls_flag = true;
            break;
        case OPT_WILL_TOPIC: c->will_topic = optarg; break;
        case OPT_WILL_PAYLOAD: c->will_payload = optarg; break;
        case OPT_WILL_QOS: c->will_qos = (int)number(c, "--will-qos", "QoS", optarg, 0, 2); break;
        case OPT_WILL_RETAIN: c->will_retain = true; break;
        case OPT_REPEAT:
            if (!pub)
                cli_usage_error(c, "--repeat is for publishing");
            c->repeat = number(c, "--repeat", "count", optarg, 1, 1000000000L);
            break;
        case OPT_REPEAT_DELAY:
            c->repeat_delay_s = strtod(optarg, &end);
            if (!pub || *optarg == '\0' || *end != '\0' || c->repeat_delay_s < 0 || c->repeat_delay_s > 86400)
                cli_usage_error(c, "invalid delay given for --repeat-delay: '%s' (seconds, 0 to 86400)", optarg);
            break;
        case OPT_MAX_PAYLOAD:
            if (pub)
                cli_usage_error(c, "--max-payload is for subscribing");
            c->max_payload = (size_t)number(c, "--max-payload", "size", optarg, 1, 268435455L);
            break;
        case OPT_NODELAY: break;
        case 'A': {
            unsigned char probe[16];
            if (inet_pton(AF_INET, optarg, probe) != 1 && inet_pton(AF_INET6, optarg, probe) != 1)
                cli_usage_error(c, "-A: '%s' is not an IPv4 or IPv6 address", optarg);
            c->bind_address = optarg;
            break;
        }
        case OPT_UNIX:
            if (optarg[0] == '\0' || strlen(optarg) >= sizeof(((struct sockaddr_un *)0)->sun_path))
                cli_usage_error(c, "--unix: '%s' is not a usable socket path (1 to %u bytes)", optarg,
                                (unsigned)sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
            c->unix_path = optarg;
            break;
        case OPT_QUIET: break;
        case OPT_HELP:
            printf("usage: %s %s\n%s%s", c->prog, usage, help, shared_help);
            exit(0);
        case OPT_VERSION:
            printf("%s %s (mqtls %s, %s)\n", c->prog, mqtls_version(), mqtls_version(),
                   mqtls_tls_backend());
            exit(0);
        default:
            if (opt == '?' || on_extra == NULL || on_extra(c, opt, optarg) != 0)
                cli_usage_error(c, "%s: a flag it does not know, or a bad value",
                                optind > 1 && optind <= argc ? argv[optind - 1] : "?");
        }
    }
    if (optind != argc)
        cli_usage_error(c, "unexpected argument '%s'", argv[optind]);
    if (c->topic_count == 0 && pub)
        cli_usage_error(c, "a topic (-t) is needed");
    for (i = 0; i < c->topic_count; i++) {
        const char *why = topic_problem(c->topics[i], pub);
        if (why != NULL)
            cli_usage_error(c, "invalid %s '%s': %s", pub ? "topic" : "filter", c->topics[i], why);
    }
    if (c->will_topic != NULL && topic_problem(c->will_topic, true) != NULL)
        cli_usage_error(c, "invalid will topic '%s': %s", c->will_topic,
                        topic_problem(c->will_topic, true));
    if ((c->will_payload != NULL || c->will_qos != 0 || c->will_retain) && c->will_topic == NULL)
        cli_usage_error(c, "--will-payload, --will-qos and --will-retain need --will-topic");
    if ((c->cert == NULL) != (c->key == NULL))
        cli_usage_error(c, "--cert and --key go together");
    if (c->password != NULL && c->user == NULL)
        cli_usage_error(c, "-P needs -u (MQTT 3.1.1 has no password without a user name)");
    if (c->keep_session && c->id == NULL && c->id_prefix == NULL)
        cli_usage_error(c, "-c keeps a session by client id: give one with -i (or -I)");
    if (c->id != NULL && c->id_prefix != NULL)
        cli_usage_error(c, "-i and -I both name the client: give one");
    c->tls = c->tls || tls_flag || (port_given && c->port == 8883);
    if (!port_given)
        c->port = c->tls ? 8883 : 1883;
    if (c->tls && c->cafile == NULL && c->capath == NULL && c->ca_bundles == 0 && !c->insecure)
        cli_usage_error(c, "TLS needs to know whom to trust: --cafile, --capath or --ca-bundle (or --insecure)");
    c->progress = isatty(2) != 0;
}

void cli_fail(const cli *c, const char *what, int err)
{
    const char *reason = mqtls_strerror(err);
    if (c->quiet)
        return;
    if (err <= -300 && err > -400 &&
        mqtls_tls_why(&c->net.tls)[0] != '\0')
        reason = mqtls_tls_why(&c->net.tls); /* the TLS failure in words */
    fprintf(stderr, "%s: %s: %s (%s)\n", c->prog, what, reason, mqtls_errname(err));
}

/* The URI as said in an error: without a pin-value. */
static const char *uri_for_words(const char *uri, char *buf, size_t cap)
{
    const char *pin = strstr(uri, "pin-value=");
    size_t keep;
    if (pin == NULL)
        return uri;
    keep = (size_t)(pin - uri) + 10;
    snprintf(buf, cap, "%.*s***%s", (int)(keep < cap ? keep : cap - 1), uri,
             strchr(pin, '&') != NULL ? strchr(pin, '&') : "");
    return buf;
}

/* --key pkcs11:...: the key stays in its token; TLS signs through it. */
static int setup_token_key(cli *c)
{
    unsigned char cert[16384];
    char what[600], shown[300];
    size_t n;
    FILE *f = fopen(c->cert, "rb");
    mqtls_signer s;
    int ret;

    if (f == NULL) {
        snprintf(what, sizeof what, "cannot read %s", c->cert);
        cli_fail(c, what, MQTLS_ERR_TLS_FILE);
        return 1;
    }
    n = fread(cert, 1, sizeof cert, f);
    fclose(f);
    ret = mqtls_pkcs11_open(&c->p11, c->key,
                            c->pkcs11_module != NULL || strstr(c->key, "module-path=") != NULL
                                ? c->pkcs11_module
                                : "p11-kit-proxy.so",
                            c->key_pin);
    if (ret == MQTLS_OK && (ret = mqtls_pkcs11_signer(&c->p11, &s)) == MQTLS_OK)
        ret = mqtls_tls_config_set_identity_signer(&c->tls_cfg, cert, n, &s);
    if (ret != MQTLS_OK) {
        snprintf(what, sizeof what, "cannot use the key %s with %s%s",
                 uri_for_words(c->key, shown, sizeof shown), c->cert,
                 ret == MQTLS_ERR_KEY_MODULE && c->pkcs11_module == NULL
                     ? " (no PKCS#11 module: give --pkcs11-module PATH)"
                     : "");
        cli_fail(c, what, ret);
        return 1;
    }
    return 0;
}

/* --capath: every certificate file in the directory (what parses; the
 * rest is said and skipped). 0, or 1 with a sentence when none did. */
static int add_capath(cli *c)
{
    DIR *d = opendir(c->capath);
    struct dirent *e;
    char path[4096];
    int loaded = 0, ret;

    if (d == NULL) {
        if (!c->quiet)
            fprintf(stderr, "%s: --capath %s: cannot read the directory\n", c->prog, c->capath);
        return 1;
    }
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name, *dot = strrchr(n, '.');
        if (n[0] == '.' || dot == NULL)
            continue;
        if (strcmp(dot, ".pem") != 0 && strcmp(dot, ".crt") != 0 && strcmp(dot, ".der") != 0 &&
            strspn(dot + 1, "0123456789") != strlen(dot + 1))
            continue;
        snprintf(path, sizeof path, "%s/%s", c->capath, n);
        ret = mqtls_tls_config_add_ca_file(&c->tls_cfg, path, NULL);
        if (ret == MQTLS_OK)
            loaded++;
        else if (c->verbose || c->debug)
            cli_fail(c, path, ret);
    }
    closedir(d);
    if (loaded == 0 && !c->quiet)
        fprintf(stderr, "%s: --capath %s: no certificate in it could be used\n", c->prog, c->capath);
    return loaded > 0 ? 0 : 1;
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
    if (c->capath != NULL && add_capath(c) != 0)
        return 1;
    if (c->cert != NULL && strncmp(c->key, "pkcs11:", 7) == 0) {
        if (setup_token_key(c) != 0)
            return 1;
    } else if (c->cert != NULL &&
        (ret = mqtls_tls_config_set_identity_files(&c->tls_cfg, c->cert, c->key, NULL)) !=
            MQTLS_OK) {
        snprintf(what, sizeof what, "cannot use %s with %s", c->cert, c->key);
        cli_fail(c, what, ret);
        return 1;
    }
    if (c->alpns > 0 && (ret = mqtls_tls_config_set_alpn(&c->tls_cfg, c->alpn)) != MQTLS_OK) {
        cli_fail(c, "--tls-alpn", ret);
        return 1;
    }
    if (c->suites[0] != 0 && (ret = mqtls_tls_config_set_ciphersuites(&c->tls_cfg, c->suites)) != MQTLS_OK) {
        cli_fail(c, "--ciphers", ret);
        return 1;
    }
    if ((ret = mqtls_tls_config_set_versions(&c->tls_cfg, c->tls_versions)) != MQTLS_OK) {
        cli_fail(c, "--tls-version: this build's mbedTLS cannot speak it", ret);
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

/* -d: each packet in and out, a line each, in mosquitto's -d words
 * ("sending PUBLISH (d0, q1, r0, m3, 'a/b', ... (5 bytes))"). */
static void debug_log(void *ctx, int level, const char *what, bool out, const uint8_t *p,
                      size_t len)
{
    static const char *const names[16] = {
        "?", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
        "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "?"};
    const cli *c = ctx;
    size_t at = 1, rl = 0, shift = 0, tl;
    unsigned type;

    if (p == NULL || len == 0) {
        if (level == 3) /* our CONNECT: its fields (the password) stay out */
            fprintf(stderr, "Client %s sending CONNECT\n", c->id);
        else if (level <= 2)
            fprintf(stderr, "Client %s %s\n", c->id, what);
        return;
    }
    type = p[0] >> 4;
    while (at < len && at < 5 && (p[at] & 0x80)) /* the remaining length */
        rl |= (size_t)(p[at++] & 0x7F) << shift, shift += 7;
    if (at < len)
        rl |= (size_t)(p[at++] & 0x7F) << shift;
    if (type == 3 && at + 2 <= len) {
        const unsigned q = (p[0] >> 1) & 3u;
        tl = (size_t)p[at] << 8 | p[at + 1];
        at += 2;
        if (at + tl <= len) {
            unsigned id = q != 0 && at + tl + 2 <= len ? (unsigned)p[at + tl] << 8 | p[at + tl + 1] : 0;
            size_t head = 2 + tl + (q != 0 ? 2u : 0u);
            fprintf(stderr, "Client %s %s PUBLISH (d%u, q%u, r%u, m%u, '%.*s', ... (%zu bytes))\n",
                    c->id, out ? "sending" : "received", (p[0] >> 3) & 1u, q, p[0] & 1u, id,
                    (int)tl, (const char *)p + at, rl >= head ? rl - head : 0);
            return;
        }
    }
    if (type == 2 && len >= 4)
        fprintf(stderr, "Client %s received CONNACK (%u)\n", c->id, p[3]);
    else if ((type >= 4 && type <= 7) && at + 2 <= len)
        fprintf(stderr, "Client %s %s %s (Mid: %u)\n", c->id, out ? "sending" : "received",
                names[type], (unsigned)p[at] << 8 | p[at + 1]);
    else
        fprintf(stderr, "Client %s %s %s\n", c->id, out ? "sending" : "received", names[type]);
}

int cli_refused(int err)
{
    return mqtls_err_is_refusal(err);
}

int cli_connect(cli *c, size_t tx_max, size_t rx_max, mqtls_client_events events)
{
    static char default_id[96];
    /* A packet is its payload, the topic (at most 65,535 + 2) and at most
     * 7 bytes of header and packet id. */
    size_t buf = tx_max + 65545u, rbuf = rx_max + 65545u, ring_k = (64u << 20) / buf;
    uint8_t *tx, *rx, *ring;
    uint16_t *qos2;
    int ret;

    mqtls_tls_config_init(&c->tls_cfg);
    mqtls_pkcs11_init(&c->p11);
    mqtls_tcp_tls_init(&c->net, &c->tls_cfg, c->host, c->port);
    c->net.tls_name = c->tls_name;
    if (c->tls && setup_tls(c) != 0)
        return 1;
    memset(&c->plain, 0, sizeof c->plain);
    c->plain.host = c->host;
    c->plain.port = c->port;
    c->plain.tcp.bind_address = c->net.tcp.bind_address = c->bind_address;
    c->plain.tcp.unix_path = c->net.tcp.unix_path = c->unix_path;
    /* The tool's buffers (the library's caller owns them). */
    /* The store holds the window of messages in flight: up to 40 of them,
     * fewer when each is large (at least 2, at most 64 MiB in all). */
    ring_k = ring_k < 2 ? 2 : ring_k > 40 ? 40 : ring_k;
    tx = malloc(buf);
    rx = malloc(rbuf);
    ring = malloc(buf * ring_k);
    qos2 = malloc(64 * sizeof *qos2);
    if (tx == NULL || rx == NULL || ring == NULL || qos2 == NULL) {
        if (!c->quiet)
            fprintf(stderr, "%s: out of memory\n", c->prog);
        return 1;
    }
    if (c->id == NULL) {
        snprintf(default_id, sizeof default_id, "%s-%ld",
                 c->id_prefix != NULL ? c->id_prefix : c->prog, (long)getpid());
        c->id = default_id;
    }
    mqtls_ram_store_init(&c->store);
    mqtls_ram_store_setup(&c->store, ring, buf * ring_k);
    memset(&c->cfg, 0, sizeof c->cfg);
    c->cfg.connect.client_id = (mqtls_str){c->id, strlen(c->id)};
    c->cfg.connect.clean_session = !c->keep_session;
    c->cfg.connect.keepalive_s = (uint16_t)c->keepalive;
    if (c->user != NULL)
        c->cfg.connect.username = (mqtls_str){c->user, strlen(c->user)};
    if (c->password != NULL)
        c->cfg.connect.password = (mqtls_bytes){(const uint8_t *)c->password, strlen(c->password)};
    if (c->will_topic != NULL) {
        const char *w = c->will_payload != NULL ? c->will_payload : "";
        c->cfg.connect.will_topic = (mqtls_str){c->will_topic, strlen(c->will_topic)};
        c->cfg.connect.will_payload = (mqtls_bytes){(const uint8_t *)w, strlen(w)};
        c->cfg.connect.will_qos = (uint8_t)c->will_qos;
        c->cfg.connect.will_retain = c->will_retain;
    }
    c->cfg.tx_buf = tx;
    c->cfg.tx_cap = buf;
    c->cfg.rx_buf = rx;
    c->cfg.rx_cap = rbuf;
    c->cfg.reconnect = c->reconnect;
    c->cfg.resubscribe = c->resub;
    c->cfg.resubscribe_count = c->resub_count;
    c->cfg.backoff_min_ms = 500;
    c->cfg.backoff_max_ms = 10000;
    c->cfg.qos2_ids = qos2;
    c->cfg.qos2_cap = 64;
    mqtls_ram_store_interface(&c->store, &c->cfg.store);
    mqtls_clock_posix(&c->cfg.clock);
    c->cfg.open = c->tls ? mqtls_tcp_tls_open : mqtls_tcp_open;
    c->cfg.open_ctx = c->tls ? (void *)&c->net : (void *)&c->plain;
    c->cfg.events = events;
    c->cfg.window = 20;
    if (c->debug) {
        c->cfg.log = debug_log;
        c->cfg.log_ctx = c;
    }
    mqtls_client_init(&c->client);
    ret = mqtls_client_setup(&c->client, &c->cfg);
    if (ret == MQTLS_OK)
        ret = mqtls_client_connect(&c->client, 10000);
    if (ret != MQTLS_OK) {
        char what[300];
        if (c->tls && c->net.last_error != MQTLS_OK)
            ret = c->net.last_error; /* the handshake's reason, not the socket's */
        else if (!c->tls && c->plain.last_error != MQTLS_OK)
            ret = c->plain.last_error;
        if (ret <= -401 && ret >= -405)
            snprintf(what, sizeof what, "the broker at %s:%u refused the connection", c->host,
                     (unsigned)c->port);
        else if (c->unix_path != NULL)
            snprintf(what, sizeof what, "cannot connect to the Unix socket %s%s", c->unix_path,
                     c->tls ? " over TLS" : "");
        else if (c->bind_address != NULL)
            snprintf(what, sizeof what, "cannot connect to %s:%u from %s%s", c->host,
                     (unsigned)c->port, c->bind_address, c->tls ? " over TLS" : "");
        else
            snprintf(what, sizeof what, "cannot connect to %s:%u%s", c->host, (unsigned)c->port,
                     c->tls ? " over TLS" : "");
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
    if (c->tls)
        mqtls_tcp_tls_free(&c->net);
    mqtls_tls_config_free(&c->tls_cfg);
    mqtls_pkcs11_free(&c->p11);
}
