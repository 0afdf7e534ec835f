/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls port for QEMU mps2-an386 — the flash (net/flash.h) as a file on
 * the emulator's host, through semihosting: killing the emulator is a
 * power cut between two flash operations. A real board implements the
 * same three calls with its flash controller (docs/store.md lists the page
 * sizes of common parts). */
#ifndef MPS2_FLASH_SEMIHOST_H
#define MPS2_FLASH_SEMIHOST_H

#include <stdint.h>

#include "net/flash.h"

typedef struct mps2_flash {
    int fd;
    uint32_t sector_size, sector_count;
} mps2_flash;

/* Opens (creating it erased if missing or of another size) the image at
 * path on the host, count sectors of size bytes, programmed in units of
 * unit bytes. MQTLS_OK or MQTLS_ERR_FLASH_IO. */
int mps2_flash_open(mps2_flash *f, const char *path, uint32_t size, uint32_t count,
                    uint32_t unit, mqtls_flash *out);

#endif
