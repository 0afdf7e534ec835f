/* SPDX-License-Identifier: Apache-2.0 */
#include "test/unit/testutil.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

uint32_t test_rand(uint64_t *state, uint32_t bound)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32) % bound;
}

void test_store_packet(uint8_t *p, size_t len, uint16_t id)
{
    size_t i;
    for (i = 0; i < len; i++)
        p[i] = (uint8_t)(id * 31u + i);
}

int test_store_add(const mqtls_store *st, uint16_t id, size_t len)
{
    uint8_t p[512];
    if (len > sizeof p)
        return MQTLS_ERR_INVALID_ARG;
    test_store_packet(p, len, id);
    return st->add(st->ctx, id, p, len, 0);
}

void test_store_holds(const mqtls_store *st, const uint16_t *ids, const size_t *lens,
                      const uint8_t *states, size_t n)
{
    mqtls_store_iter it = {0, 0};
    mqtls_store_entry e;
    uint8_t want[512];
    size_t i = 0;

    while (st->next(st->ctx, &it, &e) == 1) {
        if (i >= n)
            ck_abort_msg("more than %zu entries", n);
        if (e.packet_id != ids[i] || e.len != lens[i] ||
            (states != NULL && e.state != states[i]))
            ck_abort_msg("entry %zu: id %u len %zu state %u, want id %u len %zu", i,
                         (unsigned)e.packet_id, e.len, (unsigned)e.state, (unsigned)ids[i],
                         lens[i]);
        test_store_packet(want, lens[i], ids[i]);
        if (e.len != 0 && memcmp(e.packet, want, e.len) != 0)
            ck_abort_msg("entry %zu (id %u): packet bytes differ", i, (unsigned)ids[i]);
        i++;
    }
    if (i != n)
        ck_abort_msg("%zu entries walked, want %zu", i, n);
}

size_t test_slurp(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    ck_assert_msg(f != NULL, "cannot open %s", path);
    n = fread(buf, 1, cap, f);
    ck_assert_msg(feof(f), "%s does not fit in %u bytes", path, (unsigned)cap);
    fclose(f);
    return n;
}

#if MQTLS_COMPAT_PSA && defined(MBEDTLS_USE_PSA_CRYPTO)
mbedtls_svc_key_id_t test_psa_signing_key(void)
{
    psa_key_attributes_t a = PSA_KEY_ATTRIBUTES_INIT;
    mbedtls_svc_key_id_t id;
    uint8_t out[200];
    size_t n = 0;

    ck_assert_int_eq(psa_crypto_init(), PSA_SUCCESS);
    psa_set_key_type(&a, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&a, 256);
    psa_set_key_usage_flags(&a, PSA_KEY_USAGE_SIGN_HASH); /* no EXPORT */
    psa_set_key_algorithm(&a, PSA_ALG_ECDSA(PSA_ALG_ANY_HASH));
    ck_assert_int_eq(psa_generate_key(&a, &id), PSA_SUCCESS);
    ck_assert_int_eq(psa_export_key(id, out, sizeof out, &n), PSA_ERROR_NOT_PERMITTED);
    return id;
}
#endif
