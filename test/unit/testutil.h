/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by the unit tests. */
#ifndef MQTLS_TEST_TESTUTIL_H
#define MQTLS_TEST_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "mqtt/store.h"
#include "tls/tls_compat.h"

/* xorshift64*: repeatable pseudo-random numbers in [0, bound) from a
 * fixed seed the test keeps in *state (never 0). */
uint32_t test_rand(uint64_t *state, uint32_t bound);

/* A recognisable packet for a store entry: len bytes derived from id. */
void test_store_packet(uint8_t *p, size_t len, uint16_t id);
/* Adds test_store_packet(id, len) (len at most 512) under id. */
int test_store_add(const mqtls_store *st, uint16_t id, size_t len);
/* Checks st holds exactly ids[0..n) in order, with these lens, states
 * (unless NULL) and contents; fails the running Check test otherwise.
 * Asserts only on a mismatch: ck_assert costs a system call, and this
 * runs after every step of the randomized tests. */
void test_store_holds(const mqtls_store *st, const uint16_t *ids, const size_t *lens,
                      const uint8_t *states, size_t n);

/* Reads a whole (test PKI) file into buf; fails the running test if it
 * is missing or does not fit. Returns its length. */
size_t test_slurp(const char *path, uint8_t *buf, size_t cap);

#if MQTLS_COMPAT_PSA && defined(MBEDTLS_USE_PSA_CRYPTO)
/* A new PSA key pair on P-256, for signing only and not exportable
 * (checked: psa_export_key() is refused). The caller destroys it. */
mbedtls_svc_key_id_t test_psa_signing_key(void);
#endif

#endif
