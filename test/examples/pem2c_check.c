/* SPDX-License-Identifier: Apache-2.0 */
/* Links an array written by mqtls-pem2c (ARR, ARR_LEN given with -D):
 * writes its bytes to argv[1] and prints the SHA-256 of every certificate
 * mbedTLS parses from it, one per line (none for a key). */
#include <stdio.h>

#include <mbedtls/x509_crt.h>

#include "tls/tls_compat.h"

extern const unsigned char ARR[];
extern const size_t ARR_LEN;

int main(int argc, char **argv)
{
    mbedtls_x509_crt chain;
    const mbedtls_x509_crt *c;
    FILE *f;
    int i;

    if (argc != 2 || (f = fopen(argv[1], "wb")) == NULL ||
        fwrite(ARR, 1, ARR_LEN, f) != ARR_LEN || fclose(f) != 0)
        return 1;
    if (mqtls_crypto_start() != 0)
        return 1;
    mbedtls_x509_crt_init(&chain);
    if (mbedtls_x509_crt_parse(&chain, ARR, ARR_LEN) == 0) {
        for (c = &chain; c != NULL && c->raw.len != 0; c = c->next) {
            uint8_t fp[32];
            if (mqtls_sha256(c->raw.p, c->raw.len, fp) != 0)
                return 1;
            for (i = 0; i < 32; i++)
                printf("%02X%s", fp[i], i < 31 ? ":" : "\n");
        }
    }
    mbedtls_x509_crt_free(&chain);
    return 0;
}
