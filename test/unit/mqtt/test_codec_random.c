/* SPDX-License-Identifier: Apache-2.0 */
/* Round trips over many random valid packets of every type, from a fixed
 * seed: encode -> decode gives back every field, encode again gives the
 * same bytes, and every proper prefix asks for more bytes. */
#include <check.h>
#include <string.h>

#include "mqtt/codec.h"
#include "test/unit/suites.h"
#include "test/unit/testutil.h"
#include "test/unit/vectors.h"

#define ROUNDS 20000
#define SEED 0x6d71746c73ull /* "mqtls" */

static uint64_t rng_state;

static uint32_t rnd(uint32_t bound)
{
    return test_rand(&rng_state, bound);
}

/* Pieces that make up random strings: ASCII, multi-byte UTF-8, separators. */
static const char *const pieces[] = {"a", "Z", "0", "-", "_", " ", "$", "/", "\xC3\xA9",
                                     "\xE2\x82\xAC", "\xF0\x9D\x84\x9E", "\xEF\xBF\xBF"};
#define NPIECES (sizeof pieces / sizeof pieces[0])

/* A random string of at most max bytes built from pieces; with slash false
 * it has no '/'. Never holds '+', '#' or U+0000. */
static size_t random_text(char *out, size_t max, int min_pieces)
{
    size_t len = 0;
    int n = min_pieces + (int)rnd(12), i;
    for (i = 0; i < n; i++) {
        const char *p = pieces[rnd(NPIECES)];
        size_t pl = strlen(p);
        if (len + pl > max)
            break;
        memcpy(out + len, p, pl);
        len += pl;
    }
    if (len == 0 && min_pieces > 0)
        out[len++] = 'x';
    return len;
}

/* A valid filter: levels of text or '+', perhaps ending in '#'. */
static size_t random_filter(char *out, size_t max)
{
    size_t len = 0;
    int levels = 1 + (int)rnd(4), i;
    for (i = 0; i < levels && len + 20 < max; i++) {
        if (i > 0)
            out[len++] = '/';
        if (rnd(3) == 0)
            out[len++] = '+';
        else
            len += random_text(out + len, 16, 1);
    }
    if (rnd(3) == 0) {
        if (len > 0)
            out[len++] = '/';
        out[len++] = '#';
    }
    return len;
}

static void fill_bytes(uint8_t *out, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++)
        out[i] = (uint8_t)rnd(256);
}

static uint16_t random_id(void)
{
    return (uint16_t)(1 + rnd(65535));
}

/* Builds and encodes one random valid packet of the given type; returns its
 * length. The text lives in the caller's scratch buffer. */
static int random_packet(mqtls_packet_type type, uint8_t *buf, size_t cap, char *scratch,
                         mqtls_packet *want)
{
    char *s = scratch;
    mqtls_subscription subs[6];
    mqtls_str filters[6];
    uint8_t codes[6];
    size_t n, i;

    memset(want, 0, sizeof *want);
    want->type = type;
    switch (type) {
    case MQTLS_CONNECT: {
        mqtls_connect *c = &want->u.connect;
        c->clean_session = rnd(2);
        c->client_id.ptr = s;
        c->client_id.len = random_text(s, 23, c->clean_session ? 0 : 1);
        s += 64;
        c->keepalive_s = (uint16_t)rnd(65536);
        if (rnd(2)) {
            c->will_topic.ptr = s;
            c->will_topic.len = random_text(s, 60, 1);
            s += 64;
            fill_bytes((uint8_t *)s, 40);
            c->will_payload = (mqtls_bytes){(const uint8_t *)s, rnd(41)};
            s += 64;
            c->will_qos = (uint8_t)rnd(3);
            c->will_retain = rnd(2);
        }
        if (rnd(2)) {
            c->username.ptr = s;
            c->username.len = random_text(s, 60, 0);
            s += 64;
            if (rnd(2)) {
                fill_bytes((uint8_t *)s, 40);
                c->password = (mqtls_bytes){(const uint8_t *)s, rnd(41)};
            }
        }
        return mqtls_codec_encode_connect(buf, cap, c);
    }
    case MQTLS_CONNACK:
        want->u.connack.return_code = (uint8_t)rnd(6);
        want->u.connack.session_present = want->u.connack.return_code == 0 && rnd(2);
        return mqtls_codec_encode_connack(buf, cap, &want->u.connack);
    case MQTLS_PUBLISH: {
        mqtls_publish *p = &want->u.publish;
        p->topic.ptr = s;
        p->topic.len = random_text(s, 200, 1);
        s += 256;
        n = rnd(8) == 0 ? rnd(3000) : rnd(100);
        fill_bytes((uint8_t *)s, n);
        p->payload = (mqtls_bytes){(const uint8_t *)s, n};
        p->qos = (uint8_t)rnd(3);
        p->retain = rnd(2);
        p->dup = p->qos != 0 && rnd(2);
        p->packet_id = p->qos != 0 ? random_id() : 0;
        want->packet_id = p->packet_id;
        return mqtls_codec_encode_publish(buf, cap, p);
    }
    case MQTLS_PUBACK:
        return mqtls_codec_encode_puback(buf, cap, want->packet_id = random_id());
    case MQTLS_PUBREC:
        return mqtls_codec_encode_pubrec(buf, cap, want->packet_id = random_id());
    case MQTLS_PUBREL:
        return mqtls_codec_encode_pubrel(buf, cap, want->packet_id = random_id());
    case MQTLS_PUBCOMP:
        return mqtls_codec_encode_pubcomp(buf, cap, want->packet_id = random_id());
    case MQTLS_UNSUBACK:
        return mqtls_codec_encode_unsuback(buf, cap, want->packet_id = random_id());
    case MQTLS_SUBSCRIBE:
    case MQTLS_UNSUBSCRIBE:
        n = 1 + rnd(6);
        for (i = 0; i < n; i++) {
            subs[i].filter.ptr = s;
            subs[i].filter.len = random_filter(s, 120);
            subs[i].qos = (uint8_t)rnd(3);
            filters[i] = subs[i].filter;
            s += 128;
        }
        want->packet_id = random_id();
        want->u.filters.count = n;
        if (type == MQTLS_SUBSCRIBE)
            return mqtls_codec_encode_subscribe(buf, cap, want->packet_id, subs, n);
        return mqtls_codec_encode_unsubscribe(buf, cap, want->packet_id, filters, n);
    case MQTLS_SUBACK:
        n = 1 + rnd(6);
        for (i = 0; i < n; i++) {
            uint32_t r = rnd(4);
            codes[i] = r == 3 ? MQTLS_SUBACK_FAILURE : (uint8_t)r;
        }
        want->packet_id = random_id();
        want->u.return_codes.len = n;
        return mqtls_codec_encode_suback(buf, cap, want->packet_id, codes, n);
    case MQTLS_PINGREQ: return mqtls_codec_encode_pingreq(buf, cap);
    case MQTLS_PINGRESP: return mqtls_codec_encode_pingresp(buf, cap);
    case MQTLS_DISCONNECT: return mqtls_codec_encode_disconnect(buf, cap);
    default: return MQTLS_ERR_INVALID_ARG;
    }
}

static void assert_same_str(mqtls_str a, mqtls_str b)
{
    ck_assert((a.ptr == NULL) == (b.ptr == NULL));
    ck_assert_uint_eq(a.len, b.len);
    if (a.len != 0)
        ck_assert_mem_eq(a.ptr, b.ptr, a.len);
}

static void assert_same_bytes(mqtls_bytes a, mqtls_bytes b)
{
    ck_assert((a.ptr == NULL) == (b.ptr == NULL));
    ck_assert_uint_eq(a.len, b.len);
    if (a.len != 0)
        ck_assert_mem_eq(a.ptr, b.ptr, a.len);
}

static void assert_same_fields(const mqtls_packet *got, const mqtls_packet *want)
{
    ck_assert_int_eq(got->type, want->type);
    ck_assert_uint_eq(got->packet_id, want->packet_id);
    switch (want->type) {
    case MQTLS_CONNECT: {
        const mqtls_connect *g = &got->u.connect, *w = &want->u.connect;
        ck_assert_uint_eq(g->client_id.len, w->client_id.len);
        if (w->client_id.len != 0)
            ck_assert_mem_eq(g->client_id.ptr, w->client_id.ptr, w->client_id.len);
        assert_same_str(g->will_topic, w->will_topic);
        if (w->will_topic.ptr != NULL)
            assert_same_bytes(g->will_payload, w->will_payload);
        assert_same_str(g->username, w->username);
        assert_same_bytes(g->password, w->password);
        ck_assert_uint_eq(g->keepalive_s, w->keepalive_s);
        ck_assert_uint_eq(g->will_qos, w->will_qos);
        ck_assert(g->will_retain == w->will_retain);
        ck_assert(g->clean_session == w->clean_session);
        break;
    }
    case MQTLS_CONNACK:
        ck_assert(got->u.connack.session_present == want->u.connack.session_present);
        ck_assert_uint_eq(got->u.connack.return_code, want->u.connack.return_code);
        break;
    case MQTLS_PUBLISH: {
        const mqtls_publish *g = &got->u.publish, *w = &want->u.publish;
        assert_same_str(g->topic, w->topic);
        ck_assert_uint_eq(g->payload.len, w->payload.len);
        if (w->payload.len != 0)
            ck_assert_mem_eq(g->payload.ptr, w->payload.ptr, w->payload.len);
        ck_assert_uint_eq(g->qos, w->qos);
        ck_assert(g->retain == w->retain);
        ck_assert(g->dup == w->dup);
        ck_assert_uint_eq(g->packet_id, w->packet_id);
        break;
    }
    case MQTLS_SUBSCRIBE:
    case MQTLS_UNSUBSCRIBE:
        ck_assert_uint_eq(got->u.filters.count, want->u.filters.count);
        break;
    case MQTLS_SUBACK:
        ck_assert_uint_eq(got->u.return_codes.len, want->u.return_codes.len);
        break;
    default:
        break;
    }
}

START_TEST(random_valid_packets_round_trip)
{
    static uint8_t buf[8192], again[8192];
    static char scratch[4096];
    int round;

    rng_state = SEED;
    for (round = 0; round < ROUNDS; round++) {
        const mqtls_packet_type type = (mqtls_packet_type)(1 + round % 14);
        mqtls_packet want, got;
        int n, m;
        size_t cut;

        n = random_packet(type, buf, sizeof buf, scratch, &want);
        ck_assert_msg(n > 0, "round %d type %d: encode gave %s", round, type, mqtls_errname(n));
        ck_assert_int_eq(mqtls_codec_packet_length(buf, (size_t)n), n);
        ck_assert_int_eq(mqtls_codec_decode(buf, (size_t)n, &got), n);
        assert_same_fields(&got, &want);
        m = reencode(&got, again, sizeof again);
        ck_assert_int_eq(m, n);
        ck_assert_mem_eq(again, buf, (size_t)n);
        /* A few prefixes per packet: each must ask for more. */
        cut = rnd((uint32_t)n);
        ck_assert_int_eq(mqtls_codec_decode(buf, cut, &got), MQTLS_ERR_INCOMPLETE);
        ck_assert_int_eq(mqtls_codec_encode_pingreq(again, 2), 2);
    }
}
END_TEST

/* Random corruption of random valid packets: a success must re-encode to
 * the same body, anything else must be an error. */
START_TEST(random_corruptions_never_half_succeed)
{
    static uint8_t buf[8192], again[16384];
    static char scratch[4096];
    int round;

    rng_state = SEED ^ 0xABCDEFull;
    for (round = 0; round < ROUNDS; round++) {
        mqtls_packet want, got;
        int n = random_packet((mqtls_packet_type)(1 + round % 14), buf, sizeof buf, scratch,
                              &want);
        int flips = 1 + (int)rnd(3), i, d;
        ck_assert_int_gt(n, 0);
        for (i = 0; i < flips; i++)
            buf[rnd((uint32_t)n)] ^= (uint8_t)(1u << rnd(8));
        d = mqtls_codec_decode(buf, (size_t)n, &got);
        if (d > 0) {
            int m = reencode(&got, again, sizeof again);
            ck_assert_int_gt(m, 0);
            ck_assert_uint_eq((size_t)m - fixed_header_len(again),
                              (size_t)d - fixed_header_len(buf));
            ck_assert_mem_eq(again + fixed_header_len(again), buf + fixed_header_len(buf),
                             (size_t)d - fixed_header_len(buf));
        } else {
            ck_assert_int_lt(d, 0);
        }
    }
}
END_TEST

Suite *codec_random_suite(void)
{
    Suite *s = suite_create("codec_random");
    TCase *tc = tcase_create("round_trip");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, random_valid_packets_round_trip);
    tcase_add_test(tc, random_corruptions_never_half_succeed);
    suite_add_tcase(s, tc);
    return s;
}
