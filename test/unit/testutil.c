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
