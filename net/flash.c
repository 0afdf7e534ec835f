/* SPDX-License-Identifier: Apache-2.0 */
#include "net/flash.h"

int mqtls_flash_check(const mqtls_flash *f)
{
    uint32_t u;
    if (f == NULL || f->read == NULL || f->program == NULL || f->erase == NULL)
        return MQTLS_ERR_INVALID_ARG;
    u = f->program_unit;
    if ((u != 1 && u != 2 && u != 4 && u != 8 && u != 16) || f->sector_count < 2 ||
        f->sector_size < 256 || f->sector_size % u != 0)
        return MQTLS_ERR_FLASH_ALIGN;
    return MQTLS_OK;
}
