/* SPDX-License-Identifier: Apache-2.0 */
#include "test/unit/flash_sim.h"

#include <string.h>

static uint32_t next_random(flash_sim *s)
{
    s->seed = s->seed * 1103515245u + 12345u;
    return s->seed >> 8;
}

/* Counts the operation; true when the power is (now) off. At the cut the
 * caller tears what it was doing. */
static bool power_lost(flash_sim *s, bool *tear_now)
{
    *tear_now = false;
    if (s->dead)
        return true;
    if (s->cut_at >= 0 && s->ops == (unsigned long)s->cut_at) {
        s->dead = true;
        *tear_now = true;
    }
    s->ops++;
    return s->dead;
}

static int sim_read(void *ctx, uint32_t addr, void *buf, size_t len)
{
    flash_sim *s = ctx;
    bool tear;
    if ((size_t)addr + len > (size_t)s->sector_size * s->sector_count)
        return MQTLS_ERR_FLASH_ALIGN;
    if (power_lost(s, &tear))
        return MQTLS_ERR_FLASH_IO;
    memcpy(buf, s->mem + addr, len);
    return MQTLS_OK;
}

static int sim_program(void *ctx, uint32_t addr, const void *buf, size_t len)
{
    flash_sim *s = ctx;
    const uint8_t *p = buf;
    bool tear;
    size_t i;

    if (addr % s->unit != 0 || len % s->unit != 0 ||
        (size_t)addr + len > (size_t)s->sector_size * s->sector_count ||
        (len > 0 && addr / s->sector_size != (uint32_t)((addr + len - 1) / s->sector_size)))
        return MQTLS_ERR_FLASH_ALIGN;
    if (power_lost(s, &tear) && !tear)
        return MQTLS_ERR_FLASH_IO;
    for (i = 0; i < len; i++) {
        if ((p[i] & ~s->mem[addr + i]) != 0)
            s->violations++;
    }
    for (i = 0; i < len; i += s->unit) {
        const size_t b = addr + i;
        if (s->written[b / 8] & (1u << (b % 8)))
            s->reprograms++;
    }
    for (i = 0; i < len; i++)
        s->written[(addr + i) / 8] |= (uint8_t)(1u << ((addr + i) % 8));
    if (!tear) {
        for (i = 0; i < len; i++)
            s->mem[addr + i] &= p[i];
        return MQTLS_OK;
    }
    /* Torn: the units before a random one are written, that one is left
     * half done, the rest untouched. */
    {
        const size_t units = len / s->unit, torn = next_random(s) % units;
        for (i = 0; i < torn * s->unit; i++)
            s->mem[addr + i] &= p[i];
        for (i = torn * s->unit; i < (torn + 1) * s->unit; i++) {
            uint8_t want = p[i];
            if (s->tear == FLASH_TEAR_RANDOM)
                want = (uint8_t)(want | (uint8_t)next_random(s)); /* some clears not made */
            else if (i - torn * s->unit >= s->unit / 2)
                want = 0xFF; /* the second half never written */
            s->mem[addr + i] &= want;
        }
    }
    return MQTLS_ERR_FLASH_IO;
}

static int sim_erase(void *ctx, uint32_t sector)
{
    flash_sim *s = ctx;
    uint8_t *base;
    bool tear;
    uint32_t i;

    if (sector >= s->sector_count)
        return MQTLS_ERR_FLASH_ALIGN;
    if (power_lost(s, &tear) && !tear)
        return MQTLS_ERR_FLASH_IO;
    base = s->mem + (size_t)sector * s->sector_size;
    s->erases[sector]++;
    if (!tear) {
        memset(base, 0xFF, s->sector_size);
        memset(s->written + (size_t)sector * s->sector_size / 8, 0, s->sector_size / 8);
        return MQTLS_OK;
    }
    /* Interrupted: a random part of the sector erased, the rest as it was
     * or with random bits set (an erase in progress). */
    for (i = 0; i < s->sector_size; i++) {
        uint32_t r = next_random(s);
        if (r % 3 == 0)
            base[i] = 0xFF;
        else if (r % 3 == 1)
            base[i] |= (uint8_t)(r >> 4);
    }
    return MQTLS_ERR_FLASH_IO;
}

void flash_sim_init(flash_sim *s, uint32_t size, uint32_t count, uint32_t unit)
{
    memset(s, 0, sizeof *s);
    if (count > FLASH_SIM_SECTORS)
        count = FLASH_SIM_SECTORS;
    if ((size_t)size * count > FLASH_SIM_MAX)
        count = FLASH_SIM_MAX / size;
    s->sector_size = size;
    s->sector_count = count;
    s->unit = unit;
    s->cut_at = -1;
    s->seed = 12345u;
    memset(s->mem, 0xFF, sizeof s->mem);
}

void flash_sim_as(flash_sim *s, mqtls_flash *out)
{
    out->ctx = s;
    out->sector_size = s->sector_size;
    out->sector_count = s->sector_count;
    out->program_unit = s->unit;
    out->read = sim_read;
    out->program = sim_program;
    out->erase = sim_erase;
}

void flash_sim_reboot(flash_sim *s)
{
    s->dead = false;
    s->cut_at = -1;
}
