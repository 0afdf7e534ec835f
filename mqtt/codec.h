/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — MQTT 3.1.1 packet codec.
 *
 * Encodes and decodes all fourteen control packets, in both directions, so
 * the same code serves a device, a test broker and a packet dump tool.
 *
 * - No I/O, no allocation, no state: every call works on caller memory.
 * - Encoders take a buffer and its capacity and return the packet's length,
 *   or a negative mqtls_err. They refuse whatever the specification forbids
 *   a sender to put on the wire, and write nothing useful on failure.
 * - Decoding is zero-copy: strings and payloads in a decoded packet point
 *   into the caller's buffer and stay valid only as long as it does.
 * - Decoding is incremental and stateless: hand it the bytes received so far
 *   and it answers "a complete packet of N bytes" (N > 0), "need more"
 *   (MQTLS_ERR_INCOMPLETE) or why the bytes are malformed. Call again with
 *   more bytes; nothing is remembered between calls.
 *
 * Every rule cites its normative statement, e.g. [MQTT-3.3.1-4].
 */
#ifndef MQTLS_MQTT_CODEC_H
#define MQTLS_MQTT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "utf8.h"
#include "../net/error.h"
#include "../net/api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

/* Largest remaining length (section 2.2.3) and whole packet. */
#define MQTLS_MAX_REMAINING_LENGTH 268435455u
#define MQTLS_MAX_PACKET_LEN (MQTLS_MAX_REMAINING_LENGTH + 5u)

typedef enum mqtls_packet_type {
    MQTLS_CONNECT = 1,
    MQTLS_CONNACK = 2,
    MQTLS_PUBLISH = 3,
    MQTLS_PUBACK = 4,
    MQTLS_PUBREC = 5,
    MQTLS_PUBREL = 6,
    MQTLS_PUBCOMP = 7,
    MQTLS_SUBSCRIBE = 8,
    MQTLS_SUBACK = 9,
    MQTLS_UNSUBSCRIBE = 10,
    MQTLS_UNSUBACK = 11,
    MQTLS_PINGREQ = 12,
    MQTLS_PINGRESP = 13,
    MQTLS_DISCONNECT = 14
} mqtls_packet_type;

/* CONNACK return codes (table 3.1); 6..255 are reserved. */
typedef enum mqtls_connack_code {
    MQTLS_CONNACK_ACCEPTED = 0,
    MQTLS_CONNACK_BAD_PROTOCOL_VERSION = 1,
    MQTLS_CONNACK_IDENTIFIER_REJECTED = 2,
    MQTLS_CONNACK_SERVER_UNAVAILABLE = 3,
    MQTLS_CONNACK_BAD_USERNAME_OR_PASSWORD = 4,
    MQTLS_CONNACK_NOT_AUTHORIZED = 5
} mqtls_connack_code;

/* SUBACK return code for a refused filter; 0, 1, 2 are the granted QoS. */
#define MQTLS_SUBACK_FAILURE 0x80u

/* A UTF-8 string: not NUL-terminated. ptr NULL means "absent" where a field
 * is optional (user name, will topic); a present field may have len 0. */
typedef struct mqtls_str {
    const char *ptr; /* first byte, or NULL when absent */
    size_t len;      /* bytes, not characters */
} mqtls_str;

/* Binary data, with the same absent/empty rule as mqtls_str. */
typedef struct mqtls_bytes {
    const uint8_t *ptr; /* first byte, or NULL when absent */
    size_t len;         /* bytes */
} mqtls_bytes;

typedef struct mqtls_connect {
    mqtls_str client_id;      /* may be empty only with clean_session [MQTT-3.1.3-7] */
    mqtls_str username;       /* ptr NULL: no user name */
    mqtls_bytes password;     /* ptr NULL: none; needs a user name [MQTT-3.1.2-22] */
    mqtls_str will_topic;     /* ptr NULL: no will; else a topic name */
    mqtls_bytes will_payload; /* the will message, 0..65,535 bytes */
    uint16_t keepalive_s;     /* 0 turns keep-alive off */
    uint8_t will_qos;         /* 0..2, and 0 without a will [MQTT-3.1.2-11] */
    bool will_retain;         /* false without a will [MQTT-3.1.2-15] */
    bool clean_session;       /* discard any previous session */
} mqtls_connect;

typedef struct mqtls_connack {
    bool session_present; /* only with MQTLS_CONNACK_ACCEPTED [MQTT-3.2.2-4] */
    uint8_t return_code;  /* an mqtls_connack_code */
} mqtls_connack;

typedef struct mqtls_publish {
    mqtls_str topic;     /* a topic name: no wildcards [MQTT-3.3.2-2] */
    mqtls_bytes payload; /* the application message, may be empty */
    uint16_t packet_id;  /* non-zero for QoS 1 and 2, ignored for QoS 0 */
    uint8_t qos;         /* 0..2 [MQTT-3.3.1-4] */
    bool retain;         /* the broker keeps it for later subscribers */
    bool dup;            /* a redelivery; never with QoS 0 [MQTT-3.3.1-2] */
} mqtls_publish;

/* One SUBSCRIBE entry (for UNSUBSCRIBE, qos is unused). */
typedef struct mqtls_subscription {
    mqtls_str filter; /* a topic filter */
    uint8_t qos;      /* requested maximum QoS, 0..2 */
} mqtls_subscription;

/* The entries of a decoded SUBSCRIBE or UNSUBSCRIBE, already validated,
 * still in wire form inside the caller's buffer; walk them with
 * mqtls_codec_next_filter(). */
typedef struct mqtls_filter_list {
    const uint8_t *ptr; /* next entry on the wire */
    size_t len;         /* bytes left */
    size_t count;       /* entries in the packet (not decremented by walking) */
    bool has_qos;       /* SUBSCRIBE: each filter is followed by a QoS byte */
} mqtls_filter_list;

/* A decoded packet. Which member of u is filled depends on type. */
typedef struct mqtls_packet {
    mqtls_packet_type type; /* which packet, and so which member of u */
    uint8_t flags;      /* low nibble of the first byte, as received */
    uint16_t packet_id; /* every packet that has one (PUBLISH QoS > 0 too), else 0 */
    size_t length;      /* whole packet, fixed header included */
    union {
        mqtls_connect connect;      /* CONNECT */
        mqtls_connack connack;      /* CONNACK */
        mqtls_publish publish;      /* PUBLISH */
        mqtls_filter_list filters;  /* SUBSCRIBE, UNSUBSCRIBE */
        mqtls_bytes return_codes;   /* SUBACK: one code per filter */
    } u;
} mqtls_packet;

/* ---- Encoders ----------------------------------------------------------
 * Each writes one whole packet at buf (cap bytes there) from its last
 * arguments: c or p (the packet's fields, by reference), packet_id (the
 * id it carries, 1..65,535), or subs, codes, filters and their count.
 * Each returns the packet's length (> 0), or:
 *   MQTLS_ERR_BUFFER_TOO_SMALL  cap is less than the packet's length
 *   MQTLS_ERR_INVALID_ARG       NULL where a pointer is required
 *   one of the protocol errors  the packet would break a rule named in
 *                               mqtls_err (the same code the decoder gives)
 * buf may be NULL only with cap 0. */

int mqtls_codec_encode_connect(uint8_t *buf, size_t cap, const mqtls_connect *c);
int mqtls_codec_encode_connack(uint8_t *buf, size_t cap, const mqtls_connack *c);
int mqtls_codec_encode_publish(uint8_t *buf, size_t cap, const mqtls_publish *p);

/* The four-byte packets that carry only a non-zero packet id. */
int mqtls_codec_encode_puback(uint8_t *buf, size_t cap, uint16_t packet_id);
int mqtls_codec_encode_pubrec(uint8_t *buf, size_t cap, uint16_t packet_id);
int mqtls_codec_encode_pubrel(uint8_t *buf, size_t cap, uint16_t packet_id);
int mqtls_codec_encode_pubcomp(uint8_t *buf, size_t cap, uint16_t packet_id);
int mqtls_codec_encode_unsuback(uint8_t *buf, size_t cap, uint16_t packet_id);

/* count >= 1 entries [MQTT-3.8.3-3]; subs[i].qos 0..2. */
int mqtls_codec_encode_subscribe(uint8_t *buf, size_t cap, uint16_t packet_id,
                                 const mqtls_subscription *subs, size_t count);
/* count >= 1 codes, each 0, 1, 2 or 0x80 [MQTT-3.9.3-2]. */
int mqtls_codec_encode_suback(uint8_t *buf, size_t cap, uint16_t packet_id,
                              const uint8_t *codes, size_t count);
/* count >= 1 filters [MQTT-3.10.3-2]. */
int mqtls_codec_encode_unsubscribe(uint8_t *buf, size_t cap, uint16_t packet_id,
                                   const mqtls_str *filters, size_t count);

/* The two-byte packets with no body. */
int mqtls_codec_encode_pingreq(uint8_t *buf, size_t cap);
int mqtls_codec_encode_pingresp(uint8_t *buf, size_t cap);
int mqtls_codec_encode_disconnect(uint8_t *buf, size_t cap);

/* ---- Decoders ---------------------------------------------------------- */

/* The total length of the packet that starts at buf, known from its first
 * 2..5 bytes, so a receiver can refuse a packet larger than its buffer
 * before reading it. Also checks the packet type and its fixed-header
 * flags [MQTT-2.2.2-1]. Returns the length (> 0), MQTLS_ERR_INCOMPLETE when
 * len is too short to tell, or MQTLS_ERR_BAD_PACKET_TYPE, MQTLS_ERR_BAD_FLAGS,
 * MQTLS_ERR_BAD_QOS, MQTLS_ERR_BAD_DUP, MQTLS_ERR_MALFORMED_LENGTH. */
int mqtls_codec_packet_length(const uint8_t *buf, size_t len);

/* Decodes the first packet in buf[0..len) into *out. Returns its length
 * (> 0; bytes after it are left for the next call), MQTLS_ERR_INCOMPLETE,
 * or the error that names the broken rule. On failure *out is unspecified.
 * Pointers in *out point into buf. */
int mqtls_codec_decode(const uint8_t *buf, size_t len, mqtls_packet *out);

/* The same, accepting only what a server sends (CONNACK, PUBLISH, the acks,
 * SUBACK, UNSUBACK, PINGRESP); anything else gives
 * MQTLS_ERR_UNEXPECTED_PACKET. A client links just these decoders. */
int mqtls_codec_decode_from_server(const uint8_t *buf, size_t len, mqtls_packet *out);

/* The same, accepting only what a client sends (CONNECT, PUBLISH, the acks,
 * SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT). */
int mqtls_codec_decode_from_client(const uint8_t *buf, size_t len, mqtls_packet *out);

/* Takes the next entry off a decoded SUBSCRIBE or UNSUBSCRIBE list. Returns
 * 1 and fills *out (filter points into the packet; qos is 0 for
 * UNSUBSCRIBE), 0 when the list is exhausted, or MQTLS_ERR_TRUNCATED if the
 * list was not produced by the decoder and runs short. */
int mqtls_codec_next_filter(mqtls_filter_list *list, mqtls_subscription *out);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
