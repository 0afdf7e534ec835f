/* SPDX-License-Identifier: Apache-2.0 */
#include "net/blobs.h"

int mqtls_blob_name_check(const char *name)
{
    size_t i;
    if (name == NULL || name[0] == '\0' || name[0] == '.')
        return MQTLS_ERR_INVALID_ARG;
    for (i = 0; name[i] != '\0'; i++) {
        char c = name[i];
        if (i >= MQTLS_BLOB_NAME_MAX)
            return MQTLS_ERR_INVALID_ARG;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return MQTLS_ERR_INVALID_ARG;
    }
    return MQTLS_OK;
}
