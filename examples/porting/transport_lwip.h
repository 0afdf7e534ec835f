/* SPDX-License-Identifier: Apache-2.0 */
/* An mqtls transport over an lwIP-style socket (docs/porting.md). */
#ifndef MQTLS_EXAMPLES_TRANSPORT_LWIP_H
#define MQTLS_EXAMPLES_TRANSPORT_LWIP_H

#include <stdint.h>

#include "net/transport.h"

typedef struct lwip_transport {
    int fd;
} lwip_transport;

/* Connects to host:port and fills *out (send, recv, close over t). */
int lwip_transport_connect(lwip_transport *t, const char *host, uint16_t port,
                           mqtls_transport *out);

#endif
