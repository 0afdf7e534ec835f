/* SPDX-License-Identifier: Apache-2.0 */
/* The AT-modem transport of the mps2 port (ports/qemu-mps2/modem.c) on the
 * host, over a scripted serial line: dialling, NO CARRIER ending a link
 * wherever the read boundaries fall, data that merely looks like the
 * start of it passed through in order (also when nothing follows it),
 * and bounded waits. */
#include <check.h>
#include <string.h>

#include "ports/qemu-mps2/modem.h"
#include "test/unit/suites.h"

static uint8_t in[512], out[512];
static size_t in_len, in_pos, out_len;
static uint32_t clock_ms, gate_ms; /* no byte from gate_pos on arrives before gate_ms */
static size_t gate_pos;

static int fake_getc(void *ctx, uint8_t *c)
{
    (void)ctx;
    if (in_pos == in_len || (in_pos >= gate_pos && clock_ms < gate_ms))
        return 0;
    *c = in[in_pos++];
    return 1;
}

static int fake_putc(void *ctx, uint8_t c)
{
    (void)ctx;
    if (out_len == sizeof out)
        return 0;
    out[out_len++] = c;
    return 1;
}

static uint32_t fake_ms(void *ctx)
{
    (void)ctx;
    return clock_ms++; /* time passes as the modem code looks at it */
}

static modem m;
static mqtls_transport t;

static void feed(const char *s, size_t n)
{
    memcpy(in + in_len, s, n);
    in_len += n;
}

static void setup(void)
{
    const modem_line line = {NULL, fake_getc, fake_putc, fake_ms, NULL};
    in_len = in_pos = out_len = gate_pos = 0;
    clock_ms = gate_ms = 0;
    modem_init(&m, &line);
    modem_transport(&m, &t);
}

START_TEST(dials_and_reports_the_answer)
{
    feed("OK\r\n\r\nCONNECT\r\n", 15);
    ck_assert_int_eq(modem_dial(&m, "127.0.0.1:1883", 1000), MQTLS_OK);
    ck_assert_uint_eq(out_len, 18);
    ck_assert_mem_eq(out, "ATD127.0.0.1:1883\r", 18);
    setup();
    feed("NO CARRIER\r\n", 12);
    ck_assert_int_eq(modem_dial(&m, "127.0.0.1:1", 1000), MQTLS_ERR_NET_REFUSED);
    setup();
    ck_assert_int_eq(modem_dial(&m, "127.0.0.1:1", 1000), MQTLS_ERR_NET_TIMEOUT);
    ck_assert_uint_le(clock_ms, 1100); /* gave up on time */
    ck_assert_int_eq(t.send(t.ctx, (const uint8_t *)"x", 1, 0), MQTLS_ERR_NET_CLOSED);
}
END_TEST

/* Reads everything the link delivers in chunks of at most step bytes. */
static size_t drain(uint8_t *buf, size_t cap, size_t step, int *last)
{
    size_t n = 0;
    int r = 0, guard;
    for (guard = 0; guard < 1000; guard++) {
        r = t.recv(t.ctx, buf + n, cap - n < step ? cap - n : step, 5);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    *last = r;
    return n;
}

START_TEST(no_carrier_ends_the_link_wherever_reads_fall)
{
    /* Data holding near-misses of the pattern, then the real thing. */
    static const char data[] = "ab\r\nNO CARRIE\r\r\nNOX\r\nNO CARRIER\rz\r";
    const size_t dlen = sizeof data - 1;
    size_t step;
    for (step = 1; step <= 40; step++) {
        uint8_t got[128];
        int last;
        size_t n;
        setup();
        feed("CONNECT\r\n", 9);
        ck_assert_int_eq(modem_dial(&m, "127.0.0.1:1883", 1000), MQTLS_OK);
        feed(data, dlen);
        feed("\r\nNO CARRIER\r\n", 14);
        feed("OK\r\n", 4); /* command mode answers after the link: never data */
        n = drain(got, sizeof got, step, &last);
        ck_assert_msg(n == dlen && memcmp(got, data, dlen) == 0, "step %zu: %zu bytes", step, n);
        ck_assert_int_eq(last, MQTLS_ERR_NET_CLOSED);
        ck_assert_int_eq(t.send(t.ctx, (const uint8_t *)"x", 1, 0), MQTLS_ERR_NET_CLOSED);
    }
}
END_TEST

/* Reads with short waits until want bytes came or tries ran out. */
static size_t read_for(uint8_t *buf, size_t want, int tries)
{
    size_t n = 0;
    while (n < want && tries-- > 0) {
        const int r = t.recv(t.ctx, buf + n, want - n, 20);
        if (r < 0)
            break;
        n += (size_t)r;
    }
    return n;
}

/* A burst that ends in what could start NO CARRIER (a TLS record whose
 * last bytes are CR LF), with the peer then waiting for the device:
 * after a quarter second of silence those bytes are data, and the link
 * stays up. They once stayed held, and the link stalled. */
START_TEST(a_burst_ending_like_no_carrier_is_delivered_after_a_silence)
{
    static const char *const ends[] = {"\r", "\r\n", "\r\nNO CARRIER\r", "x\r\r\nN"};
    size_t i;
    for (i = 0; i < sizeof ends / sizeof ends[0]; i++) {
        uint8_t got[64];
        char data[32] = "record";
        size_t n;
        setup();
        feed("CONNECT\r\n", 9);
        ck_assert_int_eq(modem_dial(&m, "127.0.0.1:1883", 1000), MQTLS_OK);
        strcat(data, ends[i]);
        feed(data, strlen(data));
        clock_ms = 0;
        n = read_for(got, strlen(data), 100);
        ck_assert_msg(n == strlen(data) && memcmp(got, data, n) == 0, "end %zu: %zu bytes", i, n);
        ck_assert_uint_ge(clock_ms, 250); /* held while NO CARRIER could still follow */
        ck_assert_uint_lt(clock_ms, 400);
        ck_assert_int_eq(t.send(t.ctx, (const uint8_t *)"x", 1, 0), 1); /* the link is up */
    }
}
END_TEST

/* The real NO CARRIER, its bytes spaced out (a slow line, a busy host)
 * but less than the silence apart, still ends the link. */
START_TEST(no_carrier_with_gaps_still_ends_the_link)
{
    uint8_t got[16];
    setup();
    feed("CONNECT\r\n", 9);
    ck_assert_int_eq(modem_dial(&m, "127.0.0.1:1883", 1000), MQTLS_OK);
    feed("ab\r\nNO CARRIER\r\n", 16);
    gate_pos = in_pos + 6; /* "ab\r\nNO" now, " CARRIER\r\n" 200 ms later */
    gate_ms = clock_ms + 200;
    ck_assert_uint_eq(read_for(got, 2, 5), 2);
    ck_assert_mem_eq(got, "ab", 2);
    ck_assert_uint_eq(read_for(got, sizeof got, 50), 0);
    ck_assert_int_eq(t.recv(t.ctx, got, sizeof got, 20), MQTLS_ERR_NET_CLOSED);
}
END_TEST

START_TEST(waits_are_bounded_and_hangup_escapes)
{
    uint8_t b[8];
    feed("CONNECT\r\n", 9);
    ck_assert_int_eq(modem_dial(&m, "127.0.0.1:1883", 1000), MQTLS_OK);
    clock_ms = 0;
    ck_assert_int_eq(t.recv(t.ctx, b, sizeof b, 50), 0); /* nothing: 0 after the wait */
    ck_assert_uint_le(clock_ms, 60);
    m.guard_ms = 20;
    out_len = 0;
    feed("late data", 9); /* dropped: the link is being hung up */
    ck_assert_int_eq(modem_hangup(&m, 1000), MQTLS_ERR_NET_TIMEOUT); /* no OK to ATH */
    ck_assert_mem_eq(out, "+++ATH\r", 7);
    setup();
    feed("CONNECT\r\n", 9);
    ck_assert_int_eq(modem_dial(&m, "127.0.0.1:1883", 1000), MQTLS_OK);
    m.guard_ms = 20;
    out_len = 0;
    gate_ms = clock_ms + 25; /* the modem answers after its guard time */
    feed("OK\r\nOK\r\n", 8);
    ck_assert_int_eq(modem_hangup(&m, 1000), MQTLS_OK);
    ck_assert_mem_eq(out, "+++ATH\r", 7);
}
END_TEST

Suite *modem_suite(void)
{
    Suite *s = suite_create("modem");
    TCase *tc = tcase_create("at");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, dials_and_reports_the_answer);
    tcase_add_test(tc, no_carrier_ends_the_link_wherever_reads_fall);
    tcase_add_test(tc, a_burst_ending_like_no_carrier_is_delivered_after_a_silence);
    tcase_add_test(tc, no_carrier_with_gaps_still_ends_the_link);
    tcase_add_test(tc, waits_are_bounded_and_hangup_escapes);
    suite_add_tcase(s, tc);
    return s;
}
