/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the decoder (and the topic helpers).
 *
 * Besides "no crash, no over-read", it checks properties that catch a
 * decoder which accepts what it should not:
 *  - a packet the decoder accepts encodes back to the same body;
 *  - the generic decoder agrees with the direction-specific one;
 *  - mqtls_codec_packet_length() agrees with the decoder.
 * A violated property calls abort(), which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt/codec.h"
#include "mqtt/topic.h"
#include "test/unit/vectors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static void one_packet(const uint8_t *data, size_t size, size_t *used)
{
    static uint8_t again[1 << 17];
    mqtls_packet pkt, pkt_dir;
    const unsigned client_only = (1u << MQTLS_CONNECT) | (1u << MQTLS_SUBSCRIBE) |
                                 (1u << MQTLS_UNSUBSCRIBE) | (1u << MQTLS_PINGREQ) |
                                 (1u << MQTLS_DISCONNECT);
    int n = mqtls_codec_decode(data, size, &pkt), d, len, m;

    *used = 0;
    if (size > 0) {
        d = (client_only >> (data[0] >> 4) & 1u)
                ? mqtls_codec_decode_from_client(data, size, &pkt_dir)
                : mqtls_codec_decode_from_server(data, size, &pkt_dir);
        check(d == n || (n < 0 && d == MQTLS_ERR_UNEXPECTED_PACKET));
    }
    len = mqtls_codec_packet_length(data, size);
    if (n == MQTLS_ERR_INCOMPLETE)
        check(len == MQTLS_ERR_INCOMPLETE || (len > 0 && (size_t)len > size));
    if (n <= 0)
        return;
    check(len == n && pkt.length == (size_t)n);
    m = reencode(&pkt, again, sizeof again);
    if (m == MQTLS_ERR_INVALID_ARG && (pkt.type == MQTLS_SUBSCRIBE ||
                                       pkt.type == MQTLS_UNSUBSCRIBE))
        return; /* more filters than reencode() holds */
    check(m > 0);
    check((size_t)m - fixed_header_len(again) == (size_t)n - fixed_header_len(data));
    check(again[0] == data[0]);
    check(memcmp(again + fixed_header_len(again), data + fixed_header_len(data),
                 (size_t)n - fixed_header_len(data)) == 0);
    *used = (size_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0, used, split;
    int bounded = 64;

    /* The input as a stream of packets. */
    do {
        one_packet(data + off, size - off, &used);
        off += used;
    } while (used > 0 && off < size && --bounded > 0);

    /* The input as a filter and a name: validation and matching must agree. */
    if (size > 1) {
        const char *f = (const char *)data + 1, *name;
        split = data[0] % size;
        if (split == 0)
            split = 1;
        name = (const char *)data + split;
        if (mqtls_topic_validate_filter(f, split - 1) == MQTLS_OK &&
            mqtls_topic_validate_name(name, size - split) == MQTLS_OK) {
            int all = mqtls_topic_match("#", 1, name, size - split);
            int m = mqtls_topic_match(f, split - 1, name, size - split);
            check(all == (name[0] != '$'));
            /* A filter without wildcards matches exactly itself. */
            if (memchr(f, '+', split - 1) == NULL && memchr(f, '#', split - 1) == NULL)
                check(m == (split - 1 == size - split && memcmp(f, name, split - 1) == 0));
        }
    }
    return 0;
}
