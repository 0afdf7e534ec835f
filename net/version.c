/* SPDX-License-Identifier: Apache-2.0 */
#include "net/version.h"

const char *mqtls_version(void)
{
    return MQTLS_VERSION_STRING;
}
