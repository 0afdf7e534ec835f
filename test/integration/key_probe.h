/* SPDX-License-Identifier: Apache-2.0 */
/* key_probe.c: how many times the library parsed private key bytes. */
#ifndef MQTLS_TEST_KEY_PROBE_H
#define MQTLS_TEST_KEY_PROBE_H

#include "tls/bundle.h"
#include "tls/tls_compat.h"

extern unsigned long key_parses;

#endif
