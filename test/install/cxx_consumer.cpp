// SPDX-License-Identifier: Apache-2.0
// Every public header compiled as C++ and linked against the C library:
// the extern "C" guards hold (a missing one is an undefined reference to a
// C++-mangled name at link time). Run by `make check`.
#include "mqtt/backoff.h"
#include "mqtt/client.h"
#include "mqtt/codec.h"
#include "mqtt/config.h"
#include "mqtt/posix/store_file.h"
#include "mqtt/store.h"
#include "mqtt/topic.h"
#include "mqtt/utf8.h"
#include "net/blobs.h"
#include "net/blobs_posix.h"
#include "net/clock.h"
#include "net/clock_posix.h"
#include "net/crc32.h"
#include "net/error.h"
#include "net/tcp_posix.h"
#include "net/transport.h"
#include "net/version.h"
#include "tls/ca_update.h"
#include "tls/castore.h"
#include "tls/identity.h"
#include "tls/signer.h"
#include "tls/tcp_tls.h"
#include "tls/tls_mbedtls.h"

#include <cstdio>
#include <cstring>

int main()
{
    mqtls_client c;
    mqtls_ram_store rs;
    mqtls_tls_config tls;
    uint8_t buf[16];
    const uint8_t crc_in[] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
    mqtls_client_init(&c);
    mqtls_ram_store_init(&rs);
    mqtls_tls_config_init(&tls);
    mqtls_tls_config_free(&tls);
    if (std::strcmp(mqtls_version(), MQTLS_VERSION_STRING) != 0 ||
        mqtls_codec_encode_pingreq(buf, sizeof buf) != 2 ||
        !mqtls_topic_match("a/#", 3, "a/b", 3) ||
        mqtls_crc32(0, crc_in, sizeof crc_in) != 0xCBF43926u ||
        std::strcmp(mqtls_errname(MQTLS_ERR_ABORTED), "MQTLS_ERR_ABORTED") != 0) {
        std::puts("cxx_consumer: a C function gave a wrong answer");
        return 1;
    }
    std::printf("cxx_consumer: mqtls %s from C++\n", mqtls_version());
    return 0;
}
