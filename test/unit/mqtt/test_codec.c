/* SPDX-License-Identifier: Apache-2.0 */
/* Codec: byte-exact vectors both ways, every rejection rule, remaining
 * length boundaries, incremental decoding, and inputs that end at an
 * inaccessible page so that any over-read faults. */
#define _DEFAULT_SOURCE /* mmap, MAP_ANONYMOUS */

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mqtt/codec.h"
#include "test/unit/suites.h"
#include "test/unit/vectors.h"

#define STR(s) ((mqtls_str){(s), sizeof(s) - 1})
#define BYTES(s) ((mqtls_bytes){(const uint8_t *)(s), sizeof(s) - 1})

static const vector *find_vector(const char *name)
{
    size_t i;
    for (i = 0; i < valid_vector_count; i++)
        if (strcmp(valid_vectors[i].name, name) == 0)
            return &valid_vectors[i];
    ck_abort_msg("no vector %s", name);
    return NULL;
}

static void assert_bytes(const uint8_t *got, int got_len, const vector *v)
{
    ck_assert_int_eq(got_len, (int)v->len);
    ck_assert_mem_eq(got, v->bytes, v->len);
}

static int decode_dir(vector_dir dir, const uint8_t *buf, size_t len, mqtls_packet *pkt)
{
    switch (dir) {
    case DIR_FROM_SERVER: return mqtls_codec_decode_from_server(buf, len, pkt);
    case DIR_FROM_CLIENT: return mqtls_codec_decode_from_client(buf, len, pkt);
    case DIR_ANY:
    default: return mqtls_codec_decode(buf, len, pkt);
    }
}

static void assert_str(mqtls_str s, const char *want)
{
    ck_assert_ptr_nonnull(s.ptr);
    ck_assert_uint_eq(s.len, strlen(want));
    ck_assert_mem_eq(s.ptr, want, s.len);
}

/* ---- every type, encoded byte-exact ------------------------------------- */

START_TEST(encode_connect_minimal_exact)
{
    uint8_t buf[64];
    mqtls_connect c = {0};
    c.client_id = STR("dev1");
    c.keepalive_s = 60;
    c.clean_session = true;
    assert_bytes(buf, mqtls_codec_encode_connect(buf, sizeof buf, &c),
                 find_vector("connect_minimal"));
}
END_TEST

START_TEST(encode_connect_full_exact)
{
    uint8_t buf[64];
    mqtls_connect c = {0};
    c.client_id = STR("id");
    c.keepalive_s = 10;
    c.will_topic = STR("w/top");
    c.will_payload = BYTES("bye");
    c.will_qos = 1;
    c.will_retain = true;
    c.username = STR("user");
    c.password = BYTES("pw");
    assert_bytes(buf, mqtls_codec_encode_connect(buf, sizeof buf, &c),
                 find_vector("connect_full"));
}
END_TEST

START_TEST(encode_connect_empty_client_id_with_clean_session)
{
    uint8_t buf[64];
    mqtls_connect c = {0};
    c.client_id = (mqtls_str){NULL, 0};
    c.clean_session = true;
    assert_bytes(buf, mqtls_codec_encode_connect(buf, sizeof buf, &c),
                 find_vector("connect_empty_client_id"));
}
END_TEST

START_TEST(encode_connack_exact)
{
    uint8_t buf[8];
    mqtls_connack a = {false, 0}, sp = {true, 0}, na = {false, 5};
    assert_bytes(buf, mqtls_codec_encode_connack(buf, sizeof buf, &a),
                 find_vector("connack_accepted"));
    assert_bytes(buf, mqtls_codec_encode_connack(buf, sizeof buf, &sp),
                 find_vector("connack_session_present"));
    assert_bytes(buf, mqtls_codec_encode_connack(buf, sizeof buf, &na),
                 find_vector("connack_not_authorized"));
}
END_TEST

START_TEST(encode_publish_exact)
{
    uint8_t buf[64];
    mqtls_publish p = {0};
    p.topic = STR("a/b");
    p.payload = BYTES("hi");
    assert_bytes(buf, mqtls_codec_encode_publish(buf, sizeof buf, &p),
                 find_vector("publish_qos0"));

    memset(&p, 0, sizeof p);
    p.topic = STR("x");
    p.retain = true;
    assert_bytes(buf, mqtls_codec_encode_publish(buf, sizeof buf, &p),
                 find_vector("publish_qos0_empty_payload"));

    p.topic = STR("a/b");
    p.payload = BYTES("{}");
    p.retain = false;
    p.qos = 1;
    p.packet_id = 0x1234;
    assert_bytes(buf, mqtls_codec_encode_publish(buf, sizeof buf, &p),
                 find_vector("publish_qos1"));

    p.topic = STR("s/\xC3\xA9" "1");
    p.payload = BYTES("\xFF");
    p.qos = 2;
    p.dup = true;
    p.retain = true;
    p.packet_id = 1;
    assert_bytes(buf, mqtls_codec_encode_publish(buf, sizeof buf, &p),
                 find_vector("publish_qos2_dup_retain"));
}
END_TEST

START_TEST(encode_id_only_packets_exact)
{
    uint8_t buf[8];
    assert_bytes(buf, mqtls_codec_encode_puback(buf, sizeof buf, 1), find_vector("puback"));
    assert_bytes(buf, mqtls_codec_encode_pubrec(buf, sizeof buf, 0xFFFF), find_vector("pubrec"));
    assert_bytes(buf, mqtls_codec_encode_pubrel(buf, sizeof buf, 0x1234), find_vector("pubrel"));
    assert_bytes(buf, mqtls_codec_encode_pubcomp(buf, sizeof buf, 2), find_vector("pubcomp"));
    assert_bytes(buf, mqtls_codec_encode_unsuback(buf, sizeof buf, 11), find_vector("unsuback"));
}
END_TEST

START_TEST(encode_subscribe_suback_unsubscribe_exact)
{
    uint8_t buf[64];
    const mqtls_subscription subs[2] = {{STR("a/#"), 1}, {STR("+/bc"), 2}};
    const uint8_t codes[3] = {1, 0x80, 2};
    const mqtls_str filters[2] = {STR("#"), STR("a/+")};

    assert_bytes(buf, mqtls_codec_encode_subscribe(buf, sizeof buf, 10, subs, 2),
                 find_vector("subscribe_two_filters"));
    assert_bytes(buf, mqtls_codec_encode_suback(buf, sizeof buf, 10, codes, 3),
                 find_vector("suback_granted_and_refused"));
    assert_bytes(buf, mqtls_codec_encode_unsubscribe(buf, sizeof buf, 11, filters, 2),
                 find_vector("unsubscribe_two_filters"));
}
END_TEST

START_TEST(encode_empty_packets_exact)
{
    uint8_t buf[2];
    assert_bytes(buf, mqtls_codec_encode_pingreq(buf, sizeof buf), find_vector("pingreq"));
    assert_bytes(buf, mqtls_codec_encode_pingresp(buf, sizeof buf), find_vector("pingresp"));
    assert_bytes(buf, mqtls_codec_encode_disconnect(buf, sizeof buf), find_vector("disconnect"));
}
END_TEST

/* ---- every type, decoded field by field ---------------------------------- */

START_TEST(decode_connect_fields)
{
    const vector *v = find_vector("connect_full");
    mqtls_packet pkt;
    const mqtls_connect *c = &pkt.u.connect;

    ck_assert_int_eq(mqtls_codec_decode(v->bytes, v->len, &pkt), (int)v->len);
    ck_assert_int_eq(pkt.type, MQTLS_CONNECT);
    ck_assert_uint_eq(pkt.length, v->len);
    assert_str(c->client_id, "id");
    assert_str(c->will_topic, "w/top");
    ck_assert_uint_eq(c->will_payload.len, 3);
    ck_assert_mem_eq(c->will_payload.ptr, "bye", 3);
    assert_str(c->username, "user");
    ck_assert_uint_eq(c->password.len, 2);
    ck_assert_mem_eq(c->password.ptr, "pw", 2);
    ck_assert_uint_eq(c->keepalive_s, 10);
    ck_assert_uint_eq(c->will_qos, 1);
    ck_assert(c->will_retain);
    ck_assert(!c->clean_session);
    /* Zero-copy: fields point into the input. */
    ck_assert_ptr_eq(c->client_id.ptr, (const char *)v->bytes + 14);

    v = find_vector("connect_minimal");
    ck_assert_int_eq(mqtls_codec_decode(v->bytes, v->len, &pkt), (int)v->len);
    ck_assert_ptr_null(c->will_topic.ptr);
    ck_assert_ptr_null(c->username.ptr);
    ck_assert_ptr_null(c->password.ptr);
    ck_assert(c->clean_session);
    ck_assert_uint_eq(c->keepalive_s, 60);
}
END_TEST

START_TEST(decode_connack_fields)
{
    const vector *v = find_vector("connack_session_present");
    mqtls_packet pkt;
    ck_assert_int_eq(mqtls_codec_decode_from_server(v->bytes, v->len, &pkt), 4);
    ck_assert(pkt.u.connack.session_present);
    ck_assert_uint_eq(pkt.u.connack.return_code, 0);
    v = find_vector("connack_not_authorized");
    ck_assert_int_eq(mqtls_codec_decode_from_server(v->bytes, v->len, &pkt), 4);
    ck_assert(!pkt.u.connack.session_present);
    ck_assert_uint_eq(pkt.u.connack.return_code, MQTLS_CONNACK_NOT_AUTHORIZED);
}
END_TEST

START_TEST(decode_publish_fields)
{
    const vector *v = find_vector("publish_qos2_dup_retain");
    mqtls_packet pkt;
    const mqtls_publish *p = &pkt.u.publish;

    ck_assert_int_eq(mqtls_codec_decode(v->bytes, v->len, &pkt), (int)v->len);
    assert_str(p->topic, "s/\xC3\xA9" "1");
    ck_assert_uint_eq(p->qos, 2);
    ck_assert(p->dup);
    ck_assert(p->retain);
    ck_assert_uint_eq(p->packet_id, 1);
    ck_assert_uint_eq(pkt.packet_id, 1);
    ck_assert_uint_eq(p->payload.len, 1);
    ck_assert_ptr_eq(p->payload.ptr, v->bytes + v->len - 1);

    v = find_vector("publish_qos0");
    ck_assert_int_eq(mqtls_codec_decode(v->bytes, v->len, &pkt), (int)v->len);
    ck_assert_uint_eq(p->qos, 0);
    ck_assert_uint_eq(p->packet_id, 0);
    ck_assert(!p->dup && !p->retain);
    ck_assert_uint_eq(p->payload.len, 2);
    ck_assert_mem_eq(p->payload.ptr, "hi", 2);

    v = find_vector("publish_qos0_empty_payload");
    ck_assert_int_eq(mqtls_codec_decode(v->bytes, v->len, &pkt), (int)v->len);
    ck_assert_uint_eq(p->payload.len, 0);
    ck_assert(p->retain);
}
END_TEST

START_TEST(decode_subscribe_walks_filters)
{
    const vector *v = find_vector("subscribe_two_filters");
    mqtls_packet pkt;
    mqtls_subscription s;
    mqtls_filter_list list;

    ck_assert_int_eq(mqtls_codec_decode_from_client(v->bytes, v->len, &pkt), (int)v->len);
    ck_assert_uint_eq(pkt.packet_id, 10);
    ck_assert_uint_eq(pkt.u.filters.count, 2);
    list = pkt.u.filters;
    ck_assert_int_eq(mqtls_codec_next_filter(&list, &s), 1);
    assert_str(s.filter, "a/#");
    ck_assert_uint_eq(s.qos, 1);
    ck_assert_int_eq(mqtls_codec_next_filter(&list, &s), 1);
    assert_str(s.filter, "+/bc");
    ck_assert_uint_eq(s.qos, 2);
    ck_assert_int_eq(mqtls_codec_next_filter(&list, &s), 0);
    ck_assert_int_eq(mqtls_codec_next_filter(&list, &s), 0);

    v = find_vector("unsubscribe_two_filters");
    ck_assert_int_eq(mqtls_codec_decode_from_client(v->bytes, v->len, &pkt), (int)v->len);
    list = pkt.u.filters;
    ck_assert(!list.has_qos);
    ck_assert_int_eq(mqtls_codec_next_filter(&list, &s), 1);
    assert_str(s.filter, "#");
    ck_assert_int_eq(mqtls_codec_next_filter(&list, &s), 1);
    assert_str(s.filter, "a/+");
    ck_assert_int_eq(mqtls_codec_next_filter(&list, &s), 0);
}
END_TEST

START_TEST(next_filter_refuses_a_forged_list)
{
    static const uint8_t wire[] = {0x00, 0x05, 'a'};
    mqtls_filter_list list = {wire, sizeof wire, 1, false};
    mqtls_filter_list no_qos = {(const uint8_t *)"\x00\x01" "a", 3, 1, true};
    mqtls_subscription s;
    ck_assert_int_eq(mqtls_codec_next_filter(&list, &s), MQTLS_ERR_TRUNCATED);
    ck_assert_int_eq(mqtls_codec_next_filter(&no_qos, &s), MQTLS_ERR_TRUNCATED);
    ck_assert_int_eq(mqtls_codec_next_filter(NULL, &s), MQTLS_ERR_INVALID_ARG);
}
END_TEST

START_TEST(decode_suback_codes)
{
    const vector *v = find_vector("suback_granted_and_refused");
    mqtls_packet pkt;
    ck_assert_int_eq(mqtls_codec_decode_from_server(v->bytes, v->len, &pkt), (int)v->len);
    ck_assert_uint_eq(pkt.packet_id, 10);
    ck_assert_uint_eq(pkt.u.return_codes.len, 3);
    ck_assert_uint_eq(pkt.u.return_codes.ptr[1], MQTLS_SUBACK_FAILURE);
}
END_TEST

/* Every valid vector decodes with the generic decoder and with its
 * direction's, and encodes back to the same bytes. */
START_TEST(valid_vectors_decode_and_reencode)
{
    const vector *v = &valid_vectors[_i];
    mqtls_packet pkt;
    uint8_t buf[128];

    ck_assert_msg(mqtls_codec_decode(v->bytes, v->len, &pkt) == (int)v->len, "%s", v->name);
    ck_assert_int_eq(pkt.type, v->expect);
    ck_assert_int_eq(decode_dir(v->dir, v->bytes, v->len, &pkt), (int)v->len);
    assert_bytes(buf, reencode(&pkt, buf, sizeof buf), v);
    /* One byte short of room is refused, not truncated. */
    ck_assert_int_eq(reencode(&pkt, buf, v->len - 1), MQTLS_ERR_BUFFER_TOO_SMALL);
    ck_assert_int_eq(reencode(&pkt, NULL, 0), MQTLS_ERR_BUFFER_TOO_SMALL);
    ck_assert_int_eq(mqtls_codec_packet_length(v->bytes, v->len), (int)v->len);
}
END_TEST

START_TEST(malformed_vectors_are_rejected_with_their_reason)
{
    const vector *v = &malformed_vectors[_i];
    mqtls_packet pkt;
    int ret = decode_dir(v->dir, v->bytes, v->len, &pkt);
    ck_assert_msg(ret == v->expect, "%s: got %s, want %s", v->name, mqtls_errname(ret),
                  mqtls_errname(v->expect));
}
END_TEST

/* ---- guard page: the input ends where readable memory ends -------------- */

static uint8_t *guard_base;
static size_t page_size;

static void guard_setup(void)
{
    page_size = (size_t)sysconf(_SC_PAGESIZE);
    guard_base = mmap(NULL, 2 * page_size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(guard_base, MAP_FAILED);
    ck_assert_int_eq(mprotect(guard_base + page_size, page_size, PROT_NONE), 0);
}

static void guard_teardown(void)
{
    munmap(guard_base, 2 * page_size);
}

/* A copy of the first len bytes that ends exactly at the guard page. */
static const uint8_t *at_page_end(const uint8_t *bytes, size_t len)
{
    uint8_t *dst = guard_base + page_size - len;
    memcpy(dst, bytes, len);
    return dst;
}

START_TEST(every_prefix_of_a_valid_packet_needs_more_bytes)
{
    const vector *v = &valid_vectors[_i];
    mqtls_packet pkt;
    size_t n;

    for (n = 0; n < v->len; n++) {
        const uint8_t *p = at_page_end(v->bytes, n);
        ck_assert_msg(mqtls_codec_decode(p, n, &pkt) == MQTLS_ERR_INCOMPLETE, "%s[0..%zu)",
                      v->name, n);
        ck_assert_int_eq(decode_dir(v->dir, p, n, &pkt), MQTLS_ERR_INCOMPLETE);
    }
    ck_assert_int_eq(mqtls_codec_decode(at_page_end(v->bytes, v->len), v->len, &pkt),
                     (int)v->len);
}
END_TEST

START_TEST(malformed_packets_at_page_end_do_not_overread)
{
    const vector *v = &malformed_vectors[_i];
    mqtls_packet pkt;
    size_t n;
    for (n = 0; n <= v->len; n++) {
        int ret = decode_dir(v->dir, at_page_end(v->bytes, n), n, &pkt);
        ck_assert(ret < 0);
    }
    ck_assert_int_eq(decode_dir(v->dir, at_page_end(v->bytes, v->len), v->len, &pkt),
                     v->expect);
}
END_TEST

START_TEST(next_filter_at_page_end_does_not_overread)
{
    static const uint8_t wire[] = {0x00, 0x02, 'a', '/', 0x01};
    mqtls_filter_list list;
    mqtls_subscription s;
    size_t n;
    for (n = 0; n < sizeof wire; n++) {
        list = (mqtls_filter_list){at_page_end(wire, n), n, 1, true};
        ck_assert_int_le(mqtls_codec_next_filter(&list, &s), 0);
    }
}
END_TEST

/* ---- remaining length ------------------------------------------------------ */

static const struct {
    uint32_t remaining;
    uint8_t header[5];
    size_t header_len;
} length_table[] = {
    {0, {0x30, 0x00}, 2},
    {127, {0x30, 0x7F}, 2},
    {128, {0x30, 0x80, 0x01}, 3},
    {16383, {0x30, 0xFF, 0x7F}, 3},
    {16384, {0x30, 0x80, 0x80, 0x01}, 4},
    {2097151, {0x30, 0xFF, 0xFF, 0x7F}, 4},
    {2097152, {0x30, 0x80, 0x80, 0x80, 0x01}, 5},
    {268435455, {0x30, 0xFF, 0xFF, 0xFF, 0x7F}, 5},
};

/* Section 2.2.3: the total length is known from the header alone. */
START_TEST(packet_length_at_remaining_length_boundaries)
{
    const size_t hl = length_table[_i].header_len;
    const uint8_t *p = at_page_end(length_table[_i].header, hl);
    size_t n;
    ck_assert_int_eq(mqtls_codec_packet_length(p, hl), (int)(hl + length_table[_i].remaining));
    for (n = 0; n < hl; n++)
        ck_assert_int_eq(mqtls_codec_packet_length(at_page_end(length_table[_i].header, n), n),
                         MQTLS_ERR_INCOMPLETE);
}
END_TEST

/* The encoder picks the same header for a PUBLISH of each boundary size
 * (topic "t", QoS 0: the body is 3 bytes plus the payload). */
START_TEST(encode_publish_at_remaining_length_boundaries)
{
    const uint32_t rl = length_table[_i].remaining;
    const size_t hl = length_table[_i].header_len;
    mqtls_publish p = {0};
    mqtls_packet pkt;
    uint8_t *buf, *payload;
    size_t total = hl + rl;
    int ret;

    if (rl < 3)
        return; /* no PUBLISH is that short; PINGREQ covers 0 */
    buf = malloc(total);
    payload = calloc(1, rl - 3 + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_ptr_nonnull(payload);
    p.topic = STR("t");
    p.payload = (mqtls_bytes){payload, rl - 3};
    ret = mqtls_codec_encode_publish(buf, total, &p);
    ck_assert_int_eq(ret, (int)total);
    ck_assert_mem_eq(buf, length_table[_i].header, hl);
    ck_assert_int_eq(mqtls_codec_encode_publish(buf, total - 1, &p), MQTLS_ERR_BUFFER_TOO_SMALL);
    ck_assert_int_eq(mqtls_codec_decode(buf, total, &pkt), (int)total);
    ck_assert_uint_eq(pkt.u.publish.payload.len, rl - 3);
    ck_assert_int_eq(mqtls_codec_decode(buf, total - 1, &pkt), MQTLS_ERR_INCOMPLETE);
    free(payload);
    free(buf);
}
END_TEST

START_TEST(remaining_length_268435456_is_refused_both_ways)
{
    static const uint8_t five[] = {0x30, 0x80, 0x80, 0x80, 0x80, 0x01};
    static const uint8_t dummy = 0;
    uint8_t buf[8];
    mqtls_publish p = {0};
    mqtls_packet pkt;

    ck_assert_int_eq(mqtls_codec_packet_length(five, sizeof five), MQTLS_ERR_MALFORMED_LENGTH);
    /* Four continuation bytes are enough to know; the fifth is never read. */
    ck_assert_int_eq(mqtls_codec_packet_length(at_page_end(five, 5), 5),
                     MQTLS_ERR_MALFORMED_LENGTH);
    ck_assert_int_eq(mqtls_codec_decode(at_page_end(five, 5), 5, &pkt),
                     MQTLS_ERR_MALFORMED_LENGTH);
    /* Encoding: refused before the payload is touched. */
    p.topic = STR("t");
    p.payload = (mqtls_bytes){&dummy, MQTLS_MAX_REMAINING_LENGTH - 3 + 1};
    ck_assert_int_eq(mqtls_codec_encode_publish(buf, sizeof buf, &p), MQTLS_ERR_PACKET_TOO_LARGE);
    p.payload.len = MQTLS_MAX_REMAINING_LENGTH - 3;
    ck_assert_int_eq(mqtls_codec_encode_publish(buf, sizeof buf, &p), MQTLS_ERR_BUFFER_TOO_SMALL);
}
END_TEST

/* Non-minimal remaining-length encodings are not forbidden by 3.1.1. */
START_TEST(decode_accepts_non_minimal_remaining_length)
{
    static const uint8_t ping[] = {0xC0, 0x80, 0x00};
    mqtls_packet pkt;
    ck_assert_int_eq(mqtls_codec_decode(ping, sizeof ping, &pkt), 3);
    ck_assert_int_eq(pkt.type, MQTLS_PINGREQ);
}
END_TEST

/* ---- incremental use ------------------------------------------------------ */

START_TEST(decode_takes_one_packet_at_a_time)
{
    const vector *a = find_vector("publish_qos1"), *b = find_vector("pingresp");
    uint8_t stream[64];
    mqtls_packet pkt;
    int n;

    memcpy(stream, a->bytes, a->len);
    memcpy(stream + a->len, b->bytes, b->len);
    n = mqtls_codec_decode(stream, a->len + b->len, &pkt);
    ck_assert_int_eq(n, (int)a->len);
    ck_assert_int_eq(pkt.type, MQTLS_PUBLISH);
    n = mqtls_codec_decode(stream + n, b->len, &pkt);
    ck_assert_int_eq(n, (int)b->len);
    ck_assert_int_eq(pkt.type, MQTLS_PINGRESP);
}
END_TEST

START_TEST(packet_length_checks_the_first_byte_early)
{
    static const uint8_t pubrel_bad[] = {0x60};
    static const uint8_t publish_qos3[] = {0x36};
    static const uint8_t reserved[] = {0xF0};
    ck_assert_int_eq(mqtls_codec_packet_length(pubrel_bad, 1), MQTLS_ERR_BAD_FLAGS);
    ck_assert_int_eq(mqtls_codec_packet_length(publish_qos3, 1), MQTLS_ERR_BAD_QOS);
    ck_assert_int_eq(mqtls_codec_packet_length(reserved, 1), MQTLS_ERR_BAD_PACKET_TYPE);
    ck_assert_int_eq(mqtls_codec_packet_length(NULL, 0), MQTLS_ERR_INCOMPLETE);
    ck_assert_int_eq(mqtls_codec_packet_length(NULL, 4), MQTLS_ERR_INVALID_ARG);
}
END_TEST

START_TEST(decode_refuses_null_arguments)
{
    mqtls_packet pkt;
    static const uint8_t ping[] = {0xC0, 0x00};
    ck_assert_int_eq(mqtls_codec_decode(NULL, 2, &pkt), MQTLS_ERR_INVALID_ARG);
    ck_assert_int_eq(mqtls_codec_decode(ping, 2, NULL), MQTLS_ERR_INVALID_ARG);
    ck_assert_int_eq(mqtls_codec_decode(NULL, 0, &pkt), MQTLS_ERR_INCOMPLETE);
}
END_TEST

/* ---- encoders refuse what the specification forbids ------------------------ */

START_TEST(encode_publish_refusals)
{
    uint8_t buf[64];
    mqtls_publish p = {0};
    p.topic = STR("a/b");

    p.qos = 3; /* [MQTT-3.3.1-4] */
    ck_assert_int_eq(mqtls_codec_encode_publish(buf, sizeof buf, &p), MQTLS_ERR_BAD_QOS);
    p.qos = 0;
    p.dup = true; /* [MQTT-3.3.1-2] */
    ck_assert_int_eq(mqtls_codec_encode_publish(buf, sizeof buf, &p), MQTLS_ERR_BAD_DUP);
    p.dup = false;
    p.qos = 1; /* [MQTT-2.3.1-1] */
    ck_assert_int_eq(mqtls_codec_encode_publish(buf, sizeof buf, &p), MQTLS_ERR_PACKET_ID_ZERO);
    p.qos = 0;
    p.topic = STR("a/+"); /* [MQTT-3.3.2-2] */
    ck_assert_int_eq(mqtls_codec_encode_publish(buf, sizeof buf, &p), MQTLS_ERR_BAD_TOPIC_NAME);
    p.topic = STR("a/#");
    ck_assert_int_eq(mqtls_codec_encode_publish(buf, sizeof buf, &p), MQTLS_ERR_BAD_TOPIC_NAME);
    p.topic = STR(""); /* [MQTT-4.7.3-1] */
    ck_assert_int_eq(mqtls_codec_encode_publish(buf, sizeof buf, &p), MQTLS_ERR_BAD_TOPIC_NAME);
    p.topic = STR("a\0b"); /* [MQTT-1.5.3-2] */
    ck_assert_int_eq(mqtls_codec_encode_publish(buf, sizeof buf, &p), MQTLS_ERR_BAD_UTF8);
    p.topic = STR("\xED\xB0\x80"); /* [MQTT-1.5.3-1] surrogate */
    ck_assert_int_eq(mqtls_codec_encode_publish(buf, sizeof buf, &p), MQTLS_ERR_BAD_UTF8);
    p.topic = (mqtls_str){NULL, 3};
    ck_assert_int_eq(mqtls_codec_encode_publish(buf, sizeof buf, &p), MQTLS_ERR_INVALID_ARG);
    p.topic = STR("t");
    p.payload = (mqtls_bytes){NULL, 1};
    ck_assert_int_eq(mqtls_codec_encode_publish(buf, sizeof buf, &p), MQTLS_ERR_INVALID_ARG);
    ck_assert_int_eq(mqtls_codec_encode_publish(buf, sizeof buf, NULL), MQTLS_ERR_INVALID_ARG);
    p.payload = (mqtls_bytes){NULL, 0};
    ck_assert_int_eq(mqtls_codec_encode_publish(NULL, 10, &p), MQTLS_ERR_INVALID_ARG);
}
END_TEST

START_TEST(encode_publish_topic_of_65535_bytes_but_not_65536)
{
    static char topic[65536];
    static uint8_t buf[65536 + 16];
    mqtls_publish p = {0};
    mqtls_packet pkt;

    memset(topic, 'x', sizeof topic);
    p.topic = (mqtls_str){topic, 65535};
    /* 1 + 3 header bytes (remaining length 65,537), 2 + 65,535 topic */
    ck_assert_int_eq(mqtls_codec_encode_publish(buf, sizeof buf, &p), 1 + 3 + 2 + 65535);
    ck_assert_int_eq(mqtls_codec_decode(buf, sizeof buf, &pkt), 1 + 3 + 2 + 65535);
    ck_assert_uint_eq(pkt.u.publish.topic.len, 65535);
    p.topic.len = 65536; /* [MQTT-4.7.3-3] */
    ck_assert_int_eq(mqtls_codec_encode_publish(buf, sizeof buf, &p), MQTLS_ERR_FIELD_TOO_LONG);
}
END_TEST

START_TEST(encode_connect_refusals)
{
    static char long_id[65536];
    uint8_t buf[128];
    mqtls_connect c = {0};

    c.client_id = STR("id");
    c.will_qos = 1; /* no will: [MQTT-3.1.2-11] */
    ck_assert_int_eq(mqtls_codec_encode_connect(buf, sizeof buf, &c), MQTLS_ERR_BAD_CONNECT_FLAGS);
    c.will_qos = 0;
    c.will_retain = true; /* [MQTT-3.1.2-15] */
    ck_assert_int_eq(mqtls_codec_encode_connect(buf, sizeof buf, &c), MQTLS_ERR_BAD_CONNECT_FLAGS);
    c.will_retain = false;
    c.will_topic = STR("w");
    c.will_qos = 3; /* [MQTT-3.1.2-14] */
    ck_assert_int_eq(mqtls_codec_encode_connect(buf, sizeof buf, &c), MQTLS_ERR_BAD_QOS);
    c.will_qos = 0;
    c.will_topic = STR("w/#"); /* [MQTT-3.1.3-10], [MQTT-4.7.1-1] */
    ck_assert_int_eq(mqtls_codec_encode_connect(buf, sizeof buf, &c), MQTLS_ERR_BAD_TOPIC_NAME);
    c.will_topic = (mqtls_str){NULL, 0};
    c.password = BYTES("pw"); /* [MQTT-3.1.2-22] */
    ck_assert_int_eq(mqtls_codec_encode_connect(buf, sizeof buf, &c), MQTLS_ERR_BAD_CONNECT_FLAGS);
    c.password = (mqtls_bytes){NULL, 0};
    c.client_id = STR(""); /* [MQTT-3.1.3-7] */
    ck_assert_int_eq(mqtls_codec_encode_connect(buf, sizeof buf, &c), MQTLS_ERR_BAD_CLIENT_ID);
    c.client_id = STR("\xC0\x80"); /* overlong U+0000 [MQTT-1.5.3-1] */
    ck_assert_int_eq(mqtls_codec_encode_connect(buf, sizeof buf, &c), MQTLS_ERR_BAD_UTF8);
    c.client_id = STR("id");
    c.username = STR("\xFF"); /* [MQTT-3.1.3-11] */
    ck_assert_int_eq(mqtls_codec_encode_connect(buf, sizeof buf, &c), MQTLS_ERR_BAD_UTF8);
    c.username = (mqtls_str){NULL, 0};
    memset(long_id, 'a', sizeof long_id);
    c.client_id = (mqtls_str){long_id, sizeof long_id};
    ck_assert_int_eq(mqtls_codec_encode_connect(buf, sizeof buf, &c), MQTLS_ERR_FIELD_TOO_LONG);
    c.client_id = STR("id");
    c.username = STR("u");
    c.password = (mqtls_bytes){(const uint8_t *)long_id, sizeof long_id};
    ck_assert_int_eq(mqtls_codec_encode_connect(buf, sizeof buf, &c), MQTLS_ERR_FIELD_TOO_LONG);
    c.password = (mqtls_bytes){NULL, 0};
    c.will_topic = STR("w");
    c.will_payload = (mqtls_bytes){NULL, 4};
    ck_assert_int_eq(mqtls_codec_encode_connect(buf, sizeof buf, &c), MQTLS_ERR_INVALID_ARG);
    ck_assert_int_eq(mqtls_codec_encode_connect(buf, sizeof buf, NULL), MQTLS_ERR_INVALID_ARG);
}
END_TEST

START_TEST(encode_connect_present_but_empty_fields)
{
    uint8_t buf[64];
    mqtls_connect c = {0};
    mqtls_packet pkt;
    int n;

    c.client_id = STR("id");
    c.username = STR("");
    c.password = (mqtls_bytes){(const uint8_t *)"", 0};
    n = mqtls_codec_encode_connect(buf, sizeof buf, &c);
    ck_assert_int_gt(n, 0);
    ck_assert_uint_eq(buf[9], 0xC0); /* user name and password flags, no clean session */
    ck_assert_int_eq(mqtls_codec_decode(buf, (size_t)n, &pkt), n);
    ck_assert_ptr_nonnull(pkt.u.connect.username.ptr);
    ck_assert_uint_eq(pkt.u.connect.username.len, 0);
    ck_assert_ptr_nonnull(pkt.u.connect.password.ptr);
}
END_TEST

START_TEST(encode_connack_refusals)
{
    uint8_t buf[8];
    mqtls_connack c = {false, 6};
    ck_assert_int_eq(mqtls_codec_encode_connack(buf, sizeof buf, &c), MQTLS_ERR_BAD_RETURN_CODE);
    c = (mqtls_connack){true, 2}; /* [MQTT-3.2.2-4] */
    ck_assert_int_eq(mqtls_codec_encode_connack(buf, sizeof buf, &c), MQTLS_ERR_BAD_CONNACK);
    ck_assert_int_eq(mqtls_codec_encode_connack(buf, sizeof buf, NULL), MQTLS_ERR_INVALID_ARG);
}
END_TEST

START_TEST(encode_id_packets_refuse_id_zero)
{
    uint8_t buf[8];
    ck_assert_int_eq(mqtls_codec_encode_puback(buf, sizeof buf, 0), MQTLS_ERR_PACKET_ID_ZERO);
    ck_assert_int_eq(mqtls_codec_encode_pubrec(buf, sizeof buf, 0), MQTLS_ERR_PACKET_ID_ZERO);
    ck_assert_int_eq(mqtls_codec_encode_pubrel(buf, sizeof buf, 0), MQTLS_ERR_PACKET_ID_ZERO);
    ck_assert_int_eq(mqtls_codec_encode_pubcomp(buf, sizeof buf, 0), MQTLS_ERR_PACKET_ID_ZERO);
    ck_assert_int_eq(mqtls_codec_encode_unsuback(buf, sizeof buf, 0), MQTLS_ERR_PACKET_ID_ZERO);
    ck_assert_int_eq(mqtls_codec_encode_puback(buf, 3, 1), MQTLS_ERR_BUFFER_TOO_SMALL);
    ck_assert_int_eq(mqtls_codec_encode_pingreq(buf, 1), MQTLS_ERR_BUFFER_TOO_SMALL);
}
END_TEST

START_TEST(encode_subscribe_refusals)
{
    uint8_t buf[64];
    mqtls_subscription s[2] = {{STR("a/b"), 0}, {STR("c"), 1}};
    mqtls_str f[1] = {STR("a/#")};
    const uint8_t ok_codes[1] = {0}, bad_codes[2] = {0, 3};

    ck_assert_int_eq(mqtls_codec_encode_subscribe(buf, sizeof buf, 1, s, 0),
                     MQTLS_ERR_NO_TOPIC_FILTERS); /* [MQTT-3.8.3-3] */
    ck_assert_int_eq(mqtls_codec_encode_subscribe(buf, sizeof buf, 0, s, 2),
                     MQTLS_ERR_PACKET_ID_ZERO);
    ck_assert_int_eq(mqtls_codec_encode_subscribe(buf, sizeof buf, 1, NULL, 2),
                     MQTLS_ERR_INVALID_ARG);
    s[1].qos = 3; /* [MQTT-3-8.3-4] */
    ck_assert_int_eq(mqtls_codec_encode_subscribe(buf, sizeof buf, 1, s, 2), MQTLS_ERR_BAD_QOS);
    s[1].qos = 1;
    s[1].filter = STR("a/#/b"); /* [MQTT-4.7.1-2] */
    ck_assert_int_eq(mqtls_codec_encode_subscribe(buf, sizeof buf, 1, s, 2),
                     MQTLS_ERR_BAD_TOPIC_FILTER);
    s[1].filter = STR("sport+"); /* [MQTT-4.7.1-3] */
    ck_assert_int_eq(mqtls_codec_encode_subscribe(buf, sizeof buf, 1, s, 2),
                     MQTLS_ERR_BAD_TOPIC_FILTER);
    ck_assert_int_eq(mqtls_codec_encode_unsubscribe(buf, sizeof buf, 1, f, 0),
                     MQTLS_ERR_NO_TOPIC_FILTERS); /* [MQTT-3.10.3-2] */
    ck_assert_int_eq(mqtls_codec_encode_unsubscribe(buf, sizeof buf, 0, f, 1),
                     MQTLS_ERR_PACKET_ID_ZERO);
    f[0] = STR("");
    ck_assert_int_eq(mqtls_codec_encode_unsubscribe(buf, sizeof buf, 1, f, 1),
                     MQTLS_ERR_BAD_TOPIC_FILTER);
    ck_assert_int_eq(mqtls_codec_encode_suback(buf, sizeof buf, 1, bad_codes, 2),
                     MQTLS_ERR_BAD_RETURN_CODE); /* [MQTT-3.9.3-2] */
    ck_assert_int_eq(mqtls_codec_encode_suback(buf, sizeof buf, 1, ok_codes, 0),
                     MQTLS_ERR_NO_TOPIC_FILTERS);
    ck_assert_int_eq(mqtls_codec_encode_suback(buf, sizeof buf, 0, ok_codes, 1),
                     MQTLS_ERR_PACKET_ID_ZERO);
    ck_assert_int_eq(mqtls_codec_encode_suback(buf, sizeof buf, 1, NULL, 1),
                     MQTLS_ERR_INVALID_ARG);
}
END_TEST

/* Every 1-byte corruption of every valid vector either decodes to a packet
 * that encodes back to exactly those bytes, or is refused: never a crash,
 * never a half-filled success. */
START_TEST(single_byte_corruptions_decode_consistently)
{
    const vector *v = &valid_vectors[_i];
    uint8_t copy[128], out[256];
    mqtls_packet pkt;
    size_t pos;
    unsigned value;

    for (pos = 0; pos < v->len; pos++) {
        for (value = 0; value < 256; value++) {
            int n, m;
            memcpy(copy, v->bytes, v->len);
            copy[pos] = (uint8_t)value;
            n = mqtls_codec_decode(at_page_end(copy, v->len), v->len, &pkt);
            if (n <= 0)
                continue;
            m = reencode(&pkt, out, sizeof out);
            ck_assert_msg(m > 0, "%s byte %zu = %u: decoded but encodes as %s", v->name, pos,
                          value, mqtls_errname(m));
            ck_assert_uint_eq((size_t)m - fixed_header_len(out), (size_t)n - fixed_header_len(copy));
            ck_assert_mem_eq(out + fixed_header_len(out), copy + fixed_header_len(copy),
                             (size_t)n - fixed_header_len(copy));
            ck_assert_uint_eq(out[0], copy[0]);
        }
    }
}
END_TEST

Suite *codec_suite(void)
{
    Suite *s = suite_create("codec");
    TCase *tc = tcase_create("encode");
    tcase_add_test(tc, encode_connect_minimal_exact);
    tcase_add_test(tc, encode_connect_full_exact);
    tcase_add_test(tc, encode_connect_empty_client_id_with_clean_session);
    tcase_add_test(tc, encode_connack_exact);
    tcase_add_test(tc, encode_publish_exact);
    tcase_add_test(tc, encode_id_only_packets_exact);
    tcase_add_test(tc, encode_subscribe_suback_unsubscribe_exact);
    tcase_add_test(tc, encode_empty_packets_exact);
    tcase_add_test(tc, encode_publish_refusals);
    tcase_add_test(tc, encode_publish_topic_of_65535_bytes_but_not_65536);
    tcase_add_test(tc, encode_connect_refusals);
    tcase_add_test(tc, encode_connect_present_but_empty_fields);
    tcase_add_test(tc, encode_connack_refusals);
    tcase_add_test(tc, encode_id_packets_refuse_id_zero);
    tcase_add_test(tc, encode_subscribe_refusals);
    suite_add_tcase(s, tc);

    tc = tcase_create("decode");
    tcase_add_test(tc, decode_connect_fields);
    tcase_add_test(tc, decode_connack_fields);
    tcase_add_test(tc, decode_publish_fields);
    tcase_add_test(tc, decode_subscribe_walks_filters);
    tcase_add_test(tc, next_filter_refuses_a_forged_list);
    tcase_add_test(tc, decode_suback_codes);
    tcase_add_loop_test(tc, valid_vectors_decode_and_reencode, 0, (int)valid_vector_count);
    tcase_add_loop_test(tc, malformed_vectors_are_rejected_with_their_reason, 0,
                        (int)malformed_vector_count);
    tcase_add_test(tc, decode_accepts_non_minimal_remaining_length);
    tcase_add_test(tc, decode_takes_one_packet_at_a_time);
    tcase_add_test(tc, packet_length_checks_the_first_byte_early);
    tcase_add_test(tc, decode_refuses_null_arguments);
    suite_add_tcase(s, tc);

    tc = tcase_create("guard_page");
    tcase_add_checked_fixture(tc, guard_setup, guard_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, every_prefix_of_a_valid_packet_needs_more_bytes, 0,
                        (int)valid_vector_count);
    tcase_add_loop_test(tc, malformed_packets_at_page_end_do_not_overread, 0,
                        (int)malformed_vector_count);
    tcase_add_test(tc, next_filter_at_page_end_does_not_overread);
    tcase_add_loop_test(tc, packet_length_at_remaining_length_boundaries, 0,
                        (int)(sizeof length_table / sizeof length_table[0]));
    tcase_add_test(tc, remaining_length_268435456_is_refused_both_ways);
    tcase_add_loop_test(tc, single_byte_corruptions_decode_consistently, 0,
                        (int)valid_vector_count);
    suite_add_tcase(s, tc);

    tc = tcase_create("large");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, encode_publish_at_remaining_length_boundaries, 0,
                        (int)(sizeof length_table / sizeof length_table[0]));
    suite_add_tcase(s, tc);
    return s;
}
