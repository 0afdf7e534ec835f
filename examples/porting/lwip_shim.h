/* SPDX-License-Identifier: Apache-2.0 */
/* Lets examples/porting/transport_lwip.c build on a POSIX host, so `make
 * check` proves the skeleton compiles: lwIP's socket API mirrors BSD
 * sockets with an lwip_ prefix. On a device, include lwIP's
 * "lwip/sockets.h" instead of this file. */
#ifndef MQTLS_EXAMPLES_LWIP_SHIM_H
#define MQTLS_EXAMPLES_LWIP_SHIM_H

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#define lwip_socket socket
#define lwip_connect connect
#define lwip_send send
#define lwip_recv recv
#define lwip_close close
#define lwip_setsockopt setsockopt
#define lwip_poll poll
#define lwip_getaddrinfo getaddrinfo
#define lwip_freeaddrinfo freeaddrinfo

#endif
