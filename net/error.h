/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — one status enum for the whole SDK.
 *
 * Every public function returns MQTLS_OK (0), a non-negative count where its
 * header says so, or one of the negative values below. Values are stable and
 * never reused: a retired code keeps its number and gets no new meaning.
 *
 * Ranges:   -1 ..  -99  generic (arguments, buffers)
 *         -100 .. -199  MQTT protocol: malformed or forbidden packets
 *         -200 .. -299  transport (reserved for net/)
 *         -300 .. -399  TLS (reserved for tls/)
 *         -400 .. -499  client session (reserved for mqtt/client)
 *
 * The table is the single source: the enum, mqtls_strerror() and
 * mqtls_errname() are generated from it, and test/unit/net/test_error.c keeps
 * docs/errors.md in step with it.
 */
#ifndef MQTLS_NET_ERROR_H
#define MQTLS_NET_ERROR_H

#include "api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

/* X(name, value, human text) */
#define MQTLS_ERROR_TABLE(X)                                                     \
    X(MQTLS_OK, 0, "success")                                                    \
    X(MQTLS_ERR_INVALID_ARG, -1, "invalid argument")                             \
    X(MQTLS_ERR_BUFFER_TOO_SMALL, -2, "buffer too small for the packet")         \
    X(MQTLS_ERR_INCOMPLETE, -3, "need more bytes to complete the packet")        \
    X(MQTLS_ERR_PACKET_TOO_LARGE, -4,                                            \
      "packet larger than the buffer or the 268,435,455-byte protocol limit")    \
    X(MQTLS_ERR_IN_PROGRESS, -5,                                                 \
      "not finished yet: call again to go on (a connect made in slices)")        \
    X(MQTLS_ERR_MALFORMED_LENGTH, -100,                                          \
      "malformed remaining length (more than 4 bytes)")                          \
    X(MQTLS_ERR_BAD_PACKET_TYPE, -101, "reserved or unknown packet type")        \
    X(MQTLS_ERR_BAD_FLAGS, -102, "reserved fixed-header flag bits are wrong")    \
    X(MQTLS_ERR_BAD_QOS, -103, "QoS 3 is not a valid quality of service")        \
    X(MQTLS_ERR_BAD_DUP, -104, "DUP flag set on a QoS 0 PUBLISH")                \
    X(MQTLS_ERR_PACKET_ID_ZERO, -105, "packet identifier 0 where one is required") \
    X(MQTLS_ERR_BAD_UTF8, -106,                                                  \
      "string is not well-formed UTF-8 (or holds U+0000 or a surrogate)")        \
    X(MQTLS_ERR_FIELD_TOO_LONG, -107,                                           \
      "string or binary field longer than 65,535 bytes")                         \
    X(MQTLS_ERR_BAD_TOPIC_NAME, -108,                                            \
      "topic name is empty or contains a wildcard (+ or #)")                     \
    X(MQTLS_ERR_BAD_TOPIC_FILTER, -109,                                          \
      "topic filter is empty or misplaces a wildcard")                           \
    X(MQTLS_ERR_BAD_CONNECT_FLAGS, -110,                                         \
      "CONNECT flags are inconsistent")                                          \
    X(MQTLS_ERR_BAD_PROTOCOL_NAME, -111, "protocol name is not \"MQTT\"")        \
    X(MQTLS_ERR_BAD_PROTOCOL_LEVEL, -112,                                        \
      "protocol level is not 4 (MQTT 3.1.1)")                                    \
    X(MQTLS_ERR_BAD_CLIENT_ID, -113,                                             \
      "empty client identifier needs clean session")                             \
    X(MQTLS_ERR_BAD_RETURN_CODE, -114, "reserved CONNACK or SUBACK return code") \
    X(MQTLS_ERR_BAD_CONNACK, -115,                                               \
      "CONNACK flags are invalid (reserved bits, or session present on a refusal)") \
    X(MQTLS_ERR_NO_TOPIC_FILTERS, -116,                                          \
      "SUBSCRIBE, SUBACK or UNSUBSCRIBE carries no entries")                     \
    X(MQTLS_ERR_TRUNCATED, -117, "packet ends inside one of its fields")         \
    X(MQTLS_ERR_TRAILING_BYTES, -118, "packet has bytes after its last field")   \
    X(MQTLS_ERR_UNEXPECTED_PACKET, -119,                                         \
      "packet type not allowed in this direction")                               \
    X(MQTLS_ERR_NET_RESOLVE, -200, "host name not resolved")                     \
    X(MQTLS_ERR_NET_REFUSED, -201, "connection refused (nothing listens there)") \
    X(MQTLS_ERR_NET_TIMEOUT, -202, "connect timed out")                          \
    X(MQTLS_ERR_NET_RESET, -203, "connection reset by the peer")                 \
    X(MQTLS_ERR_NET_CLOSED, -204, "the peer closed the connection")              \
    X(MQTLS_ERR_NET_UNREACHABLE, -205, "network or host unreachable")            \
    X(MQTLS_ERR_NET_IO, -206, "socket error")                                    \
    X(MQTLS_ERR_NET_NOT_CONNECTED, -207, "not connected")                        \
    X(MQTLS_ERR_NET_RESOLVE_TIMEOUT, -208,                                       \
      "host name not resolved in time (no answer from the DNS server)")         \
    X(MQTLS_ERR_TLS_CERT_EXPIRED, -300, "server certificate expired")            \
    X(MQTLS_ERR_TLS_CERT_NOT_YET_VALID, -301, "server certificate not yet valid") \
    X(MQTLS_ERR_TLS_CERT_UNTRUSTED, -302,                                        \
      "server certificate not signed by a trusted CA")                           \
    X(MQTLS_ERR_TLS_HOSTNAME_MISMATCH, -303,                                     \
      "host name does not match the server certificate")                         \
    X(MQTLS_ERR_TLS_WEAK_KEY, -304,                                              \
      "server certificate key or signature is weak or unsupported")              \
    X(MQTLS_ERR_TLS_CLIENT_CERT_REFUSED, -305,                                   \
      "the broker refused our client certificate")                               \
    X(MQTLS_ERR_TLS_NO_COMMON_CIPHER, -306, "no cipher suite in common")         \
    X(MQTLS_ERR_TLS_RECORD_TOO_LARGE, -307,                                      \
      "a TLS record was larger than our buffer")                                 \
    X(MQTLS_ERR_TLS_OUT_OF_MEMORY, -308, "out of memory for TLS")                \
    X(MQTLS_ERR_TLS_CLOCK_NOT_SET, -309,                                         \
      "device clock not set, so certificate dates cannot be checked")            \
    X(MQTLS_ERR_TLS_HANDSHAKE_TIMEOUT, -310, "TLS handshake timed out")          \
    X(MQTLS_ERR_TLS_ALERT, -311, "the peer ended the handshake with an alert")   \
    X(MQTLS_ERR_TLS_BAD_CA, -312,                                                \
      "a CA certificate could not be parsed")                                    \
    X(MQTLS_ERR_TLS_BAD_CERT, -313, "our certificate could not be parsed")       \
    X(MQTLS_ERR_TLS_BAD_KEY, -314,                                               \
      "our private key could not be parsed (or the passphrase is wrong)")        \
    X(MQTLS_ERR_TLS_KEY_MISMATCH, -315,                                          \
      "the private key does not belong to the certificate")                      \
    X(MQTLS_ERR_TLS_FILE, -316, "a certificate or key file could not be read")   \
    X(MQTLS_ERR_TLS_CONFIG, -317, "invalid TLS configuration")                   \
    X(MQTLS_ERR_TLS_NO_TRUST, -318,                                              \
      "no trusted CA configured (and verification not explicitly disabled)")     \
    X(MQTLS_ERR_TLS_PROTOCOL, -319, "TLS protocol error")                        \
    X(MQTLS_ERR_TLS_BAD_SESSION, -320, "saved TLS session is unusable")          \
    X(MQTLS_ERR_TLS_PIN_MISMATCH, -321,                                          \
      "the server's chain matches none of the pinned public keys")               \
    X(MQTLS_ERR_TLS_CRYPTO, -322,                                                \
      "a cryptographic operation (hash) failed: nothing was trusted on it")     \
    X(MQTLS_ERR_TLS_STORAGE, -323,                                               \
      "storage for a TLS object is smaller than this library needs: define "    \
      "MQTLS_TLS_*_STORAGE as the library was built")                          \
    X(MQTLS_ERR_TLS_NO_TICKET, -324,                                             \
      "no TLS 1.3 session ticket yet: the server sends it after the handshake, "  \
      "with the first data read")                                                \
    X(MQTLS_ERR_TLS_NO_RESTART, -325,                                            \
      "this mbedTLS cannot pause elliptic-curve work (it needs MBEDTLS_ECP_RESTARTABLE " \
      "and no MBEDTLS_USE_PSA_CRYPTO)")                                           \
    X(MQTLS_ERR_CONNACK_PROTOCOL_VERSION, -401,                                  \
      "broker refused the connection: unacceptable protocol version (CONNACK 1)") \
    X(MQTLS_ERR_CONNACK_IDENTIFIER_REJECTED, -402,                               \
      "broker refused the connection: client identifier rejected (CONNACK 2)")    \
    X(MQTLS_ERR_CONNACK_SERVER_UNAVAILABLE, -403,                                \
      "broker refused the connection: server unavailable (CONNACK 3)")            \
    X(MQTLS_ERR_CONNACK_BAD_CREDENTIALS, -404,                                   \
      "broker refused the connection: bad user name or password (CONNACK 4)")     \
    X(MQTLS_ERR_CONNACK_NOT_AUTHORIZED, -405,                                    \
      "broker refused the connection: not authorised (CONNACK 5)")                \
    X(MQTLS_ERR_KEEPALIVE_TIMEOUT, -406,                                         \
      "no answer from the broker within the keep-alive period")                  \
    X(MQTLS_ERR_CONNACK_TIMEOUT, -407, "no CONNACK from the broker in time")     \
    X(MQTLS_ERR_QOS2_TABLE_FULL, -408,                                           \
      "too many inbound QoS 2 messages awaiting PUBREL")                         \
    X(MQTLS_ERR_CONNACK_SESSION_PRESENT, -409,                                   \
      "broker claims a session for a clean-session connect (CONNACK session present 1)") \
    X(MQTLS_ERR_ABORTED, -410, "the application dropped the connection (abort)")  \
    X(MQTLS_ERR_SESSION_DISCARDED, -411,                                         \
      "stored message given up: the broker started a new session (discard policy)") \
    X(MQTLS_ERR_TX_BUF_TOO_SMALL, -412,                                          \
      "tx_buf is too small for this packet (client.needed says how big)")        \
    X(MQTLS_ERR_RX_BUF_TOO_SMALL, -413,                                          \
      "rx_buf is too small for a packet from the broker (client.needed says how big)") \
    X(MQTLS_ERR_CONFIG_TX_BUF, -414, "client config: tx_buf missing or tx_cap under 16") \
    X(MQTLS_ERR_CONFIG_RX_BUF, -415, "client config: rx_buf missing or rx_cap under 16") \
    X(MQTLS_ERR_CONFIG_QOS2_IDS, -416,                                           \
      "client config: qos2_cap or qos2_recent_cap set without its buffer")       \
    X(MQTLS_ERR_CONFIG_STORE, -417,                                              \
      "client config: store has a missing operation (use a *_store_interface())") \
    X(MQTLS_ERR_CONFIG_CLOCK, -418, "client config: clock.now_ms missing")        \
    X(MQTLS_ERR_CONFIG_OPEN, -419, "client config: open function missing")        \
    X(MQTLS_ERR_STORE_FULL, -420,                                                \
      "message store is full: the message was not accepted")                     \
    X(MQTLS_ERR_STORE_NOT_FOUND, -421, "no stored message has that packet id")   \
    X(MQTLS_ERR_STORE_ID_IN_USE, -422,                                           \
      "a stored message already has that packet id")                             \
    X(MQTLS_ERR_STORE_IO, -423, "message store file could not be read or written") \
    X(MQTLS_ERR_STORE_CORRUPT, -424,                                             \
      "message store file is not an mqtls store, or its records contradict")    \
    X(MQTLS_ERR_STORE_EXPIRED, -425,                                             \
      "a queued message outlived max_age_s and was dropped before it was sent")  \
    X(MQTLS_ERR_STORE_DROPPED, -426,                                             \
      "store full: the oldest message never sent was dropped for a new one")     \
    X(MQTLS_ERR_CONFIG_POLICY, -427,                                             \
      "client config: max_age_s needs clock.now_s; policies need MQTLS_CLIENT_STORE_POLICY") \
    X(MQTLS_ERR_BLOB_NOT_FOUND, -430, "nothing is stored under that name")        \
    X(MQTLS_ERR_BLOB_IO, -431, "stored blob could not be read or written")        \
    X(MQTLS_ERR_BLOB_CORRUPT, -432, "stored blob is damaged (fails its check)")   \
    X(MQTLS_ERR_FLASH_IO, -440, "the flash did not read, program or erase")        \
    X(MQTLS_ERR_FLASH_ALIGN, -441,                                               \
      "flash geometry or address not usable (program unit, alignment, sectors)") \
    X(MQTLS_ERR_FLASH_FORMAT, -442,                                              \
      "flash holds a layout this firmware does not know (nothing was erased)")   \
    X(MQTLS_ERR_CA_NONE_STAGED, -500, "no CA bundle is staged")                   \
    X(MQTLS_ERR_CA_SLOT_FULL, -501,                                              \
      "CA bundle holds more certificates than a slot takes")                     \
    X(MQTLS_ERR_CA_NOT_CA, -502,                                                 \
      "a certificate in the CA bundle is not a CA certificate")                  \
    X(MQTLS_ERR_CA_EMPTY, -503, "the CA bundle holds no certificate")            \
    X(MQTLS_ERR_UPDATE_MALFORMED, -510, "CA update is malformed or cut short")    \
    X(MQTLS_ERR_UPDATE_UNSIGNED, -511, "CA update carries no signature")          \
    X(MQTLS_ERR_UPDATE_BAD_SIGNATURE, -512,                                      \
      "CA update signature does not verify with the trusted update key")         \
    X(MQTLS_ERR_UPDATE_EXPIRED, -513, "CA update has expired")                    \
    X(MQTLS_ERR_UPDATE_OLD_VERSION, -514,                                        \
      "CA update is not newer than the installed bundle (downgrade or replay)")  \
    X(MQTLS_ERR_UPDATE_PROBE_FAILED, -515,                                       \
      "the updated CAs could not verify the broker: update rolled back")         \
    X(MQTLS_ERR_KEY_PIN, -326, "the token refused our key's PIN")                \
    X(MQTLS_ERR_KEY_NOT_FOUND, -327, "our key is not in the token")               \
    X(MQTLS_ERR_KEY_TOKEN_GONE, -328, "the token holding our key is gone")       \
    X(MQTLS_ERR_KEY_MODULE, -329, "the PKCS#11 module did not start")           \
    X(MQTLS_ERR_KEY_SIGN, -330, "our key's device failed to sign")                \
    X(MQTLS_ERR_KEY_UNSUPPORTED, -331, "our key cannot sign here (docs/keys.md)")

typedef enum mqtls_err {
#define MQTLS_ERROR_ENUM_(name, value, text) name = (value),
    MQTLS_ERROR_TABLE(MQTLS_ERROR_ENUM_)
#undef MQTLS_ERROR_ENUM_
} mqtls_err;

/* Human text for err, a status (MQTLS_OK or an mqtls_err). Never NULL: an unknown value gives
 * "unknown mqtls error". The string is static. */
const char *mqtls_strerror(int err);

/* The enum name of err ("MQTLS_ERR_BAD_QOS") for logs and tests. Never NULL:
 * an unknown value gives "MQTLS_ERR_UNKNOWN". */
const char *mqtls_errname(int err);

/* 1 when err is a refusal that retrying cannot fix: the broker said no
 * (CONNACK 1, 2, 4, 5) or the TLS identity check failed (our certificate
 * refused; the broker's untrusted, for another name or expired; nothing
 * trusted), or our key cannot be used (a refused PIN, a key or token not
 * there, a module that does not load, an unsupported key). The client's
 * backoff waits its slow schedule after one, and a
 * tool that reconnects stops on it. 0 otherwise. Inline: mqtt/ uses it and
 * links nothing of net/ for it. */
static inline int mqtls_err_is_refusal(int err)
{
    switch (err) {
    case MQTLS_ERR_CONNACK_PROTOCOL_VERSION:
    case MQTLS_ERR_CONNACK_IDENTIFIER_REJECTED:
    case MQTLS_ERR_CONNACK_BAD_CREDENTIALS:
    case MQTLS_ERR_CONNACK_NOT_AUTHORIZED:
    case MQTLS_ERR_TLS_CLIENT_CERT_REFUSED:
    case MQTLS_ERR_TLS_CERT_UNTRUSTED:
    case MQTLS_ERR_TLS_HOSTNAME_MISMATCH:
    case MQTLS_ERR_TLS_CERT_EXPIRED:
    case MQTLS_ERR_TLS_NO_TRUST:
    case MQTLS_ERR_KEY_PIN:
    case MQTLS_ERR_KEY_NOT_FOUND:
    case MQTLS_ERR_KEY_TOKEN_GONE:
    case MQTLS_ERR_KEY_MODULE:
    case MQTLS_ERR_KEY_UNSUPPORTED:
        return 1;
    default:
        return 0;
    }
}

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
