/* SPDX-License-Identifier: Apache-2.0 */
/* The error table: every code has a name and text, values are unique, and
 * docs/errors.md documents exactly the codes the table has. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/error.h"
#include "test/unit/suites.h"

static const struct {
    const char *name;
    int value;
} table[] = {
#define ROW(name, value, text) {#name, value},
    MQTLS_ERROR_TABLE(ROW)
#undef ROW
};
#define TABLE_LEN (sizeof table / sizeof table[0])

START_TEST(every_code_has_a_name_and_text)
{
    ck_assert_str_eq(mqtls_errname(table[_i].value), table[_i].name);
    ck_assert_ptr_nonnull(mqtls_strerror(table[_i].value));
    ck_assert_uint_gt(strlen(mqtls_strerror(table[_i].value)), 3);
    ck_assert_str_ne(mqtls_strerror(table[_i].value), "unknown mqtls error");
    ck_assert_int_le(table[_i].value, 0);
}
END_TEST

START_TEST(values_are_unique)
{
    size_t i, j;
    for (i = 0; i < TABLE_LEN; i++)
        for (j = i + 1; j < TABLE_LEN; j++)
            ck_assert_int_ne(table[i].value, table[j].value);
}
END_TEST

START_TEST(unknown_values_still_get_text)
{
    ck_assert_str_eq(mqtls_strerror(-9999), "unknown mqtls error");
    ck_assert_str_eq(mqtls_strerror(17), "unknown mqtls error");
    ck_assert_str_eq(mqtls_errname(-9999), "MQTLS_ERR_UNKNOWN");
}
END_TEST

/* docs/errors.md has one table row per code: | `NAME` | value | ... */
START_TEST(errors_md_matches_the_table)
{
    char line[1024], name[128];
    int value, documented[TABLE_LEN] = {0};
    size_t i, rows = 0;
    FILE *f = fopen(MQTLS_SOURCE_DIR "/docs/errors.md", "r");

    ck_assert_msg(f != NULL, "docs/errors.md is missing");
    while (fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "| `%127[A-Z0-9_]` | %d |", name, &value) != 2)
            continue;
        rows++;
        for (i = 0; i < TABLE_LEN; i++)
            if (strcmp(table[i].name, name) == 0)
                break;
        ck_assert_msg(i < TABLE_LEN, "docs/errors.md documents %s, which the table lacks", name);
        ck_assert_msg(table[i].value == value, "docs/errors.md gives %s the value %d, not %d",
                      name, value, table[i].value);
        documented[i]++;
    }
    fclose(f);
    for (i = 0; i < TABLE_LEN; i++)
        ck_assert_msg(documented[i] == 1, "docs/errors.md documents %s %d times", table[i].name,
                      documented[i]);
    ck_assert_uint_eq(rows, TABLE_LEN);
}
END_TEST

Suite *error_suite(void)
{
    Suite *s = suite_create("error");
    TCase *tc = tcase_create("table");
    tcase_add_loop_test(tc, every_code_has_a_name_and_text, 0, (int)TABLE_LEN);
    tcase_add_test(tc, values_are_unique);
    tcase_add_test(tc, unknown_values_still_get_text);
    tcase_add_test(tc, errors_md_matches_the_table);
    suite_add_tcase(s, tc);
    return s;
}
