/* SPDX-License-Identifier: Apache-2.0 */
/* What a device links of the codec: the encoders for the packets a client
 * sends, the decoders for those it receives, and the topic helpers. Linked
 * with --gc-sections by scripts/size.sh, so only what these reach counts. */
#include "mqtt/backoff.h"
#include "mqtt/client.h"
#include "mqtt/codec.h"
#include "mqtt/store.h"
#include "mqtt/topic.h"

typedef void (*any_fn)(void);

/* Keeps every entry point alive without calling it. */
const any_fn mqtls_device_entry_points[] = {
    (any_fn)mqtls_codec_encode_connect,
    (any_fn)mqtls_codec_encode_publish,
    (any_fn)mqtls_codec_encode_puback,
    (any_fn)mqtls_codec_encode_pubrec,
    (any_fn)mqtls_codec_encode_pubrel,
    (any_fn)mqtls_codec_encode_pubcomp,
    (any_fn)mqtls_codec_encode_subscribe,
    (any_fn)mqtls_codec_encode_unsubscribe,
    (any_fn)mqtls_codec_encode_pingreq,
    (any_fn)mqtls_codec_encode_disconnect,
    (any_fn)mqtls_codec_packet_length,
    (any_fn)mqtls_codec_decode_from_server,
    (any_fn)mqtls_topic_validate_name,
    (any_fn)mqtls_topic_validate_filter,
    (any_fn)mqtls_topic_match,
};

/* What the session adds on a telemetry device: the client (connect,
 * subscribe, publish QoS 0/1/2, poll: keep-alive and reconnect), the RAM
 * store and the reconnect backoff. Kept apart so the codec figure stays
 * comparable. Unsubscribe, disconnect, start, abort and publish_wait are
 * linked only by devices that call them; logging and locks are compiled
 * out (MQTLS_CLIENT_LOG, MQTLS_CLIENT_LOCK 0). */
const any_fn mqtls_device_session_parts[] = {
    (any_fn)mqtls_client_init,
    (any_fn)mqtls_client_setup,
    (any_fn)mqtls_client_connect,
    (any_fn)mqtls_client_poll,
    (any_fn)mqtls_client_publish,
    (any_fn)mqtls_client_subscribe,
    (any_fn)mqtls_ram_store_init,
    (any_fn)mqtls_ram_store_setup,
    (any_fn)mqtls_ram_store_interface,
    (any_fn)mqtls_ram_store_count,
    (any_fn)mqtls_backoff_init,
    (any_fn)mqtls_backoff_configure,
    (any_fn)mqtls_backoff_next,
    (any_fn)mqtls_backoff_reset,
};

void mqtls_device_reset(void);
void mqtls_device_reset(void)
{
    for (;;) {
    }
}
