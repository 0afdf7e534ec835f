/* SPDX-License-Identifier: Apache-2.0 */
/* The message store on NOR flash (mqtt/store_flash.h). On flash,
 * little-endian, every part padded to the program unit u with 0xFF:
 *   sector header (24 bytes): "MQFS", sector sequence, floor (the highest
 *     reclaimed sequence known when it was opened), erase count, format,
 *     CRC-32 of the 20 bytes before it;
 *   record: kind (1 message, 2 reclaim), flags at writing (1 sent,
 *     2 PUBREL), packet id (u16), packet length (u32), order number (u32;
 *     for a reclaim record: the sequence of the sector reclaimed), time
 *     (u32; not in format 1), the packet, CRC-32 of all before it;
 *     then three mark units: SENT, PUBREL, DONE (erased: not made).
 * A sector is in use when its header checks and its sequence is above
 * every floor and reclaim record found. */
#include "mqtt/store_flash.h"

#include <string.h>

#include "net/crc32.h"
#include "net/le32.h"

#define MAGIC 0x5346514Du /* "MQFS" */
#define HDR 24u
#define HEAD 16u /* a record's head in format 2 (12 in format 1) */
#define K_MSG 1u
#define K_RECLAIM 2u
#define F_SENT 1u
#define F_PUBREL 2u
#define F_DONE 4u
#define NONE 0xFFFFFFFFu

static uint32_t rup(const mqtls_flash_store *s, uint32_t n)
{
    const uint32_t u = s->flash.program_unit;
    return (n + u - 1) / u * u;
}

static uint32_t head_len(unsigned format)
{
    return format == 1 ? 12u : HEAD;
}

/* Where a record's marks start. */
static uint32_t marks_at(const mqtls_flash_store *s, unsigned format, uint32_t len)
{
    return rup(s, head_len(format) + len + 4);
}

/* Bytes a record takes, marks included. */
static uint32_t rec_size(const mqtls_flash_store *s, unsigned format, uint32_t len)
{
    return marks_at(s, format, len) + 3 * s->flash.program_unit;
}

static uint32_t sector_of(const mqtls_flash_store *s, uint32_t addr)
{
    return addr / s->flash.sector_size;
}

/* The port's calls, through one place each (smaller code). */
static int rd(const mqtls_flash_store *s, uint32_t addr, void *buf, uint32_t len)
{
    return s->flash.read(s->flash.ctx, addr, buf, len);
}

static int pg(const mqtls_flash_store *s, uint32_t addr, const void *buf, uint32_t len)
{
    return s->flash.program(s->flash.ctx, addr, buf, len);
}

/* A record read back. */
typedef struct rec {
    uint32_t len, seq, time, size;
    uint16_t id;
    uint8_t kind, flags;
} rec;

/* The record at addr in a sector of the given format: 1 and *r when whole
 * and checked, 0 when not (erased, torn, damaged), < 0 on a flash error. */
static int read_rec(mqtls_flash_store *s, uint32_t addr, unsigned format, rec *r)
{
    const uint32_t hl = head_len(format), u = s->flash.program_unit;
    const uint32_t room = s->flash.sector_size - addr % s->flash.sector_size;
    uint8_t h[HEAD], c[48];
    uint32_t crc, i, m;
    int ret;

    if (room < hl + 4 + 3 * u)
        return 0;
    ret = rd(s, addr, h, hl);
    if (ret != MQTLS_OK)
        return ret;
    r->kind = h[0];
    r->len = mqtls_get_le32(h + 4);
    if ((r->kind != K_MSG && r->kind != K_RECLAIM) || r->len > room - hl - 4 - 3 * u ||
        rec_size(s, format, r->len) > room)
        return 0;
    crc = mqtls_crc32(0, h, hl);
    for (i = 0; i < r->len; i += m) {
        m = r->len - i < sizeof c ? r->len - i : (uint32_t)sizeof c;
        if ((ret = rd(s, addr + hl + i, c, m)) != MQTLS_OK)
            return ret;
        crc = mqtls_crc32(crc, c, m);
    }
    if ((ret = rd(s, addr + hl + r->len, c, 4)) != MQTLS_OK)
        return ret;
    if (mqtls_get_le32(c) != crc)
        return 0;
    /* The marks: a unit not fully erased counts as made. */
    if ((ret = rd(s, addr + marks_at(s, format, r->len), c, 3 * u)) != 0)
        return ret;
    r->flags = (uint8_t)(h[1] & (F_SENT | F_PUBREL));
    for (i = 0; i < 3 * u; i++)
        if (c[i] != 0xFF)
            r->flags |= (uint8_t)(1u << (i / u));
    r->id = (uint16_t)(h[2] | h[3] << 8);
    r->seq = mqtls_get_le32(h + 8);
    r->time = format == 1 ? 0 : mqtls_get_le32(h + 12);
    r->size = rec_size(s, format, r->len);
    return 1;
}

/* Programs a format-2 record at addr: head h, then len packet bytes from
 * src (RAM) or, when src is NULL, from flash at from; then the CRC. */
static int program_rec(mqtls_flash_store *s, uint32_t addr, const uint8_t *h, const uint8_t *src,
                       uint32_t from, uint32_t len)
{
    const uint32_t data = HEAD + len, total = data + 4;
    uint8_t c[64], tail[4];
    uint32_t i = 0, n, k, crc = 0;
    int ret;

    /* The record streamed through c[], whole units at a time. */
    while (i < total) {
        for (n = 0; n < sizeof c && i < total; n += k, i += k) {
            const uint32_t end = i < HEAD ? HEAD : i < data ? data : total;
            k = end - i < sizeof c - n ? end - i : (uint32_t)sizeof c - n;
            if (i < HEAD) {
                memcpy(c + n, h + i, k);
            } else if (i >= data) {
                if (i == data)
                    mqtls_put_le32(tail, crc);
                memcpy(c + n, tail + (i - data), k);
                continue;
            } else if (src != NULL) {
                memcpy(c + n, src + (i - HEAD), k);
            } else if ((ret = rd(s, from + (i - HEAD), c + n, k)) != 0) {
                return ret;
            }
            crc = mqtls_crc32(crc, c + n, k);
        }
        while (n % s->flash.program_unit != 0)
            c[n++] = 0xFF;
        if ((ret = pg(s, addr, c, n)) != MQTLS_OK)
            return ret;
        addr += n;
    }
    return MQTLS_OK;
}

/* Programs mark m (0 SENT, 1 PUBREL, 2 DONE) of a slot's record. */
static int mark(mqtls_flash_store *s, const mqtls_flash_store_slot *e, unsigned m)
{
    static const uint8_t zero[16];
    return pg(s, e->addr + marks_at(s, e->format, e->len) + m * s->flash.program_unit,
                            zero, s->flash.program_unit);
}

static mqtls_flash_store_slot *slot_of(mqtls_flash_store *s, uint16_t id)
{
    size_t i;
    for (i = 0; i < s->count; i++)
        if (s->slots[i].packet_id == id)
            return &s->slots[i];
    return NULL;
}

static void drop_slot(mqtls_flash_store *s, mqtls_flash_store_slot *e)
{
    s->sectors[sector_of(s, e->addr)].live -= rec_size(s, e->format, e->len);
    memmove(e, e + 1, (size_t)(s->slots + --s->count - e) * sizeof *e);
    s->cached = NONE;
}

/* ---- sectors --------------------------------------------------------------------- */

static uint32_t count_free(const mqtls_flash_store *s)
{
    uint32_t i, n = 0;
    for (i = 0; i < s->flash.sector_count; i++)
        n += s->sectors[i].seq == 0;
    return n;
}

/* Erases a free sector, the next after the head, and opens it as head. */
static int open_next(mqtls_flash_store *s)
{
    const uint32_t n = s->flash.sector_count;
    uint32_t i = s->head == n ? 0 : s->head + 1, k;
    uint8_t h[HDR + 8];
    mqtls_flash_store_sector *sec;
    int ret;

    for (k = 0; k < n && s->sectors[i % n].seq != 0; k++)
        i++;
    if (k == n)
        return MQTLS_ERR_STORE_FULL;
    sec = &s->sectors[i % n];
    memset(h, 0xFF, sizeof h);
    mqtls_put_le32(h, MAGIC);
    mqtls_put_le32(h + 4, s->sector_seq + 1);
    mqtls_put_le32(h + 8, s->floor);
    mqtls_put_le32(h + 12, ++sec->erases);
    mqtls_put_le32(h + 16, MQTLS_FLASH_STORE_FORMAT);
    mqtls_put_le32(h + 20, mqtls_crc32(0, h, 20));
    if ((ret = s->flash.erase(s->flash.ctx, i % n)) != MQTLS_OK ||
        (ret = pg(s, i % n * s->flash.sector_size, h, rup(s, HDR))) != 0)
        return ret;
    sec->seq = ++s->sector_seq;
    sec->end = rup(s, HDR);
    sec->live = 0;
    s->head = i % n;
    return MQTLS_OK;
}

/* Writes a format-2 record into the head, opening a sector when it does
 * not fit (a reclaim record may use the reserve kept for it). *at gets
 * its address. */
static int append(mqtls_flash_store *s, const uint8_t *h, const uint8_t *src, uint32_t from,
                  uint32_t len, uint32_t *at)
{
    const uint32_t size = rec_size(s, 2, len), reserve = h[0] == K_RECLAIM ? 0 : rec_size(s, 2, 0);
    mqtls_flash_store_sector *sec;
    int ret;

    if (s->head == s->flash.sector_count ||
        s->sectors[s->head].end + size + reserve > s->flash.sector_size) {
        if ((ret = open_next(s)) != MQTLS_OK)
            return ret;
    }
    sec = &s->sectors[s->head];
    *at = s->head * s->flash.sector_size + sec->end;
    ret = program_rec(s, *at, h, src, from, len);
    sec->end += size; /* on failure too: never program over a torn record */
    if (ret == MQTLS_OK && h[0] == K_MSG)
        sec->live += size;
    return ret;
}

static void make_head(uint8_t *h, unsigned kind, unsigned flags, uint16_t id, uint32_t len,
                      uint32_t seq, uint32_t time)
{
    h[0] = (uint8_t)kind;
    h[1] = (uint8_t)flags;
    h[2] = (uint8_t)id;
    h[3] = (uint8_t)(id >> 8);
    mqtls_put_le32(h + 4, len);
    mqtls_put_le32(h + 8, seq);
    mqtls_put_le32(h + 12, time);
}

/* Copies e's record to the head as format 2, flags and order kept. */
static int copy_slot(mqtls_flash_store *s, mqtls_flash_store_slot *e)
{
    const uint32_t hl = head_len(e->format);
    uint8_t h[HEAD], t[4] = {0, 0, 0, 0};
    uint32_t at;
    int ret;

    if (e->format != 1 && (ret = rd(s, e->addr + 12, t, 4)) != 0)
        return ret;
    make_head(h, K_MSG, e->flags & (F_SENT | F_PUBREL), e->packet_id, e->len, e->seq, mqtls_get_le32(t));
    if ((ret = append(s, h, NULL, e->addr + hl, e->len, &at)) != MQTLS_OK)
        return ret;
    s->sectors[sector_of(s, e->addr)].live -= rec_size(s, e->format, e->len);
    e->addr = at;
    e->format = 2;
    s->copies++;
    return MQTLS_OK;
}

/* Reclaims the oldest sector: its live messages copied to the head, then
 * a reclaim record; the sector is free from then on (erased when used). */
static int reclaim(mqtls_flash_store *s)
{
    uint32_t i, t = s->flash.sector_count, at;
    uint8_t h[HEAD];
    size_t k;
    int ret = MQTLS_OK;

    for (i = 0; i < s->flash.sector_count; i++)
        if (s->sectors[i].seq != 0 && (t == s->flash.sector_count ||
                                       s->sectors[i].seq < s->sectors[t].seq))
            t = i;
    if (s->head == t) /* nothing may be copied into the sector being freed */
        ret = open_next(s);
    for (k = 0; k < s->count && ret == MQTLS_OK; k++)
        if (sector_of(s, s->slots[k].addr) == t)
            ret = copy_slot(s, &s->slots[k]);
    if (ret == MQTLS_OK) {
        make_head(h, K_RECLAIM, 0, 0, 0, s->sectors[t].seq, 0);
        ret = append(s, h, NULL, 0, 0, &at);
    }
    if (ret != MQTLS_OK) {
        s->failed = 1; /* copies and originals both live: mount settles them */
        return ret;
    }
    s->floor = s->sectors[t].seq;
    s->sectors[t].seq = 0;
    if (s->head == t)
        s->head = s->flash.sector_count;
    s->reclaims++;
    s->cached = NONE;
    return MQTLS_OK;
}

/* Room for a record of size bytes (plus the reclaim reserve) in the head:
 * opens a sector while two are free, one staying for a reclaim's copies;
 * else reclaims the oldest, while any sector holds dead records. */
static int room(mqtls_flash_store *s, uint32_t size)
{
    const uint32_t n = s->flash.sector_count, reserve = rec_size(s, 2, 0);
    uint32_t guard, i, dead;
    int ret;

    for (guard = 0; guard < 2 * n + 2; guard++) {
        if (s->head != n && s->sectors[s->head].end + size + reserve <= s->flash.sector_size)
            return MQTLS_OK;
        if (s->head == n || count_free(s) >= 2) {
            ret = open_next(s);
        } else {
            for (dead = 0, i = 0; i < n; i++)
                if (s->sectors[i].seq != 0)
                    dead |= s->sectors[i].end - rup(s, HDR) - s->sectors[i].live;
            if (dead == 0)
                return MQTLS_ERR_STORE_FULL; /* every byte holds a live message */
            ret = reclaim(s);
        }
        if (ret != MQTLS_OK)
            return ret;
    }
    return MQTLS_ERR_STORE_FULL;
}

/* ---- the mqtls_store operations ---------------------------------------------------- */

static int fill(mqtls_flash_store *s, const mqtls_flash_store_slot *e, mqtls_store_entry *out)
{
    const uint32_t hl = head_len(e->format);
    uint8_t t[4] = {0, 0, 0, 0};
    int ret;

    if (s->cached != e->addr) {
        if ((ret = rd(s, e->addr + hl, s->buf, e->len)) != MQTLS_OK)
            return ret;
        s->cached = e->addr;
    }
    if (e->format != 1 && (ret = rd(s, e->addr + 12, t, 4)) != 0)
        return ret;
    out->packet = s->buf;
    out->len = e->len;
    out->time = mqtls_get_le32(t);
    out->packet_id = e->packet_id;
    out->state = (e->flags & F_PUBREL) ? MQTLS_STORE_PUBREL : MQTLS_STORE_PUBLISH;
    out->flags = (e->flags & (F_SENT | F_PUBREL)) ? MQTLS_STORE_SENT : 0;
    return MQTLS_OK;
}

static int fs_add(void *ctx, uint16_t packet_id, const uint8_t *packet, size_t len, uint32_t time)
{
    mqtls_flash_store *s = ctx;
    uint8_t h[HEAD];
    uint32_t at;
    int ret;

    if (s == NULL || (packet == NULL && len != 0))
        return MQTLS_ERR_INVALID_ARG;
    if (s->failed)
        return MQTLS_ERR_FLASH_IO;
    if (len > s->buf_cap || len > 0xFFFFu ||
        rup(s, HDR) + rec_size(s, 2, (uint32_t)len) + rec_size(s, 2, 0) > s->flash.sector_size)
        return MQTLS_ERR_PACKET_TOO_LARGE;
    if (slot_of(s, packet_id) != NULL)
        return MQTLS_ERR_STORE_ID_IN_USE;
    if (s->count == s->cap)
        return MQTLS_ERR_STORE_FULL;
    if ((ret = room(s, rec_size(s, 2, (uint32_t)len))) != MQTLS_OK)
        return ret;
    make_head(h, K_MSG, 0, packet_id, (uint32_t)len, s->next_seq, time);
    if ((ret = append(s, h, packet, 0, (uint32_t)len, &at)) != MQTLS_OK)
        return ret;
    s->slots[s->count].seq = s->next_seq++;
    s->slots[s->count].addr = at;
    s->slots[s->count].len = (uint16_t)len;
    s->slots[s->count].packet_id = packet_id;
    s->slots[s->count].flags = 0;
    s->slots[s->count].format = 2;
    s->count++;
    return MQTLS_OK;
}

static int fs_mark_sent(void *ctx, uint16_t packet_id)
{
    mqtls_flash_store *s = ctx;
    mqtls_flash_store_slot *e = s != NULL ? slot_of(s, packet_id) : NULL;
    int ret;

    if (e == NULL)
        return s == NULL ? MQTLS_ERR_INVALID_ARG : MQTLS_ERR_STORE_NOT_FOUND;
    if (e->flags & (F_SENT | F_PUBREL))
        return MQTLS_OK;
    if (s->failed)
        return MQTLS_ERR_FLASH_IO;
    if ((ret = mark(s, e, 0)) == MQTLS_OK)
        e->flags |= F_SENT;
    return ret;
}

static int fs_set_state(void *ctx, uint16_t packet_id, mqtls_store_state state)
{
    mqtls_flash_store *s = ctx;
    mqtls_flash_store_slot *e = s != NULL ? slot_of(s, packet_id) : NULL;
    mqtls_flash_store_slot old;
    int ret;

    if (s == NULL || (state != MQTLS_STORE_PUBLISH && state != MQTLS_STORE_PUBREL))
        return MQTLS_ERR_INVALID_ARG;
    if (e == NULL)
        return MQTLS_ERR_STORE_NOT_FOUND;
    if ((state == MQTLS_STORE_PUBREL) == ((e->flags & F_PUBREL) != 0))
        return MQTLS_OK;
    if (s->failed)
        return MQTLS_ERR_FLASH_IO;
    if (state == MQTLS_STORE_PUBREL) {
        e->flags |= F_PUBREL; /* in RAM whatever the flash says: PUBREL goes out */
        return mark(s, e, 1);
    }
    /* Back to PUBLISH (a new session republishes it): a mark cannot be
     * unmade, so the record is copied without it, then the old one is
     * marked DONE. Cut between the two, mount keeps the newer. */
    if ((ret = room(s, rec_size(s, 2, e->len))) != MQTLS_OK)
        return ret;
    old = *e; /* after room(): a reclaim may have moved it */
    e->flags = F_SENT;
    if ((ret = copy_slot(s, e)) != MQTLS_OK) {
        *e = old;
        return ret;
    }
    return mark(s, &old, 2);
}

static int fs_remove(void *ctx, uint16_t packet_id)
{
    mqtls_flash_store *s = ctx;
    mqtls_flash_store_slot *e = s != NULL ? slot_of(s, packet_id) : NULL;
    int ret;

    if (e == NULL)
        return s == NULL ? MQTLS_ERR_INVALID_ARG : MQTLS_ERR_STORE_NOT_FOUND;
    if (s->failed)
        return MQTLS_ERR_FLASH_IO;
    /* Acknowledged: gone from RAM even if the mark fails (then it may come
     * back after a reboot, and go out again: QoS 1 and a PUBREL allow it). */
    ret = mark(s, e, 2);
    drop_slot(s, e);
    return ret;
}

static int fs_next(void *ctx, mqtls_store_iter *it, mqtls_store_entry *out)
{
    mqtls_flash_store *s = ctx;
    int ret;

    if (s == NULL || it == NULL || out == NULL)
        return MQTLS_ERR_INVALID_ARG;
    if (!it->started) {
        it->started = 1;
        it->pos = 0;
    }
    if (it->pos >= s->count)
        return 0;
    ret = fill(s, &s->slots[it->pos++], out);
    return ret == MQTLS_OK ? 1 : ret;
}

static int fs_find(void *ctx, uint16_t packet_id, mqtls_store_entry *out)
{
    mqtls_flash_store *s = ctx;
    mqtls_flash_store_slot *e = s != NULL ? slot_of(s, packet_id) : NULL;

    if (s == NULL || out == NULL)
        return MQTLS_ERR_INVALID_ARG;
    return e == NULL ? MQTLS_ERR_STORE_NOT_FOUND : fill(s, e, out);
}

/* ---- mount ------------------------------------------------------------------------- */

/* Later of two copies of one message: the one in the newer sector, or
 * further on in the same sector. */
static int newer(const mqtls_flash_store *s, uint32_t a, uint32_t b)
{
    const uint32_t sa = s->sectors[sector_of(s, a)].seq, sb = s->sectors[sector_of(s, b)].seq;
    return sa != sb ? sa > sb : a > b;
}

/* Puts a message found at mount into the index, in order. A second copy
 * of one already there was left by a cut: a reclaim's copy (the same
 * marks; the original stays, the copy is marked DONE) or a rewrite back to
 * PUBLISH (other marks; the newer wins, the older is marked DONE). */
static int found(mqtls_flash_store *s, uint32_t addr, unsigned format, const rec *r)
{
    mqtls_flash_store_slot e, *o;
    size_t i;

    e.seq = r->seq;
    e.addr = addr;
    e.len = (uint16_t)r->len;
    e.packet_id = r->id;
    e.flags = r->flags;
    e.format = (uint8_t)format;
    e.spare[0] = e.spare[1] = 0;
    if (r->len > s->buf_cap || r->len > 0xFFFFu)
        return MQTLS_ERR_PACKET_TOO_LARGE;
    for (i = 0; i < s->count && s->slots[i].seq != r->seq; i++)
        ;
    if (i < s->count) {
        o = &s->slots[i];
        if ((e.flags != o->flags) == newer(s, addr, o->addr)) { /* e replaces o */
            mqtls_flash_store_slot t = *o;
            *o = e;
            e = t;
        }
        s->sectors[sector_of(s, e.addr)].live -= rec_size(s, e.format, e.len);
        return mark(s, &e, 2);
    }
    if (s->count == s->cap)
        return MQTLS_ERR_STORE_FULL;
    for (i = s->count; i > 0 && s->slots[i - 1].seq > r->seq; i--)
        s->slots[i] = s->slots[i - 1];
    s->slots[i] = e;
    s->count++;
    return MQTLS_OK;
}

/* 1 when sector i is erased from offset at to its end, 0 when not. */
static int blank(mqtls_flash_store *s, uint32_t i, uint32_t at)
{
    uint8_t c[16];
    uint32_t k, n;
    int ret;

    for (; at < s->flash.sector_size; at += n) {
        n = s->flash.sector_size - at < sizeof c ? s->flash.sector_size - at : 16u;
        if ((ret = rd(s, i * s->flash.sector_size + at, c, n)) != 0)
            return ret;
        for (k = 0; k < n; k++)
            if (c[k] != 0xFF)
                return 0;
    }
    return 1;
}

/* Walks sector i's records (pass 0: reclaim records raise the floor;
 * pass 1: messages into the index). Sets end and live. */
static int walk(mqtls_flash_store *s, uint32_t i, unsigned format, int pass)
{
    const uint32_t base = i * s->flash.sector_size;
    mqtls_flash_store_sector *sec = &s->sectors[i];
    uint32_t at = rup(s, HDR), guard;
    rec r;
    int ret = 1;

    memset(&r, 0, sizeof r);
    sec->live = 0;
    for (guard = 0; guard < s->flash.sector_size && ret == 1; guard++) {
        ret = read_rec(s, base + at, format, &r);
        if (ret < 0)
            return ret;
        if (ret == 0)
            break;
        if (r.seq >= s->next_seq && r.kind == K_MSG)
            s->next_seq = r.seq + 1;
        if (r.kind == K_RECLAIM && r.seq > s->floor)
            s->floor = r.seq;
        if (pass == 1 && r.kind == K_MSG && !(r.flags & F_DONE)) {
            sec->live += r.size;
            if ((ret = found(s, base + at, format, &r)) != MQTLS_OK)
                return ret;
            ret = 1;
        }
        at += r.size;
    }
    sec->end = at;
    /* What follows must be erased, or the sector takes no more records. */
    if ((ret = blank(s, i, at)) < 0)
        return ret;
    if (ret == 0) {
        s->damaged += (uint32_t)pass;
        sec->end = s->flash.sector_size;
    }
    return MQTLS_OK;
}

/* Sector i's header: its format (1 or 2) when it checks, 0 when not. */
static int header(mqtls_flash_store *s, uint32_t i, uint8_t *h)
{
    int ret = rd(s, i * s->flash.sector_size, h, HDR);
    if (ret != MQTLS_OK)
        return ret;
    if (mqtls_get_le32(h) != MAGIC || mqtls_get_le32(h + 20) != mqtls_crc32(0, h, 20))
        return 0;
    if (mqtls_get_le32(h + 16) == 0 || mqtls_get_le32(h + 16) > MQTLS_FLASH_STORE_FORMAT)
        return MQTLS_ERR_FLASH_FORMAT;
    return (int)mqtls_get_le32(h + 16);
}

int mqtls_flash_store_mount(mqtls_flash_store *s, const mqtls_flash *flash,
                            mqtls_flash_store_slot *slots, size_t cap,
                            mqtls_flash_store_sector *sectors, uint8_t *buf, size_t buf_cap)
{
    uint32_t i, top = 0, pass;
    uint8_t h[HDR];
    int ret;

    if (s == NULL || slots == NULL || sectors == NULL || buf == NULL)
        return MQTLS_ERR_INVALID_ARG;
    memset(s, 0, sizeof *s);
    if ((ret = mqtls_flash_check(flash)) != MQTLS_OK)
        return ret;
    s->flash = *flash;
    s->slots = slots;
    s->cap = cap;
    s->sectors = sectors;
    s->buf = buf;
    s->buf_cap = buf_cap;
    s->cached = NONE;
    s->head = flash->sector_count;
    memset(sectors, 0, flash->sector_count * sizeof *sectors);
    for (pass = 0; pass < 3; pass++) {
        s->count = 0;
        for (i = 0; i < flash->sector_count; i++) {
            mqtls_flash_store_sector *sec = &sectors[i];
            if ((ret = header(s, i, h)) < 0)
                return ret;
            if (pass == 0) {
                /* Every header counts, reclaimed ones too: the sequence
                 * and erase count go on from them. */
                sec->seq = ret != 0 ? mqtls_get_le32(h + 4) : 0;
                sec->erases = ret != 0 ? mqtls_get_le32(h + 12) : 0;
                top = sec->erases > top ? sec->erases : top;
                if (sec->seq > s->sector_seq)
                    s->sector_seq = sec->seq;
                if (ret != 0 && mqtls_get_le32(h + 8) > s->floor)
                    s->floor = mqtls_get_le32(h + 8);
            }
            if (pass == 2 && (ret == 0 || sec->seq <= s->floor)) {
                sec->seq = 0; /* free: erased when used */
                /* No header: never used if blank, else not known (a cut
                 * erase): then the most any sector has. */
                if (ret == 0 && (ret = blank(s, i, 0)) >= 0)
                    sec->erases = ret ? 0 : top;
                if (ret < 0)
                    return ret;
                continue;
            }
            if (ret != 0 && pass != 0 && sec->seq > s->floor &&
                (ret = walk(s, i, (unsigned)ret, pass == 2)) != MQTLS_OK)
                return ret;
            if (pass == 2 && ret == MQTLS_OK && sec->seq != 0 &&
                (s->head == flash->sector_count || sec->seq > sectors[s->head].seq))
                s->head = i;
        }
    }
    /* Appending only to a sector of the current layout. */
    if (s->head != flash->sector_count && header(s, s->head, h) != (int)MQTLS_FLASH_STORE_FORMAT)
        sectors[s->head].end = flash->sector_size;
    /* A reclaim cut after its copies took the last free sector: that
     * sector holds only copies, now DONE, so it is opened afresh and the
     * reclaim done again, which leaves a sector free. */
    if (s->head != flash->sector_count && count_free(s) == 0 && sectors[s->head].live == 0) {
        sectors[s->head].seq = 0;
        s->head = flash->sector_count;
        return reclaim(s);
    }
    return MQTLS_OK;
}

int mqtls_flash_store_interface(mqtls_flash_store *s, mqtls_store *out)
{
    if (s == NULL || out == NULL)
        return MQTLS_ERR_INVALID_ARG;
    out->ctx = s;
    out->add = fs_add;
    out->set_state = fs_set_state;
    out->remove = fs_remove;
    out->next = fs_next;
    out->find = fs_find;
    out->mark_sent = fs_mark_sent;
    return MQTLS_OK;
}

size_t mqtls_flash_store_count(const mqtls_flash_store *s)
{
    return s != NULL ? s->count : 0;
}
