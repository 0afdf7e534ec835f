/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L

#include "net/flash_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK 256u

static int fail(mqtls_flash_file *f)
{
    f->last_errno = errno;
    return MQTLS_ERR_FLASH_IO;
}

static int in_range(const mqtls_flash_file *f, uint32_t addr, size_t len)
{
    return f->fd >= 0 && len <= f->size && addr <= f->size - len;
}

static int ff_read(void *ctx, uint32_t addr, void *buf, size_t len)
{
    mqtls_flash_file *f = ctx;
    if (!in_range(f, addr, len))
        return MQTLS_ERR_FLASH_ALIGN;
    return pread(f->fd, buf, len, (off_t)addr) == (ssize_t)len ? MQTLS_OK : fail(f);
}

/* Programs in chunks, each read, ANDed and written back whole. */
static int ff_program(void *ctx, uint32_t addr, const void *buf, size_t len)
{
    mqtls_flash_file *f = ctx;
    const uint8_t *p = buf;
    uint8_t c[CHUNK];
    size_t done, n, i;

    if (!in_range(f, addr, len))
        return MQTLS_ERR_FLASH_ALIGN;
    for (done = 0; done < len; done += n) {
        n = len - done < CHUNK ? len - done : CHUNK;
        if (pread(f->fd, c, n, (off_t)(addr + done)) != (ssize_t)n)
            return fail(f);
        for (i = 0; i < n; i++)
            c[i] &= p[done + i];
        if (pwrite(f->fd, c, n, (off_t)(addr + done)) != (ssize_t)n)
            return fail(f);
    }
    return MQTLS_OK;
}

static int ff_erase_range(mqtls_flash_file *f, uint32_t addr, uint32_t len)
{
    uint8_t c[CHUNK];
    uint32_t done, n;
    memset(c, 0xFF, sizeof c);
    for (done = 0; done < len; done += n) {
        n = len - done < CHUNK ? len - done : CHUNK;
        if (pwrite(f->fd, c, n, (off_t)(addr + done)) != (ssize_t)n)
            return fail(f);
    }
    return MQTLS_OK;
}

static int ff_erase(void *ctx, uint32_t sector)
{
    mqtls_flash_file *f = ctx;
    const uint32_t size = f->sector_size;
    if (f->fd < 0 || size == 0 || sector >= f->size / size)
        return MQTLS_ERR_FLASH_ALIGN;
    return ff_erase_range(f, sector * size, size);
}

int mqtls_flash_file_open(mqtls_flash_file *f, const char *path, uint32_t sector_size,
                          uint32_t count, uint32_t unit, mqtls_flash *out)
{
    struct stat sb;
    int ret;

    if (f == NULL || path == NULL || out == NULL)
        return MQTLS_ERR_INVALID_ARG;
    memset(f, 0, sizeof f[0]);
    f->fd = -1;
    out->ctx = f;
    out->sector_size = sector_size;
    out->sector_count = count;
    out->program_unit = unit;
    out->read = ff_read;
    out->program = ff_program;
    out->erase = ff_erase;
    if ((ret = mqtls_flash_check(out)) != MQTLS_OK)
        return ret;
    if ((uint64_t)sector_size * count > 0x7FFFFFFFu)
        return MQTLS_ERR_FLASH_ALIGN;
    f->size = sector_size * count;
    f->sector_size = sector_size;
    f->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (f->fd < 0)
        return fail(f);
    if (fstat(f->fd, &sb) != 0)
        goto failed;
    if (sb.st_size == 0) {
        if (ff_erase_range(f, 0, f->size) != MQTLS_OK)
            goto failed;
    } else if (sb.st_size != (off_t)f->size) {
        errno = EINVAL; /* another geometry: not ours to reshape */
        goto failed;
    }
    return MQTLS_OK;
failed:
    ret = fail(f);
    close(f->fd);
    f->fd = -1;
    return ret;
}

void mqtls_flash_file_close(mqtls_flash_file *f)
{
    if (f != NULL && f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
}
