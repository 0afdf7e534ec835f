/* SPDX-License-Identifier: Apache-2.0 */
#include "mqtt/codec.h"

#include <string.h>

#include "mqtt/config.h"
#include "mqtt/scan.h"
#include "mqtt/topic.h"

/* Inline shortcuts for the common packet shapes; a size-first build drops
 * them (the general path handles the same cases). */
#define FAST_PATHS (!MQTLS_CONFIG_SMALL)

/* Packet types whose fixed-header flags must be 0b0010 [MQTT-3.6.1-1],
 * [MQTT-3.8.1-1], [MQTT-3.10.1-1]; all others but PUBLISH need 0b0000. */
#define TYPES_FLAGS_0010 \
    ((1u << MQTLS_PUBREL) | (1u << MQTLS_SUBSCRIBE) | (1u << MQTLS_UNSUBSCRIBE))

/* What each side may send. PUBLISH and its acknowledgements go both ways. */
#define TYPES_BOTH_WAYS                                                        \
    ((1u << MQTLS_PUBLISH) | (1u << MQTLS_PUBACK) | (1u << MQTLS_PUBREC) |     \
     (1u << MQTLS_PUBREL) | (1u << MQTLS_PUBCOMP))
#define TYPES_FROM_CLIENT                                                      \
    (TYPES_BOTH_WAYS | (1u << MQTLS_CONNECT) | (1u << MQTLS_SUBSCRIBE) |       \
     (1u << MQTLS_UNSUBSCRIBE) | (1u << MQTLS_PINGREQ) | (1u << MQTLS_DISCONNECT))

#define CONNECT_FLAG_CLEAN 0x02u
#define CONNECT_FLAG_WILL 0x04u
#define CONNECT_FLAG_WILL_RETAIN 0x20u
#define CONNECT_FLAG_PASSWORD 0x40u
#define CONNECT_FLAG_USERNAME 0x80u

/* The characters of a topic name whose length is already checked: the
 * common case (16..32 plain bytes on a host) inline, the rest through
 * mqtls_utf8_check(). [MQTT-1.5.3-1], [MQTT-3.3.2-2] */
static MQTLS_ALWAYS_INLINE int check_topic_chars(const uint8_t *s, size_t len)
{
#ifdef SCAN_BLOCK
    if (len >= SCAN_BLOCK && len <= 2 * SCAN_BLOCK && plain_short(s, len, 1))
        return MQTLS_OK;
#endif
    return mqtls_utf8_check(s, len, MQTLS_UTF8_NO_WILDCARDS);
}

/* ---- Encoding ---------------------------------------------------------- */

static uint8_t *put_u16(uint8_t *w, size_t v)
{
    w[0] = (uint8_t)(v >> 8);
    w[1] = (uint8_t)v;
    return w + 2;
}

/* A length-prefixed string or binary field. 16..32 bytes (a typical
 * topic) go as two overlapping fixed-size copies the compiler inlines, so
 * the hot encoder makes one library call, not two. */
static uint8_t *put_field(uint8_t *w, const void *data, size_t len)
{
    const uint8_t *src = data;

    w = put_u16(w, len);
    if (FAST_PATHS && len >= 16 && len <= 32) {
        memcpy(w, src, 16);
        memcpy(w + len - 16, src + len - 16, 16);
    } else if (len != 0) {
        memcpy(w, src, len);
    }
    return w + len;
}

/* What a length-prefixed field must hold. */
enum field_kind { FIELD_BINARY, FIELD_UTF8, FIELD_TOPIC_NAME, FIELD_TOPIC_FILTER };

/* Checks a field the caller wants encoded and adds its wire size to *rl.
 * Data needs a pointer unless empty, and every field fits a 16-bit length. */
static int measure_field(const void *ptr, size_t len, enum field_kind kind, size_t *rl)
{
    *rl += 2 + len;
    if (kind == FIELD_TOPIC_NAME)
        return mqtls_topic_validate_name(ptr, len);
    if (kind == FIELD_TOPIC_FILTER)
        return mqtls_topic_validate_filter(ptr, len);
    if (ptr == NULL && len != 0)
        return MQTLS_ERR_INVALID_ARG;
    if (len > MQTLS_MAX_FIELD_LEN)
        return MQTLS_ERR_FIELD_TOO_LONG;
    return kind == FIELD_UTF8 ? mqtls_utf8_check(ptr, len, 0) : MQTLS_OK;
}

/* Writes the fixed header of a packet whose body is rl bytes and returns
 * its length (2..5), or an error when the packet does not fit. The caller
 * then writes exactly rl bytes after it. */
static int put_fixed_header(uint8_t *buf, size_t cap, unsigned first, size_t rl)
{
    size_t hdr = 2, v;

    if (FAST_PATHS && rl < 128u) { /* most packets: one length byte */
        if (cap < rl + 2)
            return MQTLS_ERR_BUFFER_TOO_SMALL;
        if (buf == NULL)
            return MQTLS_ERR_INVALID_ARG;
        buf[0] = (uint8_t)first;
        buf[1] = (uint8_t)rl;
        return 2;
    }
    if (rl > MQTLS_MAX_REMAINING_LENGTH)
        return MQTLS_ERR_PACKET_TOO_LARGE;
    for (v = rl >> 7; v != 0; v >>= 7)
        hdr++;
    if (cap < hdr + rl)
        return MQTLS_ERR_BUFFER_TOO_SMALL;
    if (buf == NULL)
        return MQTLS_ERR_INVALID_ARG;
    *buf++ = (uint8_t)first;
    for (v = rl; v >= 0x80u; v >>= 7)
        *buf++ = (uint8_t)(v | 0x80u);
    *buf = (uint8_t)v;
    return (int)hdr;
}

int mqtls_codec_encode_connect(uint8_t *buf, size_t cap, const mqtls_connect *c)
{
    unsigned flags;
    size_t rl;
    uint8_t *w;
    int ret;

    if (c == NULL)
        return MQTLS_ERR_INVALID_ARG;
    flags = c->clean_session ? CONNECT_FLAG_CLEAN : 0;
    if (c->will_qos > 2)
        return MQTLS_ERR_BAD_QOS; /* [MQTT-3.1.2-14] */
    if (c->will_topic.ptr == NULL && (c->will_qos != 0 || c->will_retain))
        return MQTLS_ERR_BAD_CONNECT_FLAGS; /* [MQTT-3.1.2-11], [MQTT-3.1.2-15] */
    if (c->password.ptr != NULL && c->username.ptr == NULL)
        return MQTLS_ERR_BAD_CONNECT_FLAGS; /* [MQTT-3.1.2-22] */
    if (c->client_id.len == 0 && !c->clean_session)
        return MQTLS_ERR_BAD_CLIENT_ID; /* [MQTT-3.1.3-7] */
    rl = 10;
    ret = measure_field(c->client_id.ptr, c->client_id.len, FIELD_UTF8, &rl); /* [MQTT-3.1.3-4] */
    if (ret == MQTLS_OK && c->will_topic.ptr != NULL) {
        ret = measure_field(c->will_topic.ptr, c->will_topic.len, FIELD_TOPIC_NAME, &rl);
        if (ret == MQTLS_OK)
            ret = measure_field(c->will_payload.ptr, c->will_payload.len, FIELD_BINARY, &rl);
        flags |= CONNECT_FLAG_WILL | (unsigned)c->will_qos << 3 |
                 (c->will_retain ? CONNECT_FLAG_WILL_RETAIN : 0);
    }
    if (ret == MQTLS_OK && c->username.ptr != NULL) {
        ret = measure_field(c->username.ptr, c->username.len, FIELD_UTF8, &rl); /* [MQTT-3.1.3-11] */
        flags |= CONNECT_FLAG_USERNAME;
    }
    if (ret == MQTLS_OK && c->password.ptr != NULL) {
        ret = measure_field(c->password.ptr, c->password.len, FIELD_BINARY, &rl);
        flags |= CONNECT_FLAG_PASSWORD;
    }
    if (ret != MQTLS_OK)
        return ret;
    ret = put_fixed_header(buf, cap, MQTLS_CONNECT << 4, rl);
    if (ret < 0)
        return ret;
    w = put_field(buf + ret, "MQTT", 4); /* protocol name and level 4 [MQTT-3.1.2-1] */
    w[0] = 4;
    w[1] = (uint8_t)flags;
    w = put_u16(w + 2, c->keepalive_s);
    /* Payload order is fixed [MQTT-3.1.3-1]. */
    w = put_field(w, c->client_id.ptr, c->client_id.len);
    if (c->will_topic.ptr != NULL) {
        w = put_field(w, c->will_topic.ptr, c->will_topic.len);
        w = put_field(w, c->will_payload.ptr, c->will_payload.len);
    }
    if (c->username.ptr != NULL)
        w = put_field(w, c->username.ptr, c->username.len);
    if (c->password.ptr != NULL)
        put_field(w, c->password.ptr, c->password.len);
    return ret + (int)rl;
}

int mqtls_codec_encode_connack(uint8_t *buf, size_t cap, const mqtls_connack *c)
{
    int ret;

    if (c == NULL)
        return MQTLS_ERR_INVALID_ARG;
    if (c->return_code > MQTLS_CONNACK_NOT_AUTHORIZED)
        return MQTLS_ERR_BAD_RETURN_CODE;
    if (c->session_present && c->return_code != MQTLS_CONNACK_ACCEPTED)
        return MQTLS_ERR_BAD_CONNACK; /* [MQTT-3.2.2-4] */
    ret = put_fixed_header(buf, cap, MQTLS_CONNACK << 4, 2);
    if (ret < 0)
        return ret;
    buf[2] = c->session_present ? 1 : 0;
    buf[3] = c->return_code;
    return 4;
}

int mqtls_codec_encode_publish(uint8_t *buf, size_t cap, const mqtls_publish *p)
{
    size_t topic_len, payload_len, rl;
    unsigned qos, first;
    uint8_t *w;
    int ret;

    if (p == NULL)
        return MQTLS_ERR_INVALID_ARG;
    /* The topic first, while little else is live across the call. */
    topic_len = p->topic.len;
    if (!FAST_PATHS || topic_len == 0 || topic_len > MQTLS_MAX_FIELD_LEN || p->topic.ptr == NULL)
        ret = mqtls_topic_validate_name(p->topic.ptr, topic_len); /* [MQTT-3.3.2-2] */
    else
        ret = check_topic_chars((const uint8_t *)p->topic.ptr, topic_len);
    if (ret != MQTLS_OK)
        return ret;
    qos = p->qos;
    payload_len = p->payload.len;
    if (qos > 2)
        return MQTLS_ERR_BAD_QOS; /* [MQTT-3.3.1-4] */
    if (qos == 0 ? p->dup : p->packet_id == 0)
        return qos == 0 ? MQTLS_ERR_BAD_DUP /* [MQTT-3.3.1-2] */
                        : MQTLS_ERR_PACKET_ID_ZERO; /* [MQTT-2.3.1-1] */
    if (p->payload.ptr == NULL && payload_len != 0)
        return MQTLS_ERR_INVALID_ARG;
    rl = 2 + topic_len + (qos != 0 ? 2u : 0u);
    if (payload_len > MQTLS_MAX_REMAINING_LENGTH - rl)
        return MQTLS_ERR_PACKET_TOO_LARGE;
    rl += payload_len;
    first = MQTLS_PUBLISH << 4 | (p->dup ? 8u : 0u) | qos << 1 | (p->retain ? 1u : 0u);
    if (FAST_PATHS && rl < 128u && cap >= rl + 2 && buf != NULL) { /* common case */
        buf[0] = (uint8_t)first;
        buf[1] = (uint8_t)rl;
        ret = 2;
    } else {
        ret = put_fixed_header(buf, cap, first, rl);
        if (ret < 0)
            return ret;
    }
    w = put_field(buf + ret, p->topic.ptr, topic_len);
    if (qos != 0)
        w = put_u16(w, p->packet_id);
    if (payload_len != 0)
        memcpy(w, p->payload.ptr, payload_len);
    return ret + (int)rl;
}

/* PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK: a packet id and nothing else. */
static int encode_id_only(uint8_t *buf, size_t cap, unsigned first, uint16_t packet_id)
{
    int ret;

    if (packet_id == 0)
        return MQTLS_ERR_PACKET_ID_ZERO; /* [MQTT-2.3.1-1] */
    ret = put_fixed_header(buf, cap, first, 2);
    if (ret < 0)
        return ret;
    put_u16(buf + 2, packet_id);
    return 4;
}

int mqtls_codec_encode_puback(uint8_t *buf, size_t cap, uint16_t packet_id)
{
    return encode_id_only(buf, cap, MQTLS_PUBACK << 4, packet_id);
}

int mqtls_codec_encode_pubrec(uint8_t *buf, size_t cap, uint16_t packet_id)
{
    return encode_id_only(buf, cap, MQTLS_PUBREC << 4, packet_id);
}

int mqtls_codec_encode_pubrel(uint8_t *buf, size_t cap, uint16_t packet_id)
{
    return encode_id_only(buf, cap, MQTLS_PUBREL << 4 | 2u, packet_id);
}

int mqtls_codec_encode_pubcomp(uint8_t *buf, size_t cap, uint16_t packet_id)
{
    return encode_id_only(buf, cap, MQTLS_PUBCOMP << 4, packet_id);
}

int mqtls_codec_encode_unsuback(uint8_t *buf, size_t cap, uint16_t packet_id)
{
    return encode_id_only(buf, cap, MQTLS_UNSUBACK << 4, packet_id);
}

/* Entry i of an array whose elements begin with an mqtls_str (mqtls_str
 * itself, or mqtls_subscription), so SUBSCRIBE and UNSUBSCRIBE share one
 * encoder. */
static const mqtls_str *entry_at(const void *base, size_t stride, size_t i)
{
    return (const mqtls_str *)(const void *)((const char *)base + i * stride);
}

static int encode_filters(uint8_t *buf, size_t cap, unsigned first, uint16_t packet_id,
                          const void *entries, size_t stride, size_t count)
{
    const int has_qos = (first >> 4) == MQTLS_SUBSCRIBE;
    size_t rl = 2, i;
    uint8_t *w;
    int ret;

    if (packet_id == 0)
        return MQTLS_ERR_PACKET_ID_ZERO; /* [MQTT-2.3.1-1] */
    if (count == 0)
        return MQTLS_ERR_NO_TOPIC_FILTERS; /* [MQTT-3.8.3-3], [MQTT-3.10.3-2] */
    if (entries == NULL)
        return MQTLS_ERR_INVALID_ARG;
    for (i = 0; i < count; i++) {
        const mqtls_str *f = entry_at(entries, stride, i);
        ret = measure_field(f->ptr, f->len, FIELD_TOPIC_FILTER, &rl);
        if (ret != MQTLS_OK)
            return ret;
        if (has_qos && ((const mqtls_subscription *)f)->qos > 2)
            return MQTLS_ERR_BAD_QOS; /* [MQTT-3-8.3-4] */
        rl += (size_t)has_qos;
        if (rl > MQTLS_MAX_REMAINING_LENGTH)
            return MQTLS_ERR_PACKET_TOO_LARGE;
    }
    ret = put_fixed_header(buf, cap, first, rl);
    if (ret < 0)
        return ret;
    w = put_u16(buf + ret, packet_id);
    for (i = 0; i < count; i++) {
        const mqtls_str *f = entry_at(entries, stride, i);
        w = put_field(w, f->ptr, f->len);
        if (has_qos)
            *w++ = ((const mqtls_subscription *)f)->qos;
    }
    return ret + (int)rl;
}

int mqtls_codec_encode_subscribe(uint8_t *buf, size_t cap, uint16_t packet_id,
                                 const mqtls_subscription *subs, size_t count)
{
    return encode_filters(buf, cap, MQTLS_SUBSCRIBE << 4 | 2u, packet_id, subs,
                          sizeof *subs, count);
}

int mqtls_codec_encode_unsubscribe(uint8_t *buf, size_t cap, uint16_t packet_id,
                                   const mqtls_str *filters, size_t count)
{
    return encode_filters(buf, cap, MQTLS_UNSUBSCRIBE << 4 | 2u, packet_id, filters,
                          sizeof *filters, count);
}

static int valid_suback_code(uint8_t code)
{
    return code <= 2 || code == MQTLS_SUBACK_FAILURE; /* [MQTT-3.9.3-2] */
}

int mqtls_codec_encode_suback(uint8_t *buf, size_t cap, uint16_t packet_id,
                              const uint8_t *codes, size_t count)
{
    size_t i;
    int ret;

    if (packet_id == 0)
        return MQTLS_ERR_PACKET_ID_ZERO;
    if (count == 0)
        return MQTLS_ERR_NO_TOPIC_FILTERS;
    if (codes == NULL)
        return MQTLS_ERR_INVALID_ARG;
    for (i = 0; i < count; i++)
        if (!valid_suback_code(codes[i]))
            return MQTLS_ERR_BAD_RETURN_CODE;
    if (count > MQTLS_MAX_REMAINING_LENGTH - 2)
        return MQTLS_ERR_PACKET_TOO_LARGE;
    ret = put_fixed_header(buf, cap, MQTLS_SUBACK << 4, 2 + count);
    if (ret < 0)
        return ret;
    memcpy(put_u16(buf + ret, packet_id), codes, count);
    return ret + 2 + (int)count;
}

int mqtls_codec_encode_pingreq(uint8_t *buf, size_t cap)
{
    return put_fixed_header(buf, cap, MQTLS_PINGREQ << 4, 0);
}

int mqtls_codec_encode_pingresp(uint8_t *buf, size_t cap)
{
    return put_fixed_header(buf, cap, MQTLS_PINGRESP << 4, 0);
}

int mqtls_codec_encode_disconnect(uint8_t *buf, size_t cap)
{
    return put_fixed_header(buf, cap, MQTLS_DISCONNECT << 4, 0);
}

/* ---- Decoding ----------------------------------------------------------
 * Each body decoder gets the body (p, rl bytes) and must account for every
 * byte of it: a shorter body is MQTLS_ERR_TRUNCATED, a longer one
 * MQTLS_ERR_TRAILING_BYTES. The reader lives in the decoder's own frame so
 * the compiler keeps it in registers. */

/* The unread part of one packet's body. p never passes end. */
typedef struct reader {
    const uint8_t *p;
    const uint8_t *end;
} reader;

static size_t left(const reader *r)
{
    return (size_t)(r->end - r->p);
}

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* For packets whose body has a fixed size. */
static int expect_len(size_t rl, size_t n)
{
    if (rl < n)
        return MQTLS_ERR_TRUNCATED;
    return rl > n ? MQTLS_ERR_TRAILING_BYTES : MQTLS_OK;
}

static int read_packet_id(reader *r, uint16_t *id)
{
    if (left(r) < 2)
        return MQTLS_ERR_TRUNCATED;
    *id = get_u16(r->p);
    r->p += 2;
    return *id == 0 ? MQTLS_ERR_PACKET_ID_ZERO : MQTLS_OK; /* [MQTT-2.3.1-1] */
}

static int read_field(reader *r, const uint8_t **ptr, size_t *len)
{
    size_t n;
    if (left(r) < 2)
        return MQTLS_ERR_TRUNCATED;
    n = get_u16(r->p);
    if (left(r) - 2 < n)
        return MQTLS_ERR_TRUNCATED;
    *ptr = r->p + 2;
    *len = n;
    r->p += 2 + n;
    return MQTLS_OK;
}

static int read_bytes(reader *r, mqtls_bytes *b)
{
    return read_field(r, &b->ptr, &b->len);
}

static int read_str(reader *r, mqtls_str *s, unsigned utf8_flags)
{
    const uint8_t *p;
    int ret = read_field(r, &p, &s->len);
    if (ret != MQTLS_OK)
        return ret;
    s->ptr = (const char *)p;
    return mqtls_utf8_check(p, s->len, utf8_flags); /* [MQTT-1.5.3-1] */
}

static int decode_connect(const uint8_t *p, size_t rl, mqtls_connect *c)
{
    reader r = {p, p + rl};
    mqtls_str protocol;
    unsigned flags;
    int ret;

    memset(c, 0, sizeof *c);
    ret = read_str(&r, &protocol, 0);
    if (ret != MQTLS_OK)
        return ret;
    if (protocol.len != 4 || memcmp(protocol.ptr, "MQTT", 4) != 0)
        return MQTLS_ERR_BAD_PROTOCOL_NAME; /* [MQTT-3.1.2-1] */
    if (left(&r) < 4)
        return MQTLS_ERR_TRUNCATED;
    if (r.p[0] != 4)
        return MQTLS_ERR_BAD_PROTOCOL_LEVEL; /* [MQTT-3.1.2-2] */
    flags = r.p[1];
    c->keepalive_s = get_u16(r.p + 2);
    r.p += 4;
    if (flags & 1u)
        return MQTLS_ERR_BAD_CONNECT_FLAGS; /* [MQTT-3.1.2-3] */
    c->clean_session = (flags & CONNECT_FLAG_CLEAN) != 0;
    c->will_qos = (uint8_t)(flags >> 3 & 3u);
    c->will_retain = (flags & CONNECT_FLAG_WILL_RETAIN) != 0;
    if (c->will_qos == 3)
        return MQTLS_ERR_BAD_QOS; /* [MQTT-3.1.2-14] */
    if (!(flags & CONNECT_FLAG_WILL) && (c->will_qos != 0 || c->will_retain))
        return MQTLS_ERR_BAD_CONNECT_FLAGS; /* [MQTT-3.1.2-11], [MQTT-3.1.2-15] */
    if ((flags & CONNECT_FLAG_PASSWORD) && !(flags & CONNECT_FLAG_USERNAME))
        return MQTLS_ERR_BAD_CONNECT_FLAGS; /* [MQTT-3.1.2-22] */
    ret = read_str(&r, &c->client_id, 0); /* [MQTT-3.1.3-4] */
    if (ret == MQTLS_OK && c->client_id.len == 0 && !c->clean_session)
        ret = MQTLS_ERR_BAD_CLIENT_ID; /* [MQTT-3.1.3-8]: answer CONNACK 0x02 */
    if (ret == MQTLS_OK && (flags & CONNECT_FLAG_WILL)) {
        ret = read_str(&r, &c->will_topic, MQTLS_UTF8_NO_WILDCARDS); /* [MQTT-3.1.3-10] */
        if (ret == MQTLS_OK && c->will_topic.len == 0)
            ret = MQTLS_ERR_BAD_TOPIC_NAME; /* [MQTT-4.7.3-1] */
        if (ret == MQTLS_OK)
            ret = read_bytes(&r, &c->will_payload);
    }
    if (ret == MQTLS_OK && (flags & CONNECT_FLAG_USERNAME))
        ret = read_str(&r, &c->username, 0); /* [MQTT-3.1.3-11] */
    if (ret == MQTLS_OK && (flags & CONNECT_FLAG_PASSWORD))
        ret = read_bytes(&r, &c->password);
    if (ret == MQTLS_OK && r.p != r.end)
        ret = MQTLS_ERR_TRAILING_BYTES;
    return ret;
}

static int decode_connack(const uint8_t *p, size_t rl, mqtls_connack *c)
{
    int ret = expect_len(rl, 2);

    if (ret != MQTLS_OK)
        return ret;
    c->session_present = (p[0] & 1u) != 0;
    c->return_code = p[1];
    if (p[0] & 0xFEu)
        return MQTLS_ERR_BAD_CONNACK; /* bits 7-1 are reserved (3.2.2.1) */
    if (c->return_code > MQTLS_CONNACK_NOT_AUTHORIZED)
        return MQTLS_ERR_BAD_RETURN_CODE; /* 6-255 are reserved (3.2.2.3) */
    if (c->session_present && c->return_code != MQTLS_CONNACK_ACCEPTED)
        return MQTLS_ERR_BAD_CONNACK; /* [MQTT-3.2.2-4] */
    return MQTLS_OK;
}

/* The hot path of every device: straight-line, no reader, and the topic
 * check last so it is a tail call with nothing to keep alive across it. */
static MQTLS_ALWAYS_INLINE int decode_publish(const uint8_t *p, size_t rl, mqtls_packet *out)
{
    mqtls_publish *pub = &out->u.publish;
    const unsigned qos = out->flags >> 1 & 3u;
    size_t topic_len, head;

    if (rl < 2)
        return MQTLS_ERR_TRUNCATED;
    topic_len = get_u16(p);
    head = 2 + topic_len + (qos != 0 ? 2u : 0u);
    if (rl < head)
        return MQTLS_ERR_TRUNCATED;
    if (topic_len == 0)
        return MQTLS_ERR_BAD_TOPIC_NAME; /* [MQTT-4.7.3-1] */
    pub->topic.ptr = (const char *)p + 2;
    pub->topic.len = topic_len;
    pub->payload.ptr = p + head;
    pub->payload.len = rl - head;
    pub->qos = (uint8_t)qos;
    pub->dup = (out->flags & 8u) != 0;
    pub->retain = (out->flags & 1u) != 0;
    pub->packet_id = qos != 0 ? get_u16(p + head - 2) : 0;
    out->packet_id = pub->packet_id;
    if (qos != 0 && pub->packet_id == 0)
        return MQTLS_ERR_PACKET_ID_ZERO; /* [MQTT-2.3.1-1] */
    return check_topic_chars(p + 2, topic_len);
}

static int decode_id_only(const uint8_t *p, size_t rl, mqtls_packet *out)
{
    int ret = expect_len(rl, 2);
    if (ret != MQTLS_OK)
        return ret;
    out->packet_id = get_u16(p);
    return out->packet_id == 0 ? MQTLS_ERR_PACKET_ID_ZERO : MQTLS_OK; /* [MQTT-2.3.1-1] */
}

static int decode_filters(const uint8_t *p, size_t rl, mqtls_packet *out)
{
    reader r = {p, p + rl};
    mqtls_filter_list *list = &out->u.filters;
    int ret = read_packet_id(&r, &out->packet_id);

    list->ptr = r.p;
    list->len = left(&r);
    list->count = 0;
    list->has_qos = out->type == MQTLS_SUBSCRIBE;
    while (ret == MQTLS_OK && r.p != r.end) {
        const uint8_t *f;
        size_t len;
        ret = read_field(&r, &f, &len);
        if (ret == MQTLS_OK) /* [MQTT-3.8.3-1], [MQTT-3.10.3-1] */
            ret = mqtls_topic_validate_filter((const char *)f, len);
        if (ret == MQTLS_OK && list->has_qos) {
            if (r.p == r.end)
                ret = MQTLS_ERR_TRUNCATED;
            else if (*r.p++ > 2)
                ret = MQTLS_ERR_BAD_QOS; /* [MQTT-3-8.3-4] */
        }
        list->count++;
    }
    if (ret == MQTLS_OK && list->count == 0)
        return MQTLS_ERR_NO_TOPIC_FILTERS; /* [MQTT-3.8.3-3], [MQTT-3.10.3-2] */
    return ret;
}

static int decode_suback(const uint8_t *p, size_t rl, mqtls_packet *out)
{
    size_t i;

    if (rl < 2)
        return MQTLS_ERR_TRUNCATED;
    out->packet_id = get_u16(p);
    if (out->packet_id == 0)
        return MQTLS_ERR_PACKET_ID_ZERO; /* [MQTT-2.3.1-1] */
    out->u.return_codes.ptr = p + 2;
    out->u.return_codes.len = rl - 2;
    if (rl == 2)
        return MQTLS_ERR_NO_TOPIC_FILTERS; /* one code per filter, and >= 1 filter */
    for (i = 2; i < rl; i++)
        if (!valid_suback_code(p[i]))
            return MQTLS_ERR_BAD_RETURN_CODE; /* [MQTT-3.9.3-2] */
    return MQTLS_OK;
}

static int decode_from_server_body(const uint8_t *p, size_t rl, mqtls_packet *out)
{
    if (out->type == MQTLS_PUBLISH) /* the common case, before the table jump */
        return decode_publish(p, rl, out);
    switch (out->type) {
    case MQTLS_CONNACK: return decode_connack(p, rl, &out->u.connack);
    case MQTLS_PUBACK:
    case MQTLS_PUBREC:
    case MQTLS_PUBREL:
    case MQTLS_PUBCOMP:
    case MQTLS_UNSUBACK: return decode_id_only(p, rl, out);
    case MQTLS_SUBACK: return decode_suback(p, rl, out);
    case MQTLS_PINGRESP: return expect_len(rl, 0);
    default: return MQTLS_ERR_UNEXPECTED_PACKET;
    }
}

static int decode_from_client_body(const uint8_t *p, size_t rl, mqtls_packet *out)
{
    if (out->type == MQTLS_PUBLISH)
        return decode_publish(p, rl, out);
    switch (out->type) {
    case MQTLS_CONNECT: return decode_connect(p, rl, &out->u.connect);
    case MQTLS_PUBACK:
    case MQTLS_PUBREC:
    case MQTLS_PUBREL:
    case MQTLS_PUBCOMP: return decode_id_only(p, rl, out);
    case MQTLS_SUBSCRIBE:
    case MQTLS_UNSUBSCRIBE: return decode_filters(p, rl, out);
    case MQTLS_PINGREQ:
    case MQTLS_DISCONNECT: return expect_len(rl, 0); /* [MQTT-3.14.1-1] */
    default: return MQTLS_ERR_UNEXPECTED_PACKET;
    }
}

/* Checks the first byte: the type is not reserved and the flags are those
 * the type requires [MQTT-2.2.2-1], [MQTT-2.2.2-2]. */
static inline int check_first_byte(unsigned first)
{
    const unsigned type = first >> 4, flags = first & 0x0Fu;

    if (type == MQTLS_PUBLISH) {
        if ((flags & 6u) == 6u)
            return MQTLS_ERR_BAD_QOS; /* [MQTT-3.3.1-4] */
        return (flags & 0x0Eu) == 8u ? MQTLS_ERR_BAD_DUP : MQTLS_OK; /* [MQTT-3.3.1-2] */
    }
    if (type == 0 || type == 15)
        return MQTLS_ERR_BAD_PACKET_TYPE;
    if (flags != ((TYPES_FLAGS_0010 >> type) & 1u) << 1)
        return MQTLS_ERR_BAD_FLAGS;
    return MQTLS_OK;
}

/* Parses the fixed header: returns its size (2..5) and sets *rl, or an
 * error. The remaining length takes at most four bytes (2.2.3). */
static int parse_fixed_header(const uint8_t *buf, size_t len, size_t *rl)
{
    size_t value = 0, i;
    int ret;

    if (len == 0)
        return MQTLS_ERR_INCOMPLETE;
    ret = check_first_byte(buf[0]);
    if (ret != MQTLS_OK)
        return ret;
    for (i = 1; i <= 4; i++) {
        if (i >= len)
            return MQTLS_ERR_INCOMPLETE;
        value |= (size_t)(buf[i] & 0x7Fu) << (7 * (i - 1));
        if (!(buf[i] & 0x80u)) {
            *rl = value;
            return (int)i + 1;
        }
    }
    return MQTLS_ERR_MALFORMED_LENGTH;
}

int mqtls_codec_packet_length(const uint8_t *buf, size_t len)
{
    size_t rl; /* set by parse_fixed_header() whenever it succeeds */
    int hdr;

    if (buf == NULL && len != 0)
        return MQTLS_ERR_INVALID_ARG;
    hdr = parse_fixed_header(buf, len, &rl);
    return hdr < 0 ? hdr : hdr + (int)rl;
}

/* Parses and checks the fixed header of a whole packet into out and
 * returns the header's size, or an error (MQTLS_ERR_INCOMPLETE while the
 * body is still short). */
static MQTLS_ALWAYS_INLINE int frame(const uint8_t *buf, size_t len, mqtls_packet *out)
{
    size_t rl;
    unsigned first;
    int hdr;

    if (out == NULL || (buf == NULL && len != 0))
        return MQTLS_ERR_INVALID_ARG;
    if (FAST_PATHS && len >= 2 && buf[1] < 0x80u) { /* one length byte: most packets */
        first = buf[0];
        hdr = check_first_byte(first);
        if (hdr != MQTLS_OK)
            return hdr;
        hdr = 2;
        rl = buf[1];
    } else {
        size_t longer; /* set whenever the parse succeeds */
        hdr = parse_fixed_header(buf, len, &longer);
        if (hdr < 0)
            return hdr;
        first = buf[0];
        rl = longer;
    }
    if (len - (size_t)hdr < rl)
        return MQTLS_ERR_INCOMPLETE;
    out->type = (mqtls_packet_type)(first >> 4);
    out->flags = (uint8_t)(first & 0x0Fu);
    out->packet_id = 0;
    out->length = (size_t)hdr + rl;
    return hdr;
}

/* One decoder for both directions. Inlined with a constant from_client, so
 * each public entry point reaches only its own side's body decoders and a
 * device links only those. */
static MQTLS_ALWAYS_INLINE int decode_as(const uint8_t *buf, size_t len, mqtls_packet *out,
                                         int from_client)
{
    int hdr = frame(buf, len, out), ret;

    if (hdr < 0)
        return hdr;
    ret = from_client ? decode_from_client_body(buf + hdr, out->length - (size_t)hdr, out)
                      : decode_from_server_body(buf + hdr, out->length - (size_t)hdr, out);
    return ret != MQTLS_OK ? ret : (int)out->length;
}

int mqtls_codec_decode_from_server(const uint8_t *buf, size_t len, mqtls_packet *out)
{
    return decode_as(buf, len, out, 0);
}

int mqtls_codec_decode_from_client(const uint8_t *buf, size_t len, mqtls_packet *out)
{
    return decode_as(buf, len, out, 1);
}

int mqtls_codec_decode(const uint8_t *buf, size_t len, mqtls_packet *out)
{
    const unsigned client_only = TYPES_FROM_CLIENT & ~TYPES_BOTH_WAYS;

    if (buf != NULL && len != 0 && (client_only >> (buf[0] >> 4) & 1u))
        return mqtls_codec_decode_from_client(buf, len, out);
    return mqtls_codec_decode_from_server(buf, len, out);
}

int mqtls_codec_next_filter(mqtls_filter_list *list, mqtls_subscription *out)
{
    reader r;
    const uint8_t *f;
    int ret;

    if (list == NULL || out == NULL || (list->ptr == NULL && list->len != 0))
        return MQTLS_ERR_INVALID_ARG;
    if (list->len == 0)
        return 0;
    r.p = list->ptr;
    r.end = list->ptr + list->len;
    ret = read_field(&r, &f, &out->filter.len);
    if (ret != MQTLS_OK)
        return ret;
    out->filter.ptr = (const char *)f;
    out->qos = 0;
    if (list->has_qos) {
        if (left(&r) == 0)
            return MQTLS_ERR_TRUNCATED;
        out->qos = *r.p++;
    }
    list->ptr = r.p;
    list->len = left(&r);
    return 1;
}
