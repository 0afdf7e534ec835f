/* SPDX-License-Identifier: Apache-2.0 */
/* net/error.c built with MQTLS_ERROR_TEXT 0 (the flash-saving device
 * option): mqtls_strerror() gives each error's name; nothing else changes.
 * Built and run by `make lint`. */
#include <stdio.h>
#include <string.h>

#include "net/error.h"

int main(void)
{
    int bad = 0;
    bad |= strcmp(mqtls_strerror(MQTLS_ERR_INVALID_ARG), "MQTLS_ERR_INVALID_ARG") != 0;
    bad |= strcmp(mqtls_strerror(MQTLS_ERR_TLS_CERT_EXPIRED), "MQTLS_ERR_TLS_CERT_EXPIRED") != 0;
    bad |= strcmp(mqtls_strerror(-9999), "MQTLS_ERR_UNKNOWN") != 0;
    bad |= strcmp(mqtls_errname(MQTLS_OK), "MQTLS_OK") != 0;
    printf("lint: MQTLS_ERROR_TEXT=0 gives names: %s\n", bad ? "FAIL" : "ok");
    return bad;
}
