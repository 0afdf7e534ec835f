/* SPDX-License-Identifier: Apache-2.0 */
#include "ports/qemu-mps2/flash_semihost.h"

#include <string.h>

#include "ports/qemu-mps2/semihost.h"

#define CHUNK 128u

static int fs_read(void *ctx, uint32_t addr, void *buf, size_t len)
{
    mps2_flash *f = ctx;
    if ((uint64_t)addr + len > (uint64_t)f->sector_size * f->sector_count)
        return MQTLS_ERR_FLASH_ALIGN;
    return sh_seek(f->fd, addr) == 0 && sh_read(f->fd, buf, len) == 0 ? MQTLS_OK
                                                                       : MQTLS_ERR_FLASH_IO;
}

/* NOR manners: a program clears bits, never sets them. */
static int fs_program(void *ctx, uint32_t addr, const void *buf, size_t len)
{
    mps2_flash *f = ctx;
    const uint8_t *p = buf;
    uint8_t c[CHUNK];
    size_t done, n, i;
    for (done = 0; done < len; done += n) {
        n = len - done < CHUNK ? len - done : CHUNK;
        if (fs_read(f, addr + (uint32_t)done, c, n) != MQTLS_OK)
            return MQTLS_ERR_FLASH_IO;
        for (i = 0; i < n; i++)
            c[i] &= p[done + i];
        if (sh_seek(f->fd, addr + (uint32_t)done) != 0 || sh_write(f->fd, c, n) != 0)
            return MQTLS_ERR_FLASH_IO;
    }
    return MQTLS_OK;
}

static int erase_range(mps2_flash *f, uint32_t addr, uint32_t len)
{
    uint8_t c[CHUNK];
    uint32_t done, n;
    memset(c, 0xFF, sizeof c);
    for (done = 0; done < len; done += n) {
        n = len - done < CHUNK ? len - done : CHUNK;
        if (sh_seek(f->fd, addr + done) != 0 || sh_write(f->fd, c, n) != 0)
            return MQTLS_ERR_FLASH_IO;
    }
    return MQTLS_OK;
}

static int fs_erase(void *ctx, uint32_t sector)
{
    mps2_flash *f = ctx;
    if (sector >= f->sector_count)
        return MQTLS_ERR_FLASH_ALIGN;
    return erase_range(f, sector * f->sector_size, f->sector_size);
}

int mps2_flash_open(mps2_flash *f, const char *path, uint32_t size, uint32_t count,
                    uint32_t unit, mqtls_flash *out)
{
    f->sector_size = size;
    f->sector_count = count;
    f->fd = sh_open(path, "r+b");
    if (f->fd < 0 || sh_flen(f->fd) != (long)(size * count)) {
        if (f->fd >= 0)
            (void)sh_close(f->fd);
        f->fd = sh_open(path, "w+b"); /* new, or of another geometry: erased */
        if (f->fd < 0 || erase_range(f, 0, size * count) != MQTLS_OK)
            return MQTLS_ERR_FLASH_IO;
    }
    out->ctx = f;
    out->sector_size = size;
    out->sector_count = count;
    out->program_unit = unit;
    out->read = fs_read;
    out->program = fs_program;
    out->erase = fs_erase;
    return mqtls_flash_check(out);
}
