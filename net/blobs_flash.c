/* SPDX-License-Identifier: Apache-2.0 */
/* Named blobs on NOR flash (net/blobs_flash.h). On flash, little-endian:
 *   sector header (16 bytes): "MQBS", sector sequence, format, CRC-32 of
 *     the 12 bytes before it;
 *   record: "MQB1", kind (1 data, 2 removed, 3 commit), name length,
 *     0, 0, data length (u32), name, data, CRC-32 of all before it;
 *     every header and record padded to the program unit with 0xFF.
 * The current sector is the one with the highest sequence whose records
 * include a commit record (a sector filled by a copy is not current until
 * the copy is complete). */
#include "net/blobs_flash.h"

#include <string.h>

#include "net/crc32.h"
#include "net/le32.h"

#define SECTOR_MAGIC 0x5342514Du /* "MQBS" */
#define RECORD_MAGIC 0x3142514Du /* "MQB1" */
#define KIND_DATA 1u
#define KIND_REMOVED 2u
#define KIND_COMMIT 3u
#define HEADER 16u
#define REC_HEAD 12u

static uint32_t round_up(const mqtls_blobs_flash *b, uint32_t n)
{
    const uint32_t u = b->flash.program_unit;
    return (n + u - 1) / u * u;
}

/* A record read from flash: where, what. */
typedef struct rec {
    uint32_t at, size; /* offset in the sector, padded size */
    uint8_t kind, name_len;
    uint32_t data_len;
    char name[MQTLS_BLOB_NAME_MAX + 1];
} rec;

/* The record at offset at of sector s: 1 and *r when whole and checked,
 * 0 when not (erased, torn, or not a record), < 0 on a flash error. */
static int read_record(mqtls_blobs_flash *b, uint32_t s, uint32_t at, rec *r)
{
    const uint32_t base = s * b->flash.sector_size;
    uint8_t head[REC_HEAD], chunk[64], tail[4];
    uint32_t crc, len, i;
    int ret;

    if (at + REC_HEAD + 4 > b->flash.sector_size)
        return 0;
    ret = b->flash.read(b->flash.ctx, base + at, head, REC_HEAD);
    if (ret != MQTLS_OK)
        return ret;
    if (mqtls_get_le32(head) != RECORD_MAGIC || head[4] < KIND_DATA || head[4] > KIND_COMMIT ||
        head[5] > MQTLS_BLOB_NAME_MAX)
        return 0;
    r->kind = head[4];
    r->name_len = head[5];
    r->data_len = mqtls_get_le32(head + 8);
    if (r->data_len > b->flash.sector_size)
        return 0;
    len = REC_HEAD + r->name_len + r->data_len;
    if (at + len + 4 > b->flash.sector_size)
        return 0;
    /* The CRC over the whole record, read in chunks (no buffer for it). */
    crc = mqtls_crc32(0, head, REC_HEAD);
    for (i = REC_HEAD; i < len; i += (uint32_t)sizeof chunk) {
        const uint32_t n = len - i < sizeof chunk ? len - i : (uint32_t)sizeof chunk;
        ret = b->flash.read(b->flash.ctx, base + at + i, chunk, n);
        if (ret != MQTLS_OK)
            return ret;
        if (i == REC_HEAD)
            memcpy(r->name, chunk, r->name_len < n ? r->name_len : n);
        crc = mqtls_crc32(crc, chunk, n);
    }
    ret = b->flash.read(b->flash.ctx, base + at + len, tail, 4);
    if (ret != MQTLS_OK)
        return ret;
    if (mqtls_get_le32(tail) != crc)
        return 0;
    r->name[r->name_len] = '\0';
    r->at = at;
    r->size = round_up(b, len + 4);
    return 1;
}

/* The header of sector s: 1 and *seq when valid, 0 when not, < 0 error. */
static int read_header(mqtls_blobs_flash *b, uint32_t s, uint32_t *seq)
{
    uint8_t h[HEADER];
    int ret = b->flash.read(b->flash.ctx, s * b->flash.sector_size, h, HEADER);
    if (ret != MQTLS_OK)
        return ret;
    if (mqtls_get_le32(h) != SECTOR_MAGIC || mqtls_get_le32(h + 12) != mqtls_crc32(0, h, 12))
        return 0;
    if (mqtls_get_le32(h + 8) != MQTLS_BLOBS_FLASH_FORMAT)
        return MQTLS_ERR_FLASH_FORMAT; /* a newer firmware's: never overwritten */
    *seq = mqtls_get_le32(h + 4);
    return 1;
}

/* Walks sector s's records from its header on; calls fn for each, and
 * sets *end to where the walk stopped and *committed. 0 or an error. */
typedef int (*rec_fn)(void *ctx, const rec *r);
static int walk(mqtls_blobs_flash *b, uint32_t s, rec_fn fn, void *ctx, uint32_t *end,
                int *committed)
{
    uint32_t at = round_up(b, HEADER);
    uint32_t guard;
    rec r;
    *committed = 0;
    for (guard = 0; guard < b->flash.sector_size; guard++) { /* bounded: each step moves on */
        int ret = read_record(b, s, at, &r);
        if (ret < 0)
            return ret;
        if (ret == 0)
            break;
        if (r.kind == KIND_COMMIT)
            *committed = 1;
        else if (fn != NULL && (ret = fn(ctx, &r)) != 0)
            return ret;
        at += r.size;
    }
    *end = at;
    return 0;
}

/* The current sector: *cur, *seq, *end; 0 when there is none yet. */
static int current(mqtls_blobs_flash *b, uint32_t *cur, uint32_t *seq, uint32_t *end)
{
    uint32_t s, best_seq = 0, e;
    int found = 0, committed, ret;
    for (s = 0; s < b->flash.sector_count; s++) {
        uint32_t q = 0;
        ret = read_header(b, s, &q);
        if (ret < 0)
            return ret;
        if (ret == 0 || (found && (int32_t)(q - best_seq) <= 0))
            continue;
        ret = walk(b, s, NULL, NULL, &e, &committed);
        if (ret < 0)
            return ret;
        if (!committed)
            continue;
        found = 1;
        best_seq = q;
        *cur = s;
        *end = e;
    }
    *seq = best_seq;
    return found;
}

/* ---- reading ------------------------------------------------------------------- */

typedef struct find_ctx {
    const char *name;
    rec last;
    int have;
} find_ctx;

static int note_if_named(void *ctx, const rec *r)
{
    find_ctx *f = ctx;
    if (strcmp(r->name, f->name) == 0) {
        f->last = *r;
        f->have = 1;
    }
    return 0;
}

/* The newest record of name in sector s (kind KIND_DATA) into *r: 1, 0. */
static int newest(mqtls_blobs_flash *b, uint32_t s, const char *name, rec *r)
{
    find_ctx f;
    uint32_t end;
    int committed, ret;
    memset(&f, 0, sizeof f);
    f.name = name;
    ret = walk(b, s, note_if_named, &f, &end, &committed);
    if (ret < 0)
        return ret;
    if (!f.have || f.last.kind != KIND_DATA)
        return 0;
    *r = f.last;
    return 1;
}

static int flash_read(void *ctx, const char *name, uint8_t *buf, size_t cap, size_t *len)
{
    mqtls_blobs_flash *b = ctx;
    uint32_t cur, seq, end;
    rec r;
    int ret;

    if (b == NULL || len == NULL || mqtls_blob_name_check(name) != MQTLS_OK ||
        (buf == NULL && cap != 0))
        return MQTLS_ERR_INVALID_ARG;
    ret = current(b, &cur, &seq, &end);
    if (ret <= 0)
        return ret < 0 ? ret : MQTLS_ERR_BLOB_NOT_FOUND;
    ret = newest(b, cur, name, &r);
    if (ret <= 0)
        return ret < 0 ? ret : MQTLS_ERR_BLOB_NOT_FOUND;
    *len = r.data_len;
    if (cap < r.data_len)
        return MQTLS_ERR_BUFFER_TOO_SMALL;
    return b->flash.read(b->flash.ctx, cur * b->flash.sector_size + r.at + REC_HEAD + r.name_len,
                         buf, r.data_len);
}

/* ---- writing ------------------------------------------------------------------- */

/* Programs a record (kind, name, data) at offset at of sector s, in units:
 * its header and name first, then the data from flash or memory, then the
 * CRC. src_addr: when not 0xFFFFFFFF, the data is copied from that flash
 * address (a compaction). 0 or an error. */
static int program_record(mqtls_blobs_flash *b, uint32_t s, uint32_t at, uint8_t kind,
                          const char *name, const uint8_t *data, uint32_t src_addr,
                          uint32_t data_len)
{
    const uint32_t base = s * b->flash.sector_size, u = b->flash.program_unit;
    const uint8_t name_len = (uint8_t)strlen(name);
    const uint32_t len = REC_HEAD + name_len + data_len;
    uint8_t unit[16 + 64];
    uint32_t crc = 0, done = 0, fill = 0, i;
    int ret;

    /* The record is streamed through unit[] whole units at a time. */
    for (i = 0; i < len + 4; i++) {
        uint8_t byte;
        if (i < REC_HEAD) {
            uint8_t head[REC_HEAD];
            mqtls_put_le32(head, RECORD_MAGIC);
            head[4] = kind;
            head[5] = name_len;
            head[6] = head[7] = 0;
            mqtls_put_le32(head + 8, data_len);
            byte = head[i];
        } else if (i < (uint32_t)REC_HEAD + name_len) {
            byte = (uint8_t)name[i - REC_HEAD];
        } else if (i < len) {
            const uint32_t k = i - REC_HEAD - name_len;
            if (src_addr != 0xFFFFFFFFu) {
                ret = b->flash.read(b->flash.ctx, src_addr + k, &byte, 1);
                if (ret != MQTLS_OK)
                    return ret;
            } else {
                byte = data[k];
            }
        } else {
            byte = (uint8_t)(crc >> (8 * (i - len))); /* the CRC, little-endian */
        }
        if (i < len)
            crc = mqtls_crc32(crc, &byte, 1);
        unit[fill++] = byte;
        if (fill == sizeof unit - 16 || i == len + 3) {
            while (fill % u != 0)
                unit[fill++] = 0xFF;
            ret = b->flash.program(b->flash.ctx, base + at + done, unit, fill);
            if (ret != MQTLS_OK)
                return ret;
            done += fill;
            fill = 0;
        }
    }
    return 0;
}

/* Erased from at for n bytes of sector s: 1, 0, or an error. */
static int clean(mqtls_blobs_flash *b, uint32_t s, uint32_t at, uint32_t n)
{
    uint8_t chunk[64];
    uint32_t i, k;
    if (at + n > b->flash.sector_size)
        return 0;
    for (i = 0; i < n; i += (uint32_t)sizeof chunk) {
        const uint32_t m = n - i < sizeof chunk ? n - i : (uint32_t)sizeof chunk;
        int ret = b->flash.read(b->flash.ctx, s * b->flash.sector_size + at + i, chunk, m);
        if (ret != MQTLS_OK)
            return ret;
        for (k = 0; k < m; k++)
            if (chunk[k] != 0xFF)
                return 0;
    }
    return 1;
}

/* Copying the live blobs of sector from into sector to, except skip. */
typedef struct copy_ctx {
    mqtls_blobs_flash *b;
    uint32_t from, to, at;
    const char *skip;
    int error;
} copy_ctx;

static int copy_one(void *ctx, const rec *r)
{
    copy_ctx *c = ctx;
    rec n;
    int ret;
    if (strcmp(r->name, c->skip) == 0)
        return 0;
    /* Only the newest record of each name, and only a live one (a walk
     * per record: quadratic, over the few blobs a sector holds). */
    ret = newest(c->b, c->from, r->name, &n);
    if (ret < 0)
        return ret;
    if (ret == 0 || n.at != r->at)
        return 0;
    ret = program_record(c->b, c->to, c->at, KIND_DATA, r->name, NULL,
                         c->from * c->b->flash.sector_size + r->at + REC_HEAD + r->name_len,
                         r->data_len);
    if (ret != 0)
        return ret;
    c->at += r->size;
    return 0;
}

/* The header that opens sector s with sequence seq. */
static int write_header(mqtls_blobs_flash *b, uint32_t s, uint32_t seq)
{
    uint8_t h[HEADER + 16];
    memset(h, 0xFF, sizeof h);
    mqtls_put_le32(h, SECTOR_MAGIC);
    mqtls_put_le32(h + 4, seq);
    mqtls_put_le32(h + 8, MQTLS_BLOBS_FLASH_FORMAT);
    mqtls_put_le32(h + 12, mqtls_crc32(0, h, 12));
    return b->flash.program(b->flash.ctx, s * b->flash.sector_size, h, round_up(b, HEADER));
}

static int write_record(mqtls_blobs_flash *b, uint8_t kind, const char *name, const uint8_t *data,
                        uint32_t len)
{
    const uint32_t need = round_up(b, REC_HEAD + (uint32_t)strlen(name) + len + 4);
    uint32_t cur = 0, seq = 0, end = 0, to, at;
    int have, ret;
    copy_ctx c;

    have = current(b, &cur, &seq, &end);
    if (have < 0)
        return have;
    if (have) {
        ret = clean(b, cur, end, need);
        if (ret < 0)
            return ret;
        if (ret == 1) { /* room, and erased: append */
            ret = program_record(b, cur, end, kind, name, data, 0xFFFFFFFFu, len);
            return ret != 0 ? ret : MQTLS_OK;
        }
    }
    /* The next sector: erased, headed, the live blobs copied, the new
     * record, then the commit record that makes it current. */
    to = have ? (cur + 1) % b->flash.sector_count : 0;
    ret = b->flash.erase(b->flash.ctx, to);
    if (ret == MQTLS_OK)
        ret = write_header(b, to, seq + 1);
    if (ret != MQTLS_OK)
        return ret;
    at = round_up(b, HEADER);
    if (have) {
        int committed;
        memset(&c, 0, sizeof c);
        c.b = b;
        c.from = cur;
        c.to = to;
        c.at = at;
        c.skip = name;
        ret = walk(b, cur, copy_one, &c, &end, &committed);
        if (ret != 0)
            return ret;
        at = c.at;
    }
    if (kind == KIND_DATA) {
        if (at + need + round_up(b, REC_HEAD + 4) > b->flash.sector_size)
            return MQTLS_ERR_BLOB_IO; /* does not fit even in a fresh sector */
        ret = program_record(b, to, at, kind, name, data, 0xFFFFFFFFu, len);
        if (ret != 0)
            return ret;
        at += need;
    }
    ret = program_record(b, to, at, KIND_COMMIT, "", NULL, 0xFFFFFFFFu, 0);
    if (ret != 0)
        return ret;
    b->compactions++;
    return MQTLS_OK;
}

static int flash_write(void *ctx, const char *name, const uint8_t *data, size_t len)
{
    mqtls_blobs_flash *b = ctx;
    if (b == NULL || mqtls_blob_name_check(name) != MQTLS_OK || (data == NULL && len != 0) ||
        len > b->flash.sector_size)
        return MQTLS_ERR_INVALID_ARG;
    return write_record(b, KIND_DATA, name, data, (uint32_t)len);
}

static int flash_remove(void *ctx, const char *name)
{
    mqtls_blobs_flash *b = ctx;
    uint32_t cur, seq, end;
    rec r;
    int ret;
    if (b == NULL || mqtls_blob_name_check(name) != MQTLS_OK)
        return MQTLS_ERR_INVALID_ARG;
    ret = current(b, &cur, &seq, &end);
    if (ret <= 0)
        return ret;
    ret = newest(b, cur, name, &r);
    if (ret <= 0)
        return ret;
    return write_record(b, KIND_REMOVED, name, NULL, 0);
}

int mqtls_blobs_flash_init(mqtls_blobs_flash *b, const mqtls_flash *flash)
{
    int ret;
    if (b == NULL)
        return MQTLS_ERR_INVALID_ARG;
    memset(b, 0, sizeof *b);
    ret = mqtls_flash_check(flash);
    if (ret != MQTLS_OK)
        return ret;
    b->flash = *flash;
    return MQTLS_OK;
}

void mqtls_blobs_flash_interface(mqtls_blobs_flash *b, mqtls_blobs *out)
{
    out->ctx = b;
    out->read = flash_read;
    out->write = flash_write;
    out->remove = flash_remove;
}
