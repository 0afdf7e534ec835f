/* SPDX-License-Identifier: Apache-2.0 */
#include "test/unit/vectors.h"

#include "mqtt/codec.h"

#define B(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

const vector valid_vectors[] = {
    /* CONNECT, clean session, keep-alive 60, client id "dev1" */
    {"connect_minimal",
     B(0x10, 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3C,
       0x00, 0x04, 'd', 'e', 'v', '1'),
     MQTLS_CONNECT, DIR_ANY},
    /* CONNECT with will (QoS 1, retain), user name and password */
    {"connect_full",
     B(0x10, 0x24, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0xEC, 0x00, 0x0A,
       0x00, 0x02, 'i', 'd', 0x00, 0x05, 'w', '/', 't', 'o', 'p', 0x00, 0x03,
       'b', 'y', 'e', 0x00, 0x04, 'u', 's', 'e', 'r', 0x00, 0x02, 'p', 'w'),
     MQTLS_CONNECT, DIR_FROM_CLIENT},
    /* CONNECT with an empty client id and clean session [MQTT-3.1.3-6] */
    {"connect_empty_client_id",
     B(0x10, 0x0C, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x00,
       0x00, 0x00),
     MQTLS_CONNECT, DIR_ANY},
    {"connack_accepted", B(0x20, 0x02, 0x00, 0x00), MQTLS_CONNACK, DIR_ANY},
    {"connack_session_present", B(0x20, 0x02, 0x01, 0x00), MQTLS_CONNACK, DIR_FROM_SERVER},
    {"connack_not_authorized", B(0x20, 0x02, 0x00, 0x05), MQTLS_CONNACK, DIR_ANY},
    {"publish_qos0", B(0x30, 0x07, 0x00, 0x03, 'a', '/', 'b', 'h', 'i'), MQTLS_PUBLISH, DIR_ANY},
    {"publish_qos0_empty_payload", B(0x31, 0x03, 0x00, 0x01, 'x'), MQTLS_PUBLISH, DIR_ANY},
    {"publish_qos1", B(0x32, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x12, 0x34, 0x7B, 0x7D),
     MQTLS_PUBLISH, DIR_FROM_SERVER},
    {"publish_qos2_dup_retain",
     B(0x3D, 0x0A, 0x00, 0x05, 's', '/', 0xC3, 0xA9, '1', 0x00, 0x01, 0xFF),
     MQTLS_PUBLISH, DIR_FROM_CLIENT},
    {"puback", B(0x40, 0x02, 0x00, 0x01), MQTLS_PUBACK, DIR_ANY},
    {"pubrec", B(0x50, 0x02, 0xFF, 0xFF), MQTLS_PUBREC, DIR_FROM_SERVER},
    {"pubrel", B(0x62, 0x02, 0x12, 0x34), MQTLS_PUBREL, DIR_FROM_CLIENT},
    {"pubcomp", B(0x70, 0x02, 0x00, 0x02), MQTLS_PUBCOMP, DIR_ANY},
    {"subscribe_two_filters",
     B(0x82, 0x0F, 0x00, 0x0A, 0x00, 0x03, 'a', '/', '#', 0x01, 0x00, 0x04,
       '+', '/', 'b', 'c', 0x02),
     MQTLS_SUBSCRIBE, DIR_ANY},
    {"suback_granted_and_refused", B(0x90, 0x05, 0x00, 0x0A, 0x01, 0x80, 0x02),
     MQTLS_SUBACK, DIR_ANY},
    {"unsubscribe_two_filters",
     B(0xA2, 0x0A, 0x00, 0x0B, 0x00, 0x01, '#', 0x00, 0x03, 'a', '/', '+'),
     MQTLS_UNSUBSCRIBE, DIR_FROM_CLIENT},
    {"unsuback", B(0xB0, 0x02, 0x00, 0x0B), MQTLS_UNSUBACK, DIR_FROM_SERVER},
    {"pingreq", B(0xC0, 0x00), MQTLS_PINGREQ, DIR_ANY},
    {"pingresp", B(0xD0, 0x00), MQTLS_PINGRESP, DIR_FROM_SERVER},
    {"disconnect", B(0xE0, 0x00), MQTLS_DISCONNECT, DIR_FROM_CLIENT},
};
const size_t valid_vector_count = sizeof valid_vectors / sizeof valid_vectors[0];

const vector malformed_vectors[] = {
    /* Fixed header */
    {"type_0_reserved", B(0x00, 0x00), MQTLS_ERR_BAD_PACKET_TYPE, DIR_ANY},
    {"type_15_reserved", B(0xF0, 0x00), MQTLS_ERR_BAD_PACKET_TYPE, DIR_ANY},
    {"remaining_length_fifth_byte", B(0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01),
     MQTLS_ERR_MALFORMED_LENGTH, DIR_ANY},
    {"remaining_length_268435456", B(0x30, 0x80, 0x80, 0x80, 0x80, 0x01),
     MQTLS_ERR_MALFORMED_LENGTH, DIR_ANY},
    /* [MQTT-2.2.2-1] reserved flags, per type */
    {"MQTT-2.2.2-1_connect_flags", B(0x11, 0x00), MQTLS_ERR_BAD_FLAGS, DIR_ANY},
    {"MQTT-2.2.2-1_connack_flags", B(0x28, 0x02, 0x00, 0x00), MQTLS_ERR_BAD_FLAGS, DIR_ANY},
    {"MQTT-2.2.2-1_puback_flags", B(0x42, 0x02, 0x00, 0x01), MQTLS_ERR_BAD_FLAGS, DIR_ANY},
    {"MQTT-2.2.2-1_pubrec_flags", B(0x51, 0x02, 0x00, 0x01), MQTLS_ERR_BAD_FLAGS, DIR_ANY},
    {"MQTT-3.6.1-1_pubrel_flags_0000", B(0x60, 0x02, 0x00, 0x01), MQTLS_ERR_BAD_FLAGS, DIR_ANY},
    {"MQTT-3.6.1-1_pubrel_flags_0011", B(0x63, 0x02, 0x00, 0x01), MQTLS_ERR_BAD_FLAGS, DIR_ANY},
    {"MQTT-2.2.2-1_pubcomp_flags", B(0x74, 0x02, 0x00, 0x01), MQTLS_ERR_BAD_FLAGS, DIR_ANY},
    {"MQTT-3.8.1-1_subscribe_flags_0000",
     B(0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00), MQTLS_ERR_BAD_FLAGS, DIR_ANY},
    {"MQTT-2.2.2-1_suback_flags", B(0x92, 0x03, 0x00, 0x01, 0x00), MQTLS_ERR_BAD_FLAGS, DIR_ANY},
    {"MQTT-3.10.1-1_unsubscribe_flags_0000",
     B(0xA0, 0x05, 0x00, 0x01, 0x00, 0x01, 'a'), MQTLS_ERR_BAD_FLAGS, DIR_ANY},
    {"MQTT-2.2.2-1_unsuback_flags", B(0xB8, 0x02, 0x00, 0x01), MQTLS_ERR_BAD_FLAGS, DIR_ANY},
    {"MQTT-2.2.2-1_pingreq_flags", B(0xC1, 0x00), MQTLS_ERR_BAD_FLAGS, DIR_ANY},
    {"MQTT-2.2.2-1_pingresp_flags", B(0xD2, 0x00), MQTLS_ERR_BAD_FLAGS, DIR_ANY},
    {"MQTT-3.14.1-1_disconnect_flags", B(0xE1, 0x00), MQTLS_ERR_BAD_FLAGS, DIR_ANY},
    /* PUBLISH */
    {"MQTT-3.3.1-4_publish_qos3", B(0x36, 0x03, 0x00, 0x01, 'a'), MQTLS_ERR_BAD_QOS, DIR_ANY},
    {"MQTT-3.3.1-2_publish_dup_qos0", B(0x38, 0x03, 0x00, 0x01, 'a'), MQTLS_ERR_BAD_DUP, DIR_ANY},
    {"MQTT-2.3.1-1_publish_qos1_id0", B(0x32, 0x05, 0x00, 0x01, 'a', 0x00, 0x00),
     MQTLS_ERR_PACKET_ID_ZERO, DIR_ANY},
    {"MQTT-3.3.2-2_publish_topic_plus", B(0x30, 0x05, 0x00, 0x03, 'a', '/', '+'),
     MQTLS_ERR_BAD_TOPIC_NAME, DIR_ANY},
    {"MQTT-3.3.2-2_publish_topic_hash", B(0x30, 0x03, 0x00, 0x01, '#'),
     MQTLS_ERR_BAD_TOPIC_NAME, DIR_ANY},
    {"MQTT-4.7.3-1_publish_topic_empty", B(0x30, 0x02, 0x00, 0x00), MQTLS_ERR_BAD_TOPIC_NAME, DIR_ANY},
    {"MQTT-1.5.3-2_publish_topic_nul", B(0x30, 0x04, 0x00, 0x02, 'a', 0x00),
     MQTLS_ERR_BAD_UTF8, DIR_ANY},
    {"MQTT-1.5.3-1_publish_topic_surrogate", B(0x30, 0x05, 0x00, 0x03, 0xED, 0xA0, 0x80),
     MQTLS_ERR_BAD_UTF8, DIR_ANY},
    {"MQTT-1.5.3-1_publish_topic_overlong", B(0x30, 0x04, 0x00, 0x02, 0xC0, 0xAF),
     MQTLS_ERR_BAD_UTF8, DIR_ANY},
    {"publish_topic_past_end", B(0x30, 0x03, 0x00, 0x05, 'a'), MQTLS_ERR_TRUNCATED, DIR_ANY},
    {"publish_qos1_no_packet_id", B(0x32, 0x03, 0x00, 0x01, 'a'), MQTLS_ERR_TRUNCATED, DIR_ANY},
    {"publish_no_topic_length", B(0x30, 0x01, 0x00), MQTLS_ERR_TRUNCATED, DIR_ANY},
    /* CONNECT */
    {"MQTT-3.1.2-1_connect_protocol_name",
     B(0x10, 0x0C, 0x00, 0x04, 'M', 'Q', 'T', 'X', 0x04, 0x02, 0x00, 0x00, 0x00, 0x00),
     MQTLS_ERR_BAD_PROTOCOL_NAME, DIR_ANY},
    {"MQTT-3.1.2-1_connect_mqisdp",
     B(0x10, 0x0E, 0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', 0x03, 0x02, 0x00, 0x00, 0x00,
       0x00),
     MQTLS_ERR_BAD_PROTOCOL_NAME, DIR_ANY},
    {"MQTT-3.1.2-2_connect_level_5",
     B(0x10, 0x0C, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x00, 0x00, 0x00),
     MQTLS_ERR_BAD_PROTOCOL_LEVEL, DIR_ANY},
    {"MQTT-3.1.2-3_connect_reserved_flag",
     B(0x10, 0x0C, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x03, 0x00, 0x00, 0x00, 0x00),
     MQTLS_ERR_BAD_CONNECT_FLAGS, DIR_ANY},
    {"MQTT-3.1.2-11_connect_will_qos_without_will",
     B(0x10, 0x0C, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x0A, 0x00, 0x00, 0x00, 0x00),
     MQTLS_ERR_BAD_CONNECT_FLAGS, DIR_ANY},
    {"MQTT-3.1.2-15_connect_will_retain_without_will",
     B(0x10, 0x0C, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x22, 0x00, 0x00, 0x00, 0x00),
     MQTLS_ERR_BAD_CONNECT_FLAGS, DIR_ANY},
    {"MQTT-3.1.2-14_connect_will_qos3",
     B(0x10, 0x11, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x1E, 0x00, 0x00, 0x00, 0x00,
       0x00, 0x01, 't', 0x00, 0x00),
     MQTLS_ERR_BAD_QOS, DIR_ANY},
    {"MQTT-3.1.2-22_connect_password_without_username",
     B(0x10, 0x0E, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x42, 0x00, 0x00, 0x00, 0x00,
       0x00, 0x00),
     MQTLS_ERR_BAD_CONNECT_FLAGS, DIR_ANY},
    {"MQTT-3.1.3-8_connect_empty_id_without_clean_session",
     B(0x10, 0x0C, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x00, 0x00, 0x00, 0x00, 0x00),
     MQTLS_ERR_BAD_CLIENT_ID, DIR_ANY},
    {"MQTT-3.1.3-4_connect_client_id_bad_utf8",
     B(0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x00, 0x00, 0x01, 0xFF),
     MQTLS_ERR_BAD_UTF8, DIR_ANY},
    {"MQTT-3.1.3-10_connect_will_topic_wildcard",
     B(0x10, 0x11, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x06, 0x00, 0x00, 0x00, 0x00,
       0x00, 0x01, '#', 0x00, 0x00),
     MQTLS_ERR_BAD_TOPIC_NAME, DIR_ANY},
    {"MQTT-3.1.3-11_connect_username_nul",
     B(0x10, 0x0F, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x82, 0x00, 0x00, 0x00, 0x00,
       0x00, 0x01, 0x00),
     MQTLS_ERR_BAD_UTF8, DIR_ANY},
    {"MQTT-3.1.2-21_connect_password_flag_but_no_password",
     B(0x10, 0x0E, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0xC2, 0x00, 0x00, 0x00, 0x00,
       0x00, 0x00),
     MQTLS_ERR_TRUNCATED, DIR_ANY},
    {"MQTT-3.1.2-9_connect_will_flag_but_no_will",
     B(0x10, 0x0C, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x06, 0x00, 0x00, 0x00, 0x00),
     MQTLS_ERR_TRUNCATED, DIR_ANY},
    {"connect_trailing_bytes",
     B(0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00),
     MQTLS_ERR_TRAILING_BYTES, DIR_ANY},
    {"connect_no_keepalive", B(0x10, 0x08, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02),
     MQTLS_ERR_TRUNCATED, DIR_ANY},
    /* CONNACK */
    {"connack_return_code_6", B(0x20, 0x02, 0x00, 0x06), MQTLS_ERR_BAD_RETURN_CODE, DIR_ANY},
    {"connack_reserved_ack_flags", B(0x20, 0x02, 0x02, 0x00), MQTLS_ERR_BAD_CONNACK, DIR_ANY},
    {"MQTT-3.2.2-4_connack_session_present_on_refusal", B(0x20, 0x02, 0x01, 0x04),
     MQTLS_ERR_BAD_CONNACK, DIR_ANY},
    {"connack_short", B(0x20, 0x01, 0x00), MQTLS_ERR_TRUNCATED, DIR_ANY},
    {"connack_trailing_bytes", B(0x20, 0x03, 0x00, 0x00, 0x00), MQTLS_ERR_TRAILING_BYTES, DIR_ANY},
    /* Acknowledgements */
    {"MQTT-2.3.1-1_puback_id0", B(0x40, 0x02, 0x00, 0x00), MQTLS_ERR_PACKET_ID_ZERO, DIR_ANY},
    {"MQTT-2.3.1-1_pubrec_id0", B(0x50, 0x02, 0x00, 0x00), MQTLS_ERR_PACKET_ID_ZERO, DIR_ANY},
    {"MQTT-2.3.1-1_pubrel_id0", B(0x62, 0x02, 0x00, 0x00), MQTLS_ERR_PACKET_ID_ZERO, DIR_ANY},
    {"MQTT-2.3.1-1_pubcomp_id0", B(0x70, 0x02, 0x00, 0x00), MQTLS_ERR_PACKET_ID_ZERO, DIR_ANY},
    {"MQTT-2.3.1-1_unsuback_id0", B(0xB0, 0x02, 0x00, 0x00), MQTLS_ERR_PACKET_ID_ZERO, DIR_ANY},
    {"puback_trailing_bytes", B(0x40, 0x03, 0x00, 0x01, 0x00), MQTLS_ERR_TRAILING_BYTES, DIR_ANY},
    {"puback_short", B(0x40, 0x01, 0x01), MQTLS_ERR_TRUNCATED, DIR_ANY},
    {"pingreq_trailing_bytes", B(0xC0, 0x01, 0x00), MQTLS_ERR_TRAILING_BYTES, DIR_ANY},
    {"pingresp_trailing_bytes", B(0xD0, 0x01, 0x00), MQTLS_ERR_TRAILING_BYTES, DIR_ANY},
    {"disconnect_trailing_bytes", B(0xE0, 0x01, 0x00), MQTLS_ERR_TRAILING_BYTES, DIR_ANY},
    /* SUBSCRIBE */
    {"MQTT-3.8.3-3_subscribe_no_filter", B(0x82, 0x02, 0x00, 0x01), MQTLS_ERR_NO_TOPIC_FILTERS,
     DIR_ANY},
    {"MQTT-2.3.1-1_subscribe_id0", B(0x82, 0x06, 0x00, 0x00, 0x00, 0x01, 'a', 0x00),
     MQTLS_ERR_PACKET_ID_ZERO, DIR_ANY},
    {"MQTT-3-8.3-4_subscribe_qos3", B(0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x03),
     MQTLS_ERR_BAD_QOS, DIR_ANY},
    {"MQTT-3-8.3-4_subscribe_reserved_bits", B(0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x81),
     MQTLS_ERR_BAD_QOS, DIR_ANY},
    {"MQTT-3.8.3-3_subscribe_missing_qos", B(0x82, 0x05, 0x00, 0x01, 0x00, 0x01, 'a'),
     MQTLS_ERR_TRUNCATED, DIR_ANY},
    {"MQTT-4.7.1-2_subscribe_hash_not_last",
     B(0x82, 0x08, 0x00, 0x01, 0x00, 0x03, '#', '/', 'a', 0x00), MQTLS_ERR_BAD_TOPIC_FILTER,
     DIR_ANY},
    {"MQTT-4.7.1-3_subscribe_plus_inside_level",
     B(0x82, 0x07, 0x00, 0x01, 0x00, 0x02, 'a', '+', 0x00), MQTLS_ERR_BAD_TOPIC_FILTER, DIR_ANY},
    {"MQTT-4.7.3-1_subscribe_empty_filter", B(0x82, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00),
     MQTLS_ERR_BAD_TOPIC_FILTER, DIR_ANY},
    {"MQTT-3.8.3-1_subscribe_filter_bad_utf8",
     B(0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x80, 0x00), MQTLS_ERR_BAD_UTF8, DIR_ANY},
    /* SUBACK */
    {"MQTT-3.9.3-2_suback_code_3", B(0x90, 0x03, 0x00, 0x01, 0x03), MQTLS_ERR_BAD_RETURN_CODE,
     DIR_ANY},
    {"MQTT-3.9.3-2_suback_code_0x81", B(0x90, 0x04, 0x00, 0x01, 0x00, 0x81),
     MQTLS_ERR_BAD_RETURN_CODE, DIR_ANY},
    {"suback_no_codes", B(0x90, 0x02, 0x00, 0x01), MQTLS_ERR_NO_TOPIC_FILTERS, DIR_ANY},
    {"MQTT-2.3.1-1_suback_id0", B(0x90, 0x03, 0x00, 0x00, 0x00), MQTLS_ERR_PACKET_ID_ZERO,
     DIR_ANY},
    /* UNSUBSCRIBE */
    {"MQTT-3.10.3-2_unsubscribe_no_filter", B(0xA2, 0x02, 0x00, 0x01),
     MQTLS_ERR_NO_TOPIC_FILTERS, DIR_ANY},
    {"MQTT-3.10.3-1_unsubscribe_bad_filter", B(0xA2, 0x06, 0x00, 0x01, 0x00, 0x02, 'a', '#'),
     MQTLS_ERR_BAD_TOPIC_FILTER, DIR_ANY},
    {"MQTT-2.3.1-1_unsubscribe_id0", B(0xA2, 0x05, 0x00, 0x00, 0x00, 0x01, 'a'),
     MQTLS_ERR_PACKET_ID_ZERO, DIR_ANY},
    {"unsuback_trailing_bytes", B(0xB0, 0x03, 0x00, 0x01, 0x00), MQTLS_ERR_TRAILING_BYTES,
     DIR_ANY},
    {"unsubscribe_filter_past_end", B(0xA2, 0x05, 0x00, 0x01, 0x00, 0x09, 'a'),
     MQTLS_ERR_TRUNCATED, DIR_ANY},
    /* Direction */
    {"connect_from_server", B(0x10, 0x0C, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00,
                              0x00, 0x00, 0x00),
     MQTLS_ERR_UNEXPECTED_PACKET, DIR_FROM_SERVER},
    {"subscribe_from_server", B(0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00),
     MQTLS_ERR_UNEXPECTED_PACKET, DIR_FROM_SERVER},
    {"pingreq_from_server", B(0xC0, 0x00), MQTLS_ERR_UNEXPECTED_PACKET, DIR_FROM_SERVER},
    {"connack_from_client", B(0x20, 0x02, 0x00, 0x00), MQTLS_ERR_UNEXPECTED_PACKET,
     DIR_FROM_CLIENT},
    {"suback_from_client", B(0x90, 0x03, 0x00, 0x01, 0x00), MQTLS_ERR_UNEXPECTED_PACKET,
     DIR_FROM_CLIENT},
    {"unsuback_from_client", B(0xB0, 0x02, 0x00, 0x01), MQTLS_ERR_UNEXPECTED_PACKET,
     DIR_FROM_CLIENT},
    {"pingresp_from_client", B(0xD0, 0x00), MQTLS_ERR_UNEXPECTED_PACKET, DIR_FROM_CLIENT},
    {"disconnect_from_server", B(0xE0, 0x00), MQTLS_ERR_UNEXPECTED_PACKET, DIR_FROM_SERVER},
};
const size_t malformed_vector_count = sizeof malformed_vectors / sizeof malformed_vectors[0];

int reencode(const mqtls_packet *pkt, uint8_t *buf, size_t cap)
{
    mqtls_subscription subs[REENCODE_MAX_FILTERS];
    mqtls_str filters[REENCODE_MAX_FILTERS];
    mqtls_filter_list list;
    size_t n = 0;
    int ret;

    switch (pkt->type) {
    case MQTLS_CONNECT: return mqtls_codec_encode_connect(buf, cap, &pkt->u.connect);
    case MQTLS_CONNACK: return mqtls_codec_encode_connack(buf, cap, &pkt->u.connack);
    case MQTLS_PUBLISH: return mqtls_codec_encode_publish(buf, cap, &pkt->u.publish);
    case MQTLS_PUBACK: return mqtls_codec_encode_puback(buf, cap, pkt->packet_id);
    case MQTLS_PUBREC: return mqtls_codec_encode_pubrec(buf, cap, pkt->packet_id);
    case MQTLS_PUBREL: return mqtls_codec_encode_pubrel(buf, cap, pkt->packet_id);
    case MQTLS_PUBCOMP: return mqtls_codec_encode_pubcomp(buf, cap, pkt->packet_id);
    case MQTLS_UNSUBACK: return mqtls_codec_encode_unsuback(buf, cap, pkt->packet_id);
    case MQTLS_SUBACK:
        return mqtls_codec_encode_suback(buf, cap, pkt->packet_id, pkt->u.return_codes.ptr,
                                         pkt->u.return_codes.len);
    case MQTLS_SUBSCRIBE:
    case MQTLS_UNSUBSCRIBE:
        list = pkt->u.filters;
        while ((ret = mqtls_codec_next_filter(&list, &subs[n])) == 1) {
            filters[n] = subs[n].filter;
            if (++n == REENCODE_MAX_FILTERS)
                return MQTLS_ERR_INVALID_ARG;
        }
        if (ret < 0)
            return ret;
        if (pkt->type == MQTLS_SUBSCRIBE)
            return mqtls_codec_encode_subscribe(buf, cap, pkt->packet_id, subs, n);
        return mqtls_codec_encode_unsubscribe(buf, cap, pkt->packet_id, filters, n);
    case MQTLS_PINGREQ: return mqtls_codec_encode_pingreq(buf, cap);
    case MQTLS_PINGRESP: return mqtls_codec_encode_pingresp(buf, cap);
    case MQTLS_DISCONNECT: return mqtls_codec_encode_disconnect(buf, cap);
    default: return MQTLS_ERR_INVALID_ARG;
    }
}

size_t fixed_header_len(const uint8_t *packet)
{
    size_t i = 1;
    while (i < 5 && (packet[i] & 0x80u))
        i++;
    return i + 1;
}
