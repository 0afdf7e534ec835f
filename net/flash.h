/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — NOR flash, as the port supplies it: the bottom layer under the
 * flash message store and the flash blobs (issue 15; those are built on
 * this interface). Like the transport and the clock, three calls and a
 * geometry; no heap, no OS.
 *
 * NOR semantics, which everything above relies on and nothing more:
 *  - erase sets every byte of one sector to 0xFF;
 *  - program only clears bits (1 -> 0): programming over written bytes
 *    ANDs them, it never sets a bit;
 *  - program works in whole program units (program_unit bytes, aligned):
 *    a unit is written whole, or, when power fails during it, left in an
 *    unknown state (some bits cleared, some not);
 *  - an erase can be interrupted too, leaving the sector partly erased.
 * The host simulator in the tests (test/unit/flash_sim.h) behaves exactly
 * so, and can cut the power at any operation.
 */
#ifndef MQTLS_NET_FLASH_H
#define MQTLS_NET_FLASH_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

typedef struct mqtls_flash {
    void *ctx;             /* the driver's state, passed to each call below */
    uint32_t sector_size;  /* bytes per erasable sector (e.g. 4096) */
    uint32_t sector_count; /* sectors given to mqtls, from address 0 */
    uint32_t program_unit; /* bytes programmed at once: 1, 2, 4, 8 or 16 */
    /* Copies len bytes at addr into buf. MQTLS_OK or MQTLS_ERR_FLASH_IO. */
    int (*read)(void *ctx, uint32_t addr, void *buf, size_t len);
    /* Programs len bytes at addr (both multiples of program_unit, within
     * one sector). MQTLS_OK, MQTLS_ERR_FLASH_ALIGN, or MQTLS_ERR_FLASH_IO. */
    int (*program)(void *ctx, uint32_t addr, const void *buf, size_t len);
    /* Erases sector (0 .. sector_count - 1) to 0xFF. MQTLS_OK or
     * MQTLS_ERR_FLASH_IO. */
    int (*erase)(void *ctx, uint32_t sector);
} mqtls_flash;

/* MQTLS_OK when the geometry is one mqtls can use: every call present,
 * a program unit of 1, 2, 4, 8 or 16 bytes that divides the sector, and
 * at least two sectors of at least 256 bytes. MQTLS_ERR_FLASH_ALIGN
 * otherwise. */
int mqtls_flash_check(const mqtls_flash *f);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
