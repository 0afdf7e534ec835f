/* SPDX-License-Identifier: Apache-2.0 */
/* Topic names, topic filters and matching (MQTT 3.1.1 section 4.7). */
#include <check.h>
#include <string.h>

#include "mqtt/topic.h"
#include "net/error.h"
#include "test/unit/suites.h"

#define L(s) s, sizeof(s) - 1

static const struct {
    const char *s;
    size_t len;
    int expect;
} names[] = {
    {L("a"), MQTLS_OK},
    {L("/"), MQTLS_OK},
    {L("sport/tennis/player1"), MQTLS_OK},
    {L("$SYS/broker/load"), MQTLS_OK},
    {L("a//b"), MQTLS_OK},
    {L("caf\xC3\xA9/\xE2\x82\xAC"), MQTLS_OK},
    {L(""), MQTLS_ERR_BAD_TOPIC_NAME},        /* [MQTT-4.7.3-1] */
    {L("sport/+"), MQTLS_ERR_BAD_TOPIC_NAME}, /* [MQTT-4.7.1-1] */
    {L("sport/#"), MQTLS_ERR_BAD_TOPIC_NAME},
    {L("a+b"), MQTLS_ERR_BAD_TOPIC_NAME},
    {L("a\0b"), MQTLS_ERR_BAD_UTF8},          /* [MQTT-4.7.3-2] */
    {L("a/\xED\xA0\x80"), MQTLS_ERR_BAD_UTF8},
};

static const struct {
    const char *s;
    size_t len;
    int expect;
} filters[] = {
    {L("#"), MQTLS_OK},
    {L("+"), MQTLS_OK},
    {L("sport/tennis/#"), MQTLS_OK},
    {L("sport/+/player1"), MQTLS_OK},
    {L("+/+"), MQTLS_OK},
    {L("/+"), MQTLS_OK},
    {L("+/"), MQTLS_OK},
    {L("+/tennis/#"), MQTLS_OK},
    {L("a//#"), MQTLS_OK},
    {L(""), MQTLS_ERR_BAD_TOPIC_FILTER},              /* [MQTT-4.7.3-1] */
    {L("sport/tennis#"), MQTLS_ERR_BAD_TOPIC_FILTER}, /* [MQTT-4.7.1-2] */
    {L("sport/tennis/#/ranking"), MQTLS_ERR_BAD_TOPIC_FILTER},
    {L("##"), MQTLS_ERR_BAD_TOPIC_FILTER},
    {L("#/"), MQTLS_ERR_BAD_TOPIC_FILTER},
    {L("sport+"), MQTLS_ERR_BAD_TOPIC_FILTER},        /* [MQTT-4.7.1-3] */
    {L("+sport"), MQTLS_ERR_BAD_TOPIC_FILTER},
    {L("sport/+tennis"), MQTLS_ERR_BAD_TOPIC_FILTER},
    {L("++"), MQTLS_ERR_BAD_TOPIC_FILTER},
    {L("a\0"), MQTLS_ERR_BAD_UTF8},
    {L("\xC3"), MQTLS_ERR_BAD_UTF8},
};

static const struct {
    const char *filter, *name;
    bool match;
} matches[] = {
    {"sport/tennis/player1/#", "sport/tennis/player1", true},
    {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
    {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
    {"sport/#", "sport", true}, /* "a/#" matches its parent */
    {"#", "sport/tennis", true},
    {"#", "/", true},
    {"sport/tennis/+", "sport/tennis/player1", true},
    {"sport/tennis/+", "sport/tennis/player1/ranking", false},
    {"sport/+", "sport", false},
    {"sport/+", "sport/", true},
    {"+/+", "/finance", true},
    {"/+", "/finance", true},
    {"+", "/finance", false},
    {"+", "finance", true},
    {"+/#", "a", true},
    {"+/tennis/#", "sport/tennis", true},
    {"a/b", "a/b", true},
    {"a/b", "a/b/c", false},
    {"a/b/c", "a/b", false},
    {"a/b", "a/c", false},
    {"A/b", "a/b", false},
    {"a//b", "a//b", true},
    {"a/+/b", "a//b", true},
    {"a/#", "ab", false},
    {"a/#", "a", true},
    {"a/#", "a/", true},
    /* [MQTT-4.7.2-1]: $-topics are not matched by a leading wildcard */
    {"#", "$SYS/broker", false},
    {"+/monitor/Clients", "$SYS/monitor/Clients", false},
    {"$SYS/#", "$SYS/monitor/Clients", true},
    {"$SYS/monitor/+", "$SYS/monitor/Clients", true},
    {"a/#", "a/$b", true},
};

START_TEST(validate_name_table)
{
    ck_assert_int_eq(mqtls_topic_validate_name(names[_i].s, names[_i].len), names[_i].expect);
}
END_TEST

START_TEST(validate_filter_table)
{
    int ret = mqtls_topic_validate_filter(filters[_i].s, filters[_i].len);
    ck_assert_msg(ret == filters[_i].expect, "filter #%d: got %s", _i, mqtls_errname(ret));
}
END_TEST

START_TEST(match_table)
{
    const char *f = matches[_i].filter, *n = matches[_i].name;
    ck_assert_int_eq(mqtls_topic_validate_filter(f, strlen(f)), MQTLS_OK);
    ck_assert_int_eq(mqtls_topic_validate_name(n, strlen(n)), MQTLS_OK);
    ck_assert_msg(mqtls_topic_match(f, strlen(f), n, strlen(n)) == matches[_i].match,
                  "\"%s\" vs \"%s\"", f, n);
}
END_TEST

START_TEST(length_and_null_limits)
{
    static char big[65536];
    memset(big, 'a', sizeof big);
    ck_assert_int_eq(mqtls_topic_validate_name(big, 65535), MQTLS_OK);
    ck_assert_int_eq(mqtls_topic_validate_name(big, 65536), MQTLS_ERR_FIELD_TOO_LONG);
    ck_assert_int_eq(mqtls_topic_validate_filter(big, 65536), MQTLS_ERR_FIELD_TOO_LONG);
    ck_assert_int_eq(mqtls_topic_validate_name(NULL, 1), MQTLS_ERR_INVALID_ARG);
    ck_assert_int_eq(mqtls_topic_validate_filter(NULL, 1), MQTLS_ERR_INVALID_ARG);
    ck_assert(!mqtls_topic_match("#", 1, "", 0));
    ck_assert(!mqtls_topic_match("", 0, "a", 1));
}
END_TEST

Suite *topic_suite(void)
{
    Suite *s = suite_create("topic");
    TCase *tc = tcase_create("topic");
    tcase_add_loop_test(tc, validate_name_table, 0, (int)(sizeof names / sizeof names[0]));
    tcase_add_loop_test(tc, validate_filter_table, 0, (int)(sizeof filters / sizeof filters[0]));
    tcase_add_loop_test(tc, match_table, 0, (int)(sizeof matches / sizeof matches[0]));
    tcase_add_test(tc, length_and_null_limits);
    suite_add_tcase(s, tc);
    return s;
}
