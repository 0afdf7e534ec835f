/* SPDX-License-Identifier: Apache-2.0 */
/* Counts every parse of private key bytes in the library (the integration
 * binary is linked with --wrap for both parsers): a test with the key in a
 * token shows the count does not move, so no key bytes passed through. */
#include "test/integration/key_probe.h"

int __real_mqtls_pk_parse_key(mbedtls_pk_context *pk, const unsigned char *key, size_t len,
                              const unsigned char *pass, size_t pass_len);
int __wrap_mqtls_pk_parse_key(mbedtls_pk_context *pk, const unsigned char *key, size_t len,
                              const unsigned char *pass, size_t pass_len);
int __real_mqtls_bundle_parse_key(mbedtls_pk_context *pk, const uint8_t *key, size_t len);
int __wrap_mqtls_bundle_parse_key(mbedtls_pk_context *pk, const uint8_t *key, size_t len);

unsigned long key_parses;

int __wrap_mqtls_pk_parse_key(mbedtls_pk_context *pk, const unsigned char *key, size_t len,
                              const unsigned char *pass, size_t pass_len)
{
    key_parses++;
    return __real_mqtls_pk_parse_key(pk, key, len, pass, pass_len);
}

int __wrap_mqtls_bundle_parse_key(mbedtls_pk_context *pk, const uint8_t *key, size_t len)
{
    key_parses++;
    return __real_mqtls_bundle_parse_key(pk, key, len);
}
