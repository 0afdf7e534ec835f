/* SPDX-License-Identifier: Apache-2.0 */
/* A transport that wraps another and makes it as awkward as a real radio
 * link: at most max_bytes per call, and every other call moves nothing, as
 * if its timeout ran out. Whatever runs over it must loop correctly. */
#ifndef MQTLS_TEST_FAULT_H
#define MQTLS_TEST_FAULT_H

#include "net/transport.h"

typedef struct fault {
    mqtls_transport lower; /* the real transport */
    size_t max_bytes;      /* per call, at least 1 */
    unsigned long calls;   /* send and recv calls seen */
    unsigned long stalls;  /* calls answered with 0 */
} fault;

/* Wraps lower; fills *out with the faulty transport (ctx = f). */
void fault_wrap(fault *f, const mqtls_transport *lower, size_t max_bytes, mqtls_transport *out);

#endif
