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
#include <unistd.h>

#include "examples/cli.h"
#include "examples/sub_format.h"
#include "mqtt/topic.h"

static const char usage[] = "-t FILTER [-t FILTER ...] [-q QOS] [-C COUNT] [-W SECONDS] [-v] [flags]";
static int lost; /* the connection was lost and is being made again */
static const char help[] =
    "Subscribe:\n"
    "  -t FILTER        what to (repeatable; '+' one level, '#' the rest)\n"
    "  -q QOS           the maximum QoS asked for every filter (default 0)\n"
    "  -v               print \"topic payload\" (default: the payload)\n"
    "  -C COUNT         exit after COUNT messages\n"
    "  -W SECONDS       give up after SECONDS: exit status 27\n"
    "  -F FORMAT        print with %t topic, %p payload, %q QoS, %r retain, %m id, %l length,\n"
    "                   %x/%X payload in hex, %j JSON, %I/%U time, %% (mosquitto_sub's codes)\n"
    "  --pretty         %j over several lines;  -N  no newline after each message\n"
    "  -R               no stale (retained) messages;  --retained-only: only those, then exit\n"
    "  --remove-retained   clear each retained message received\n"
    "  -T FILTER        do not print messages matching FILTER (repeatable)\n"
    "  -U FILTER        unsubscribe from FILTER (with -c: from the kept session)\n"
    "  -E               exit once subscribed\n"
    "  --random-filter PERCENT   print only that share of the messages, at random\n"
    "  --max-payload BYTES   larger messages are reported and skipped (default 16 MiB)\n"
    "It reconnects by itself when the connection is lost (a line on stderr with -v\n"
    "or -d), resubscribing when the broker kept no session; a refusal ends it.\n";
static long received;
static int refused = -1, subscribed, unsubscribed, retained_done;
static cli c;
static sub_format out;
static bool no_stale, retained_only, remove_retained, exit_subscribed;
static double print_chance = 100.0; /* --random-filter: percent of messages printed */
static const char *hide[CLI_MAX_TOPICS], *unsub[CLI_MAX_TOPICS];
static size_t hides, unsubs;
/* --remove-retained: topics seen retained, cleared after the poll. */
static char clear_buf[8192];
static size_t clear_len;

static int extra(cli *cl, int opt, const char *arg)
{
    char *end;
    switch (opt) {
    case 'W':
        cl->wait_s = strtod(arg, &end);
        if (*end != '\0' || cl->wait_s <= 0)
            cli_usage_error(cl, "invalid time given for -W: '%s' (seconds, more than 0)", arg);
        return 0;
    case 'F': {
        const char *why = sub_format_check(arg);
        if (why != NULL)
            cli_usage_error(cl, "-F '%s' %s", arg, why);
        out.format = arg;
        return 0;
    }
    case 'N': out.no_eol = true; return 0;
    case 'R': no_stale = true; return 0;
    case 'E': exit_subscribed = true; return 0;
    case 'T':
    case 'U':
        if (mqtls_topic_validate_filter(arg, strlen(arg)) != MQTLS_OK)
            cli_usage_error(cl, "invalid filter given for -%c: '%s'", opt, arg);
        if ((opt == 'T' ? hides : unsubs) == CLI_MAX_TOPICS)
            cli_usage_error(cl, "too many -%c filters (at most %d)", opt, CLI_MAX_TOPICS);
        if (opt == 'T')
            hide[hides++] = arg;
        else
            unsub[unsubs++] = arg;
        return 0;
    case CLI_OPT_RETAINED_ONLY: retained_only = true; return 0;
    case CLI_OPT_REMOVE_RETAINED: remove_retained = true; return 0;
    case CLI_OPT_PRETTY: out.pretty = true; return 0;
    case CLI_OPT_RANDOM_FILTER:
        print_chance = strtod(arg, &end);
        if (*end != '\0' || print_chance < 0.1 || print_chance > 100.0)
            cli_usage_error(cl, "invalid chance given for --random-filter: '%s' (0.1 to 100)", arg);
        srand((unsigned)time(NULL) ^ (unsigned)getpid());
        return 0;
    default: return -1;
    }
}

static void on_message(void *ctx, const mqtls_publish *m)
{
    (void)ctx;
    if (c.count > 0 && received >= c.count)
        return;
    size_t i;
    if (m->payload.len > c.max_payload) {
        if (!c.quiet)
            fprintf(stderr, "%s: a message of %zu bytes on %.*s is larger than --max-payload (%zu): skipped\n",
                    c.prog, m->payload.len, (int)m->topic.len, m->topic.ptr, c.max_payload);
        return;
    }
    if (retained_only && !m->retain) {
        retained_done = 1; /* the retained ones came first: done */
        return;
    }
    if (remove_retained && m->retain && m->payload.len > 0 &&
        clear_len + m->topic.len + 1 <= sizeof clear_buf) {
        memcpy(clear_buf + clear_len, m->topic.ptr, m->topic.len);
        clear_len += m->topic.len;
        clear_buf[clear_len++] = '\0';
    }
    if (no_stale && m->retain)
        return;
    for (i = 0; i < hides; i++)
        if (mqtls_topic_match(hide[i], strlen(hide[i]), m->topic.ptr, m->topic.len))
            return;
    if (print_chance < 100.0 && (double)rand() / ((double)RAND_MAX + 1.0) * 100.0 >= print_chance)
        return; /* --random-filter */
    sub_print(stdout, &out, m);
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

static void on_unsuback(void *ctx, uint16_t id)
{
    (void)ctx;
    (void)id;
    unsubscribed = 1;
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

    cli_parse(&c, argc, argv, "W:F:NRET:U:", extra, usage, help, false);
    out.verbose = c.verbose;
    if (c.topic_count == 0 && unsubs == 0)
        cli_usage_error(&c, "a topic (-t) is needed (or -U to unsubscribe)");
    for (i = 0; i < c.topic_count; i++) {
        subs[i].filter = (mqtls_str){c.topics[i], strlen(c.topics[i])};
        subs[i].qos = (uint8_t)c.qos;
    }
    ev.received = on_message;
    ev.subscribe_acked = on_suback;
    ev.connected = on_connected;
    ev.unsubscribe_acked = on_unsuback;
    c.reconnect = true;
    c.resub = subs;
    c.resub_count = c.topic_count;
    if (cli_connect(&c, 0, c.max_payload, ev) != 0)
        return 1;
    /* On a new session the client subscribed already (resubscribe); on a
     * kept one the filters may differ from last time: subscribe anyway. */
    ret = c.client.session_present ? mqtls_client_subscribe(&c.client, subs, c.topic_count, NULL)
                                   : MQTLS_OK;
    if (ret == MQTLS_OK && unsubs > 0) {
        mqtls_str f[CLI_MAX_TOPICS];
        for (i = 0; i < unsubs; i++)
            f[i] = (mqtls_str){unsub[i], strlen(unsub[i])};
        ret = mqtls_client_unsubscribe(&c.client, f, unsubs, NULL);
    }
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
        if ((c.count > 0 && received >= c.count) || retained_done)
            break;
        if (exit_subscribed && (subscribed || c.topic_count == 0) && (unsubscribed || unsubs == 0))
            break;
        ret = mqtls_client_poll(&c.client, 50);
        while (clear_len > 0 && ret == MQTLS_OK) { /* --remove-retained */
            mqtls_publish clear = {0};
            size_t last = clear_len - 1, start = last;
            while (start > 0 && clear_buf[start - 1] != '\0')
                start--;
            clear.topic = (mqtls_str){clear_buf + start, last - start};
            clear.retain = true;
            ret = mqtls_client_publish(&c.client, &clear, NULL);
            clear_len = start;
        }
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
