/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls-pub: publish over MQTT 3.1.1, plain or mutual TLS, with the
 * flags of mosquitto_pub (docs/tools.md has the table).
 *
 *   mqtls-pub -h HOST -t TOPIC -m TEXT      plain TCP, port 1883
 *   mqtls-pub -h HOST -p PORT --cafile CA --cert CRT --key KEY -t TOPIC -m TEXT
 *   mqtls-pub ... -t TOPIC -f FILE          the file's bytes as one message
 *   mqtls-pub ... -t TOPIC -s               all of stdin as one message
 *   mqtls-pub ... -t TOPIC -n               an empty message
 *   mqtls-pub ... -t TOPIC -l               each line of stdin as a message
 *   mqtls-pub ... -t TOPIC -m TEXT -C 1000  the message 1000 times (--repeat too)
 *
 * -q QOS, -r retain. Messages are pipelined (20 unacknowledged at once).
 * Exit status 0 only when every message was sent (QoS 0) or acknowledged
 * (QoS 1: PUBACK, QoS 2: PUBCOMP); 1 with one sentence on failure; 2 on
 * bad usage. Long runs show a progress line on a terminal. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "examples/cli.h"

/* The protocol's limit: a remaining length of 268,435,455 bytes holds
 * the topic and packet id too. */
#define MAX_PAYLOAD (268435455u - 65535u - 4u)

static const char usage[] = "-t TOPIC (-m TEXT | -f FILE | -s | -n | -l) [-q QOS] [-r] [flags]";
static const char help[] =
    "Publish:\n"
    "  -t TOPIC         where to\n"
    "  -m TEXT          the message; -f FILE its bytes; -s all of stdin; -n an empty one;\n"
    "  -l               each line of stdin as a message\n"
    "  -q QOS           0 (default), 1 or 2; -r retained\n"
    "  --repeat N, -C N the message N times; --repeat-delay SECONDS between them\n";
static long acked;

static int extra(cli *c, int opt, const char *arg)
{
    switch (opt) {
    case 'm': c->message = arg; return 0;
    case 'f': c->file = arg; return 0;
    case 'l': c->lines = true; return 0;
    case 'n': c->null_message = true; return 0;
    case 's': c->stdin_message = true; return 0;
    case 'r': c->retain = true; return 0;
    default: return -1;
    }
}

static void delivered(void *ctx, uint16_t id)
{
    (void)ctx;
    (void)id;
    acked++;
}

/* Queues one message, polling while the store is full. 0 or 1. */
static int publish_one(cli *c, const uint8_t *data, size_t len)
{
    mqtls_publish p = {0};
    int ret, i;
    p.topic = (mqtls_str){c->topics[0], strlen(c->topics[0])};
    p.payload = (mqtls_bytes){data, len};
    p.qos = (uint8_t)c->qos;
    p.retain = c->retain;
    for (i = 0; i < 100000; i++) {
        ret = mqtls_client_publish(&c->client, &p, NULL);
        if (ret != MQTLS_ERR_STORE_FULL)
            break;
        ret = mqtls_client_poll(&c->client, 10);
        if (ret != MQTLS_OK)
            break;
    }
    if (ret != MQTLS_OK) {
        cli_fail(c, "publish", ret);
        return 1;
    }
    if (c->qos == 0)
        acked++;
    return 0;
}

/* Polls until everything queued is acknowledged (at most 30 s without
 * progress). 0 or 1. */
static int drain(cli *c, long total)
{
    long last = -1;
    int idle = 0, ret;
    while (mqtls_ram_store_count(&c->store) > 0 && idle < 3000) {
        ret = mqtls_client_poll(&c->client, 10);
        if (ret != MQTLS_OK && (!c->reconnect || cli_refused(ret))) {
            cli_fail(c, "connection lost", ret);
            return 1;
        }
        if (ret != MQTLS_OK && (c->verbose || c->debug))
            cli_fail(c, "connection lost, reconnecting", ret);
        idle = acked == last ? idle + 1 : 0;
        last = acked;
        cli_progress(c, "acknowledged", acked, total, false);
    }
    if (mqtls_ram_store_count(&c->store) > 0) {
        fprintf(stderr, "%s: %u messages not acknowledged after 30 s\n", c->prog,
                (unsigned)mqtls_ram_store_count(&c->store));
        return 1;
    }
    return 0;
}

/* --repeat-delay: the client polled (acknowledgements, keep-alive) while
 * the time passes. 0 or 1. */
static uint64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static int pause_for(cli *c, double seconds)
{
    const uint64_t end = mono_ms() + (uint64_t)(seconds * 1000.0);
    int ret = MQTLS_OK, i;
    for (i = 0; i < 100000000 && ret == MQTLS_OK && mono_ms() < end; i++)
        ret = mqtls_client_poll(&c->client, (uint32_t)(end - mono_ms() < 100 ? end - mono_ms() : 100));
    if (ret != MQTLS_OK)
        cli_fail(c, "connection lost", ret);
    return ret == MQTLS_OK ? 0 : 1;
}

/* The whole of f into a fresh buffer (*data, *len): 0, or 1 with a
 * sentence. */
static int slurp(const cli *c, FILE *f, const char *name, uint8_t **data, size_t *len)
{
    size_t cap = 65536, n = 0;
    uint8_t *p = malloc(cap), *q;
    while (p != NULL) {
        n += fread(p + n, 1, cap - n, f);
        if (n < cap)
            break;
        if (cap > MAX_PAYLOAD) {
            free(p);
            fprintf(stderr, "%s: %s is larger than MQTT's %u-byte limit for a message\n", c->prog,
                    name, MAX_PAYLOAD);
            return 1;
        }
        q = realloc(p, cap * 2);
        if (q == NULL)
            free(p);
        p = q;
        cap *= 2;
    }
    if (p == NULL || ferror(f)) {
        free(p);
        fprintf(stderr, "%s: cannot read %s\n", c->prog, name);
        return 1;
    }
    if (n > MAX_PAYLOAD) {
        free(p);
        fprintf(stderr, "%s: %s is larger than MQTT's %u-byte limit for a message\n", c->prog, name,
                MAX_PAYLOAD);
        return 1;
    }
    *data = p;
    *len = n;
    return 0;
}

int main(int argc, char **argv)
{
    uint8_t *data = NULL;
    mqtls_client_events ev = {0};
    size_t len = 0;
    long i, n;
    int sources, rc = 0;
    cli c;

    cli_parse(&c, argc, argv, "m:f:lnsr", extra, usage, help, true);
    sources = (c.message != NULL) + (c.file != NULL) + c.lines + c.null_message + c.stdin_message;
    if (sources != 1)
        cli_usage_error(&c, "give exactly one of -m, -f, -s, -n, -l");
    if (c.topic_count != 1)
        cli_usage_error(&c, "publish to one topic (-t)");
    if (c.count > 0 && c.repeat > 1)
        cli_usage_error(&c, "-C and --repeat both say how many times: give one");
    if (c.message != NULL) {
        len = strlen(c.message);
        data = (uint8_t *)(uintptr_t)c.message;
    } else if (c.file != NULL || c.stdin_message) {
        FILE *f = c.file != NULL ? fopen(c.file, "rb") : stdin;
        if (f == NULL) {
            fprintf(stderr, "%s: cannot read %s\n", c.prog, c.file);
            return 1;
        }
        rc = slurp(&c, f, c.file != NULL ? c.file : "stdin", &data, &len);
        if (f != stdin)
            fclose(f);
        if (rc != 0)
            return 1;
    }
    c.reconnect = c.lines; /* a long-running -l rides through broker restarts */
    ev.publish_acked = delivered;
    if (cli_connect(&c, c.lines ? 65536 : len, 0, ev) != 0)
        return 1;
    n = c.count > 0 ? c.count : c.repeat;
    if (c.lines) {
        char *line = NULL;
        size_t cap = 0;
        ssize_t got;
        for (i = 0; rc == 0 && (got = getline(&line, &cap, stdin)) >= 0; i++) {
            if (got > 0 && line[got - 1] == '\n')
                got--;
            if ((size_t)got > 65536) {
                fprintf(stderr, "%s: line %ld is longer than 65536 bytes\n", c.prog, i + 1);
                rc = 1;
                break;
            }
            rc = publish_one(&c, (const uint8_t *)line, (size_t)got);
            if (rc == 0 && mqtls_client_poll(&c.client, 0) != MQTLS_OK)
                rc = drain(&c, -1);
            cli_progress(&c, "sent", i + 1, -1, false);
        }
        free(line);
        n = i;
    } else {
        for (i = 0; rc == 0 && i < n; i++) {
            if (i > 0 && c.repeat_delay_s > 0)
                rc = pause_for(&c, c.repeat_delay_s);
            if (rc == 0)
                rc = publish_one(&c, data, len);
            if (rc == 0 && (i & 15) == 0)
                mqtls_client_poll(&c.client, 0);
            cli_progress(&c, "sent", i + 1, n, false);
        }
    }
    if (rc == 0)
        rc = drain(&c, n);
    if (rc == 0 && (c.count > 0 || c.lines))
        cli_progress(&c, "acknowledged", acked, n, true);
    cli_close(&c);
    if (data != (uint8_t *)(uintptr_t)c.message)
        free(data);
    return rc;
}
