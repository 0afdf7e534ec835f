/* SPDX-License-Identifier: Apache-2.0 */
/* The first firmware: proves the port on the emulated Cortex-M4. Starts
 * the clock, reads entropy and calendar time from the host, mounts the
 * flash message store over the flash file and adds one message, so each
 * boot finds one more (the store's promise, on the target's own
 * instructions), then says what it found and exits. */
#include <stdio.h>
#include <string.h>

#include "mqtt/store_flash.h"
#include "ports/qemu-mps2/board.h"
#include "ports/qemu-mps2/flash_semihost.h"
#include "ports/qemu-mps2/semihost.h"

static mqtls_flash_store_slot slots[32];
static mqtls_flash_store_sector sectors[4];
static uint8_t packet[128];

int main(void)
{
    static const uint8_t publish[] = {0x32, 0x0A, 0x00, 0x03, 't', '/', 'x', 0x00, 0x01, 'h', 'i', '!'};
    mps2_flash mf;
    mqtls_flash fl;
    mqtls_flash_store fs;
    mqtls_store st;
    char line[128];
    uint8_t rnd[4] = {0, 0, 0, 0};
    uint32_t t0, spins;
    int fd, ret;
    uint16_t id;

    board_init();
    t0 = board_ms();
    for (spins = 0; board_ms() - t0 < 20 && spins < 100000000u; spins++)
        ;
    fd = sh_open("/dev/urandom", "rb");
    if (fd < 0 || sh_read(fd, rnd, sizeof rnd) != 0)
        return 1;
    (void)sh_close(fd);
    if (mps2_flash_open(&mf, "mps2-hello.flash", 1024, 4, 8, &fl) != MQTLS_OK)
        return 2;
    ret = mqtls_flash_store_mount(&fs, &fl, slots, 32, sectors, packet, sizeof packet);
    if (ret != MQTLS_OK || mqtls_flash_store_interface(&fs, &st) != MQTLS_OK)
        return 4;
    id = (uint16_t)(mqtls_flash_store_count(&fs) + 1);
    if (st.add(st.ctx, id, publish, sizeof publish, sh_time()) != MQTLS_OK)
        return 5;
    snprintf(line, sizeof line,
             "mps2: clock %lu ms, time %lu, entropy %02x%02x%02x%02x, %u stored messages, "
             "stack %u bytes\n",
             (unsigned long)(board_ms() - t0), (unsigned long)sh_time(), rnd[0], rnd[1], rnd[2],
             rnd[3], (unsigned)mqtls_flash_store_count(&fs),
             (unsigned)board_stack_high_water());
    sh_puts(line);
    return 0;
}
