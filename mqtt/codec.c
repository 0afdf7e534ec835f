#include "mqtt/codec.h"

#include <string.h>

#include "mqtt/topic.h"

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

/* ---- Encoding ---------------------------------------------------------- */

static uint8_t *put_u16(uint8_t *w, size_t v)
{
    w[0] = (uint8_t)(v >> 8);
    w[1] = (uint8_t)v;
    return w + 2;
}

/* A length-prefixed string or binary field. */
static uint8_t *put_field(uint8_t *w, const void *data, size_t len)
{
    w = put_u16(w, len);
    if (len != 0)
        memcpy(w, data, len);
    return w + len;
}

/* A caller's optional field: present data needs a pointer, and every field
 * fits a 16-bit length. */
static int check_field(const void *ptr, size_t len)
{
    if (ptr == NULL && len != 0)
        return MQTLS_ERR_INVALID_ARG;
    return len > MQTLS_MAX_FIELD_LEN ? MQTLS_ERR_FIELD_TOO_LONG : MQTLS_OK;
}

/* Writes the fixed header of a packet whose body is rl bytes and points
 * *body just past it. Returns the whole packet's length or an error; the
 * caller then writes exactly rl bytes at *body. */
static int start_packet(uint8_t *buf, size_t cap, unsigned first, size_t rl,
                        uint8_t **body)
{
    size_t total = rl + (rl < 128u ? 2u : rl < 16384u ? 3u : rl < 2097152u ? 4u : 5u);

    if (rl > MQTLS_MAX_REMAINING_LENGTH)
        return MQTLS_ERR_PACKET_TOO_LARGE;
    if (cap < total)
        return MQTLS_ERR_BUFFER_TOO_SMALL;
    if (buf == NULL)
        return MQTLS_ERR_INVALID_ARG;
    *buf++ = (uint8_t)first;
    do {
        uint8_t b = (uint8_t)(rl & 0x7Fu);
        rl >>= 7;
        *buf++ = rl != 0 ? (uint8_t)(b | 0x80u) : b;
    } while (rl != 0);
    *body = buf;
    return (int)total;
}

int mqtls_codec_encode_connect(uint8_t *buf, size_t cap, const mqtls_connect *c)
{
    static const uint8_t protocol[7] = {0, 4, 'M', 'Q', 'T', 'T', 4};
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
    ret = mqtls_utf8_validate(c->client_id.ptr, c->client_id.len); /* [MQTT-3.1.3-4] */
    if (ret != MQTLS_OK)
        return ret;
    if (c->client_id.len == 0 && !c->clean_session)
        return MQTLS_ERR_BAD_CLIENT_ID; /* [MQTT-3.1.3-7] */
    rl = 10 + 2 + c->client_id.len;
    if (c->will_topic.ptr != NULL) {
        ret = mqtls_topic_validate_name(c->will_topic.ptr, c->will_topic.len);
        if (ret == MQTLS_OK)
            ret = check_field(c->will_payload.ptr, c->will_payload.len);
        if (ret != MQTLS_OK)
            return ret;
        rl += 4 + c->will_topic.len + c->will_payload.len;
        flags |= CONNECT_FLAG_WILL | (unsigned)c->will_qos << 3 |
                 (c->will_retain ? CONNECT_FLAG_WILL_RETAIN : 0);
    }
    if (c->username.ptr != NULL) {
        ret = mqtls_utf8_validate(c->username.ptr, c->username.len); /* [MQTT-3.1.3-11] */
        if (ret != MQTLS_OK)
            return ret;
        rl += 2 + c->username.len;
        flags |= CONNECT_FLAG_USERNAME;
    }
    if (c->password.ptr != NULL) {
        ret = check_field(c->password.ptr, c->password.len);
        if (ret != MQTLS_OK)
            return ret;
        rl += 2 + c->password.len;
        flags |= CONNECT_FLAG_PASSWORD;
    }
    ret = start_packet(buf, cap, MQTLS_CONNECT << 4, rl, &w);
    if (ret < 0)
        return ret;
    memcpy(w, protocol, sizeof protocol);
    w[7] = (uint8_t)flags;
    w = put_u16(w + 8, c->keepalive_s);
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
    return ret;
}

int mqtls_codec_encode_connack(uint8_t *buf, size_t cap, const mqtls_connack *c)
{
    uint8_t *w;
    int ret;

    if (c == NULL)
        return MQTLS_ERR_INVALID_ARG;
    if (c->return_code > MQTLS_CONNACK_NOT_AUTHORIZED)
        return MQTLS_ERR_BAD_RETURN_CODE;
    if (c->session_present && c->return_code != MQTLS_CONNACK_ACCEPTED)
        return MQTLS_ERR_BAD_CONNACK; /* [MQTT-3.2.2-4] */
    ret = start_packet(buf, cap, MQTLS_CONNACK << 4, 2, &w);
    if (ret < 0)
        return ret;
    w[0] = c->session_present ? 1 : 0;
    w[1] = c->return_code;
    return ret;
}

int mqtls_codec_encode_publish(uint8_t *buf, size_t cap, const mqtls_publish *p)
{
    size_t rl;
    uint8_t *w;
    int ret;

    if (p == NULL)
        return MQTLS_ERR_INVALID_ARG;
    if (p->qos > 2)
        return MQTLS_ERR_BAD_QOS; /* [MQTT-3.3.1-4] */
    if (p->dup && p->qos == 0)
        return MQTLS_ERR_BAD_DUP; /* [MQTT-3.3.1-2] */
    if (p->qos != 0 && p->packet_id == 0)
        return MQTLS_ERR_PACKET_ID_ZERO; /* [MQTT-2.3.1-1] */
    if (p->payload.ptr == NULL && p->payload.len != 0)
        return MQTLS_ERR_INVALID_ARG;
    ret = mqtls_topic_validate_name(p->topic.ptr, p->topic.len); /* [MQTT-3.3.2-2] */
    if (ret != MQTLS_OK)
        return ret;
    rl = 2 + p->topic.len + (p->qos != 0 ? 2u : 0u);
    if (p->payload.len > MQTLS_MAX_REMAINING_LENGTH - rl)
        return MQTLS_ERR_PACKET_TOO_LARGE;
    rl += p->payload.len;
    ret = start_packet(buf, cap,
                       MQTLS_PUBLISH << 4 | (p->dup ? 8u : 0u) |
                           (unsigned)p->qos << 1 | (p->retain ? 1u : 0u),
                       rl, &w);
    if (ret < 0)
        return ret;
    w = put_field(w, p->topic.ptr, p->topic.len);
    if (p->qos != 0)
        w = put_u16(w, p->packet_id);
    if (p->payload.len != 0)
        memcpy(w, p->payload.ptr, p->payload.len);
    return ret;
}

/* PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK: a packet id and nothing else. */
static int encode_id_only(uint8_t *buf, size_t cap, unsigned first, uint16_t packet_id)
{
    uint8_t *w;
    int ret;

    if (packet_id == 0)
        return MQTLS_ERR_PACKET_ID_ZERO; /* [MQTT-2.3.1-1] */
    ret = start_packet(buf, cap, first, 2, &w);
    if (ret < 0)
        return ret;
    put_u16(w, packet_id);
    return ret;
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
        ret = mqtls_topic_validate_filter(f->ptr, f->len);
        if (ret != MQTLS_OK)
            return ret;
        if (has_qos && ((const mqtls_subscription *)f)->qos > 2)
            return MQTLS_ERR_BAD_QOS; /* [MQTT-3-8.3-4] */
        rl += 2 + f->len + (size_t)has_qos;
        if (rl > MQTLS_MAX_REMAINING_LENGTH)
            return MQTLS_ERR_PACKET_TOO_LARGE;
    }
    ret = start_packet(buf, cap, first, rl, &w);
    if (ret < 0)
        return ret;
    w = put_u16(w, packet_id);
    for (i = 0; i < count; i++) {
        const mqtls_str *f = entry_at(entries, stride, i);
        w = put_field(w, f->ptr, f->len);
        if (has_qos)
            *w++ = ((const mqtls_subscription *)f)->qos;
    }
    return ret;
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
    uint8_t *w;
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
    ret = start_packet(buf, cap, MQTLS_SUBACK << 4, 2 + count, &w);
    if (ret < 0)
        return ret;
    memcpy(put_u16(w, packet_id), codes, count);
    return ret;
}

int mqtls_codec_encode_pingreq(uint8_t *buf, size_t cap)
{
    uint8_t *w;
    return start_packet(buf, cap, MQTLS_PINGREQ << 4, 0, &w);
}

int mqtls_codec_encode_pingresp(uint8_t *buf, size_t cap)
{
    uint8_t *w;
    return start_packet(buf, cap, MQTLS_PINGRESP << 4, 0, &w);
}

int mqtls_codec_encode_disconnect(uint8_t *buf, size_t cap)
{
    uint8_t *w;
    return start_packet(buf, cap, MQTLS_DISCONNECT << 4, 0, &w);
}

/* ---- Decoding ---------------------------------------------------------- */

/* The unread part of one packet's body. p never passes end. */
typedef struct reader {
    const uint8_t *p;
    const uint8_t *end;
} reader;

static size_t left(const reader *r)
{
    return (size_t)(r->end - r->p);
}

/* For packets whose body has a fixed size. */
static int expect_left(const reader *r, size_t n)
{
    if (left(r) < n)
        return MQTLS_ERR_TRUNCATED;
    return left(r) > n ? MQTLS_ERR_TRAILING_BYTES : MQTLS_OK;
}

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static int read_u16(reader *r, uint16_t *v)
{
    if (left(r) < 2)
        return MQTLS_ERR_TRUNCATED;
    *v = get_u16(r->p);
    r->p += 2;
    return MQTLS_OK;
}

static int read_packet_id(reader *r, uint16_t *id)
{
    int ret = read_u16(r, id);
    if (ret == MQTLS_OK && *id == 0)
        return MQTLS_ERR_PACKET_ID_ZERO; /* [MQTT-2.3.1-1] */
    return ret;
}

static int read_field(reader *r, const uint8_t **ptr, size_t *len)
{
    uint16_t n;
    int ret = read_u16(r, &n);
    if (ret != MQTLS_OK)
        return ret;
    if (left(r) < n)
        return MQTLS_ERR_TRUNCATED;
    *ptr = r->p;
    *len = n;
    r->p += n;
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

static int read_topic_name(reader *r, mqtls_str *s)
{
    int ret = read_str(r, s, MQTLS_UTF8_NO_WILDCARDS); /* [MQTT-3.3.2-2] */
    if (ret == MQTLS_OK && s->len == 0)
        return MQTLS_ERR_BAD_TOPIC_NAME; /* [MQTT-4.7.3-1] */
    return ret;
}

static int decode_connect(reader *r, mqtls_connect *c)
{
    mqtls_str protocol;
    unsigned flags;
    int ret;

    memset(c, 0, sizeof *c);
    ret = read_str(r, &protocol, 0);
    if (ret != MQTLS_OK)
        return ret;
    if (protocol.len != 4 || memcmp(protocol.ptr, "MQTT", 4) != 0)
        return MQTLS_ERR_BAD_PROTOCOL_NAME; /* [MQTT-3.1.2-1] */
    if (left(r) < 4)
        return MQTLS_ERR_TRUNCATED;
    if (r->p[0] != 4)
        return MQTLS_ERR_BAD_PROTOCOL_LEVEL; /* [MQTT-3.1.2-2] */
    flags = r->p[1];
    c->keepalive_s = get_u16(r->p + 2);
    r->p += 4;
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
    ret = read_str(r, &c->client_id, 0); /* [MQTT-3.1.3-4] */
    if (ret != MQTLS_OK)
        return ret;
    if (c->client_id.len == 0 && !c->clean_session)
        return MQTLS_ERR_BAD_CLIENT_ID; /* [MQTT-3.1.3-8]: answer CONNACK 0x02 */
    if (flags & CONNECT_FLAG_WILL) {
        ret = read_topic_name(r, &c->will_topic); /* [MQTT-3.1.3-10] */
        if (ret == MQTLS_OK)
            ret = read_bytes(r, &c->will_payload);
        if (ret != MQTLS_OK)
            return ret;
    }
    if (flags & CONNECT_FLAG_USERNAME) {
        ret = read_str(r, &c->username, 0); /* [MQTT-3.1.3-11] */
        if (ret != MQTLS_OK)
            return ret;
    }
    if (flags & CONNECT_FLAG_PASSWORD)
        return read_bytes(r, &c->password);
    return MQTLS_OK;
}

static int decode_connack(reader *r, mqtls_connack *c)
{
    uint8_t ack_flags;
    int ret = expect_left(r, 2);

    if (ret != MQTLS_OK)
        return ret;
    ack_flags = r->p[0];
    c->session_present = (ack_flags & 1u) != 0;
    c->return_code = r->p[1];
    r->p += 2;
    if (ack_flags & 0xFEu)
        return MQTLS_ERR_BAD_CONNACK; /* bits 7-1 are reserved (3.2.2.1) */
    if (c->return_code > MQTLS_CONNACK_NOT_AUTHORIZED)
        return MQTLS_ERR_BAD_RETURN_CODE; /* 6-255 are reserved (3.2.2.3) */
    if (c->session_present && c->return_code != MQTLS_CONNACK_ACCEPTED)
        return MQTLS_ERR_BAD_CONNACK; /* [MQTT-3.2.2-4] */
    return MQTLS_OK;
}

static int decode_publish(reader *r, mqtls_packet *out)
{
    mqtls_publish *p = &out->u.publish;
    int ret;

    p->qos = (uint8_t)(out->flags >> 1 & 3u);
    p->dup = (out->flags & 8u) != 0;
    p->retain = (out->flags & 1u) != 0;
    p->packet_id = 0;
    ret = read_topic_name(r, &p->topic);
    if (ret == MQTLS_OK && p->qos != 0)
        ret = read_packet_id(r, &p->packet_id);
    out->packet_id = p->packet_id;
    p->payload.ptr = r->p;
    p->payload.len = left(r);
    r->p = r->end;
    return ret;
}

static int decode_id_only(reader *r, mqtls_packet *out)
{
    int ret = expect_left(r, 2);
    return ret != MQTLS_OK ? ret : read_packet_id(r, &out->packet_id);
}

static int decode_filters(reader *r, mqtls_packet *out)
{
    mqtls_filter_list *list = &out->u.filters;
    int ret = read_packet_id(r, &out->packet_id);

    list->ptr = r->p;
    list->len = left(r);
    list->count = 0;
    list->has_qos = out->type == MQTLS_SUBSCRIBE;
    while (ret == MQTLS_OK && left(r) != 0) {
        const uint8_t *f;
        size_t len;
        ret = read_field(r, &f, &len);
        if (ret == MQTLS_OK) /* [MQTT-3.8.3-1], [MQTT-3.10.3-1] */
            ret = mqtls_topic_validate_filter((const char *)f, len);
        if (ret == MQTLS_OK && list->has_qos) {
            if (left(r) == 0)
                ret = MQTLS_ERR_TRUNCATED;
            else if (*r->p++ > 2)
                ret = MQTLS_ERR_BAD_QOS; /* [MQTT-3-8.3-4] */
        }
        list->count++;
    }
    if (ret == MQTLS_OK && list->count == 0)
        return MQTLS_ERR_NO_TOPIC_FILTERS; /* [MQTT-3.8.3-3], [MQTT-3.10.3-2] */
    return ret;
}

static int decode_suback(reader *r, mqtls_packet *out)
{
    int ret = read_packet_id(r, &out->packet_id);

    if (ret != MQTLS_OK)
        return ret;
    out->u.return_codes.ptr = r->p;
    out->u.return_codes.len = left(r);
    if (left(r) == 0)
        return MQTLS_ERR_NO_TOPIC_FILTERS; /* one code per filter, and >= 1 filter */
    for (; r->p < r->end; r->p++)
        if (!valid_suback_code(*r->p))
            return MQTLS_ERR_BAD_RETURN_CODE; /* [MQTT-3.9.3-2] */
    return MQTLS_OK;
}

typedef int (*body_decoder)(reader *r, mqtls_packet *out);

static int decode_from_server_body(reader *r, mqtls_packet *out)
{
    switch (out->type) {
    case MQTLS_CONNACK: return decode_connack(r, &out->u.connack);
    case MQTLS_PUBLISH: return decode_publish(r, out);
    case MQTLS_PUBACK:
    case MQTLS_PUBREC:
    case MQTLS_PUBREL:
    case MQTLS_PUBCOMP:
    case MQTLS_UNSUBACK: return decode_id_only(r, out);
    case MQTLS_SUBACK: return decode_suback(r, out);
    case MQTLS_PINGRESP: return expect_left(r, 0);
    default: return MQTLS_ERR_UNEXPECTED_PACKET;
    }
}

static int decode_from_client_body(reader *r, mqtls_packet *out)
{
    switch (out->type) {
    case MQTLS_CONNECT: return decode_connect(r, &out->u.connect);
    case MQTLS_PUBLISH: return decode_publish(r, out);
    case MQTLS_PUBACK:
    case MQTLS_PUBREC:
    case MQTLS_PUBREL:
    case MQTLS_PUBCOMP: return decode_id_only(r, out);
    case MQTLS_SUBSCRIBE:
    case MQTLS_UNSUBSCRIBE: return decode_filters(r, out);
    case MQTLS_PINGREQ:
    case MQTLS_DISCONNECT: return expect_left(r, 0); /* [MQTT-3.14.1-1] */
    default: return MQTLS_ERR_UNEXPECTED_PACKET;
    }
}

/* Checks the first byte: the type is not reserved and the flags are those
 * the type requires [MQTT-2.2.2-1], [MQTT-2.2.2-2]. */
static int check_first_byte(uint8_t first)
{
    const unsigned type = first >> 4u, flags = first & 0x0Fu;

    if (type == 0 || type == 15)
        return MQTLS_ERR_BAD_PACKET_TYPE;
    if (type == MQTLS_PUBLISH) {
        if ((flags & 6u) == 6u)
            return MQTLS_ERR_BAD_QOS; /* [MQTT-3.3.1-4] */
        if ((flags & 8u) && !(flags & 6u))
            return MQTLS_ERR_BAD_DUP; /* [MQTT-3.3.1-2] */
        return MQTLS_OK;
    }
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
    size_t rl = 0;
    int hdr;

    if (buf == NULL && len != 0)
        return MQTLS_ERR_INVALID_ARG;
    hdr = parse_fixed_header(buf, len, &rl);
    return hdr < 0 ? hdr : hdr + (int)rl;
}

static int decode_with(const uint8_t *buf, size_t len, mqtls_packet *out,
                       body_decoder body)
{
    size_t rl = 0;
    reader r;
    int hdr, ret;

    if ((buf == NULL && len != 0) || out == NULL)
        return MQTLS_ERR_INVALID_ARG;
    hdr = parse_fixed_header(buf, len, &rl);
    if (hdr < 0)
        return hdr;
    if (len - (size_t)hdr < rl)
        return MQTLS_ERR_INCOMPLETE;
    out->type = (mqtls_packet_type)(buf[0] >> 4);
    out->flags = buf[0] & 0x0Fu;
    out->packet_id = 0;
    out->length = (size_t)hdr + rl;
    r.p = buf + hdr;
    r.end = r.p + rl;
    ret = body(&r, out);
    if (ret == MQTLS_OK && r.p != r.end)
        ret = MQTLS_ERR_TRAILING_BYTES;
    return ret != MQTLS_OK ? ret : (int)out->length;
}

int mqtls_codec_decode_from_server(const uint8_t *buf, size_t len, mqtls_packet *out)
{
    return decode_with(buf, len, out, decode_from_server_body);
}

int mqtls_codec_decode_from_client(const uint8_t *buf, size_t len, mqtls_packet *out)
{
    return decode_with(buf, len, out, decode_from_client_body);
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
