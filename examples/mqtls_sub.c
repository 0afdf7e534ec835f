/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls-sub: subscribe over MQTT 3.1.1, plain or mutual TLS, with the
 * flags of mosquitto_sub (docs/tools.md has the table).
 *
 *   mqtls-sub -h HOST -t FILTER [-t ...]       plain TCP, port 1883
 *   mqtls-sub -h HOST -p PORT --cafile CA --cert CRT --key KEY -t FILTER [-t ...]
 *
 * Prints each message's payload on a line (-v: "topic payload"). -q QOS
 * for every filter; -C N exits after N messages; -W S gives up after S
 * seconds (exit status 27, as mosquitto_sub's). A filter the broker
 * refuses (SUBACK 0x80) is an error. Exit status 0 when -C was reached, 1
 * with one sentence on failure, 2 on bad usage. With -C on a terminal, a
 * progress line on stderr. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "examples/cli.h"

static const char usage[] = "-t FILTER [-t FILTER ...] [-q QOS] [-C COUNT] [-W SECONDS] [-v] [flags]";
static int lost; /* the connection was lost and is being made again */
static const char help[] =
    "Subscribe:\n"
    "  -t FILTER        what to (repeatable; '+' one level, '#' the rest)\n"
    "  -q QOS           the maximum QoS asked for every filter (default 0)\n"
    "  -v               print \"topic payload\" (default: the payload)\n"
    "  -C COUNT         exit after COUNT messages\n"
    "  -W SECONDS       give up after SECONDS: exit status 27\n"
    "  --max-payload BYTES   larger messages are reported and skipped (default 16 MiB)\n"
    "It reconnects by itself when the connection is lost (a line on stderr with -v\n"
    "or -d), resubscribing when the broker kept no session; a refusal ends it.\n";
static long received;
static int refused = -1, subscribed;
static cli c;

static int extra(cli *cl, int opt, const char *arg)
{
    char *end;
    if (opt != 'W')
        return -1;
    cl->wait_s = strtod(arg, &end);
    return *end == '\0' && cl->wait_s > 0 ? 0 : -1;
}

static void on_message(void *ctx, const mqtls_publish *m)
{
    (void)ctx;
    if (c.count > 0 && received >= c.count)
        return;
    if (m->payload.len > c.max_payload) {
        if (!c.quiet)
            fprintf(stderr, "%s: a message of %zu bytes on %.*s is larger than --max-payload (%zu): skipped\n",
                    c.prog, m->payload.len, (int)m->topic.len, m->topic.ptr, c.max_payload);
        return;
    }
    if (c.verbose) {
        fwrite(m->topic.ptr, 1, m->topic.len, stdout);
        fputc(' ', stdout);
    }
    fwrite(m->payload.ptr, 1, m->payload.len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    received++;
}

static void on_suback(void *ctx, uint16_t id, const uint8_t *codes, size_t n)
{
    size_t i;
    (void)ctx;
    (void)id;
    for (i = 0; i < n; i++)
        if (codes[i] == 0x80 && refused < 0)
            refused = (int)i;
    subscribed = 1;
}

static void on_connected(void *ctx, bool session_present)
{
    (void)ctx;
    if (lost && (c.verbose || c.debug) && !c.quiet)
        fprintf(stderr, "%s: reconnected to %s:%u%s\n", c.prog, c.host, (unsigned)c.port,
                session_present ? ", the session kept" : "");
    lost = 0;
}

int main(int argc, char **argv)
{
    mqtls_subscription subs[CLI_MAX_TOPICS];
    mqtls_client_events ev = {0};
    struct timespec t0, now;
    size_t i;
    int ret, rc = 0;

    cli_parse(&c, argc, argv, "W:", extra, usage, help, false);
    for (i = 0; i < c.topic_count; i++) {
        subs[i].filter = (mqtls_str){c.topics[i], strlen(c.topics[i])};
        subs[i].qos = (uint8_t)c.qos;
    }
    ev.received = on_message;
    ev.subscribe_acked = on_suback;
    ev.connected = on_connected;
    c.reconnect = true;
    c.resub = subs;
    c.resub_count = c.topic_count;
    if (cli_connect(&c, 0, c.max_payload, ev) != 0)
        return 1;
    /* On a new session the client subscribed already (resubscribe); on a
     * kept one the filters may differ from last time: subscribe anyway. */
    ret = c.client.session_present ? mqtls_client_subscribe(&c.client, subs, c.topic_count, NULL)
                                   : MQTLS_OK;
    if (ret != MQTLS_OK) {
        cli_fail(&c, "subscribe", ret);
        cli_close(&c);
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        double elapsed;
        if (refused >= 0) {
            fprintf(stderr, "%s: the broker refused the subscription to %s (SUBACK 0x80)\n",
                    c.prog, c.topics[refused]);
            rc = 1;
            break;
        }
        if (c.count > 0 && received >= c.count)
            break;
        ret = mqtls_client_poll(&c.client, 50);
        if (ret == MQTLS_ERR_RX_BUF_TOO_SMALL && !c.quiet) {
            fprintf(stderr, "%s: a message of %zu bytes is larger than --max-payload (%zu): skipped "
                            "(the broker sends it again on a kept session)\n",
                    c.prog, c.client.needed, c.max_payload);
        } else if (ret != MQTLS_OK && cli_refused(ret)) {
            cli_fail(&c, "the broker refused the connection", ret);
            rc = 1;
            break;
        } else if (ret != MQTLS_OK && !lost) {
            lost = 1;
            if (c.verbose || c.debug)
                cli_fail(&c, "connection lost, reconnecting", ret);
        }
        if (c.count > 0)
            cli_progress(&c, "received", received, c.count, false);
        clock_gettime(CLOCK_MONOTONIC, &now);
        elapsed = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
        if (c.wait_s > 0 && elapsed >= c.wait_s) {
            if (!c.quiet && c.count > 0)
                fprintf(stderr, "%s: timed out after %g s with %ld of %ld messages\n", c.prog,
                        c.wait_s, received, c.count);
            else if (!c.quiet)
                fprintf(stderr, "%s: timed out after %g s (%ld messages)\n", c.prog, c.wait_s,
                        received);
            rc = 27; /* mosquitto_sub's status for -W */
            break;
        }
    }
    if (rc == 0 && c.count > 0)
        cli_progress(&c, "received", received, c.count, true);
    cli_close(&c);
    return rc;
}
