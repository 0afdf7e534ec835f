/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L

#include "mqtt/posix/store_file.h"
#include "net/crc32.h"
#include "net/le32.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Journal: MAGIC, then records, each
 *   u8 op, u8 state, u16 packet_id, u32 len, len bytes, u32 crc32
 * little-endian; the CRC covers the header and the bytes. OP_ADD_AT's
 * bytes are the u32 time stamp, then the packet; OP_ADD (written before
 * time stamps existed, still read) is the packet alone, time 0. */
static const char MAGIC[8] = {'m', 'q', 't', 'l', 's', 'J', '1', '\n'};
#define OP_ADD 1
#define OP_STATE 2
#define OP_REMOVE 3
#define OP_ADD_AT 4
#define HEADER 8u
#define TRAILER 4u

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One record to fd; *bytes gets its size. */
/* One record to fd; *bytes gets its size. OP_ADD_AT: the time stamp goes
 * before data. */
static int write_record(int fd, unsigned op, unsigned state, uint16_t id, const uint8_t *data,
                        size_t len, uint32_t time, size_t *bytes)
{
    uint8_t head[HEADER + 4], tail[TRAILER];
    const size_t pre = op == OP_ADD_AT ? 4u : 0u;

    head[0] = (uint8_t)op;
    head[1] = (uint8_t)state;
    head[2] = (uint8_t)id;
    head[3] = (uint8_t)(id >> 8);
    mqtls_put_le32(head + 4, (uint32_t)(len + pre));
    mqtls_put_le32(head + HEADER, time);
    mqtls_put_le32(tail, mqtls_crc32(mqtls_crc32(0, head, HEADER + pre), data, len));
    if (write_all(fd, head, HEADER + pre) != 0 || (len != 0 && write_all(fd, data, len) != 0) ||
        write_all(fd, tail, TRAILER) != 0)
        return -1;
    *bytes = HEADER + pre + len + TRAILER;
    return 0;
}

static int io_fail(mqtls_file_store *s)
{
    s->last_errno = errno;
    return MQTLS_ERR_STORE_IO;
}

static int sync_dir_of(const char *path)
{
    char dir[256];
    const char *slash = strrchr(path, '/');
    int fd, ret;

    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    fd = open(dir, O_RDONLY);
    if (fd < 0)
        return -1;
    ret = fsync(fd);
    close(fd);
    return ret;
}

/* Appends one record and makes it durable. On failure the journal is cut
 * back to where it was, so a later record is never stuck behind a torn
 * one. */
static int journal(mqtls_file_store *s, unsigned op, unsigned state, uint16_t id,
                   const uint8_t *data, size_t len, uint32_t time)
{
    size_t bytes = 0;

    if (write_record(s->fd, op, state, id, data, len, time, &bytes) != 0 || fdatasync(s->fd) != 0) {
        int ret = io_fail(s);
        if (ftruncate(s->fd, (off_t)s->journal_bytes) == 0)
            (void)fdatasync(s->fd);
        return ret;
    }
    s->journal_bytes += bytes;
    return MQTLS_OK;
}

static int load(mqtls_file_store *s);

/* Rewrites the journal as one ADD per live entry: PATH.tmp, sync, rename,
 * sync the directory. The new file is written through the descriptor that
 * then becomes the journal's, so nothing has to be reopened after the
 * rename (a reopen that failed would leave records going to the old,
 * replaced file). */
static int compact(mqtls_file_store *s)
{
    char tmp[sizeof s->path + 8];
    mqtls_store ram;
    mqtls_store_iter it = {0, 0};
    mqtls_store_entry e;
    size_t total = sizeof MAGIC, bytes;
    int fd;

    snprintf(tmp, sizeof tmp, "%s.tmp", s->path);
    fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return io_fail(s);
    mqtls_ram_store_interface(&s->ram, &ram);
    if (write_all(fd, (const uint8_t *)MAGIC, sizeof MAGIC) != 0)
        goto fail;
    while (ram.next(ram.ctx, &it, &e) == 1) {
        if (write_record(fd, OP_ADD_AT, e.state, e.packet_id, e.packet, e.len, e.time, &bytes) != 0)
            goto fail;
        total += bytes;
    }
    if (fdatasync(fd) != 0 || rename(tmp, s->path) != 0)
        goto fail;
    /* The journal on disk is the new file now. */
    close(s->fd);
    s->fd = fd;
    s->journal_bytes = total;
    if (sync_dir_of(s->path) != 0) {
        /* Until the rename is durable a crash may bring the old journal
         * back, without what would be appended to the new one: stop
         * rather than promise durability (every later change fails with
         * MQTLS_ERR_STORE_IO; reopen the store). */
        int ret = io_fail(s);
        close(s->fd);
        s->fd = -1;
        return ret;
    }
    return load(s); /* the ring takes the compacted layout too */
fail:
    s->last_errno = errno;
    close(fd);
    unlink(tmp);
    return MQTLS_ERR_STORE_IO; /* the old journal is untouched */
}

static void maybe_compact(mqtls_file_store *s)
{
    /* A failed compaction leaves the old journal, still correct. */
    if (s->journal_bytes > 2 * s->ram.cap + 4096)
        (void)compact(s);
}

/* ---- the mqtls_store operations ---------------------------------------------- */

static int file_add(void *ctx, uint16_t packet_id, const uint8_t *packet, size_t len,
                    uint32_t time)
{
    mqtls_file_store *s = ctx;
    mqtls_store ram;
    int ret;

    if (s == NULL)
        return MQTLS_ERR_INVALID_ARG;
    if (s->fd < 0)
        return MQTLS_ERR_STORE_IO; /* closed, or stopped by a failed compaction */
    mqtls_ram_store_interface(&s->ram, &ram);
    ret = ram.add(ram.ctx, packet_id, packet, len, time); /* checks room and the id */
    if (ret != MQTLS_OK)
        return ret;
    ret = journal(s, OP_ADD_AT, MQTLS_STORE_PUBLISH, packet_id, packet, len, time);
    if (ret != MQTLS_OK) {
        (void)ram.remove(ram.ctx, packet_id); /* not durable: not taken */
        return ret;
    }
    maybe_compact(s);
    return MQTLS_OK;
}

static int file_set_state(void *ctx, uint16_t packet_id, mqtls_store_state state)
{
    mqtls_file_store *s = ctx;
    mqtls_store ram;
    mqtls_store_entry e;
    int ret;

    if (s == NULL || (state != MQTLS_STORE_PUBLISH && state != MQTLS_STORE_PUBREL))
        return MQTLS_ERR_INVALID_ARG;
    if (s->fd < 0)
        return MQTLS_ERR_STORE_IO;
    mqtls_ram_store_interface(&s->ram, &ram);
    ret = ram.find(ram.ctx, packet_id, &e);
    if (ret == MQTLS_OK)
        ret = journal(s, OP_STATE, state, packet_id, NULL, 0, 0);
    if (ret == MQTLS_OK)
        ret = ram.set_state(ram.ctx, packet_id, state);
    if (ret == MQTLS_OK)
        maybe_compact(s);
    return ret;
}

static int file_remove(void *ctx, uint16_t packet_id)
{
    mqtls_file_store *s = ctx;
    mqtls_store ram;
    mqtls_store_entry e;
    int ret;

    if (s == NULL)
        return MQTLS_ERR_INVALID_ARG;
    if (s->fd < 0)
        return MQTLS_ERR_STORE_IO;
    mqtls_ram_store_interface(&s->ram, &ram);
    ret = ram.find(ram.ctx, packet_id, &e);
    if (ret == MQTLS_OK)
        ret = journal(s, OP_REMOVE, 0, packet_id, NULL, 0, 0);
    if (ret == MQTLS_OK)
        ret = ram.remove(ram.ctx, packet_id);
    if (ret == MQTLS_OK)
        maybe_compact(s);
    return ret;
}

static int file_next(void *ctx, mqtls_store_iter *it, mqtls_store_entry *out)
{
    mqtls_file_store *s = ctx;
    mqtls_store ram;
    if (s == NULL)
        return MQTLS_ERR_INVALID_ARG;
    mqtls_ram_store_interface(&s->ram, &ram);
    return ram.next(ram.ctx, it, out);
}

static int file_find(void *ctx, uint16_t packet_id, mqtls_store_entry *out)
{
    mqtls_file_store *s = ctx;
    mqtls_store ram;
    if (s == NULL)
        return MQTLS_ERR_INVALID_ARG;
    mqtls_ram_store_interface(&s->ram, &ram);
    return ram.find(ram.ctx, packet_id, out);
}

/* ---- open: replay ----------------------------------------------------------- */

/* Applies the journal's records to the RAM ring; *good gets the offset
 * after the last sound record. */
static int replay(mqtls_file_store *s, const uint8_t *map, size_t size, size_t *good)
{
    mqtls_store ram;
    size_t off = sizeof MAGIC;
    int ret = MQTLS_OK;

    mqtls_ram_store_interface(&s->ram, &ram);
    while (size - off >= HEADER + TRAILER) {
        const uint8_t *r = map + off;
        const size_t len = mqtls_get_le32(r + 4);
        const uint16_t id = (uint16_t)(r[2] | r[3] << 8);
        if (len > size - off - HEADER - TRAILER)
            break; /* torn: runs past the end */
        if (mqtls_crc32(0, r, HEADER + len) != mqtls_get_le32(r + HEADER + len))
            break; /* torn: not what was written */
        switch (r[0]) {
        case OP_ADD:
        case OP_ADD_AT: {
            const size_t pre = r[0] == OP_ADD_AT ? 4u : 0u;
            if (len < pre) {
                ret = MQTLS_ERR_STORE_CORRUPT;
                break;
            }
            ret = ram.add(ram.ctx, id, r + HEADER + pre, len - pre,
                          pre != 0 ? mqtls_get_le32(r + HEADER) : 0u);
            if (ret == MQTLS_OK && r[1] == MQTLS_STORE_PUBREL)
                ret = ram.set_state(ram.ctx, id, MQTLS_STORE_PUBREL);
            break;
        }
        case OP_STATE:
            ret = ram.set_state(ram.ctx, id, (mqtls_store_state)r[1]);
            break;
        case OP_REMOVE:
            ret = ram.remove(ram.ctx, id);
            break;
        default:
            ret = MQTLS_ERR_STORE_CORRUPT;
            break;
        }
        if (ret == MQTLS_ERR_STORE_FULL || ret == MQTLS_ERR_PACKET_TOO_LARGE)
            return MQTLS_ERR_STORE_FULL;
        if (ret != MQTLS_OK)
            return MQTLS_ERR_STORE_CORRUPT; /* sound records that contradict */
        off += HEADER + len + TRAILER;
    }
    *good = off;
    return MQTLS_OK;
}

void mqtls_file_store_init(mqtls_file_store *s)
{
    if (s == NULL)
        return;
    memset(s, 0, sizeof *s);
    mqtls_ram_store_init(&s->ram);
    s->fd = -1;
}

/* Empties the ring and fills it from the journal on s->fd, exactly as any
 * later open would: the process and the file then share one layout, so
 * both make the same "full" decisions. Cuts off a torn tail. */
static int load(mqtls_file_store *s)
{
    struct stat st;
    size_t size, good = sizeof MAGIC;
    void *map;
    int ret;

    ret = mqtls_ram_store_setup(&s->ram, s->ram.buf, s->ram.cap);
    if (ret != MQTLS_OK)
        return ret;
    if (fstat(s->fd, &st) != 0)
        return io_fail(s);
    size = (size_t)st.st_size;
    if (size == 0) {
        if (write_all(s->fd, (const uint8_t *)MAGIC, sizeof MAGIC) != 0 || fdatasync(s->fd) != 0)
            return io_fail(s);
        if (sync_dir_of(s->path) != 0) /* a new journal's name must last too */
            return io_fail(s);
        s->journal_bytes = sizeof MAGIC;
        return MQTLS_OK;
    }
    map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, s->fd, 0);
    if (map == MAP_FAILED)
        return io_fail(s);
    ret = size < sizeof MAGIC || memcmp(map, MAGIC, sizeof MAGIC) != 0
              ? MQTLS_ERR_STORE_CORRUPT
              : replay(s, map, size, &good);
    munmap(map, size);
    if (ret != MQTLS_OK)
        return ret;
    s->torn_bytes += size - good;
    if (size != good && (ftruncate(s->fd, (off_t)good) != 0 || fdatasync(s->fd) != 0))
        return io_fail(s);
    s->journal_bytes = good;
    return MQTLS_OK;
}

int mqtls_file_store_open(mqtls_file_store *s, const char *path, uint8_t *buf, size_t cap)
{
    int ret;

    if (s == NULL || path == NULL || strlen(path) >= sizeof s->path)
        return MQTLS_ERR_INVALID_ARG;
    mqtls_file_store_init(s);
    ret = mqtls_ram_store_setup(&s->ram, buf, cap);
    if (ret != MQTLS_OK)
        return ret;
    memcpy(s->path, path, strlen(path) + 1);
    s->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (s->fd < 0)
        return io_fail(s);
    ret = load(s);
    if (ret != MQTLS_OK) {
        close(s->fd);
        s->fd = -1;
        return ret;
    }
    maybe_compact(s);
    return MQTLS_OK;
}

int mqtls_file_store_interface(mqtls_file_store *s, mqtls_store *out)
{
    if (s == NULL || out == NULL)
        return MQTLS_ERR_INVALID_ARG;
    out->ctx = s;
    out->add = file_add;
    out->set_state = file_set_state;
    out->remove = file_remove;
    out->next = file_next;
    out->find = file_find;
    return MQTLS_OK;
}

void mqtls_file_store_close(mqtls_file_store *s)
{
    if (s == NULL || s->fd < 0)
        return;
    close(s->fd);
    s->fd = -1;
}
