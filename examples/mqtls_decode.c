/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls-decode: explain MQTT 3.1.1 packets given as hex.
 *
 *   mqtls-decode 30 07 00 03 61 2f 62 68 69
 *   echo "20020100" | mqtls-decode
 *
 * Prints each packet in the stream, or the rule the bytes break, e.g.
 * "malformed at byte 0: DUP flag set on a QoS 0 PUBLISH (MQTLS_ERR_BAD_DUP)".
 * Exit status: 0 all packets valid, 1 malformed or incomplete, 2 bad usage.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "mqtt/codec.h"

static const char *const type_names[] = {"?",        "CONNECT",     "CONNACK", "PUBLISH",
                                         "PUBACK",   "PUBREC",      "PUBREL",  "PUBCOMP",
                                         "SUBSCRIBE", "SUBACK",     "UNSUBSCRIBE",
                                         "UNSUBACK", "PINGREQ",     "PINGRESP", "DISCONNECT"};

/* Step 1: hex digits from a string, spaces and "0x" ignored. */
static int add_hex(const char *s, unsigned char *out, size_t cap, size_t *len, int *half)
{
    for (; *s != '\0'; s++) {
        int v;
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
            s++;
            continue;
        }
        if (isspace((unsigned char)*s) || *s == ',' || *s == ':')
            continue;
        if (!isxdigit((unsigned char)*s))
            return -1;
        v = isdigit((unsigned char)*s) ? *s - '0' : (tolower((unsigned char)*s) - 'a' + 10);
        if (*half < 0) {
            *half = v;
        } else {
            if (*len == cap)
                return -1;
            out[(*len)++] = (unsigned char)(*half << 4 | v);
            *half = -1;
        }
    }
    return 0;
}

static void print_text(const char *label, const char *p, size_t len)
{
    printf("  %s: \"%.*s\" (%zu bytes)\n", label, (int)len, p, len);
}

/* Step 2: one decoded packet in words. */
static void print_packet(const mqtls_packet *pkt)
{
    const mqtls_connect *c = &pkt->u.connect;
    const mqtls_publish *p = &pkt->u.publish;
    mqtls_filter_list list = pkt->u.filters;
    mqtls_subscription sub;
    size_t i;

    printf("%s, %zu bytes", type_names[pkt->type], pkt->length);
    if (pkt->packet_id != 0)
        printf(", packet id %u", (unsigned)pkt->packet_id);
    printf("\n");
    switch (pkt->type) {
    case MQTLS_CONNECT:
        print_text("client id", c->client_id.ptr, c->client_id.len);
        printf("  keep-alive %u s, clean session %d\n", (unsigned)c->keepalive_s,
               c->clean_session);
        if (c->will_topic.ptr != NULL) {
            print_text("will topic", c->will_topic.ptr, c->will_topic.len);
            printf("  will: %zu bytes, QoS %u, retain %d\n", c->will_payload.len,
                   (unsigned)c->will_qos, c->will_retain);
        }
        if (c->username.ptr != NULL)
            print_text("user name", c->username.ptr, c->username.len);
        if (c->password.ptr != NULL)
            printf("  password: %zu bytes (not shown)\n", c->password.len);
        break;
    case MQTLS_CONNACK:
        printf("  return code %u, session present %d\n", (unsigned)pkt->u.connack.return_code,
               pkt->u.connack.session_present);
        break;
    case MQTLS_PUBLISH:
        print_text("topic", p->topic.ptr, p->topic.len);
        printf("  QoS %u, retain %d, dup %d, payload %zu bytes\n", (unsigned)p->qos, p->retain,
               p->dup, p->payload.len);
        break;
    case MQTLS_SUBSCRIBE:
    case MQTLS_UNSUBSCRIBE:
        while (mqtls_codec_next_filter(&list, &sub) == 1) {
            print_text("filter", sub.filter.ptr, sub.filter.len);
            if (pkt->type == MQTLS_SUBSCRIBE)
                printf("    requested QoS %u\n", (unsigned)sub.qos);
        }
        break;
    case MQTLS_SUBACK:
        for (i = 0; i < pkt->u.return_codes.len; i++)
            printf("  filter %zu: %s\n", i + 1,
                   pkt->u.return_codes.ptr[i] == MQTLS_SUBACK_FAILURE ? "refused" : "granted");
        break;
    default:
        break;
    }
}

int main(int argc, char **argv)
{
    static unsigned char buf[1 << 16];
    char line[4096];
    size_t len = 0, off = 0;
    int half = -1, i, ret;

    /* Step 1: gather the bytes from the arguments, or from standard input. */
    for (i = 1; i < argc; i++)
        if (add_hex(argv[i], buf, sizeof buf, &len, &half) != 0)
            goto usage;
    if (argc == 1)
        while (fgets(line, sizeof line, stdin) != NULL)
            if (add_hex(line, buf, sizeof buf, &len, &half) != 0)
                goto usage;
    if (half >= 0 || len == 0)
        goto usage;

    /* Step 2: decode packet after packet until the bytes run out. */
    while (off < len) {
        mqtls_packet pkt;
        ret = mqtls_codec_decode(buf + off, len - off, &pkt);
        if (ret == MQTLS_ERR_INCOMPLETE) {
            printf("incomplete at byte %zu: %zu bytes of a packet", off, len - off);
            ret = mqtls_codec_packet_length(buf + off, len - off);
            if (ret > 0)
                printf(" of %d", ret);
            printf("\n");
            return 1;
        }
        if (ret < 0) {
            printf("malformed at byte %zu: %s (%s)\n", off, mqtls_strerror(ret),
                   mqtls_errname(ret));
            return 1;
        }
        print_packet(&pkt);
        off += (size_t)ret;
    }
    return 0;

usage:
    fprintf(stderr, "usage: mqtls-decode HEX...   (or hex on standard input)\n");
    return 2;
}
