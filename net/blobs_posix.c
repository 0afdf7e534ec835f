/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L

#include "net/blobs_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net/crc32.h"

static const uint8_t MAGIC[8] = {'m', 'q', 't', 'l', 's', 'B', '1', '\n'};
#define HEADER 16u

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int path_of(const mqtls_blob_dir *d, const char *name, const char *suffix, char *out,
                   size_t cap)
{
    int n;
    if (mqtls_blob_name_check(name) != MQTLS_OK)
        return MQTLS_ERR_INVALID_ARG;
    n = snprintf(out, cap, "%s/%s%s", d->dir, name, suffix);
    return n > 0 && (size_t)n < cap ? MQTLS_OK : MQTLS_ERR_INVALID_ARG;
}

static int io_error(mqtls_blob_dir *d)
{
    d->last_errno = errno;
    return MQTLS_ERR_BLOB_IO;
}

/* Reads exactly n bytes at the current offset; 0, or -1 on error or EOF. */
static int read_all(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t got = read(fd, p, n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t put = write(fd, p, n);
        if (put < 0 && errno == EINTR)
            continue;
        if (put <= 0)
            return -1;
        p += put;
        n -= (size_t)put;
    }
    return 0;
}

static int blob_read(void *ctx, const char *name, uint8_t *buf, size_t cap, size_t *len)
{
    mqtls_blob_dir *d = ctx;
    char path[256];
    uint8_t h[HEADER], probe;
    uint32_t n;
    int fd, ret;

    if (len == NULL || (buf == NULL && cap != 0))
        return MQTLS_ERR_INVALID_ARG;
    if ((ret = path_of(d, name, "", path, sizeof path)) != MQTLS_OK)
        return ret;
    fd = open(path, O_RDONLY);
    if (fd < 0)
        return errno == ENOENT ? MQTLS_ERR_BLOB_NOT_FOUND : io_error(d);
    if (read_all(fd, h, HEADER) != 0 || memcmp(h, MAGIC, sizeof MAGIC) != 0) {
        close(fd);
        return MQTLS_ERR_BLOB_CORRUPT;
    }
    n = get32(h + 8);
    *len = n;
    if (n > cap) {
        close(fd);
        return MQTLS_ERR_BUFFER_TOO_SMALL;
    }
    /* The content must be exactly n bytes and match its CRC. */
    ret = (read_all(fd, buf, n) == 0 && read(fd, &probe, 1) == 0 &&
           mqtls_crc32(0, buf, n) == get32(h + 12))
              ? MQTLS_OK
              : MQTLS_ERR_BLOB_CORRUPT;
    close(fd);
    if (ret != MQTLS_OK && n != 0)
        memset(buf, 0, n); /* never hand out half a blob (buf may be NULL when n is 0) */
    return ret;
}

static void step(mqtls_blob_dir *d, int k)
{
    if (d->after_step != NULL)
        d->after_step(d->test_ctx, k);
}

static int blob_write(void *ctx, const char *name, const uint8_t *data, size_t len)
{
    mqtls_blob_dir *d = ctx;
    char path[256], tmp[256];
    uint8_t h[HEADER];
    int fd, ret;

    if ((data == NULL && len != 0) || len > UINT32_MAX - HEADER)
        return MQTLS_ERR_INVALID_ARG;
    if ((ret = path_of(d, name, "", path, sizeof path)) != MQTLS_OK ||
        (ret = path_of(d, name, ".tmp", tmp, sizeof tmp)) != MQTLS_OK)
        return ret;
    memcpy(h, MAGIC, sizeof MAGIC);
    put32(h + 8, (uint32_t)len);
    put32(h + 12, mqtls_crc32(0, data, len));
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return io_error(d);
    if (write_all(fd, h, HEADER) != 0 || write_all(fd, data, len) != 0) {
        ret = io_error(d);
        close(fd);
        unlink(tmp);
        return ret;
    }
    step(d, 1);
    if (fsync(fd) != 0) {
        ret = io_error(d);
        close(fd);
        unlink(tmp);
        return ret;
    }
    step(d, 2);
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        ret = io_error(d);
        unlink(tmp);
        return ret;
    }
    step(d, 3);
    /* The rename itself must reach the disk before we say "done". */
    fd = open(d->dir, O_RDONLY);
    if (fd < 0)
        return io_error(d);
    ret = fsync(fd) == 0 ? MQTLS_OK : io_error(d);
    close(fd);
    step(d, 4);
    return ret;
}

static int blob_remove(void *ctx, const char *name)
{
    mqtls_blob_dir *d = ctx;
    char path[256];
    int ret, fd;

    if ((ret = path_of(d, name, "", path, sizeof path)) != MQTLS_OK)
        return ret;
    if (unlink(path) != 0 && errno != ENOENT)
        return io_error(d);
    fd = open(d->dir, O_RDONLY);
    if (fd < 0)
        return io_error(d);
    ret = fsync(fd) == 0 ? MQTLS_OK : io_error(d);
    close(fd);
    return ret;
}

int mqtls_blob_dir_setup(mqtls_blob_dir *d, const char *dir, mqtls_blobs *out)
{
    size_t n;
    if (d == NULL || dir == NULL || out == NULL)
        return MQTLS_ERR_INVALID_ARG;
    n = strlen(dir);
    if (n == 0 || n >= sizeof d->dir)
        return MQTLS_ERR_INVALID_ARG;
    memset(d, 0, sizeof *d);
    memcpy(d->dir, dir, n + 1);
    out->ctx = d;
    out->read = blob_read;
    out->write = blob_write;
    out->remove = blob_remove;
    return MQTLS_OK;
}
