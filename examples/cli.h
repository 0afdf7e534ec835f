/* SPDX-License-Identifier: Apache-2.0 */
/* What mqtls-pub and mqtls-sub share: the flags a mosquitto_pub user
 * knows, the TCP + TLS stack under the client, and failures said in one
 * sentence. Not part of the library. */
#ifndef MQTLS_EXAMPLES_CLI_H
#define MQTLS_EXAMPLES_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt/client.h"
#include "tls/pkcs11.h"
#include "tls/tcp_tls.h"

#define CLI_MAX_TOPICS 16
/* Long options handed to a tool's own handler (on_extra). */
#define CLI_OPT_RETAINED_ONLY 2000
#define CLI_OPT_REMOVE_RETAINED 2001
#define CLI_OPT_PRETTY 2002
#define CLI_OPT_RANDOM_FILTER 2003
#define CLI_MAX_FILES 8

typedef struct cli {
    const char *prog;
    /* flags */
    const char *host, *id, *id_prefix, *user, *password, *cafile, *cert, *key, *message, *file;
    const char *tls_name, *will_topic, *will_payload, *capath;
    const char *bind_address, *unix_path; /* -A, --unix */
    const char *key_pin, *pkcs11_module;  /* --key-pin, --pkcs11-module */
    const char *ca_bundle[CLI_MAX_FILES];
    const char *alpn[MQTLS_TLS_MAX_ALPN + 1];
    const char *topics[CLI_MAX_TOPICS];
    size_t ca_bundles, alpns, topic_count;
    uint16_t port;    /* 0 until chosen: 1883 plain, 8883 TLS */
    unsigned keepalive, max_frag, tls_versions;
    long count;       /* -C */
    long repeat;      /* --repeat, pub only */
    double wait_s;    /* -W, sub only */
    double repeat_delay_s; /* --repeat-delay, pub only */
    int qos, will_qos;
    bool retain, lines, verbose, insecure, debug, quiet, keep_session, will_retain;
    bool null_message, stdin_message; /* -n, -s: pub only */
    bool tls;         /* TLS (any TLS option, or port 8883), else plain TCP */
    bool reconnect;   /* the client reconnects by itself (sub, pub -l) */
    const mqtls_subscription *resub; /* sent again on a new session */
    size_t resub_count;
    size_t max_payload; /* --max-payload, sub only: 16 MiB by default */
    int suites[32];     /* --ciphers, 0-terminated; suites[0] 0: the default */
    char url_buf[512]; /* -L's pieces, NUL-separated */
    /* the stack */
    mqtls_tls_config tls_cfg;
    mqtls_pkcs11_key p11;   /* --key pkcs11:...: the key in its token */
    mqtls_tcp_tls net;  /* TCP + TLS, rebuilt by every connect */
    mqtls_tcp_endpoint plain; /* or plain TCP */
    mqtls_client client;
    mqtls_client_config cfg;
    mqtls_ram_store store;
    bool progress;    /* stderr is a terminal */
} cli;

/* Parses argv; extra holds the tool's own short options (e.g. "m:f:lr"),
 * handled by on_extra; pub says whether -t names topics to publish to
 * (else filters). Checks every value before anything connects: a bad one
 * exits 2 with one sentence naming the flag and the value. --help prints
 * help (the usage line, then the tool's own and the shared flags) on
 * stdout and exits 0; --version likewise. */
void cli_parse(cli *c, int argc, char **argv, const char *extra,
               int (*on_extra)(cli *c, int opt, const char *arg), const char *usage,
               const char *help, bool pub);

/* Prints "PROG: MESSAGE" on stderr (unless --quiet) and exits 2. */
void cli_usage_error(const cli *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3), noreturn))
#endif
    ;

/* Builds TLS and the client, with buffers sized for payloads up to tx_max
 * going out and rx_max coming in, and connects. Returns 0, or prints one
 * sentence and returns 1. */
int cli_connect(cli *c, size_t tx_max, size_t rx_max, mqtls_client_events events);

/* 1 when err is a refusal retrying cannot fix (the broker said no, or the
 * TLS identity check failed): a tool that reconnects stops on it. */
int cli_refused(int err);

/* One sentence for err on stderr: "PROG: what: reason (NAME)". */
void cli_fail(const cli *c, const char *what, int err);

/* A progress line on a terminal ("\r  label n/total"), at most every
 * 100 ms unless final; nothing when stderr is not a terminal. */
void cli_progress(cli *c, const char *label, long n, long total, bool final);

void cli_close(cli *c);

#endif
