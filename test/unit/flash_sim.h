/* SPDX-License-Identifier: Apache-2.0 */
/* A NOR flash in RAM for the tests (net/flash.h), that cuts the power on
 * demand: at operation N (every read, program and erase counts) the
 * operation is torn — the program unit being written gets random bits
 * cleared, or is left partly programmed; the erase leaves the sector
 * partly erased — and from then on every call fails with
 * MQTLS_ERR_FLASH_IO until flash_sim_reboot(), which keeps the image, as
 * a real chip does. It also checks the callers' manners: programming a
 * bit from 0 to 1 (NOR cannot) is counted in `violations`, programming a
 * unit twice between erases in `reprograms`. */
#ifndef MQTLS_TEST_FLASH_SIM_H
#define MQTLS_TEST_FLASH_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/flash.h"

#define FLASH_SIM_MAX (64u * 1024u)
#define FLASH_SIM_SECTORS 64u

typedef enum flash_sim_tear {
    FLASH_TEAR_RANDOM = 0, /* the torn unit: random bits of the new data cleared */
    FLASH_TEAR_PARTIAL     /* the torn unit: its first bytes written, the rest not */
} flash_sim_tear;

typedef struct flash_sim {
    uint8_t mem[FLASH_SIM_MAX];
    uint32_t sector_size, sector_count, unit;
    uint32_t erases[FLASH_SIM_SECTORS]; /* per sector, over the sim's life */
    unsigned long ops;        /* operations so far (reads, programs, erases) */
    long cut_at;              /* the operation that loses power; -1: never */
    bool dead;                /* the power is off */
    flash_sim_tear tear;
    uint32_t seed;            /* for the torn bits */
    unsigned long violations; /* programs that wanted a 0 -> 1 */
    unsigned long reprograms; /* programs of a unit already programmed since its
                                 erase (flash with ECC, e.g. STM32L4, forbids it) */
    uint8_t written[FLASH_SIM_MAX / 8]; /* a bit per byte programmed since erase */
} flash_sim;

/* An erased flash of count sectors of size bytes, program unit unit. */
void flash_sim_init(flash_sim *s, uint32_t size, uint32_t count, uint32_t unit);
/* The flash interface over s. */
void flash_sim_as(flash_sim *s, mqtls_flash *out);
/* Power returns; the image stays; no cut is armed. */
void flash_sim_reboot(flash_sim *s);

#endif
