/* SPDX-License-Identifier: Apache-2.0 */
#include "mqtt/store.h"

#include <string.h>

/* Each record: this header, then the packet, then padding to 8 bytes. A
 * pad record fills the space left before the end of the buffer when the
 * next record does not fit there, so every record stays contiguous. */
typedef struct record {
    uint32_t len;       /* packet bytes; for a pad, the pad's whole size */
    uint32_t time;      /* the add's time stamp */
    uint16_t packet_id;
    uint8_t state;      /* mqtls_store_state */
    uint8_t kind;       /* KIND_* */
} record;

#define KIND_LIVE 1
#define KIND_REMOVED 2
#define KIND_PAD 3
#define ALIGN 8u
#define MIN_CAP 64u

static size_t record_size(const record *r)
{
    return r->kind == KIND_PAD ? r->len : (sizeof(record) + r->len + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

static void read_record(const mqtls_ram_store *s, size_t off, record *r)
{
    memcpy(r, s->buf + off, sizeof *r);
}

static void write_record(mqtls_ram_store *s, size_t off, const record *r)
{
    memcpy(s->buf + off, r, sizeof *r);
}

/* The offset of the record pos bytes past the head. */
static size_t at(const mqtls_ram_store *s, size_t pos)
{
    size_t off = s->head + pos;
    return off >= s->cap ? off - s->cap : off;
}

/* Finds the live record with packet_id: its offset, or cap when none. */
static size_t locate(const mqtls_ram_store *s, uint16_t packet_id, record *r)
{
    size_t pos = 0;

    while (pos < s->used) {
        size_t off = at(s, pos);
        read_record(s, off, r);
        if (r->kind == KIND_LIVE && r->packet_id == packet_id)
            return off;
        pos += record_size(r);
    }
    return s->cap;
}

static int ram_add(void *ctx, uint16_t packet_id, const uint8_t *packet, size_t len,
                   uint32_t time)
{
    mqtls_ram_store *s = ctx;
    record r;
    size_t need, where;

    if (s == NULL || s->buf == NULL || (packet == NULL && len != 0))
        return MQTLS_ERR_INVALID_ARG;
    /* len is checked against the buffer before any sum with it, so the
     * size cannot wrap (it could, with a 32-bit size_t); cap is a multiple
     * of ALIGN, so the rounded record fits whenever this holds. */
    if (len > s->cap - sizeof(record) || len > UINT32_MAX)
        return MQTLS_ERR_PACKET_TOO_LARGE;
    need = (sizeof(record) + len + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (locate(s, packet_id, &r) != s->cap)
        return MQTLS_ERR_STORE_ID_IN_USE;
    if (s->used == 0)
        s->head = s->tail = 0; /* empty: all of the buffer is one free run */
    if (s->cap - s->used < need)
        return MQTLS_ERR_STORE_FULL;
    if (s->tail >= s->head) {
        /* Free: [tail, cap) and [0, head). */
        if (need <= s->cap - s->tail) {
            where = s->tail;
        } else if (need <= s->head) {
            record pad = {0, 0, 0, 0, KIND_PAD};
            pad.len = (uint32_t)(s->cap - s->tail);
            write_record(s, s->tail, &pad);
            s->used += pad.len;
            where = 0;
        } else {
            return MQTLS_ERR_STORE_FULL;
        }
    } else if (need <= s->head - s->tail) { /* free: [tail, head) */
        where = s->tail;
    } else {
        return MQTLS_ERR_STORE_FULL;
    }
    r.len = (uint32_t)len;
    r.time = time;
    r.packet_id = packet_id;
    r.state = MQTLS_STORE_PUBLISH;
    r.kind = KIND_LIVE;
    write_record(s, where, &r);
    if (len != 0)
        memcpy(s->buf + where + sizeof r, packet, len);
    s->tail = where + need == s->cap ? 0 : where + need;
    s->used += need;
    s->live++;
    return MQTLS_OK;
}

static int ram_set_state(void *ctx, uint16_t packet_id, mqtls_store_state state)
{
    mqtls_ram_store *s = ctx;
    record r;
    size_t off;

    if (s == NULL || (state != MQTLS_STORE_PUBLISH && state != MQTLS_STORE_PUBREL))
        return MQTLS_ERR_INVALID_ARG;
    off = locate(s, packet_id, &r);
    if (off == s->cap)
        return MQTLS_ERR_STORE_NOT_FOUND;
    r.state = (uint8_t)state;
    write_record(s, off, &r);
    return MQTLS_OK;
}

static int ram_remove(void *ctx, uint16_t packet_id)
{
    mqtls_ram_store *s = ctx;
    record r;
    size_t off;

    if (s == NULL)
        return MQTLS_ERR_INVALID_ARG;
    off = locate(s, packet_id, &r);
    if (off == s->cap)
        return MQTLS_ERR_STORE_NOT_FOUND;
    r.kind = KIND_REMOVED;
    write_record(s, off, &r);
    s->live--;
    /* Keep only the span from the first live record to the end of the
     * last: removed records and pads at either end are free again (a
     * message dropped from the end makes room at once). Bounded by the
     * bytes in use. */
    {
        size_t pos = 0, first = s->used, last = 0, tail;
        while (pos < s->used) {
            read_record(s, at(s, pos), &r);
            if (r.kind == KIND_LIVE) {
                first = first == s->used ? pos : first;
                last = pos + record_size(&r);
            }
            pos += record_size(&r);
        }
        tail = at(s, last);
        s->head = last == 0 ? 0 : at(s, first);
        s->tail = last == 0 ? 0 : tail;
        s->used = last == 0 ? 0 : last - first;
    }
    return MQTLS_OK;
}

static void fill_entry(const mqtls_ram_store *s, size_t off, const record *r,
                       mqtls_store_entry *out)
{
    out->packet = s->buf + off + sizeof *r;
    out->len = r->len;
    out->time = r->time;
    out->packet_id = r->packet_id;
    out->state = r->state;
    out->flags = 0;
}

static int ram_next(void *ctx, mqtls_store_iter *it, mqtls_store_entry *out)
{
    const mqtls_ram_store *s = ctx;
    record r;

    if (s == NULL || it == NULL || out == NULL)
        return MQTLS_ERR_INVALID_ARG;
    if (!it->started) {
        it->started = 1;
        it->pos = 0;
    }
    while (it->pos < s->used) {
        size_t off = at(s, it->pos);
        read_record(s, off, &r);
        it->pos += record_size(&r);
        if (r.kind == KIND_LIVE) {
            fill_entry(s, off, &r, out);
            return 1;
        }
    }
    return 0;
}

static int ram_find(void *ctx, uint16_t packet_id, mqtls_store_entry *out)
{
    const mqtls_ram_store *s = ctx;
    record r;
    size_t off;

    if (s == NULL || out == NULL)
        return MQTLS_ERR_INVALID_ARG;
    off = locate(s, packet_id, &r);
    if (off == s->cap)
        return MQTLS_ERR_STORE_NOT_FOUND;
    fill_entry(s, off, &r, out);
    return MQTLS_OK;
}

void mqtls_ram_store_init(mqtls_ram_store *s)
{
    if (s != NULL)
        memset(s, 0, sizeof *s);
}

int mqtls_ram_store_setup(mqtls_ram_store *s, uint8_t *buf, size_t cap)
{
    if (s == NULL || buf == NULL || cap < MIN_CAP)
        return MQTLS_ERR_INVALID_ARG;
    memset(s, 0, sizeof *s);
    s->buf = buf;
    s->cap = cap & ~(size_t)(ALIGN - 1);
    return MQTLS_OK;
}

int mqtls_ram_store_interface(mqtls_ram_store *s, mqtls_store *out)
{
    if (s == NULL || out == NULL)
        return MQTLS_ERR_INVALID_ARG;
    out->ctx = s;
    out->add = ram_add;
    out->set_state = ram_set_state;
    out->remove = ram_remove;
    out->next = ram_next;
    out->find = ram_find;
    return MQTLS_OK;
}

size_t mqtls_ram_store_count(const mqtls_ram_store *s)
{
    return s != NULL ? s->live : 0;
}
