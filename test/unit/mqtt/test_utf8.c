/* SPDX-License-Identifier: Apache-2.0 */
/* UTF-8 as MQTT 3.1.1 section 1.5.3 defines it. */
#include <check.h>
#include <string.h>

#include "mqtt/utf8.h"
#include "net/error.h"
#include "test/unit/suites.h"

static const struct {
    const char *name;
    const char *s;
    size_t len;
    int expect;
} cases[] = {
#define C(name, lit, expect) {name, lit, sizeof(lit) - 1, expect}
    C("empty", "", MQTLS_OK),
    C("ascii", "sensors/device-001/temperature", MQTLS_OK),
    C("two_byte_e_acute", "caf\xC3\xA9", MQTLS_OK),
    C("three_byte_euro", "\xE2\x82\xAC", MQTLS_OK),
    C("four_byte_g_clef", "\xF0\x9D\x84\x9E", MQTLS_OK),
    C("last_before_surrogates_U+D7FF", "\xED\x9F\xBF", MQTLS_OK),
    C("first_after_surrogates_U+E000", "\xEE\x80\x80", MQTLS_OK),
    C("noncharacter_U+FFFF_allowed", "\xEF\xBF\xBF", MQTLS_OK),
    C("bom_U+FEFF_kept", "\xEF\xBB\xBF" "a", MQTLS_OK),
    C("max_U+10FFFF", "\xF4\x8F\xBF\xBF", MQTLS_OK),
    C("control_U+0001_allowed", "\x01", MQTLS_OK),
    C("MQTT-1.5.3-2_nul", "a\0b", MQTLS_ERR_BAD_UTF8),
    C("MQTT-1.5.3-2_overlong_nul", "\xC0\x80", MQTLS_ERR_BAD_UTF8),
    C("MQTT-1.5.3-1_high_surrogate_U+D800", "\xED\xA0\x80", MQTLS_ERR_BAD_UTF8),
    C("MQTT-1.5.3-1_low_surrogate_U+DFFF", "\xED\xBF\xBF", MQTLS_ERR_BAD_UTF8),
    C("overlong_slash_2", "\xC0\xAF", MQTLS_ERR_BAD_UTF8),
    C("overlong_C1", "\xC1\xBF", MQTLS_ERR_BAD_UTF8),
    C("overlong_3", "\xE0\x80\xAF", MQTLS_ERR_BAD_UTF8),
    C("overlong_4", "\xF0\x80\x80\xAF", MQTLS_ERR_BAD_UTF8),
    C("above_U+10FFFF", "\xF4\x90\x80\x80", MQTLS_ERR_BAD_UTF8),
    C("lead_F5", "\xF5\x80\x80\x80", MQTLS_ERR_BAD_UTF8),
    C("lead_FF", "\xFF", MQTLS_ERR_BAD_UTF8),
    C("lone_continuation", "a\x80", MQTLS_ERR_BAD_UTF8),
    C("truncated_3_byte", "\xE2\x82", MQTLS_ERR_BAD_UTF8),
    C("truncated_4_byte", "\xF0\x9D\x84", MQTLS_ERR_BAD_UTF8),
    C("bad_second_continuation", "\xE2\x82\x41", MQTLS_ERR_BAD_UTF8),
    C("bad_third_continuation", "\xF0\x9D\x84\xC0", MQTLS_ERR_BAD_UTF8),
#undef C
};

START_TEST(validate_table)
{
    int ret = mqtls_utf8_validate(cases[_i].s, cases[_i].len);
    ck_assert_msg(ret == cases[_i].expect, "%s: got %s", cases[_i].name, mqtls_errname(ret));
}
END_TEST

/* The word-at-a-time path must see a bad byte at every offset, including
 * the tail shorter than a word and the boundary between two words. */
START_TEST(bad_byte_found_at_every_offset)
{
    static const uint8_t bad[] = {0x00, 0x80, 0xFF, 0xC0};
    char s[40];
    size_t len, pos, b;
    for (len = 1; len <= sizeof s; len++) {
        for (pos = 0; pos < len; pos++) {
            for (b = 0; b < sizeof bad; b++) {
                memset(s, 'a', sizeof s);
                s[pos] = (char)bad[b];
                ck_assert_int_eq(mqtls_utf8_validate(s, len), MQTLS_ERR_BAD_UTF8);
            }
        }
        memset(s, 'a', sizeof s);
        ck_assert_int_eq(mqtls_utf8_validate(s, len), MQTLS_OK);
    }
}
END_TEST

START_TEST(wildcard_flag_finds_plus_and_hash_at_every_offset)
{
    char s[40];
    size_t len, pos;
    for (len = 1; len <= sizeof s; len++) {
        memset(s, 'a', sizeof s);
        ck_assert_int_eq(mqtls_utf8_check((const uint8_t *)s, len, MQTLS_UTF8_NO_WILDCARDS),
                         MQTLS_OK);
        for (pos = 0; pos < len; pos++) {
            memset(s, 'a', sizeof s);
            s[pos] = '+';
            ck_assert_int_eq(mqtls_utf8_check((const uint8_t *)s, len, MQTLS_UTF8_NO_WILDCARDS),
                             MQTLS_ERR_BAD_TOPIC_NAME);
            ck_assert_int_eq(mqtls_utf8_check((const uint8_t *)s, len, 0), MQTLS_OK);
            s[pos] = '#';
            ck_assert_int_eq(mqtls_utf8_check((const uint8_t *)s, len, MQTLS_UTF8_NO_WILDCARDS),
                             MQTLS_ERR_BAD_TOPIC_NAME);
        }
    }
}
END_TEST

/* Multi-byte characters straddling word boundaries. */
START_TEST(multibyte_across_word_boundaries)
{
    char s[64];
    size_t pos;
    for (pos = 0; pos + 4 <= sizeof s; pos++) {
        memset(s, 'a', sizeof s);
        memcpy(s + pos, "\xF0\x9D\x84\x9E", 4);
        ck_assert_int_eq(mqtls_utf8_validate(s, sizeof s), MQTLS_OK);
        s[pos + 3] = 'a'; /* truncated sequence */
        ck_assert_int_eq(mqtls_utf8_validate(s, sizeof s), MQTLS_ERR_BAD_UTF8);
    }
}
END_TEST

START_TEST(length_limit_is_65535_bytes)
{
    static char s[65536];
    memset(s, 'a', sizeof s);
    ck_assert_int_eq(mqtls_utf8_validate(s, 65535), MQTLS_OK);
    ck_assert_int_eq(mqtls_utf8_validate(s, 65536), MQTLS_ERR_FIELD_TOO_LONG);
    ck_assert_int_eq(mqtls_utf8_validate(NULL, 0), MQTLS_OK);
    ck_assert_int_eq(mqtls_utf8_validate(NULL, 1), MQTLS_ERR_INVALID_ARG);
}
END_TEST

/* Every 1-, 2- and 3-byte sequence against a plain reference decoder. */
static int reference_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n, k;
        if (s[i] < 0x80) {
            if (s[i] == 0)
                return 0;
            i++;
            continue;
        }
        if ((s[i] & 0xE0) == 0xC0) {
            n = 2;
            cp = s[i] & 0x1Fu;
        } else if ((s[i] & 0xF0) == 0xE0) {
            n = 3;
            cp = s[i] & 0x0Fu;
        } else if ((s[i] & 0xF8) == 0xF0) {
            n = 4;
            cp = s[i] & 0x07u;
        } else {
            return 0;
        }
        if (i + n > len)
            return 0;
        for (k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3Fu);
        }
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000))
            return 0; /* overlong */
        if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return 0;
        i += n;
    }
    return 1;
}

START_TEST(agrees_with_reference_on_all_short_sequences)
{
    uint8_t s[3];
    uint32_t v;
    /* _i selects the first byte; all second and third bytes. */
    s[0] = (uint8_t)_i;
    for (v = 0; v < 65536; v++) {
        size_t len;
        s[1] = (uint8_t)(v >> 8);
        s[2] = (uint8_t)v;
        for (len = 1; len <= 3; len++) {
            int want = reference_valid(s, len) ? MQTLS_OK : MQTLS_ERR_BAD_UTF8;
            /* ck_assert costs a system call; assert only on a mismatch. */
            if (mqtls_utf8_check(s, len, 0) != want)
                ck_abort_msg("%02X %02X %02X (len %zu): want %s", s[0], s[1], s[2], len,
                             mqtls_errname(want));
        }
    }
}
END_TEST

Suite *utf8_suite(void)
{
    Suite *s = suite_create("utf8");
    TCase *tc = tcase_create("validate");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, validate_table, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, bad_byte_found_at_every_offset);
    tcase_add_test(tc, wildcard_flag_finds_plus_and_hash_at_every_offset);
    tcase_add_test(tc, multibyte_across_word_boundaries);
    tcase_add_test(tc, length_limit_is_65535_bytes);
    tcase_add_loop_test(tc, agrees_with_reference_on_all_short_sequences, 0, 256);
    suite_add_tcase(s, tc);
    return s;
}
