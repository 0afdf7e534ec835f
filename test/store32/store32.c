/* SPDX-License-Identifier: Apache-2.0 */
/* The RAM store built for a 32-bit target (ARM, run by qemu-arm): a
 * length near SIZE_MAX must be refused before any arithmetic with it (with
 * a 32-bit size_t the record size used to wrap to almost nothing, and the
 * copy ran off the buffer). Run by make store32 (in make check). */
#include <stdint.h>
#include <stdio.h>

#include "mqtt/store.h"

int main(void)
{
    static uint8_t ring[1024], packet[16];
    mqtls_ram_store rs;
    mqtls_store st;
    int failed = 0;
    const size_t lens[] = {SIZE_MAX, SIZE_MAX - 3, SIZE_MAX - 7, SIZE_MAX - 15, sizeof ring};
    size_t i;

    if (sizeof(size_t) != 4) {
        puts("store32: not a 32-bit build");
        return 1;
    }
    mqtls_ram_store_init(&rs);
    mqtls_ram_store_setup(&rs, ring, sizeof ring);
    mqtls_ram_store_interface(&rs, &st);
    for (i = 0; i < sizeof lens / sizeof lens[0]; i++)
        if (st.add(st.ctx, (uint16_t)(i + 1), packet, lens[i], 0) != MQTLS_ERR_PACKET_TOO_LARGE) {
            printf("store32: a %lu-byte packet was not refused\n", (unsigned long)lens[i]);
            failed++;
        }
    if (mqtls_ram_store_count(&rs) != 0)
        failed++;
    printf("store32: lengths that would wrap a 32-bit size_t are refused\n");
    printf("%d passed, %d failed\n", failed == 0 ? 1 : 0, failed == 0 ? 0 : 1);
    return failed == 0 ? 0 : 1;
}
