/* SPDX-License-Identifier: Apache-2.0 */
/* Byte-exact packets shared by the unit tests, the guard-page test and the
 * fuzz corpus: valid ones of every type in both directions, and malformed
 * ones, each named after the rule it breaks. */
#ifndef MQTLS_TEST_VECTORS_H
#define MQTLS_TEST_VECTORS_H

#include <stddef.h>
#include <stdint.h>

typedef enum vector_dir {
    DIR_ANY,         /* mqtls_codec_decode */
    DIR_FROM_SERVER, /* mqtls_codec_decode_from_server */
    DIR_FROM_CLIENT  /* mqtls_codec_decode_from_client */
} vector_dir;

typedef struct vector {
    const char *name;
    const uint8_t *bytes;
    size_t len;
    int expect;     /* valid: the packet type; malformed: the mqtls_err */
    vector_dir dir;
} vector;

extern const vector valid_vectors[];
extern const size_t valid_vector_count;
extern const vector malformed_vectors[];
extern const size_t malformed_vector_count;



#include "mqtt/codec.h"

/* Encodes a decoded packet again with the public encoders, so a test can
 * check decode -> encode reproduces the input. SUBSCRIBE and UNSUBSCRIBE
 * lists of more than REENCODE_MAX_FILTERS entries give MQTLS_ERR_INVALID_ARG.
 * Returns the encoder's result. */
#define REENCODE_MAX_FILTERS 256
int reencode(const mqtls_packet *pkt, uint8_t *buf, size_t cap);

/* Bytes of the fixed header of a complete packet (2..5). */
size_t fixed_header_len(const uint8_t *packet);
#endif
