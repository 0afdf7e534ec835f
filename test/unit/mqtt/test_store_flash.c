/* SPDX-License-Identifier: Apache-2.0 */
/* The message store on NOR flash (mqtt/store_flash.h) over the simulator:
 * what it promises as a store (order, states, marks, full, reboot), the
 * reclaim of sectors and the wear it spreads, the previous layout read
 * and migrated, a newer one refused untouched; then the proof: a scripted
 * workload (QoS 1 and 2, acknowledgements in and out of order, PUBREL,
 * a republish, wrap-around and reclaims, a blob replaced several times on
 * the same flash) with the power cut at every flash operation in turn,
 * torn two ways, and the invariants checked after the reboot; and damaged
 * images (random bytes, bit flips) that must never crash the mount nor
 * yield a message that was not stored. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt/store_flash.h"
#include "net/blobs_flash.h"
#include "net/crc32.h"
#include "test/unit/flash_sim.h"
#include "test/unit/suites.h"
#include "test/unit/testutil.h"

#define SLOTS 64
#define SECTORS 8

static flash_sim sim;
static mqtls_flash fl;
static mqtls_flash_store fs;
static mqtls_flash_store_slot slots[SLOTS];
static mqtls_flash_store_sector sectors[SECTORS];
static uint8_t pbuf[600];
static mqtls_store st;

/* A part of the simulator as a flash of its own (the store's sectors and
 * the blobs' sectors on one chip, one operation count). */
typedef struct region {
    flash_sim *sim;
    uint32_t first; /* its first sector */
} region;

static int r_read(void *ctx, uint32_t addr, void *buf, size_t len)
{
    region *r = ctx;
    mqtls_flash f;
    flash_sim_as(r->sim, &f);
    return f.read(f.ctx, addr + r->first * r->sim->sector_size, buf, len);
}

static int r_program(void *ctx, uint32_t addr, const void *buf, size_t len)
{
    region *r = ctx;
    mqtls_flash f;
    flash_sim_as(r->sim, &f);
    return f.program(f.ctx, addr + r->first * r->sim->sector_size, buf, len);
}

static int r_erase(void *ctx, uint32_t sector)
{
    region *r = ctx;
    mqtls_flash f;
    flash_sim_as(r->sim, &f);
    return f.erase(f.ctx, sector + r->first);
}

static region store_region, blob_region;

static void as_region(region *r, uint32_t first, uint32_t count, mqtls_flash *out)
{
    r->sim = &sim;
    r->first = first;
    out->ctx = r;
    out->sector_size = sim.sector_size;
    out->sector_count = count;
    out->program_unit = sim.unit;
    out->read = r_read;
    out->program = r_program;
    out->erase = r_erase;
}

static int mount(void)
{
    int ret;
    memset(slots, 0xA5, sizeof slots); /* nothing may be read before it is written */
    ret = mqtls_flash_store_mount(&fs, &fl, slots, SLOTS, sectors, pbuf, sizeof pbuf);
    if (ret == MQTLS_OK)
        ck_assert_int_eq(mqtls_flash_store_interface(&fs, &st), MQTLS_OK);
    return ret;
}

static void fresh(uint32_t size, uint32_t count, uint32_t unit)
{
    flash_sim_init(&sim, size, count, unit);
    flash_sim_as(&sim, &fl);
    ck_assert_int_eq(mount(), MQTLS_OK);
}

static void setup(void)
{
    fresh(512, 4, 8);
}

static int add_at(uint16_t id, size_t len, uint32_t time)
{
    uint8_t p[600];
    test_store_packet(p, len, id);
    return st.add(st.ctx, id, p, len, time);
}

/* The entries, oldest first, are ids[0..n) with their packets. */
static void holds(const uint16_t *ids, const size_t *lens, size_t n)
{
    test_store_holds(&st, ids, lens, NULL, n);
    ck_assert_uint_eq(mqtls_flash_store_count(&fs), n);
}

START_TEST(keeps_order_states_marks_and_time_across_a_reboot)
{
    const uint16_t ids[] = {1, 2, 3}, ids2[] = {1, 3};
    const size_t lens[] = {10, 200, 30}, lens2[] = {10, 30};
    mqtls_store_entry e;

    ck_assert_int_eq(add_at(1, 10, 1000), MQTLS_OK);
    ck_assert_int_eq(add_at(2, 200, 1001), MQTLS_OK);
    ck_assert_int_eq(add_at(3, 30, 0), MQTLS_OK);
    ck_assert_int_eq(add_at(3, 30, 0), MQTLS_ERR_STORE_ID_IN_USE);
    holds(ids, lens, 3);
    ck_assert_int_eq(st.mark_sent(st.ctx, 1), MQTLS_OK);
    ck_assert_int_eq(st.mark_sent(st.ctx, 1), MQTLS_OK); /* once on flash */
    ck_assert_int_eq(st.set_state(st.ctx, 3, MQTLS_STORE_PUBREL), MQTLS_OK);
    ck_assert_int_eq(st.remove(st.ctx, 2), MQTLS_OK);
    ck_assert_int_eq(st.remove(st.ctx, 2), MQTLS_ERR_STORE_NOT_FOUND);
    ck_assert_int_eq(st.mark_sent(st.ctx, 2), MQTLS_ERR_STORE_NOT_FOUND);
    ck_assert_int_eq(st.set_state(st.ctx, 2, MQTLS_STORE_PUBREL), MQTLS_ERR_STORE_NOT_FOUND);
    holds(ids2, lens2, 2);
    ck_assert_int_eq(mount(), MQTLS_OK); /* a reboot */
    holds(ids2, lens2, 2);
    ck_assert_int_eq(st.find(st.ctx, 1, &e), MQTLS_OK);
    ck_assert_uint_eq(e.flags, MQTLS_STORE_SENT);
    ck_assert_uint_eq(e.state, MQTLS_STORE_PUBLISH);
    ck_assert_uint_eq(e.time, 1000);
    ck_assert_int_eq(st.find(st.ctx, 3, &e), MQTLS_OK);
    ck_assert_uint_eq(e.state, MQTLS_STORE_PUBREL);
    ck_assert_uint_eq(e.flags, MQTLS_STORE_SENT); /* past PUBREC it was sent */
    /* Back to PUBLISH (a new session): a second record, the first DONE. */
    ck_assert_int_eq(st.set_state(st.ctx, 3, MQTLS_STORE_PUBLISH), MQTLS_OK);
    ck_assert_int_eq(mount(), MQTLS_OK);
    holds(ids2, lens2, 2);
    ck_assert_int_eq(st.find(st.ctx, 3, &e), MQTLS_OK);
    ck_assert_uint_eq(e.state, MQTLS_STORE_PUBLISH);
    /* The next message is ordered after them, whatever its id. */
    ck_assert_int_eq(add_at(0x0100, 5, 0), MQTLS_OK);
    {
        const uint16_t ids3[] = {1, 3, 0x0100};
        const size_t lens3[] = {10, 30, 5};
        holds(ids3, lens3, 3);
    }
    ck_assert_uint_eq(sim.violations, 0);
    ck_assert_uint_eq(sim.reprograms, 0);
}
END_TEST

START_TEST(refuses_what_it_cannot_hold_and_drops_nothing)
{
    size_t n = 0;
    uint16_t id;
    ck_assert_int_eq(add_at(1, 500, 0), MQTLS_ERR_PACKET_TOO_LARGE); /* not in a 512-byte sector */
    ck_assert_int_eq(st.add(st.ctx, 1, NULL, 3, 0), MQTLS_ERR_INVALID_ARG);
    /* Fill it with messages no one acknowledges. */
    for (id = 1; id < 100; id++) {
        int ret = add_at(id, 60, 0);
        if (ret == MQTLS_ERR_STORE_FULL)
            break;
        ck_assert_int_eq(ret, MQTLS_OK);
        n++;
    }
    ck_assert_uint_gt(n, 8);
    ck_assert_uint_eq(mqtls_flash_store_count(&fs), n);
    ck_assert_int_eq(add_at(200, 60, 0), MQTLS_ERR_STORE_FULL); /* again: still nothing lost */
    ck_assert_int_eq(mount(), MQTLS_OK);
    ck_assert_uint_eq(mqtls_flash_store_count(&fs), n);
    /* Acknowledge the first: room again, through a reclaim. */
    ck_assert_int_eq(st.remove(st.ctx, 1), MQTLS_OK);
    ck_assert_int_eq(st.remove(st.ctx, 2), MQTLS_OK);
    ck_assert_int_eq(add_at(200, 60, 0), MQTLS_OK);
    ck_assert_uint_eq(mqtls_flash_store_count(&fs), n - 1);
    ck_assert_int_eq(mount(), MQTLS_OK);
    ck_assert_uint_eq(mqtls_flash_store_count(&fs), n - 1);
    ck_assert_uint_eq(sim.reprograms, 0);
}
END_TEST

START_TEST(slots_bound_the_count)
{
    static mqtls_flash_store_slot few[3];
    ck_assert_int_eq(mqtls_flash_store_mount(&fs, &fl, few, 3, sectors, pbuf, sizeof pbuf), MQTLS_OK);
    ck_assert_int_eq(mqtls_flash_store_interface(&fs, &st), MQTLS_OK);
    ck_assert_int_eq(add_at(1, 8, 0), MQTLS_OK);
    ck_assert_int_eq(add_at(2, 8, 0), MQTLS_OK);
    ck_assert_int_eq(add_at(3, 8, 0), MQTLS_OK);
    ck_assert_int_eq(add_at(4, 8, 0), MQTLS_ERR_STORE_FULL);
    /* More on flash than slots: mount says so rather than losing any. */
    ck_assert_int_eq(mqtls_flash_store_mount(&fs, &fl, few, 2, sectors, pbuf, sizeof pbuf),
                     MQTLS_ERR_STORE_FULL);
    /* A packet larger than the buffer: refused, and at mount too. */
    ck_assert_int_eq(mqtls_flash_store_mount(&fs, &fl, few, 3, sectors, pbuf, 4),
                     MQTLS_ERR_PACKET_TOO_LARGE);
    ck_assert_int_eq(mqtls_flash_store_mount(&fs, &fl, few, 3, sectors, pbuf, 8), MQTLS_OK);
    ck_assert_int_eq(mqtls_flash_store_interface(&fs, &st), MQTLS_OK);
    ck_assert_int_eq(st.remove(st.ctx, 3), MQTLS_OK);
    ck_assert_int_eq(add_at(4, 9, 0), MQTLS_ERR_PACKET_TOO_LARGE);
}
END_TEST

/* A long-lived message (a QoS 2 flow stuck in PUBREL) while thousands go
 * through: it is copied forward as its sector is reclaimed, keeps its
 * place and state, and every sector is erased about as often. */
START_TEST(reclaims_move_the_old_and_spread_the_wear)
{
    uint32_t i, lo = 0xFFFFFFFFu, hi = 0, copies = 0;
    mqtls_store_entry e;
    fresh(512, 6, 4);
    ck_assert_int_eq(add_at(7, 40, 0), MQTLS_OK);
    ck_assert_int_eq(st.set_state(st.ctx, 7, MQTLS_STORE_PUBREL), MQTLS_OK);
    for (i = 0; i < 3000; i++) {
        const uint16_t id = (uint16_t)(100 + i % 50);
        ck_assert_int_eq(add_at(id, 20 + i % 90, i), MQTLS_OK);
        if (i % 2 == 1) { /* acknowledged two at a time, the later first */
            ck_assert_int_eq(st.remove(st.ctx, id), MQTLS_OK);
            ck_assert_int_eq(st.remove(st.ctx, (uint16_t)(id - 1)), MQTLS_OK);
        }
        if (i % 997 == 0) {
            copies += fs.copies;
            ck_assert_int_eq(mount(), MQTLS_OK);
        }
    }
    copies += fs.copies;
    ck_assert_int_eq(mount(), MQTLS_OK);
    ck_assert_uint_eq(mqtls_flash_store_count(&fs), 1);
    ck_assert_int_eq(st.find(st.ctx, 7, &e), MQTLS_OK);
    ck_assert_uint_eq(e.state, MQTLS_STORE_PUBREL);
    ck_assert_uint_gt(copies, 20); /* it moved, again and again */
    for (i = 0; i < 6; i++) {
        lo = sectors[i].erases < lo ? sectors[i].erases : lo;
        hi = sectors[i].erases > hi ? sectors[i].erases : hi;
        ck_assert_msg(sectors[i].erases == sim.erases[i], "sector %u: %u erases, header says %u", i, sim.erases[i], sectors[i].erases); /* the header's count is true */
    }
    ck_assert_uint_le(hi - lo, 1);
    ck_assert_uint_gt(lo, 50);
    ck_assert_uint_eq(sim.violations, 0);
    ck_assert_uint_eq(sim.reprograms, 0);
}
END_TEST

/* A year of telemetry at one message a minute (a 60-byte PUBLISH, each
 * marked sent and acknowledged), with the link down an hour every day (60
 * messages queue up) on eight 4 KB sectors programmed 8 bytes at a time
 * (an STM32L4-like part): the erases each sector takes. Under the
 * sanitizers a month is simulated. */
START_TEST(a_year_of_telemetry_wears_every_sector_alike)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    const uint32_t days = 30;
#else
    const uint32_t days = 365;
#endif
    uint32_t day, minute, i, lo = 0xFFFFFFFFu, hi = 0, reclaims = 0;
    uint16_t id = 1, queued[64];
    size_t nq = 0;
    fresh(4096, 8, 8);
    for (day = 0; day < days; day++) {
        for (minute = 0; minute < 1440; minute++) {
            const int offline = minute >= 600 && minute < 660;
            ck_assert_int_eq(add_at(id, 60, day * 86400u + minute * 60u), MQTLS_OK);
            if (offline) {
                queued[nq++] = id;
            } else {
                for (i = 0; i < nq; i++) { /* back online: the queue drains */
                    ck_assert_int_eq(st.mark_sent(st.ctx, queued[i]), MQTLS_OK);
                    ck_assert_int_eq(st.remove(st.ctx, queued[i]), MQTLS_OK);
                }
                nq = 0;
                ck_assert_int_eq(st.mark_sent(st.ctx, id), MQTLS_OK);
                ck_assert_int_eq(st.remove(st.ctx, id), MQTLS_OK);
            }
            id = id == 65535 ? 1 : (uint16_t)(id + 1);
        }
        if (day % 50 == 0) { /* a reboot now and then */
            reclaims += fs.reclaims;
            ck_assert_int_eq(mount(), MQTLS_OK);
        }
    }
    reclaims += fs.reclaims;
    for (i = 0; i < 8; i++) {
        lo = sim.erases[i] < lo ? sim.erases[i] : lo;
        hi = sim.erases[i] > hi ? sim.erases[i] : hi;
    }
    ck_assert_uint_le(hi - lo, 1);
    ck_assert_uint_eq(sim.reprograms, 0);
    printf("  flash store wear, %u days at one message a minute (%u messages), 8 x 4 KB "
           "sectors: %u to %u erases per sector (%u reclaims), %.1f messages per erase; a "
           "100,000-cycle part lasts about %.0f years\n",
           days, days * 1440u, lo, hi, reclaims, (double)days * 1440.0 / (8.0 * hi),
           100000.0 / (double)hi * days / 365.0);
}
END_TEST

/* ---- layouts ------------------------------------------------------------------------ */

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void old_header(uint32_t sector, uint32_t seq, uint32_t format)
{
    uint8_t *h = sim.mem + sector * sim.sector_size;
    put32(h, 0x5346514Du);
    put32(h + 4, seq);
    put32(h + 8, 0);
    put32(h + 12, 3);
    put32(h + 16, format);
    put32(h + 20, mqtls_crc32(0, h, 20));
}

/* A format-1 record (a 12-byte head, no time stamp), written as the
 * firmware before time stamps did; returns the next offset. */
static uint32_t old_record(uint32_t sector, uint32_t at, uint16_t id, uint32_t seq, size_t len)
{
    uint8_t *r = sim.mem + sector * sim.sector_size + at;
    r[0] = 1;
    r[1] = 0;
    r[2] = (uint8_t)id;
    r[3] = (uint8_t)(id >> 8);
    put32(r + 4, (uint32_t)len);
    put32(r + 8, seq);
    test_store_packet(r + 12, len, id);
    put32(r + 12 + len, mqtls_crc32(0, r, 12 + len));
    return at + (uint32_t)((12 + len + 4 + 7) / 8 * 8) + 3 * 8;
}

START_TEST(the_previous_layout_is_read_and_migrated)
{
    const uint16_t ids[] = {11, 12, 13}, ids2[] = {11, 13, 14};
    const size_t lens[] = {20, 30, 40}, lens2[] = {20, 40, 50};
    uint32_t at;
    mqtls_store_entry e;
    int i;

    flash_sim_init(&sim, 512, 4, 8);
    flash_sim_as(&sim, &fl);
    old_header(0, 1, 1);
    at = old_record(0, 24, 11, 0, 20);
    at = old_record(0, at, 12, 1, 30);
    (void)old_record(0, at, 13, 2, 40);
    ck_assert_int_eq(mount(), MQTLS_OK); /* the new firmware boots */
    holds(ids, lens, 3);
    ck_assert_int_eq(st.find(st.ctx, 11, &e), MQTLS_OK);
    ck_assert_uint_eq(e.time, 0); /* format 1 had none */
    ck_assert_int_eq(st.remove(st.ctx, 12), MQTLS_OK);
    ck_assert_int_eq(add_at(14, 50, 77), MQTLS_OK); /* into a new sector of format 2 */
    holds(ids2, lens2, 3);
    /* Traffic until the old sector is reclaimed: its messages are copied
     * in the current layout, and still in order. */
    for (i = 0; i < 40; i++) {
        ck_assert_int_eq(add_at(100, 60, 0), MQTLS_OK);
        ck_assert_int_eq(st.remove(st.ctx, 100), MQTLS_OK);
    }
    ck_assert_int_eq(mount(), MQTLS_OK);
    holds(ids2, lens2, 3);
    ck_assert_uint_eq(slots[0].format, 2);
    ck_assert_uint_eq(slots[1].format, 2);
    ck_assert_int_eq(st.find(st.ctx, 14, &e), MQTLS_OK);
    ck_assert_uint_eq(e.time, 77);
    ck_assert_uint_eq(sim.violations, 0);
}
END_TEST

START_TEST(a_newer_layout_is_refused_and_left_alone)
{
    static uint8_t before[FLASH_SIM_MAX];
    unsigned long erases;
    flash_sim_init(&sim, 512, 4, 8);
    flash_sim_as(&sim, &fl);
    ck_assert_int_eq(mount(), MQTLS_OK);
    ck_assert_int_eq(add_at(1, 30, 0), MQTLS_OK);
    old_header(2, 9, 3); /* as a later firmware would write it */
    memcpy(before, sim.mem, sizeof before);
    erases = sim.erases[0] + sim.erases[1] + sim.erases[2] + sim.erases[3];
    ck_assert_int_eq(mount(), MQTLS_ERR_FLASH_FORMAT);
    ck_assert_int_eq(memcmp(before, sim.mem, sizeof before), 0);
    ck_assert_uint_eq(sim.erases[0] + sim.erases[1] + sim.erases[2] + sim.erases[3], erases);
    ck_assert_str_eq(mqtls_strerror(MQTLS_ERR_FLASH_FORMAT),
                     "flash holds a layout this firmware does not know (nothing was erased)");
}
END_TEST

/* ---- the workload, cut at every operation -------------------------------------------- */

enum { ADD, SENT, PUBREL, REPUB, ACK, BLOB };
typedef struct op {
    uint8_t what;
    uint16_t id;
    uint16_t len; /* ADD: packet bytes; BLOB: content bytes */
} op;

#define MSGS 40
#define MAXOPS 200
static op script[MAXOPS];
static int nscript;

/* What the store was told about message id, and how it ended. */
typedef struct fate {
    int order;     /* add order, from 1; 0: never added */
    uint16_t len;
    int added;     /* 2: returned OK, 1: cut in it */
    int sent, pubrel, repub, acked; /* likewise */
} fate;
static fate fates[MSGS + 2];
static uint8_t blob_data[MAXOPS][200];
static size_t blob_len[MAXOPS];
static int blob_now, blob_cut; /* steps of the blob: done, and the one cut */

static void push(uint8_t what, uint16_t id, uint16_t len)
{
    ck_assert_int_lt(nscript, MAXOPS);
    script[nscript].what = what;
    script[nscript].id = id;
    script[nscript].len = len;
    nscript++;
}

/* Publishes 1..MSGS at QoS 1 (odd) and 2 (even), each marked sent as it
 * goes out; acknowledged three behind, pairs in reverse; QoS 2 through
 * PUBREL, one (4) held there for most of the run, one (10) sent back to
 * PUBLISH by a new session; the blob replaced every seventh step. */
static void plan(void)
{
    int i;
    nscript = 0;
    for (i = 1; i <= MSGS; i++) {
        push(ADD, (uint16_t)i, (uint16_t)(20 + (i * 37) % 100));
        push(SENT, (uint16_t)i, 0);
        if (i % 2 == 0)
            push(PUBREL, (uint16_t)i, 0);
        if (i == 12)
            push(REPUB, 10, 0);
        if (i > 3 && i - 3 != 4) {
            const int a = i - 3;
            if (a % 4 == 1 && a + 1 <= MSGS - 3 && a + 1 != 4) { /* a + 1 first */
                push(ACK, (uint16_t)(a + 1), 0);
                push(ACK, (uint16_t)a, 0);
            } else if (a % 4 != 2) {
                push(ACK, (uint16_t)a, 0);
            }
        }
        if (i % 7 == 0)
            push(BLOB, (uint16_t)i, (uint16_t)(30 + i * 3));
    }
    for (i = MSGS; i >= 1; i--) { /* the rest, newest first */
        int k, acked = 0;
        for (k = 0; k < nscript; k++)
            acked |= script[k].what == ACK && script[k].id == i;
        if (!acked)
            push(ACK, (uint16_t)i, 0);
    }
}

static int run(int k)
{
    const op *o = &script[k];
    fate *f = &fates[o->id];
    uint8_t p[200];
    int ret, *field = NULL;
    static int order;
    if (k == 0)
        order = 0;
    switch (o->what) {
    case ADD:
        f->order = ++order;
        f->len = o->len;
        test_store_packet(p, o->len, o->id);
        field = &f->added;
        *field = 1;
        ret = st.add(st.ctx, o->id, p, o->len, 5000u + o->id);
        break;
    case SENT:
        field = &f->sent;
        *field = 1;
        ret = st.mark_sent(st.ctx, o->id);
        break;
    case PUBREL:
        field = &f->pubrel;
        *field = 1;
        ret = st.set_state(st.ctx, o->id, MQTLS_STORE_PUBREL);
        break;
    case REPUB:
        field = &f->repub;
        *field = 1;
        ret = st.set_state(st.ctx, o->id, MQTLS_STORE_PUBLISH);
        break;
    case ACK:
        field = &f->acked;
        *field = 1;
        ret = st.remove(st.ctx, o->id);
        break;
    default: {
        mqtls_blobs_flash bf;
        mqtls_blobs bl;
        mqtls_flash bfl;
        as_region(&blob_region, SECTORS - 3, 3, &bfl);
        ck_assert_int_eq(mqtls_blobs_flash_init(&bf, &bfl), MQTLS_OK);
        mqtls_blobs_flash_interface(&bf, &bl);
        blob_len[k] = o->len;
        memset(blob_data[k], 'a' + k % 26, o->len);
        blob_cut = k;
        ret = bl.write(bl.ctx, "ca.active", blob_data[k], o->len);
        if (ret == MQTLS_OK) {
            blob_now = k;
            blob_cut = -1;
        }
        return ret;
    }
    }
    if (ret == MQTLS_OK)
        *field = 2;
    return ret;
}

/* The invariants after a reboot, for the ops done before the cut. */
static void check_after(unsigned long cut, int tear)
{
    mqtls_store_iter it = {0, 0};
    mqtls_store_entry e;
    int last = 0, id, seen[MSGS + 2];
    uint8_t p[200], buf[200];
    size_t len = 0;

    memset(seen, 0, sizeof seen);
    while (st.next(st.ctx, &it, &e) == 1) {
        fate *f;
        ck_assert_msg(e.packet_id >= 1 && e.packet_id <= MSGS, "cut %lu: unknown id %u", cut,
                      e.packet_id);
        f = &fates[e.packet_id];
        ck_assert_msg(f->added != 0, "cut %lu: %u was never added", cut, e.packet_id);
        ck_assert_msg(f->order > last, "cut %lu: %u out of order", cut, e.packet_id);
        last = f->order;
        test_store_packet(p, f->len, e.packet_id);
        ck_assert_msg(e.len == f->len && memcmp(e.packet, p, f->len) == 0,
                      "cut %lu: %u's bytes", cut, e.packet_id);
        ck_assert_uint_eq(e.time, 5000u + e.packet_id);
        ck_assert_msg(f->acked != 2, "cut %lu (tear %d): %u came back after its ack", cut, tear,
                      e.packet_id);
        /* Past PUBREL it resumes as PUBREL, never as PUBLISH (unless a
         * new session sent it back). */
        if (f->pubrel == 2 && f->repub == 0)
            ck_assert_msg(e.state == MQTLS_STORE_PUBREL, "cut %lu: %u lost PUBREL", cut,
                          e.packet_id);
        if (f->repub == 2)
            ck_assert_msg(e.state == MQTLS_STORE_PUBLISH, "cut %lu: %u", cut, e.packet_id);
        if (f->sent == 2)
            ck_assert_msg(e.flags & MQTLS_STORE_SENT, "cut %lu: %u lost SENT", cut, e.packet_id);
        if (f->pubrel == 0)
            ck_assert_uint_eq(e.state, MQTLS_STORE_PUBLISH);
        seen[e.packet_id] = 1;
    }
    for (id = 1; id <= MSGS; id++) {
        const fate *f = &fates[id];
        /* Accepted and not acknowledged: never lost. */
        if (f->added == 2 && f->acked == 0)
            ck_assert_msg(seen[id], "cut %lu (tear %d): %d lost", cut, tear, id);
    }
    /* The blob: the old or the new content, whole. */
    {
        mqtls_blobs_flash bf;
        mqtls_blobs bl;
        mqtls_flash bfl;
        int ret, ok = 0;
        as_region(&blob_region, SECTORS - 3, 3, &bfl);
        ck_assert_int_eq(mqtls_blobs_flash_init(&bf, &bfl), MQTLS_OK);
        mqtls_blobs_flash_interface(&bf, &bl);
        ret = bl.read(bl.ctx, "ca.active", buf, sizeof buf, &len);
        if (blob_now < 0)
            ok = ret == MQTLS_ERR_BLOB_NOT_FOUND;
        else
            ok = ret == MQTLS_OK && len == blob_len[blob_now] &&
                 memcmp(buf, blob_data[blob_now], len) == 0;
        if (!ok && blob_cut >= 0)
            ok = ret == MQTLS_OK && len == blob_len[blob_cut] &&
                 memcmp(buf, blob_data[blob_cut], len) == 0;
        ck_assert_msg(ok, "cut %lu (tear %d): the blob is neither old nor new", cut, tear);
    }
}

static void start_workload(unsigned long cut, int tear)
{
    flash_sim_init(&sim, 512, SECTORS, 8);
    sim.seed = (uint32_t)(cut * 7u + (unsigned long)tear);
    sim.tear = tear ? FLASH_TEAR_PARTIAL : FLASH_TEAR_RANDOM;
    sim.cut_at = (long)cut;
    as_region(&store_region, 0, SECTORS - 3, &fl);
    memset(fates, 0, sizeof fates);
    blob_now = blob_cut = -1;
}

START_TEST(a_power_cut_at_every_flash_operation_loses_nothing)
{
    unsigned long total, cut, tried = 0, dups = 0, double_cuts = 0;
    uint32_t reclaims;
    int k, tear;

    plan();
    start_workload(0, 0);
    sim.cut_at = -1;
    ck_assert_int_eq(mount(), MQTLS_OK);
    for (k = 0; k < nscript; k++)
        ck_assert_msg(run(k) == MQTLS_OK, "step %d", k);
    total = sim.ops;
    reclaims = fs.reclaims;
    ck_assert_uint_gt(reclaims, 3);
    ck_assert_uint_gt(fs.copies, 0);
    ck_assert_uint_eq(mqtls_flash_store_count(&fs), 0);
    for (cut = 0; cut < total; cut++) {
        for (tear = 0; tear < 2; tear++) {
            int failed = 0;
            start_workload(cut, tear);
            failed = mount() != MQTLS_OK;
            for (k = 0; k < nscript && !failed; k++)
                failed = run(k) != MQTLS_OK;
            ck_assert_msg(failed || cut >= total, "cut %lu: no operation failed", cut);
            flash_sim_reboot(&sim);
            /* The recovery itself may write (settle a duplicate, redo a
             * reclaim): cut it too, at each of its operations. */
            {
                static flash_sim before;
                unsigned long start, j, n;
                before = sim;
                start = sim.ops;
                ck_assert_msg(mount() == MQTLS_OK, "cut %lu (tear %d): mount", cut, tear);
                n = sim.ops - start;
                if (memcmp(before.mem, sim.mem, sizeof sim.mem) != 0) {
                    for (j = 0; j < n; j++) {
                        sim = before;
                        sim.cut_at = (long)(start + j);
                        (void)mount();
                        flash_sim_reboot(&sim);
                        ck_assert_msg(mount() == MQTLS_OK, "cut %lu, then %lu into the recovery",
                                      cut, j);
                        check_after(cut, tear);
                        double_cuts++;
                    }
                    sim = before;
                    ck_assert_int_eq(mount(), MQTLS_OK);
                }
            }
            check_after(cut, tear);
            /* The store goes on: everything acknowledged, a message in, a
             * reboot: that message alone (nothing acknowledged comes back). */
            {
                mqtls_store_iter it = {0, 0};
                mqtls_store_entry e;
                uint16_t left[MSGS];
                size_t n = 0, j;
                while (st.next(st.ctx, &it, &e) == 1)
                    left[n++] = e.packet_id;
                for (j = 0; j < n; j++)
                    ck_assert_int_eq(st.remove(st.ctx, left[j]), MQTLS_OK);
                ck_assert_int_eq(add_at(MSGS + 1, 50, 5000u + MSGS + 1), MQTLS_OK);
                ck_assert_int_eq(mount(), MQTLS_OK);
                ck_assert_msg(mqtls_flash_store_count(&fs) == 1 &&
                                  st.find(st.ctx, MSGS + 1, &e) == MQTLS_OK,
                              "cut %lu (tear %d): %zu messages after all were acknowledged", cut,
                              tear, mqtls_flash_store_count(&fs));
            }
            ck_assert_uint_eq(sim.violations, 0);
            ck_assert_uint_eq(sim.reprograms, 0);
            tried++;
        }
    }
    printf("  flash store: nothing lost, no PUBREL undone, every blob old or new after a power cut "
           "at each of %lu flash operations (%u reclaims), torn two ways: %lu cuts, and %lu more "
           "into the recoveries that write\n",
           total, reclaims, tried, double_cuts);
    (void)dups;
}
END_TEST

/* ---- damaged images ---------------------------------------------------------------------- */

static uint32_t rnd_state;
static uint32_t rnd(void)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return rnd_state >> 8;
}

/* Random images and bit flips in a written one: the mount never crashes
 * and never yields a message that was not stored, byte for byte; what was
 * lost is counted. */
START_TEST(damaged_images_never_yield_a_wrong_message)
{
    int round, mounted = 0, flipped_rounds = 0, refused = 0;
    unsigned long lost = 0, damaged = 0;
    uint32_t i;
    rnd_state = 2026;
    for (round = 0; round < 600; round++) {
        mqtls_store_iter it = {0, 0};
        mqtls_store_entry e;
        uint8_t p[200];
        int ret, id, n = 0;
        flash_sim_init(&sim, 512, 4, 8);
        flash_sim_as(&sim, &fl);
        if (round % 3 == 0) { /* noise, with a valid header now and then */
            for (i = 0; i < 512 * 4; i++)
                sim.mem[i] = (uint8_t)rnd();
            if (round % 2 == 0)
                old_header(rnd() % 4, rnd() % 5, 2);
        } else { /* a real store, then flips */
            ck_assert_int_eq(mount(), MQTLS_OK);
            for (id = 1; id <= 12; id++) {
                ck_assert_int_eq(add_at((uint16_t)id, 10 + (size_t)id * 7, 0), MQTLS_OK);
                if (id % 3 == 0)
                    ck_assert_int_eq(st.remove(st.ctx, (uint16_t)(id - 1)), MQTLS_OK);
            }
            for (i = 0; i < 1 + rnd() % 6; i++) {
                const uint32_t at = rnd() % (512 * 4);
                sim.mem[at] ^= (uint8_t)(1u << (rnd() % 8));
            }
            flipped_rounds++;
        }
        ret = mount();
        if (ret != MQTLS_OK) {
            ck_assert_msg(ret == MQTLS_ERR_FLASH_FORMAT || ret == MQTLS_ERR_STORE_FULL ||
                              ret == MQTLS_ERR_PACKET_TOO_LARGE,
                          "round %d: %d", round, ret);
            refused++;
            continue;
        }
        mounted++;
        damaged += fs.damaged;
        while (st.next(st.ctx, &it, &e) == 1) {
            if (round % 3 != 0) {
                ck_assert(e.packet_id >= 1 && e.packet_id <= 12);
                test_store_packet(p, 10 + (size_t)e.packet_id * 7, e.packet_id);
                ck_assert_msg(e.len == 10 + (size_t)e.packet_id * 7 &&
                                  memcmp(e.packet, p, e.len) == 0,
                              "round %d: message %u is not what was stored", round, e.packet_id);
            }
            n++;
        }
        if (round % 3 != 0)
            lost += (unsigned long)(8 - n > 0 ? 8 - n : 0);
        /* And it still works. */
        ret = add_at(999, 30, 0);
        ck_assert_msg(ret == MQTLS_OK || ret == MQTLS_ERR_STORE_FULL ||
                          ret == MQTLS_ERR_STORE_ID_IN_USE,
                      "round %d: add %d", round, ret);
    }
    printf("  flash store, damaged images: %d mounted (%lu sectors with damage reported, %lu "
           "messages lost to %d rounds of bit flips), %d refused in words, no crash, no wrong "
           "message\n",
           mounted, damaged, lost, flipped_rounds, refused);
}
END_TEST

Suite *store_flash_suite(void)
{
    Suite *s = suite_create("store_flash");
    TCase *tc = tcase_create("nor");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, keeps_order_states_marks_and_time_across_a_reboot);
    tcase_add_test(tc, refuses_what_it_cannot_hold_and_drops_nothing);
    tcase_add_test(tc, slots_bound_the_count);
    tcase_add_test(tc, reclaims_move_the_old_and_spread_the_wear);
    tcase_add_test(tc, a_year_of_telemetry_wears_every_sector_alike);
    tcase_add_test(tc, the_previous_layout_is_read_and_migrated);
    tcase_add_test(tc, a_newer_layout_is_refused_and_left_alone);
    tcase_add_test(tc, a_power_cut_at_every_flash_operation_loses_nothing);
    tcase_add_test(tc, damaged_images_never_yield_a_wrong_message);
    suite_add_tcase(s, tc);
    return s;
}
